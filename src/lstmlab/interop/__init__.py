"""lstmlab.interop: LSTMs from other tools' files into ``lstmlab.layers.LSTM``.

``load_lstm(path)`` picks the reader by the file: ``.keras`` / ``.h5`` (Keras, read with h5py),
anything else a torch state dict (``torch.load(weights_only=True)``). ``load_model(path)``
also reads GRU state dicts and the embedding that feeds the stack (``_model_file.py``).
"""

from lstmlab.interop._errors import InteropError
from lstmlab.interop._keras import load_keras_lstm
from lstmlab.interop._model_file import Embedding, LoadedModel, load_lstm, load_model
from lstmlab.interop._torch_state import load_torch_lstm, lstm_from_state_dict

__all__ = ["Embedding", "InteropError", "LoadedModel", "load_keras_lstm", "load_lstm",
           "load_model", "load_torch_lstm", "lstm_from_state_dict"]

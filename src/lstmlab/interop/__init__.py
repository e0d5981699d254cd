"""lstmlab.interop: LSTMs from other tools' files into ``lstmlab.layers.LSTM``.

``load_lstm(path)`` picks the reader by the file: ``.keras`` / ``.h5`` (Keras, read with h5py),
anything else a torch state dict (``torch.load(weights_only=True)``). ``load_model(path)``
also reads GRU state dicts and the embedding that feeds the stack (``model_file.py``).
"""

from pathlib import Path

from lstmlab.interop._errors import InteropError
from lstmlab.interop._keras import load_keras_lstm, read_keras, read_keras_lstm
from lstmlab.interop._model_file import Embedding, LoadedModel, find_embedding, load_model
from lstmlab.interop._torch_state import (
    check_weights,
    load_torch_lstm,
    lstm_from_state_dict,
    read_state_dict,
    recurrent_from_state_dict,
)
from lstmlab.layers import LSTM


def load_lstm(path: str | Path) -> LSTM:
    """Our LSTM (batch_first=True, eval mode) from a Keras file or a torch state dict."""
    path = Path(path)
    if path.suffix in (".keras", ".h5", ".hdf5"):
        return load_keras_lstm(path)
    return load_torch_lstm(path)


__all__ = ["Embedding", "InteropError", "LoadedModel", "check_weights", "find_embedding",
           "load_keras_lstm", "load_lstm", "load_model", "load_torch_lstm",
           "lstm_from_state_dict", "read_keras", "read_keras_lstm", "read_state_dict",
           "recurrent_from_state_dict"]

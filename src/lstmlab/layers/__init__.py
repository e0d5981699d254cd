"""lstmlab.layers: cells over time (``unroll``) and drop-ins for torch.nn.LSTM/GRU/RNN."""

from lstmlab.layers._arguments import LayerInputError, LayerTypeError
from lstmlab.layers._gru import GRU
from lstmlab.layers._lstm import LSTM
from lstmlab.layers._min_rnn import MinGRU, MinLSTM
from lstmlab.layers._mlstm import MLSTM
from lstmlab.layers._rnn import RNN
from lstmlab.layers._slstm import SLSTM
from lstmlab.layers._unroll import Recording, Unrolled, unroll

__all__ = [
    "GRU", "LSTM", "MLSTM", "SLSTM", "LayerInputError", "LayerTypeError", "MinGRU", "MinLSTM",
    "RNN", "Recording", "Unrolled", "unroll",
]

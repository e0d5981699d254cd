"""lstmlab.layers: cells over time (``unroll``) and drop-ins for torch.nn.LSTM/GRU/RNN."""

from lstmlab.layers.arguments import LayerInputError, LayerTypeError
from lstmlab.layers.gru import GRU
from lstmlab.layers.lstm import LSTM
from lstmlab.layers.min_rnn import MinGRU, MinLSTM
from lstmlab.layers.mlstm import MLSTM
from lstmlab.layers.rnn import RNN
from lstmlab.layers.slstm import SLSTM
from lstmlab.layers.unroll import Recording, Unrolled, unroll

__all__ = [
    "GRU", "LSTM", "MLSTM", "SLSTM", "LayerInputError", "LayerTypeError", "MinGRU", "MinLSTM",
    "RNN", "Recording", "Unrolled", "unroll",
]

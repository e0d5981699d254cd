"""lstmlab.cells: one step of each recurrent cell, exactly as its paper defines it.

Every cell is an ``nn.Module`` with ``cell(x_t, state) -> (new_state, gates)`` (the ``Cell``
protocol in :mod:`lstmlab.cells._state`); the equations are in each module's docstring.
"""

from lstmlab.cells._cifg import CIFGLSTMCell
from lstmlab.cells._elman import ElmanCell
from lstmlab.cells._fgr import FGRLSTMCell, FGRState
from lstmlab.cells._greff import (
    NFGLSTMCell,
    NIAFLSTMCell,
    NIGLSTMCell,
    NOAFLSTMCell,
    NOGLSTMCell,
    NPLSTMCell,
)
from lstmlab.cells._gru import GRUCell
from lstmlab.cells._layernorm_lstm import LayerNormLSTMCell
from lstmlab.cells._lstm import LSTMCell
from lstmlab.cells._lstm1997 import LSTM1997Cell, LSTM1997State, LSTM1997Weights
from lstmlab.cells._min_rnn import MinGRUCell, MinGRUGates, MinLSTMCell, MinLSTMGates
from lstmlab.cells._mlstm import MLSTMCell, MLSTMGates, MLSTMState
from lstmlab.cells._peephole import PeepholeLSTMCell
from lstmlab.cells._slstm import SLSTMCell, SLSTMState
from lstmlab.cells._squash import G2, H1, IDENTITY, LOGISTIC, Squash
from lstmlab.cells._state import (
    Cell,
    ElmanGates,
    Gates,
    GRUGates,
    HiddenState,
    LSTMState,
)

__all__ = [
    "G2",
    "H1",
    "IDENTITY",
    "LOGISTIC",
    "CIFGLSTMCell",
    "Cell",
    "ElmanCell",
    "ElmanGates",
    "FGRLSTMCell",
    "FGRState",
    "GRUCell",
    "GRUGates",
    "Gates",
    "HiddenState",
    "LSTM1997Cell",
    "LSTM1997State",
    "LSTM1997Weights",
    "LSTMCell",
    "LSTMState",
    "LayerNormLSTMCell",
    "MLSTMCell",
    "MLSTMGates",
    "MLSTMState",
    "MinGRUCell",
    "MinGRUGates",
    "MinLSTMCell",
    "MinLSTMGates",
    "NFGLSTMCell",
    "NIAFLSTMCell",
    "NIGLSTMCell",
    "NOAFLSTMCell",
    "NOGLSTMCell",
    "NPLSTMCell",
    "PeepholeLSTMCell",
    "SLSTMCell",
    "SLSTMState",
    "Squash",
]

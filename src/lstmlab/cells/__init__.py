"""lstmlab.cells: one step of each recurrent cell, exactly as its paper defines it.

Every cell is an ``nn.Module`` with ``cell(x_t, state) -> (new_state, gates)`` (the ``Cell``
protocol in :mod:`lstmlab.cells.state`); the equations are in each module's docstring.
"""

from lstmlab.cells.cifg import CIFGLSTMCell
from lstmlab.cells.elman import ElmanCell
from lstmlab.cells.fgr import FGRLSTMCell, FGRState
from lstmlab.cells.greff import (
    NFGLSTMCell,
    NIAFLSTMCell,
    NIGLSTMCell,
    NOAFLSTMCell,
    NOGLSTMCell,
    NPLSTMCell,
)
from lstmlab.cells.gru import GRUCell
from lstmlab.cells.layernorm_lstm import LayerNormLSTMCell
from lstmlab.cells.lstm import LSTMCell
from lstmlab.cells.lstm1997 import LSTM1997Cell, LSTM1997State, LSTM1997Weights
from lstmlab.cells.min_rnn import MinGRUCell, MinGRUGates, MinLSTMCell, MinLSTMGates
from lstmlab.cells.mlstm import MLSTMCell, MLSTMGates, MLSTMState
from lstmlab.cells.peephole import PeepholeLSTMCell
from lstmlab.cells.slstm import SLSTMCell, SLSTMState
from lstmlab.cells.squash import G2, H1, IDENTITY, LOGISTIC, Squash
from lstmlab.cells.state import (
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

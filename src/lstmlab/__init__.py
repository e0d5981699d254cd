"""lstmlab: the LSTM laboratory.

The cell family as the papers define it (``lstmlab.cells``), drop-in ``torch.nn`` layers
(``lstmlab.layers``), every gate of any LSTM (``lstmlab.introspection``), the 1997 tasks,
training algorithms and reproductions (``lstmlab.tasks``, ``lstmlab.training``,
``lstmlab.reproduce``, ``lstmlab.competitors``). The names most users need are re-exported here.
"""

from lstmlab.cells import (
    CIFGLSTMCell,
    ElmanCell,
    Gates,
    GRUCell,
    LSTM1997Cell,
    LSTMCell,
    LSTMState,
    PeepholeLSTMCell,
)
from lstmlab.introspection import Trace, trace
from lstmlab.layers import GRU, LSTM, RNN, unroll

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "CIFGLSTMCell",
    "ElmanCell",
    "GRUCell",
    "Gates",
    "LSTM1997Cell",
    "LSTMCell",
    "LSTMState",
    "PeepholeLSTMCell",
    "Trace",
    "trace",
    "unroll",
    "__version__",
]

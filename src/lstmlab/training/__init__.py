"""Learning algorithms and the one training loop: ``train(model, sample, TrainConfig(...))`` with
BPTT, truncated BPTT or exact RTRL, SGD or Adam, checkpoints and resume; ``train_population``
trains K networks in lockstep, each stopping on its own. The 1997 paper's online method
(``_online1997.py``, its network in ``_network1997.py``) runs behind ``lstmlab reproduce``."""

from lstmlab.training._bptt import BPTT, TruncatedBPTT
from lstmlab.training._loop import NonFiniteError, TrainConfig, TrainResult, train
from lstmlab.training._losses import cross_entropy, sum_squared_error
from lstmlab.training._model import SequenceModel
from lstmlab.training._optimizers import SGD, Adam
from lstmlab.training._population import Member, PopulationConfig, train_population
from lstmlab.training._rtrl import RTRL

__all__ = [
    # the loop
    "train", "TrainConfig", "TrainResult", "NonFiniteError", "SequenceModel",
    # its algorithms, optimizers and losses
    "BPTT", "TruncatedBPTT", "RTRL", "SGD", "Adam", "sum_squared_error", "cross_entropy",
    # K networks in lockstep
    "train_population", "Member", "PopulationConfig",
]

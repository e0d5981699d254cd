"""Learning algorithms and the training loop: BPTT, truncated BPTT, exact RTRL, the 1997 online
truncated gradient (``online1997``, with the paper's network in ``network1997``), populations."""

from lstmlab.training.algorithm import Algorithm, StepOutcome
from lstmlab.training.batch import BatchLike, SequenceBatch, check_batch
from lstmlab.training.bptt import BPTT, TruncatedBPTT, bptt_gradients, truncated_bptt_gradients
from lstmlab.training.checkpoint import load_checkpoint, save_checkpoint
from lstmlab.training.loop import (
    NonFiniteError,
    StepInfo,
    StopCriterion,
    TrainConfig,
    TrainProgress,
    TrainResult,
    train,
)
from lstmlab.training.losses import Loss, cross_entropy, sum_squared_error
from lstmlab.training.model import SequenceModel, detach_state
from lstmlab.training.network1997 import (
    Network1997,
    Network1997Config,
    NetworkWeights1997,
    map_weights,
    population_weights,
)
from lstmlab.training.online1997 import OnlineResult, UpdateMode, online_sequence
from lstmlab.training.optimizers import SGD, Adam
from lstmlab.training.population import (
    LockstepAlgorithm,
    LockstepBPTT,
    Member,
    MemberResult,
    PopulationConfig,
    PopulationProgress,
    train_population,
    vmap_forward,
)
from lstmlab.training.population_lstm import block_diagonal_lstm
from lstmlab.training.population_rtrl import LockstepRTRL
from lstmlab.training.rtrl import RTRL, rtrl_gradients

__all__ = [
    "Adam",
    "Algorithm",
    "BatchLike",
    "BPTT",
    "LockstepAlgorithm",
    "LockstepBPTT",
    "LockstepRTRL",
    "Loss",
    "Member",
    "MemberResult",
    "Network1997",
    "Network1997Config",
    "NetworkWeights1997",
    "NonFiniteError",
    "OnlineResult",
    "PopulationConfig",
    "PopulationProgress",
    "TrainProgress",
    "RTRL",
    "SequenceBatch",
    "SequenceModel",
    "SGD",
    "StepInfo",
    "StepOutcome",
    "StopCriterion",
    "TrainConfig",
    "TrainResult",
    "TruncatedBPTT",
    "UpdateMode",
    "block_diagonal_lstm",
    "bptt_gradients",
    "check_batch",
    "cross_entropy",
    "detach_state",
    "load_checkpoint",
    "map_weights",
    "online_sequence",
    "population_weights",
    "rtrl_gradients",
    "save_checkpoint",
    "sum_squared_error",
    "train",
    "train_population",
    "truncated_bptt_gradients",
    "vmap_forward",
]

"""lstmlab.tasks: the 1997 and 2000 experiments and the modern benchmarks, exact to the papers.

One module per experiment (generator, success criterion, the paper's set-up ``SETUP``/``SETUPS``
and published rows ``PUBLISHED``); the shared types live in ``batch``, ``setup``, ``stopping``
and ``published``.
"""

from lstmlab.tasks.adding import Adding, AddingModern
from lstmlab.tasks.batch import (
    Batch,
    Task,
    concat,
    final_abs_error,
    final_mean_abs_error,
    fresh_batches,
    mean_cross_entropy,
    squared_error,
)
from lstmlab.tasks.continual_reber import ContinualEmbeddedReber, ReberStream
from lstmlab.tasks.copy_memory import CopyMemory
from lstmlab.tasks.long_lags import NoiseFreeLongLag, VeryLongLag
from lstmlab.tasks.multiplication import Multiplication
from lstmlab.tasks.published import PublishedRow
from lstmlab.tasks.reber import EmbeddedReber
from lstmlab.tasks.setup import (
    BiasedUnits,
    Connectivity,
    ErrorPlateau,
    ModernSetup,
    Setup1997,
    weight_count,
)
from lstmlab.tasks.stopping import RecentWindowRule, StoppingRule, TestSetRule, WindowTracker, st3
from lstmlab.tasks.temporal_order import TemporalOrder
from lstmlab.tasks.two_sequence import TwoSequence

__all__ = [
    "Adding",
    "AddingModern",
    "Batch",
    "BiasedUnits",
    "Connectivity",
    "ContinualEmbeddedReber",
    "CopyMemory",
    "EmbeddedReber",
    "ErrorPlateau",
    "ModernSetup",
    "Multiplication",
    "NoiseFreeLongLag",
    "PublishedRow",
    "ReberStream",
    "RecentWindowRule",
    "Setup1997",
    "StoppingRule",
    "Task",
    "TemporalOrder",
    "TestSetRule",
    "TwoSequence",
    "VeryLongLag",
    "WindowTracker",
    "concat",
    "mean_cross_entropy",
    "final_abs_error",
    "final_mean_abs_error",
    "fresh_batches",
    "squared_error",
    "st3",
    "weight_count",
]

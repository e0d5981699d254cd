"""lstmlab.tasks: the 1997 and 2000 experiments and the modern benchmarks, exact to the papers.

One module per experiment (generator, success criterion, the paper's set-up ``SETUP``/``SETUPS``
and published rows ``PUBLISHED``); the shared types live in ``_batch``, ``_setup``,
``_stopping`` and ``_published``.
"""

from lstmlab.tasks._adding import Adding, AddingModern
from lstmlab.tasks._batch import Batch, Task
from lstmlab.tasks._continual_reber import ContinualEmbeddedReber, ReberStream
from lstmlab.tasks._copy_memory import CopyMemory
from lstmlab.tasks._long_lags import NoiseFreeLongLag, VeryLongLag
from lstmlab.tasks._multiplication import Multiplication
from lstmlab.tasks._published import PublishedRow
from lstmlab.tasks._reber import EmbeddedReber
from lstmlab.tasks._setup import BiasedUnits, Connectivity, ErrorPlateau, ModernSetup, Setup1997
from lstmlab.tasks._temporal_order import TemporalOrder
from lstmlab.tasks._two_sequence import TwoSequence

__all__ = [
    # the tasks
    "EmbeddedReber", "ContinualEmbeddedReber", "ReberStream", "NoiseFreeLongLag",
    "VeryLongLag", "TwoSequence", "Adding", "AddingModern", "Multiplication", "TemporalOrder",
    "CopyMemory",
    # what they share: a batch, the protocol, the papers' set-ups and published rows
    "Batch", "Task", "Setup1997", "ModernSetup", "Connectivity", "BiasedUnits", "ErrorPlateau",
    "PublishedRow",
]

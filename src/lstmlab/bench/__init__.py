"""lstmlab.bench: the state-tracking and storage-revision bench of the whole cell family.

``_tasks`` (parity, modular sum, key-value revision), ``_models`` (one layer of each cell and a
readout), ``_runner`` (trials into a resumable store), ``_trace_stats`` (how the trace solves
or fails), ``_render`` (the table, byte for byte from the store). Command:
``lstmlab bench-tasks``.
"""

from lstmlab.bench._models import CELLS, BenchModel
from lstmlab.bench._render import render
from lstmlab.bench._runner import BenchConfig, read_store, run, run_trial
from lstmlab.bench._tasks import TASKS

__all__ = ["CELLS", "TASKS", "BenchConfig", "BenchModel", "read_store", "render", "run",
           "run_trial"]

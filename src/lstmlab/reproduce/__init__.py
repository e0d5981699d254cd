"""lstmlab.reproduce: the 1997 experiments re-run, stored trial by trial, set beside the paper.

``run(config, progress=...)`` runs experiments × methods × trials, committing every finished
trial to an SQLite store so a killed run resumes where it stopped; ``rich_tables``,
``markdown_report`` and ``html_report`` render the published numbers and ours side by side;
``salvage`` copies what a damaged store still holds. The method table of ``lstmlab reproduce
--method`` (``_method_table.py``) and the Ray runner (``_on_ray.py``) are imported where used:
the one reads the competitors, the other imports ray.
"""

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._html import html_report
from lstmlab.reproduce._lstm1997 import Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce._method import Method, TrialProgress, TrialResult
from lstmlab.reproduce._modern import ModernMethod, ModernSettings
from lstmlab.reproduce._progress import progress_bar
from lstmlab.reproduce._registry import REGISTRY, experiments
from lstmlab.reproduce._runner import (
    ExperimentResults,
    MethodSummary,
    ReproduceConfig,
    RunProgress,
    RunResults,
    run,
)
from lstmlab.reproduce._salvage import SalvageReport, salvage
from lstmlab.reproduce._store import TrialStore
from lstmlab.reproduce._tables import markdown_report, rich_tables

__all__ = [
    # a run and its results
    "run", "ReproduceConfig", "RunProgress", "RunResults", "ExperimentResults", "MethodSummary",
    "progress_bar",
    # what is run: the experiments and the methods
    "REGISTRY", "experiments", "Experiment", "Method", "TrialProgress", "TrialResult",
    "Lstm1997Method", "Lstm1997Settings", "ModernMethod", "ModernSettings",
    # the store and the reports
    "TrialStore", "salvage", "SalvageReport", "markdown_report", "rich_tables", "html_report",
]

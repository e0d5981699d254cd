"""lstmlab.reproduce: the 1997 experiments re-run, stored trial by trial, set beside the paper.

``run(config, progress=...)`` runs experiments × methods × trials, committing every finished
trial to an SQLite store so a killed run resumes where it stopped; ``rich_tables``,
``markdown_report`` and ``html_report`` render the published numbers and ours side by side.
"""

from lstmlab.reproduce.experiment import Experiment
from lstmlab.reproduce.html import html_report
from lstmlab.reproduce.lstm1997 import Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce.method import Method, TrialProgress, TrialResult
from lstmlab.reproduce.modern import ModernMethod, ModernSettings
from lstmlab.reproduce.progress import progress_bar
from lstmlab.reproduce.registry import REGISTRY, experiments
from lstmlab.reproduce.runner import (
    ExperimentResults,
    MethodSummary,
    ReproduceConfig,
    RunProgress,
    RunResults,
    run,
)
from lstmlab.reproduce.store import TrialStore
from lstmlab.reproduce.tables import markdown_report, markdown_table, rich_table, rich_tables
from lstmlab.tasks.published import PublishedRow

__all__ = [
    "REGISTRY",
    "Experiment",
    "ExperimentResults",
    "Lstm1997Method",
    "Lstm1997Settings",
    "Method",
    "MethodSummary",
    "ModernMethod",
    "ModernSettings",
    "RunProgress",
    "PublishedRow",
    "ReproduceConfig",
    "RunResults",
    "TrialProgress",
    "TrialResult",
    "TrialStore",
    "experiments",
    "html_report",
    "markdown_report",
    "markdown_table",
    "progress_bar",
    "rich_table",
    "rich_tables",
    "run",
]

"""lstmlab.reproduce: the 1997 experiments re-run, stored trial by trial, set beside the paper.

``run(config, progress=...)`` runs experiments × methods × trials, committing every finished
trial to an SQLite store so a killed run resumes where it stopped; ``rich_tables``,
``markdown_report`` and ``html_report`` render the published numbers and ours side by side.
"""

from lstmlab.reproduce.experiment import Experiment, PublishedRow
from lstmlab.reproduce.html import html_report
from lstmlab.reproduce.method import Method, TrialProgress, TrialResult
from lstmlab.reproduce.runner import (
    ExperimentResults,
    MethodSummary,
    Progress,
    ReproduceConfig,
    RunResults,
    run,
)
from lstmlab.reproduce.store import TrialStore
from lstmlab.reproduce.tables import markdown_report, markdown_table, rich_table, rich_tables

__all__ = [
    "Experiment",
    "ExperimentResults",
    "Method",
    "MethodSummary",
    "Progress",
    "PublishedRow",
    "ReproduceConfig",
    "RunResults",
    "TrialProgress",
    "TrialResult",
    "TrialStore",
    "html_report",
    "markdown_report",
    "markdown_table",
    "rich_table",
    "rich_tables",
    "run",
]

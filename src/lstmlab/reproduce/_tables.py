"""The published numbers and ours side by side: one table per experiment.

Columns to the left are "published [H97 Table N]", columns to the right "measured here"; a
measured row sits beside the published row of the same method (the first one where the paper
has several settings), published rows of methods not run stay on their own, and measured rows of
methods the paper never ran have empty published cells. The same rows render as a rich
``Table`` for the terminal and as Markdown for RESULTS.md.
"""

from __future__ import annotations

from rich.table import Table

from lstmlab.reproduce._experiment import PublishedRow
from lstmlab.reproduce._results import ExperimentResults, MethodSummary, RunResults

HEADERS = (
    "method",
    "setting",
    "trials",
    "success",
    "mean seqs to success",
    "test",
    "trials",
    "success",
    "mean seqs to success",
    "test wrong",
    "budget (seqs)",
    "wall s / trial",
)
PUBLISHED_COLUMNS = slice(1, 6)
MEASURED_COLUMNS = slice(6, 12)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _published_rate(row: PublishedRow) -> str:
    """The published success rate; where the paper gives none but says its mean is over all
    its trials (``PublishedRow.all_reached``), the 100 % that implies, marked as implied."""
    if row.success is None and row.all_reached:
        return "100 % implied"
    return _percent(row.success)


def _published_cells(row: PublishedRow | None) -> list[str]:
    if row is None:
        return ["", "", "", "", ""]
    return [
        row.setting,
        "—" if row.trials is None else str(row.trials),
        _published_rate(row),
        _count(row.sequences),
        row.test,
    ]


def _measured_cells(summary: MethodSummary | None) -> list[str]:
    if summary is None:
        return ["not run", "", "", "", "", ""]
    if summary.trials == 0:
        return ["none finished", "—", "—", "—", f"{summary.budget:,}", "—"]
    test = summary.mean_test_error
    return [
        str(summary.trials),
        _percent(summary.success_rate),
        _count(summary.mean_sequences),
        "—" if test is None else f"{100 * test:.2f} %",
        f"{summary.budget:,}",
        f"{summary.wall_time:.0f}",
    ]


def table_rows(results: ExperimentResults) -> list[list[str]]:
    """The rows of one experiment's table, as text cells in the order of :data:`HEADERS`."""
    measured = {summary.method: summary for summary in results.methods}
    rows: list[list[str]] = []
    paired: set[str] = set()
    for published in results.experiment.published:
        summary = None
        if published.method in measured and published.method not in paired:
            summary = measured[published.method]
            paired.add(published.method)
        rows.append([published.method, *_published_cells(published), *_measured_cells(summary)])
    for name, summary in measured.items():
        if name not in paired:
            rows.append([name, *_published_cells(None), *_measured_cells(summary)])
    return rows


def _published_label(results: ExperimentResults) -> str:
    return f"published {results.experiment.sources}"


def rich_table(results: ExperimentResults) -> Table:
    """One experiment's table for the terminal."""
    experiment = results.experiment
    table = Table(title=f"Experiment {experiment.name}: {experiment.title}", show_lines=False)
    label = _published_label(results)
    for index, header in enumerate(HEADERS):
        if index == 0:
            table.add_column(header)
        elif index < MEASURED_COLUMNS.start:
            table.add_column(f"{header}\n[dim]{label}[/dim]", justify="right", style="cyan")
        else:
            table.add_column(f"{header}\n[dim]measured here[/dim]", justify="right", style="green")
    for row in table_rows(results):
        table.add_row(*row)
    return table


def rich_tables(results: RunResults) -> list[Table]:
    return [rich_table(experiment) for experiment in results.experiments]


def markdown_table(results: ExperimentResults) -> str:
    """One experiment's table as Markdown. Markdown has no column groups, so every header says
    its group: "published: ..." (the source is named in the line above) or "measured here: ..."."""
    headers = [HEADERS[0]]
    headers += [f"published: {h}" for h in HEADERS[PUBLISHED_COLUMNS]]
    headers += [f"measured here: {h}" for h in HEADERS[MEASURED_COLUMNS]]
    lines = [
        f"### Experiment {results.experiment.name}: {results.experiment.title}",
        "",
        f"published = {results.experiment.sources}; measured here = this run's stored trials.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in table_rows(results)]
    return "\n".join(lines) + "\n"


def markdown_report(results: RunResults) -> str:
    """All experiments' tables as one Markdown document."""
    header = [
        "## Reproduction of [H97]: published vs measured here",
        "",
        f"Wall time of this run: {results.wall_time:.0f} s. Store: `{results.store}`."
        " Mean sequences to success and test error are over the successful trials; a trial's"
        " wall time in a population is shared with the members trained beside it.",
    ]
    if results.quick:
        header.append(
            "**Quick mode**: tiny budgets and few trials; a smoke test of the pipeline, not a"
            " reproduction (the measured numbers are not comparable to the published ones)."
        )
    parts = ["\n".join(header) + "\n"]
    parts += [markdown_table(experiment) for experiment in results.experiments]
    return "\n".join(parts)

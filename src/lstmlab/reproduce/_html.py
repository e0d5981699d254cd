"""The tables as an HTML fragment for the report, each with its learning curves inlined.

The fragment has no ``<html>`` or ``<head>``: a report can embed it; ``html_page`` wraps it into
the standalone ``results.html`` with the Content-Security-Policy of every lstmlab page
(``lstmlab.reports._page``: no script, own style only, images as ``data:`` URIs). Curves are
matplotlib PNGs written into ``data:`` URIs (base64), so the fragment is one self-contained
string. Every string (method names, titles, cells) is escaped with ``page.text``.
"""

from __future__ import annotations

import base64
import io

from lstmlab.reports._page import BANNER_STYLE, banner, document
from lstmlab.reports._page import text as escape
from lstmlab.reproduce._results import ExperimentResults, RunResults
from lstmlab.reproduce._tables import HEADERS, MEASURED_COLUMNS, table_rows


def curves_png(results: ExperimentResults) -> bytes | None:
    """Training error against training sequences seen, one thin line per trial, one colour per
    method; None when no trial recorded a curve."""
    curves = [
        (index, result.curve)
        for index, summary in enumerate(results.methods)
        for result in summary.results
        if result.curve
    ]
    if not curves:
        return None
    from matplotlib.figure import Figure  # here, not at import: matplotlib loads slowly

    figure = Figure(figsize=(6.0, 3.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    colours = [f"C{index}" for index in range(len(results.methods))]
    for index, curve in curves:
        sequences, errors = zip(*curve, strict=True)
        axes.plot(sequences, errors, color=colours[index], alpha=0.5, linewidth=0.8)
    for index, summary in enumerate(results.methods):
        axes.plot([], [], color=colours[index], label=summary.method)
    axes.set_xlabel("training sequences")
    axes.set_ylabel("mean training error")
    if all(error > 0 for _, curve in curves for _, error in curve):
        axes.set_yscale("log")
    axes.set_title(f"Experiment {results.experiment.name}: learning curves", fontsize=10)
    axes.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def html_table(results: ExperimentResults) -> str:
    label = escape(f"published {results.experiment.sources}")
    measured_span = MEASURED_COLUMNS.stop - MEASURED_COLUMNS.start
    published_span = MEASURED_COLUMNS.start - 1
    head = (
        "<tr><th rowspan='2'>method</th>"
        f"<th colspan='{published_span}' class='published'>{label}</th>"
        f"<th colspan='{measured_span}' class='measured'>measured here</th></tr>"
        "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in HEADERS[1:]) + "</tr>"
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in table_rows(results)
    )
    return f"<table class='reproduce'><thead>{head}</thead><tbody>{body}</tbody></table>"


def html_report(results: RunResults) -> str:
    """All experiments: heading, table and learning curves, as one HTML fragment."""
    parts = ["<section class='reproduce'>", "<h2>Reproduction of [H97]</h2>"]
    parts.append(f"<p>Wall time of this run: {results.wall_time:.0f} s.</p>")
    if results.quick:
        parts.append(
            "<p><strong>Quick mode</strong>: tiny budgets and few trials, a smoke test of the"
            " pipeline; the measured numbers are not comparable to the published ones.</p>"
        )
    for experiment in results.experiments:
        title = f"Experiment {experiment.experiment.name}: {experiment.experiment.title}"
        parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(html_table(experiment))
        png = curves_png(experiment)
        if png is not None:
            encoded = base64.b64encode(png).decode("ascii")
            parts.append(
                f"<img alt='learning curves, experiment {escape(experiment.experiment.name)}'"
                f" src='data:image/png;base64,{encoded}'/>"
            )
    parts.append("</section>")
    return "\n".join(parts) + "\n"


_PAGE_STYLE = """
body { font-family: "DejaVu Sans", sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
table.reproduce { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
table.reproduce th, table.reproduce td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
th.published { background: #eef; } th.measured { background: #efe; }
img { max-width: 100%; }
""" + BANNER_STYLE


def html_page(results: RunResults) -> str:
    """``html_report`` as a standalone page (``results.html``) with its policy and style."""
    warning = banner("Smoke run (--quick): tiny budgets and few trials; these numbers test the "
                     "pipeline and are not comparable to the published ones.") \
        if results.quick else ""
    return document("lstmlab reproduce: results", warning + html_report(results),
                    style=_PAGE_STYLE)

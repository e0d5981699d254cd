"""The side-by-side tables: published cells from the paper rows, measured cells from the store."""

from __future__ import annotations

import base64
import re

from reproduce_fakes import FakeMethod, fake_experiment, fake_outcome
from rich.console import Console

from lstmlab.reproduce import ReproduceConfig, html_report, markdown_report, run
from lstmlab.reproduce._tables import markdown_table, rich_table, table_rows


def _results(tmp_path, methods=None):
    methods = methods or (FakeMethod(),)
    config = ReproduceConfig((fake_experiment(trials=6),), methods, out=tmp_path,
                             write_tables=False)
    return run(config)


def test_measured_row_sits_beside_the_published_row_of_its_method(tmp_path):
    results = _results(tmp_path, methods=(FakeMethod(), FakeMethod(name="modern")))
    rows = table_rows(results.experiments[0])
    assert [row[0] for row in rows] == ["fake", "rtrl", "modern"]
    fake, rtrl, modern = rows
    successes = [fake_outcome(seed) for seed in range(6) if seed % 3 != 0]
    mean = sum(r.sequences for r in successes) / len(successes)
    mean_test = sum(r.test_error for r in successes) / len(successes)
    assert fake[1:6] == ["T = 100", "10", "—", "74,000", "1 of 2560 wrong"]
    assert fake[6:11] == ["6", "67 %", f"{mean:,.0f}", f"{100 * mean_test:.2f} %", "5,000"]
    assert rtrl[1:6] == ["p = 4", "18", "78 %", "1,043,000", ""] and rtrl[6] == "not run"
    assert modern[1:6] == ["", "", "", "", ""] and modern[6] == "6"


def test_markdown_marks_published_and_measured_columns(tmp_path):
    text = markdown_table(_results(tmp_path).experiments[0])
    lines = text.splitlines()
    assert lines[2] == ("published = [H97] Table 7, [H97] Table 2; measured here ="
                        " this run's stored trials.")
    assert lines[4].count("| published: ") == 5 and lines[4].count("| measured here: ") == 6
    assert len(lines) == 6 + 2  # title, blank, legend, blank, header, rule, two rows


def test_quick_runs_say_they_are_not_a_reproduction(tmp_path):
    config = ReproduceConfig((fake_experiment(),), (FakeMethod(),), quick=True, out=tmp_path,
                             write_tables=False)
    results = run(config)
    assert "**Quick mode**" in markdown_report(results)
    assert "Quick mode" in html_report(results)


def test_html_inlines_a_decodable_png_of_the_curves(tmp_path):
    fragment = html_report(_results(tmp_path))
    (encoded,) = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", fragment)
    assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    assert "<html" not in fragment and "measured here" in fragment


def test_rich_table_renders_both_column_groups(tmp_path):
    console = Console(width=250, record=True)
    console.print(rich_table(_results(tmp_path).experiments[0]))
    text = console.export_text()
    assert "measured here" in text and "74,000" in text and "1,043,000" in text


def test_progress_bar_shows_trials_done_per_pair(tmp_path):
    from lstmlab.reproduce import progress_bar

    console = Console(width=160, record=True, force_terminal=False)
    with progress_bar(console) as report:
        run(ReproduceConfig((fake_experiment(trials=3),), (FakeMethod(),), out=tmp_path,
                            write_tables=False), progress=report)
    text = console.export_text()
    assert "exp 4 fake" in text and "3/3" in text
    assert f"{sum(fake_outcome(s).sequences for s in range(3)):,} seqs" in text


def test_a_rate_the_paper_implies_is_printed_as_implied_not_as_missing():
    """Where the paper gives no rate but says its mean is over all its trials, the published
    cell says 100 % implied (as summary.csv and RESULTS.md do); with neither, a dash."""
    from lstmlab.reproduce._tables import _published_cells
    from lstmlab.tasks import PublishedRow

    implied = PublishedRow("lstm1997", "T=100", 10, None, 74_000, "", "[H97] Table 7",
                           all_reached="the mean over all ten trials")
    silent = PublishedRow("lstm1997", "T=100", 10, None, 74_000, "", "[H97] Table 7")
    assert _published_cells(implied)[2] == "100 % implied"
    assert _published_cells(silent)[2] == "—"

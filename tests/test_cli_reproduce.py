"""`lstmlab reproduce` on the command line: runs, stores, renders; refuses bad names with exit 2."""

import sqlite3

from typer.testing import CliRunner

from lstmlab.cli import app

runner = CliRunner()


def test_reproduce_quick_writes_the_store_and_the_side_by_side_table(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["reproduce", "6a", "--method", "lstm1997", "--method", "guess",
                                 "--trials", "1", "--budget", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "trials.sqlite") as db:
        rows = db.execute("SELECT method, experiment, seed FROM trials ORDER BY method").fetchall()
    assert rows == [("guess", "6a", 0), ("lstm1997", "6a", 0)]
    table = (out / "results.md").read_text()
    assert "published" in table and "measured here" in table
    assert "guess" in table and "lstm1997" in table
    # not a terminal (a log file, a pipe): the same Markdown rows, not a table squashed to 80
    # columns, where no header survives whole
    assert "| measured here: mean seqs to success |" in result.output
    assert next(line for line in table.splitlines() if line.startswith("| guess |")) \
        in result.output.splitlines()


def test_unknown_method_and_experiment_exit_2_with_one_line(tmp_path):
    for args in (["reproduce", "1", "--method", "nope"], ["reproduce", "9"]):
        result = runner.invoke(app, [*args, "--out", str(tmp_path)])
        assert result.exit_code == 2
        assert "error:" in result.output and "Traceback" not in result.output


def test_method_all_runs_every_method_in_quick_mode(tmp_path):
    out = tmp_path / "all"
    result = runner.invoke(app, ["reproduce", "1", "--method", "all", "--quick", "--trials", "1",
                                 "--budget", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out / "trials.sqlite") as db:
        methods = {row[0] for row in db.execute("SELECT method FROM trials")}
    assert methods == {"lstm1997", "modern", "rtrl", "bptt", "elman", "rcc", "chunker", "guess"}

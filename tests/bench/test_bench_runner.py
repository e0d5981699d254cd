"""The bench's models, runner, store and renderer; the committed table equals its store."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from lstmlab.bench import CELLS, BenchConfig, BenchModel, read_store, render, run
from lstmlab.bench import _runner as runner_module
from lstmlab.cli import app
from lstmlab.errors import UserError

RESULTS = Path(__file__).parents[2] / "results"


@pytest.mark.parametrize("name", list(CELLS))
def test_the_fast_path_trained_and_the_traced_step_loop_give_the_same_h(name):
    # training runs torch's kernels / compiled_unroll / the parallel forms; the account reads the
    # step loop: both must be the same network
    model = BenchModel(name, 5, 6, 3).double()
    xs = torch.randn(9, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(model.trace(xs).states.h, model.hidden(xs))


def test_unknown_cell_is_refused_by_name():
    with pytest.raises(ValueError, match="cell must be one of"):
        BenchModel("transformer", 2, 4, 2)


def test_run_stores_every_trial_and_resumes_without_rerunning(tmp_path, monkeypatch):
    store = tmp_path / "trials.jsonl"
    config = BenchConfig.quick()
    cells = ["lstm", "slstm", "mingru"]  # torch's kernel, the step loop, a scan
    rows = run(config, store, ["parity"], cells, [0])
    rows += run(config, store, ["modular", "revision"], ["lstm"], [0])
    assert len(read_store(store)) == len(cells) + 2
    assert {row["cell"] for row in rows} == set(cells)
    calls = []
    monkeypatch.setattr(runner_module, "run_trial", lambda *a: calls.append(a))
    again = run(config, store, ["parity"], cells, [0])
    assert calls == [] and len(again) == len(cells) + 2
    with store.open("a") as file:  # a write torn by a kill is dropped
        file.write('{"task": "par')
    assert len(read_store(store)) == len(cells) + 2
    with pytest.raises(UserError, match="other sizes"):
        run(BenchConfig(), store, ["parity"], ["lstm"], [0])
    with pytest.raises(UserError, match="cell"):
        run(config, tmp_path / "other.jsonl", ["parity"], ["lstm2"], [0])


def _row(cell: str, seed: int, accuracy: float) -> dict:
    state = {"probe": [1.0, accuracy], "eta2": [0.9, 0.8], "flips": [0.0, 1.0]}
    gate = {"probe": [0.5, 0.5], "eta2": [0.1, 0.1], "symbol_eta2": 0.95,
            "symbol_means": [0.9, 0.1]}
    return {"task": "parity", "cell": cell, "seed": seed, "config": "x", "steps": 100 * seed,
            "train_accuracy": 1.0, "accuracy": {"40": 1.0, "64": accuracy, "256": accuracy},
            "trace": {"state.h": state, "gate.forget": gate}, "seconds": 1.0}


def test_render_is_a_function_of_the_rows_alone():
    rows = [_row("lstm", seed, a) for seed, a in enumerate([1.0, 1.0, 0.5, 1.0, 1.0])]
    rows += [_row("mingru", seed, 0.5) for seed in range(5)]
    markdown, table = render(rows, 40)
    assert render(list(reversed(rows)), 40) == (markdown, table)
    # 4 of 5 seeds generalize: Wilson (0.376, 0.964); mean accuracy 0.9
    assert "| 4/5 [0.38, 0.96] | 200 |" in markdown
    assert "| 0/5 [0.00, 0.43] |" in markdown
    lstm = table.splitlines()[1].split(",")
    header = table.splitlines()[0].split(",")
    assert lstm[header.index("accuracy_64")] == "0.900000"
    assert lstm[header.index("generalized")] == "4"
    assert "h 0.90 -> 0.80; flips 1.00 / 0.00 | forget 0.95: 0.90 / 0.10" in markdown
    mingru = markdown.split("| minGRU")[-1]
    assert "readable from the state at train lengths and beyond" not in mingru


def test_committed_table_is_rendered_from_the_committed_store():
    rows = read_store(RESULTS / "state_tracking.trials.jsonl")
    assert len(rows) >= 5 * 8 * 3  # five seeds of every cell on every task
    markdown, table = render(rows, BenchConfig().train_lengths[1])
    assert (RESULTS / "state_tracking.md").read_text(encoding="utf-8") == markdown + "\n"
    assert (RESULTS / "state_tracking.csv").read_text(encoding="utf-8") == table
    assert {row["config"] for row in rows} == {BenchConfig().key()}


def test_cli_bench_tasks_quick_then_render_only(tmp_path):
    result = CliRunner().invoke(app, ["bench-tasks", "--quick", "--seeds", "1", "--task",
                                      "parity", "--cell", "gru", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "state_tracking.md").read_text()
    (tmp_path / "state_tracking.md").unlink()
    result = CliRunner().invoke(app, ["bench-tasks", "--quick", "--render-only", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "state_tracking.md").read_text() == written
    assert json.loads((tmp_path / "state_tracking.trials.jsonl").read_text())["cell"] == "gru"


def test_cli_render_only_without_a_store_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["bench-tasks", "--render-only", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no trials" in result.output

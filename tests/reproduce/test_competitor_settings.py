"""Every competitor row of [H97] Tables 1 and 2 by one command (``reproduce._competitor_settings``
and the registry's own experiments), checked against the paper's rows transcribed here again.

[H97] Table 1 quotes RTRL (Smith & Zipser 1989) with 3 hidden units, ~170 weights, learning rate
0.05, and with 12 hidden units, ~494 weights, learning rate 0.1; the Elman net (Cleeremans et al.
1989) with 15 hidden units, ~435 weights. Table 2 runs RTRL at p = 4 (36 weights; lr 1.0, 4.0,
10.0), p = 10 (144 weights), p = 100 (10,404 weights) and BPTT at p = 100 (10,404 weights), one
hidden unit each (§5.2). The weight counts are rebuilt below from each net's wiring, so a test
fails if the net built has another size; ours differ from the paper's by documented biases (and
for Table 1's RTRL nets by output units that do not recur), computed separately.
"""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from lstmlab.cli import app
from lstmlab.errors import UserError
from lstmlab.reproduce import run
from lstmlab.reproduce._method_table import build_config, default_methods, method
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._results_report import _published, not_run
from lstmlab.reproduce._runner import trial_config_hash

#: command -> (method, [H97] row, hidden units, learning rate, the paper's weights, wiring,
#: input size, output size, trials, budget). Learning rate None: [H97] gives none (ours: 0.1).
ROWS = {
    "1": ("rtrl", "12 hidden, lr=0.1", 12, 0.1, 494, "recurrent outputs", 7, 7, 30, 100_000),
    "1@hidden=3,lr=0.05": ("rtrl", "3 hidden, lr=0.05", 3, 0.05, 170, "recurrent outputs",
                           7, 7, 10, 1_100_000),
    "1@hidden=15": ("elman", "15 hidden", 15, None, 435, "elman", 7, 7, 10, 200_000),
    "2a@p=4,lr=1.0": ("rtrl", "2a p=4, lr=1.0", 1, 1.0, 36, "layered", 5, 5, 18, 5_000_000),
    "2a@p=4,lr=4.0": ("rtrl", "2a p=4, lr=4.0", 1, 4.0, 36, "layered", 5, 5, 18, 5_000_000),
    "2a@p=4,lr=10.0": ("rtrl", "2a p=4, lr=10.0", 1, 10.0, 36, "layered", 5, 5, 18, 5_000_000),
    "2a@p=10,lr=1.0": ("rtrl", "2a p=10", 1, 1.0, 144, "layered", 11, 11, 18, 5_000_000),
    "2a": ("rtrl", "2a p=100", 1, 1.0, 10_404, "layered", 101, 101, 18, 5_000_000),
}
#: The same net trained by BPTT ([H97] Table 2).
BPTT_2A = ("bptt", "2a p=100", 1, 1.0, 10_404, "layered", 101, 101, 18, 5_000_000)
CASES = [(name, *row) for name, row in ROWS.items()] + [("2a", *BPTT_2A)]
NEW = [name for name in ROWS if "@" in name]


def paper_weights(wiring: str, inputs: int, hidden: int, outputs: int) -> int:
    """The papers' nets, no biases: Williams & Zipser's fully recurrent net (outputs are units
    of the recurrent layer, all reading the inputs), the Elman net (outputs read the hidden
    layer), or [H97] §5.2's "each layer connected from all layers below"."""
    if wiring == "recurrent outputs":
        return (hidden + outputs) * (inputs + hidden + outputs)
    if wiring == "elman":
        return hidden * (inputs + hidden) + outputs * hidden
    return hidden * (inputs + hidden) + outputs * (inputs + hidden)


def our_weights(wiring: str, inputs: int, hidden: int, outputs: int) -> int:
    """Ours: torch.nn.RNN's hidden layer (two bias vectors) and biased logistic outputs that
    read the hidden layer (Elman) or the inputs and the hidden layer (the others)."""
    readout = hidden if wiring == "elman" else inputs + hidden
    return hidden * (inputs + hidden) + 2 * hidden + outputs * readout + outputs


@pytest.mark.parametrize(("name", "method_name", "row", "hidden", "learning_rate", "weights",
                          "wiring", "inputs", "outputs", "trials", "budget"), CASES)
def test_each_competitor_row_runs_the_papers_net_size_and_learning_rate(
        name, method_name, row, hidden, learning_rate, weights, wiring, inputs, outputs, trials,
        budget):
    built = experiment(name)
    assert _published(name, method_name).setting == row
    assert (built.trials, built.budget) == (trials, budget)
    chosen = method(method_name)
    settings = chosen.net_settings(built)
    assert settings.hidden_size == hidden
    assert settings.learning_rate == (0.1 if learning_rate is None else learning_rate)
    task = built.make_task(0)
    assert (task.input_size, task.output_size) == (inputs, outputs)
    assert paper_weights(wiring, inputs, hidden, outputs) == weights  # the transcription holds
    net = chosen.build(built)(task, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in net.model.parameters()) == our_weights(
        wiring, inputs, hidden, outputs)
    assert net.optimizer.lr == settings.learning_rate
    assert net.algorithm.learning_rate == settings.learning_rate


def test_the_published_weight_differences_are_the_documented_biases():
    # 2a: ours = the paper's + 2 hidden biases + p + 1 output biases (43 / 157 / 10,507).
    assert [our_weights("layered", p + 1, 1, p + 1) for p in (4, 10, 100)] == [43, 157, 10_507]
    assert our_weights("elman", 7, 15, 7) == 472


@pytest.mark.parametrize("name", NEW)
def test_a_competitors_setting_runs_its_method_by_default_and_refuses_others(name):
    method_name = ROWS[name][0]
    config = build_config([name])
    assert [m.name for m in config.methods] == [method_name]
    assert default_methods((experiment(name), experiment("1"))) == ("lstm1997",)
    with pytest.raises(UserError, match=rf"expected --method {method_name}.*received lstm1997"):
        build_config([name], ("lstm1997",))


def test_the_cli_refuses_another_method_on_a_competitors_setting(tmp_path):
    result = CliRunner().invoke(app, ["reproduce", "1@hidden=15", "--method", "rtrl",
                                      "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "expected --method elman" in result.output


def test_settings_have_their_own_store_keys_and_the_defaults_keep_theirs():
    rtrl = method("rtrl")
    keys = {trial_config_hash(rtrl, experiment(name), 1000)[0]
            for name in ("1", "1@hidden=3,lr=0.05", "2a", "2a@p=4,lr=1.0", "2a@p=4,lr=4.0",
                         "2a@p=10,lr=1.0")}
    assert len(keys) == 6
    # The net of the registry's own experiments is still paper_settings': 1 is 12 hidden units.
    assert rtrl.net_settings(experiment("1")).hidden_size == 12


def test_the_not_run_table_gives_every_competitor_row_a_command():
    table = not_run([])
    assert "does not run yet" not in table
    for command in ("1@hidden=3,lr=0.05 --method rtrl", "1@hidden=15 --method elman",
                    "2a@p=4,lr=10.0 --method rtrl", "2a@p=10,lr=1.0 --method rtrl",
                    "1 --method rtrl", "2a --method bptt", "3a --method guess"):
        assert f"`lstmlab reproduce {command}`" in table


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NEW)
def test_quick_mode_runs_each_competitors_setting(name, tmp_path):
    results = run(build_config([name], quick=True, out=tmp_path))
    (done,) = results.experiments
    (summary,) = done.methods
    assert done.experiment.name == name and summary.method == ROWS[name][0]
    assert len(summary.results) == done.experiment.quick_trials == 2
    assert all(1 <= r.sequences <= done.experiment.quick_budget for r in summary.results)

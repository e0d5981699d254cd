"""Every published lstm1997 setting of Table 10 by name (``lstmlab.reproduce._settings``).

The paper's numbers are transcribed here again from [H97] Tables 1 and 3-9, independently of the
task modules, so a setting paired with the wrong row or built with the wrong parameters fails.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lstmlab.cells import IDENTITY, LOGISTIC
from lstmlab.cli import app
from lstmlab.errors import UserError
from lstmlab.reproduce import REGISTRY, run
from lstmlab.reproduce._method_table import METHODS, build_config
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._results_report import file_name, not_run
from lstmlab.reproduce._runner import trial_config_hash
from lstmlab.reproduce._settings import BUDGET_FACTOR, settings, several_times

#: [H97] Table 3: (q, p) -> mean sequences to success (20 trials, 5 million cap).
TABLE_3 = {(50, 50): 30_000, (100, 100): 31_000, (200, 200): 33_000, (500, 500): 38_000,
           (1000, 1000): 49_000, (1000, 500): 49_000, (1000, 200): 75_000,
           (1000, 100): 135_000, (1000, 50): 203_000}
#: [H97] Table 7: T -> mean sequences (10 trials).
TABLE_7 = {100: 74_000, 500: 209_000, 1000: 853_000}


@pytest.mark.parametrize(("q", "p"), list(TABLE_3))
def test_each_2c_setting_builds_table_3s_task_and_pairs_with_its_row(q, p):
    built = experiment(f"2c@q={q},p={p}")
    task = built.make_task(0)
    assert (task.q, task.p, task.input_size) == (q, p, p + 4)
    assert built.setup.input_size == p + 4 and built.setup.weights == 6 * (p + 10) + 4
    row = built.published[0]
    assert (row.method, row.setting, row.sequences, row.trials) == (
        "lstm1997", f"2c q={q} p={p}", TABLE_3[(q, p)], 20)
    assert (built.trials, built.budget) == (20, 5_000_000)  # the paper's cap, §5.2
    assert built.name == ("2c" if (q, p) == (50, 50) else f"2c@q={q},p={p}")


@pytest.mark.parametrize("T", list(TABLE_7))
def test_each_adding_setting_builds_table_7s_task_and_pairs_with_its_row(T):
    built = experiment(f"4@T={T}")
    assert built.make_task(0).T == T
    assert built.setup.experiment == f"4-{[100, 500, 1000].index(T) + 1}"
    row = built.published[0]
    assert (row.setting, row.sequences, row.trials, built.trials) == (
        f"T={T}", TABLE_7[T], 10, 10)
    if T != 100:  # no cap in the paper: BUDGET_FACTOR x the published mean, rounded up
        assert built.budget == several_times(TABLE_7[T]) >= BUDGET_FACTOR * TABLE_7[T]


@pytest.mark.parametrize(("name", "variant", "T", "N", "rules", "mean"), [
    ("3a", "3a", 100, 3, ("ST1", "ST2"), 39_850),
    ("3a@T=100,N=3,rule=ST1", "3a", 100, 3, ("ST1",), 27_380),
    ("3a@T=100,N=1", "3a", 100, 1, ("ST1", "ST2"), 64_330),
    ("3a@N=1,T=100,rule=ST1", "3a", 100, 1, ("ST1",), 58_370),
    ("3a@T=1000,N=3", "3a", 1000, 3, ("ST1", "ST2"), 452_460),
    ("3a@T=1000,N=3,rule=ST1", "3a", 1000, 3, ("ST1",), 446_850),
    ("3b@T=100,N=1", "3b", 100, 1, ("ST1", "ST2"), 78_430),
    ("3b@T=1000,N=1", "3b", 1000, 1, ("ST1", "ST2"), 485_080),
    ("3b@T=1000,N=1,rule=ST1", "3b", 1000, 1, ("ST1",), 481_060),
    ("3c@T=100,N=1", "3c", 100, 1, ("stop",), 565_640),
])
def test_each_two_sequence_setting_builds_its_task_rule_and_row(name, variant, T, N, rules, mean):
    built = experiment(name)
    task = built.make_task(0)
    assert (task.variant, task.T, task.N) == (variant, T, N)
    assert tuple(rule.name for rule in task.stopping) == rules
    assert built.published[0].sequences == mean and built.trials == 10


@pytest.mark.parametrize(("name", "rule", "mean"), [("5", "n_seq=13", 1_273_000),
                                                     ("5@n_seq=140", "n_seq=140", 482_000)])
def test_each_multiplication_setting_stops_at_its_rule(name, rule, mean):
    built = experiment(name)
    assert built.make_task(0).stopping[-1].name == rule
    assert built.published[0].sequences == mean


@pytest.mark.parametrize(("row", "mean"), [("1-1", 39_740), ("1-2", 21_730), ("1-3", 14_060),
                                           ("1-4", 9_500)])
def test_each_reber_row_builds_its_table_10_setup(row, mean):
    built = experiment(f"1@row={row}")
    assert built.setup.experiment.endswith(row) and built.make_task(0).setup == built.setup
    assert (built.published[0].setting, built.published[0].sequences, built.trials) == (
        row, mean, 30)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_the_registrys_own_setting_is_the_plain_experiment_with_its_store_key(name):
    """Rows stored before settings existed keep their keys: ``4@T=100`` is ``4``."""
    own = settings(name)[0]
    assert own.default and own.command_name == name
    plain, named = experiment(name), experiment(f"{name}@{own.name}" if own.name else name)
    assert named is not plain and (named.name, named.setup, named.budget) == (
        plain.name, plain.setup, plain.budget)
    assert next(r for r in plain.published if r.method == "lstm1997") == own.published
    method = METHODS["lstm1997"]()
    assert trial_config_hash(method, named, named.budget) == trial_config_hash(
        method, plain, plain.budget)


def test_settings_differ_in_their_store_keys():
    method = METHODS["lstm1997"]()
    keys = {trial_config_hash(method, e, e.budget)[0]
            for e in map(experiment, ["4", "4@T=500", "4@T=1000", "4@T=1000:linear-output",
                                      "3a@T=100,N=3,rule=ST1", "3a"])}
    assert len(keys) == 6


def test_a_setting_composes_with_a_reading():
    built = experiment("4@T=1000:linear-output")
    assert built.name == "4@T=1000:linear-output" and built.setup.output_unit is IDENTITY
    assert built.make_task(0).T == 1000 and built.published[0].setting == "T=1000"
    assert experiment("4@T=1000").setup.output_unit is LOGISTIC
    assert "reading: linear output" in built.title


def test_unknown_settings_are_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match=r"expected a setting among \(4@T=100, 4@T=500, "
                                        r"4@T=1000\), received 'T=2000'"):
        experiment("4@T=2000")
    with pytest.raises(UserError, match="expected a setting among"):
        experiment("3b@T=1000")  # 3b's T = 1000 row is N = 1
    with pytest.raises(UserError, match=r"expected one of 1, 2a.*received '9@T=1'"):
        experiment("9@T=1")
    result = CliRunner().invoke(app, ["reproduce", "2c@q=7,p=7", "--quick"])
    assert result.exit_code == 2 and "2c@q=1000,p=1000" in result.output


def test_file_names_of_settings():
    assert file_name("2c@q=1000,p=1000") == "2c_q1000_p1000.csv"
    assert file_name("4@T=1000:linear-output") == "4_T1000_linear-output.csv"
    assert file_name("3a@T=100,N=3,rule=ST1") == "3a_T100_N3_ruleST1.csv"
    with pytest.raises(UserError, match="expected a name like"):
        file_name("4@T=1000/x")


def test_the_not_run_table_gives_every_lstm1997_row_a_command_and_no_cross_rows():
    table = not_run([])
    lstm_rows = [line for line in table.splitlines() if "| lstm1997 |" in line]
    assert len(lstm_rows) == 5 + 2 + 9 + 6 + 6 + 2 + 3 + 2 + 2  # Tables 1-9's lstm1997 rows
    assert all("`lstmlab reproduce " in line for line in lstm_rows)
    assert "| 6a | lstm1997 | 6b |" not in table and "| 6b | lstm1997 | 6a |" not in table
    assert "`lstmlab reproduce 2c@q=1000,p=1000 --method lstm1997`" in table


@pytest.mark.timeout(60)
def test_quick_mode_runs_a_setting_end_to_end(tmp_path):
    results = run(build_config(["2c@q=100,p=100"], ("lstm1997",), quick=True, out=tmp_path))
    (done,) = results.experiments
    assert done.experiment.name == "2c@q=100,p=100"
    (summary,) = done.methods
    assert summary.trials == done.experiment.quick_trials
    assert all(r.sequences <= done.experiment.quick_budget for r in summary.results)


def test_2c_evaluation_batches_hold_a_bounded_number_of_one_hot_elements():
    from lstmlab.reproduce._settings import EVAL_ELEMENTS_2C, eval_batch_2c

    for q, p in TABLE_3:
        size = experiment(f"2c@q={q},p={p}").eval_batch_size
        assert size == (1000 if (q, p) == (50, 50) else eval_batch_2c(q, p))
        assert size * (q + 100) * (p + 4) <= EVAL_ELEMENTS_2C or size == 25
    assert eval_batch_2c(1000, 1000) == 25 and eval_batch_2c(100, 100) == 1000


def test_setting_rows_export_render_and_pair_with_their_published_rows(tmp_path):
    import csv
    import io
    import shutil
    from pathlib import Path

    from lstmlab.reproduce import TrialResult, TrialStore
    from lstmlab.reproduce._results_report import (
        RESULTS_MD,
        SUMMARY,
        TEMPLATE,
        TRIALS_DIR,
        export_store,
        write,
    )

    root = Path(__file__).resolve().parents[2]
    (tmp_path / TEMPLATE).parent.mkdir(parents=True)
    shutil.copy(root / TEMPLATE, tmp_path / TEMPLATE)
    with TrialStore(tmp_path / "trials.sqlite") as store:
        for name, seed, sequences in [("2c@q=1000,p=1000", 0, 48_000),
                                      ("2c@q=1000,p=1000", 1, 51_000),
                                      ("4@T=1000:linear-output", 0, 800_000)]:
            key = "k" + file_name(name)
            store.describe_config(key, f"('{name}', 'settings', 5000000)")
            store.add(name, "lstm1997", seed, key,
                      TrialResult(seed, True, sequences, 0.0, 1.0, curve=((500, 0.5),)), "0.1")
    assert export_store(tmp_path / "trials.sqlite", tmp_path / TRIALS_DIR) == 3
    assert sorted(p.name for p in (tmp_path / TRIALS_DIR).iterdir()) == [
        "2c_q1000_p1000.csv", "4_T1000_linear-output.csv", "configs.csv"]
    write(tmp_path)
    summary = list(csv.DictReader(io.StringIO((tmp_path / SUMMARY).read_text())))
    assert [(r["experiment"], r["reading"], r["published_setting"], r["published_mean"])
            for r in summary] == [("2c@q=1000,p=1000", "paper's text", "2c q=1000 p=1000",
                                   "49000"),
                                  ("4@T=1000", "linear-output", "T=1000", "853000")]
    text = (tmp_path / RESULTS_MD).read_text()
    assert "2 of the paper's 20 (partial)" in text
    assert "{{" not in text and "no committed trial of `2c@q=1000,p=1000`" not in text
    assert "`lstmlab reproduce 2c@q=1000,p=1000 --method lstm1997`" not in text
    assert "`lstmlab reproduce 2c@q=100,p=100 --method lstm1997`" in text

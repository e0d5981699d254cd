"""RESULTS.md's modern column: rows of the swept recipe beside [H97]'s LSTM mean, the ratio with
its interval, and the 10x goal claimed only where the interval's lower end reaches it."""

from pathlib import Path

from lstmlab.reproduce import ModernMethod, TrialResult, TrialStore
from lstmlab.reproduce._recipe import recipe_file, settings_of, write_recipe
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._results_report import (
    MODERN_DIR,
    TRIALS_DIR,
    export_store,
    load_configs,
    load_trials,
    modern_table,
    summaries,
)
from lstmlab.reproduce._runner import trial_config_hash
from lstmlab.stats import bootstrap_mean_interval

BUDGET = 4000
PAPER_MEAN = 8440  # [H97] Table 10 row 1-5, the row Experiment 1 is compared with


def _column(root: Path, sequences: list[int], swept: bool = True, fail: bool = False) -> str:
    settings = settings_of({"cell": "gru", "batch_size": 1, "clip_norm": 1.0})
    write_recipe(recipe_file(root / MODERN_DIR, "1"), "1", settings, {})
    method = ModernMethod(recipes=(("1", settings),)) if swept else ModernMethod()
    key, description = trial_config_hash(method, experiment("1"), BUDGET)
    with TrialStore(root / "trials.sqlite") as store:
        store.describe_config(key, description)
        for seed, n in enumerate(sequences):
            ok = not (fail and seed == 0)
            store.add("1", "modern", seed, key, TrialResult(seed, ok, n, 0.0, 1.0), "0.1.0")
    export_store(root / "trials.sqlite", root / TRIALS_DIR)
    rows = summaries(load_trials(root / TRIALS_DIR), load_configs(root / TRIALS_DIR))
    return modern_table(rows, root)


def _row(table: str) -> list[str]:
    (line,) = [line for line in table.splitlines() if line.startswith("| 1 |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_ten_times_fewer_is_shown_only_when_the_intervals_lower_end_reaches_it(tmp_path):
    fast = [600, 700, 800, 650, 750, 600, 700, 800, 650, 750]
    row = _row(_column(tmp_path / "fast", fast))
    _, low, high = bootstrap_mean_interval([float(n) for n in fast])
    assert row[1] == "swept (`results/modern/1.json`)"
    assert row[5] == "8,440"
    assert row[6] == (f"{PAPER_MEAN / (sum(fast) / 10):.1f} "
                      f"({PAPER_MEAN / high:.1f}-{PAPER_MEAN / low:.1f})")
    assert PAPER_MEAN / high >= 10 and row[7] == "**shown**"
    # a mean below 844 whose interval reaches above it: not shown
    spread = [300, 400, 500, 2000, 300, 400, 500, 600, 700, 500]
    assert sum(spread) / 10 < PAPER_MEAN / 10
    assert _row(_column(tmp_path / "spread", spread))[7] == "not shown"
    # fast, but one trial failed: not shown
    assert _row(_column(tmp_path / "failed", fast, fail=True))[7] == "not shown"


def test_rows_of_the_default_recipe_say_so_and_unswept_experiments_are_listed(tmp_path):
    table = _column(tmp_path, [5000, 6000], swept=False)
    assert _row(table)[1] == "default `ModernSettings`"
    assert "Swept recipes (`results/modern/`): 1. Not swept" in table
    assert "2a, 2b" in table


def test_a_sweep_where_no_candidate_solved_is_listed_as_such(tmp_path):
    settings = settings_of({"cell": "lstm"})
    record = {"budget": 3139, "chosen": 1, "candidates": [
        {"index": 1, "successes": 0}, {"index": 0, "successes": 0}]}
    write_recipe(recipe_file(tmp_path / MODERN_DIR, "6a"), "6a", settings, record)
    table = _column(tmp_path, [5000, 6000], swept=False)
    assert ("Swept without a solving recipe: 6a (no candidate of 2 solved a validation seed "
            "within 3,139 sequences).") in table
    assert "Swept recipes (`results/modern/`): 1." in table
    assert "Not swept (no modern recipe chosen yet): 2a, 2b, 2c, 3a, 3b, 3c, 4, 5, 6b." in table

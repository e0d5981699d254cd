"""RESULTS.md and results/summary.csv: rendered from the committed trials, byte for byte."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from lstmlab.cli import app
from lstmlab.reproduce import TrialResult, TrialStore
from lstmlab.reproduce._results_report import (
    NOT_TESTABLE,
    RESULTS_MD,
    SUMMARY,
    TEMPLATE,
    TRIALS_DIR,
    Summary,
    Trial,
    _compared,
    _like_with_like,
    _moves_towards_paper,
    export_store,
    load_trials,
    not_run,
    render,
    verdict,
)
from lstmlab.stats import bootstrap_mean_interval, wilson_interval
from lstmlab.tasks import PublishedRow

ROOT = Path(__file__).resolve().parents[2]


def test_committed_results_equal_their_rendering():
    rendered = render(ROOT)
    for relative in (RESULTS_MD, SUMMARY):
        assert (ROOT / relative).read_text() == rendered[relative], (
            f"{relative} is stale: run `lstmlab results` (or `make results`) and commit it")
    assert "{{" not in rendered[RESULTS_MD], (
        "a macro of the template was left unexpanded (one split across lines, or a name the "
        "renderer does not know)")


def test_results_name_no_machine_path():
    for relative in (RESULTS_MD, SUMMARY, TEMPLATE):
        text = (ROOT / relative).read_text()
        roots = "|".join(("work", "tmp", "opt", "home", "root"))  # a machine's top folders
        assert not re.search(rf"/({roots})/", text), relative


def test_every_committed_trial_is_in_the_summary():
    trials = load_trials(ROOT / TRIALS_DIR)
    with (ROOT / SUMMARY).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(int(row["trials"]) for row in rows) == len(trials)


def test_every_committed_net_is_the_net_of_a_committed_trial():
    """results/nets/ROW/*.pt (``reproduce --keep-nets``): each a committed trial's network at
    its stop, the trial named by its experiment, seed and store key, at its stored sequences;
    every trial of a row with a folder has its net there."""
    trials = {(t.experiment, t.method, t.seed, t.config_hash): t
              for t in load_trials(ROOT / TRIALS_DIR)}
    folders = sorted(p for p in (ROOT / "results" / "nets").iterdir() if p.is_dir())
    assert folders
    for folder in folders:
        found = set()
        for path in folder.glob("*.pt"):
            saved = torch.load(path, weights_only=True)
            key = (saved["experiment"], saved["method"], saved["seed"], saved["config_hash"])
            assert key in trials, f"{path.name}: no committed trial {key}"
            assert saved["criterion"]["sequences"] == trials[key].sequences, path.name
            assert path.name == f"{key[0]}-{key[1]}-{key[2]}-{key[3]}.pt"
            found.add(key)
        rows = {(k[0], k[1], k[3]) for k in found}
        assert len(rows) == 1, f"{folder.name}: one row per folder, found {rows}"
        assert found == {k for k in trials if (k[0], k[1], k[3]) in rows}, folder.name


PUBLISHED = PublishedRow("lstm1997", "x", 10, 1.0, 8_000, "", "[H97] Table 0")


@pytest.mark.parametrize(("published", "successes", "trials", "interval", "expected"), [
    (PUBLISHED, 10, 10, (6_000.0, 9_000.0), "agrees"),
    (PUBLISHED, 9, 10, (6_000.0, 9_000.0), "agrees"),        # 90 %: exactly 10 points off
    (PUBLISHED, 8, 10, (6_000.0, 9_000.0), "differs"),       # 20 points off
    (PUBLISHED, 10, 10, (8_500.0, 9_000.0), "differs"),      # mean outside our interval
    (PUBLISHED, 0, 10, None, "differs"),
    (PublishedRow("lstm1997", "x", 10, None, 74_000), 3, 3, (70_000.0, 80_000.0), "agrees"),
    (PublishedRow("rtrl", "x", 18, 0.0, None), 0, 18, None, "agrees"),
    (PublishedRow("rtrl", "x", None, None, None), 1, 2, (5.0, 5.0), "no published number"),
    (None, 1, 2, (5.0, 5.0), "no published number"),
])
def test_verdict_rule(published, successes, trials, interval, expected):
    assert verdict(published, successes, trials, interval) == expected


# A row whose mean the paper says is over all its 10 trials (PublishedRow.all_reached).
ALL_REACHED = PublishedRow("lstm1997", "x", 10, None, 571_100, "", "[H97] Table 0",
                           "all values are means of 10 trials")
T1000 = PublishedRow("lstm1997", "x", 10, None, 853_000, "", "[H97] Table 0", "means of 10",
                     ((369_999, 0), (700_000, 7), (2_020_000, 10)))
MEAN_INSIDE = (400_000.0, 900_000.0)  # holds both rows' means: only the rate decides


@pytest.mark.parametrize(("published", "successes", "budget", "expected"), [
    # no budget, or one past every trial: the implied rate is 100 %, and only 10 of 10 has a
    # Wilson interval that reaches it (9 of 10: 60-98 %)
    (ALL_REACHED, 10, None, "agrees"),
    (ALL_REACHED, 9, None, "differs"),
    (ALL_REACHED, 9, 5_711_000, "differs"),   # 10 x the mean: all 10 within it
    # 3,000,000 (6b's budget): fewer than 10 x 571,100 / 3,000,000 = 1.9 trials can have
    # needed more, so at least 9 of 10 within it: 90 % to 100 %
    (ALL_REACHED, 8, 3_000_000, "agrees"),    # 49-94 % reaches 90 %
    (ALL_REACHED, 7, 3_000_000, "differs"),   # 40-89 % stops short of it
    (ALL_REACHED, 4, 3_000_000, "differs"),   # 6b's row: 17-69 %
    # Table 7's T = 1000 caption: exactly 7 of 10 within 700,000
    (T1000, 10, 700_000, "differs"),          # 72-100 %: above the paper's 70 %
    (T1000, 9, 700_000, "agrees"),            # 60-98 %
    (T1000, 5, 700_000, "agrees"),            # 24-76 %
    (T1000, 4, 700_000, "differs"),           # 17-69 %: below it
    (T1000, 10, 2_020_000, "agrees"),         # every paper trial within 2,020,000
    (T1000, 9, 2_020_000, "differs"),
    (T1000, 4, 1_000_000, "differs"),         # 7 to 10 of 10 within 1,000,000: 70-100 %
    (T1000, 5, 1_000_000, "agrees"),
    (T1000, 10, 500_000, "differs"),          # 0 to 7 of 10 within 500,000
    (T1000, 3, 500_000, "agrees"),
])
def test_verdict_rule_on_an_implied_rate(published, successes, budget, expected):
    assert verdict(published, successes, 10, MEAN_INSIDE, budget) == expected


# Table 2's RTRL at p = 4, lr 4.0: 56 % of 18, the successful ones after 892,000 on average.
RATE_AND_MEAN = PublishedRow("rtrl", "x", 18, 0.56, 892_000, "", "[H97] Table 0")


@pytest.mark.parametrize(("successes", "budget", "expected"), [
    # a budget below the paper's mean: the paper's rate within it is anything from 0 to 56 %
    (2, 100_000, NOT_TESTABLE),               # 6-51 %: the 10-point rule would say "differs"
    (0, 100_000, NOT_TESTABLE),
    (5, 100_000, NOT_TESTABLE),               # 24-76 %
    (9, 100_000, "differs"),                  # 60-98 %: wholly above the paper's whole 56 %
    (10, 891_999, "differs"),
    # at the paper's mean or past it the 10-point rule (and the mean) decide again
    (2, 892_000, "differs"),
    (5, 892_000, "agrees"),                   # 50 %, and 892,000 inside MEAN_INSIDE
])
def test_verdict_rule_below_the_papers_mean(successes, budget, expected):
    assert verdict(RATE_AND_MEAN, successes, 10, MEAN_INSIDE, budget) == expected


def test_a_published_rate_of_zero_is_testable_at_any_budget():
    # none of the paper's trials succeeded within its cap, so none within any smaller budget
    zero = PublishedRow("rtrl", "x", 18, 0.0, None, "no success within 5,000,000", "[H97] x")
    assert verdict(zero, 0, 18, None, 3_000) == "agrees"
    assert verdict(zero, 1, 18, (900.0, 900.0), 3_000) == "agrees"   # 6 %: within 10 points
    assert verdict(zero, 3, 18, (900.0, 900.0), 3_000) == "differs"  # 17 %


def test_an_implied_rate_does_not_excuse_the_mean():
    assert verdict(ALL_REACHED, 10, 10, (600_000.0, 900_000.0), None) == "differs"
    assert verdict(ALL_REACHED, 10, 10, None, None) == "differs"  # one success: no interval


def _summary(experiment: str, sequences: list[int], paper: int) -> Summary:
    trials = tuple(Trial(experiment, "lstm1997", seed, "k", True, n, 0.0, 1.0, "v", "t", "[]")
                   for seed, n in enumerate(sequences))
    return Summary(experiment, "lstm1997", "k", None, trials,
                   PublishedRow("lstm1997", "x", 10, None, paper))


@pytest.mark.parametrize(("paper", "text", "reading", "expected"), [
    (40_000, [20_000, 21_000, 22_000], [30_000, 31_000, 32_000], True),   # faster text, up
    (40_000, [20_000, 21_000, 22_000], [10_000, 11_000, 12_000], False),  # away from the paper
    (5_000, [20_000, 21_000, 22_000], [10_000, 11_000, 12_000], True),    # slower text, down
    (5_000, [20_000, 21_000, 22_000], [30_000, 31_000, 32_000], False),
    (40_000, [20_000, 21_000, 22_000], [21_000, 22_000, 23_000], False),  # intervals overlap
])
def test_a_reading_narrows_the_gap_only_towards_the_published_mean(paper, text, reading,
                                                                    expected):
    """Exp. 3's text rows need fewer sequences than [H97]: a reading narrows the gap there when
    its interval lies wholly above the text's, elsewhere wholly below."""
    assert _moves_towards_paper(_summary("3a", text, paper),
                                _summary("3a:r", reading, paper)) is expected


def _store(path: Path, rows) -> Path:
    with TrialStore(path) as store:
        for experiment, seed, success, sequences in rows:
            key = "k" + experiment.replace(":", "")
            store.describe_config(key, f"('{experiment}', 'settings', {1000})")
            store.add(experiment, "lstm1997", seed, key,
                      TrialResult(seed, success, sequences, 0.25 * seed, 1.5,
                                  curve=((500, 0.5),)), "0.1.0+gabc")
    return path


def test_export_render_and_the_cli_round_trip(tmp_path):
    (tmp_path / TEMPLATE).parent.mkdir(parents=True)
    shutil.copy(ROOT / TEMPLATE, tmp_path / TEMPLATE)
    rows = [("4", s, True, 72_000 + 1_000 * s) for s in range(4)] + [
        ("4:linear-output", 0, True, 90_000), ("4:linear-output", 1, False, 1000)]
    store = _store(tmp_path / "trials.sqlite", rows)
    assert export_store(store, tmp_path / TRIALS_DIR) == 6
    assert export_store(store, tmp_path / TRIALS_DIR) == 0  # already there
    assert sorted(p.name for p in (tmp_path / TRIALS_DIR).iterdir()) == [
        "4.csv", "4_linear-output.csv", "configs.csv"]
    result = CliRunner().invoke(app, ["results", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = list(csv.DictReader(io.StringIO((tmp_path / SUMMARY).read_text())))
    assert [(r["experiment"], r["reading"], r["trials"], r["successes"]) for r in summary] == [
        ("4", "paper's text", "4", "4"), ("4", "linear-output", "2", "1")]
    _, low, high = wilson_interval(4, 4)
    _, mean_low, mean_high = bootstrap_mean_interval([72_000.0, 73_000.0, 74_000.0, 75_000.0])
    first = summary[0]
    assert (first["success_low"], first["success_high"]) == (f"{low:.4f}", f"{high:.4f}")
    assert (first["mean_low"], first["mean_high"]) == (f"{mean_low:.1f}", f"{mean_high:.1f}")
    assert first["budget"] == "1000" and first["published_mean"] == "74000"
    # Table 7's mean is over all 10 trials; within a budget of 1,000 the mean bounds nothing
    assert (first["implied_success_low"], first["implied_success_high"]) == ("0.0000", "1.0000")
    assert mean_low <= 74_000 <= mean_high and first["verdict"] == "agrees"
    assert summary[1]["verdict"] == "differs"  # 1 of 2 and one mean: no interval
    text = (tmp_path / RESULTS_MD).read_text()
    assert "`4:linear-output`" in text and "1: 1,000 (failed)" in text
    assert "rate not given, 100 % implied (0 to 10 of 10 within 1,000), 10 trials" in text
    # the template's {{row 4 lstm1997}} in words, from the same numbers
    assert "The linear output unit: 2 trials finished, 1 of 2 (50 %;" in text
    assert "{{" not in text
    assert render(tmp_path)[RESULTS_MD] == text  # the same bytes again


def test_a_trial_with_a_curve_longer_than_the_csv_default_field_limit_loads_back(tmp_path):
    """6b's trials run to 3,000,000 sequences: their curves (a point every 500) exceed the csv
    module's default 131,072 characters per field; export and load keep them whole."""
    curve = [[500 * (k + 1), 0.25 + k * 1e-9] for k in range(6_000)]
    with TrialStore(tmp_path / "trials.sqlite") as store:
        store.describe_config("k6b", "('6b', 'settings', 3000000)")
        store.add("6b", "lstm1997", 0, "k6b",
                  TrialResult(0, False, 3_000_000, 0.1, 1.5, curve=tuple(map(tuple, curve))),
                  "0.1.0+gabc")
    assert export_store(tmp_path / "trials.sqlite", tmp_path / TRIALS_DIR) == 1
    (trial,) = load_trials(tmp_path / TRIALS_DIR)
    assert len(trial.curve) > 131_072 and json.loads(trial.curve) == curve


def test_the_cli_refuses_a_missing_store_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["results", "--root", str(tmp_path), "--export",
                                      str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2
    assert "store: expected a trials.sqlite file" in result.output
    assert "Traceback" not in result.output


def test_results_export_of_a_missing_store_is_one_line(tmp_path):
    from cli_cases import assert_user_error

    line = assert_user_error(["results", "--export", str(tmp_path / "none.sqlite"), "--root",
                              str(tmp_path)], "store: expected a trials.sqlite file")
    assert "none.sqlite" in line


def _outcomes(experiment: str, outcomes: dict[int, int | None], budget: int,
              paper: int = 10_000) -> Summary:
    """A summary whose seed ``s`` succeeded at ``outcomes[s]`` sequences (None: failed)."""
    trials = tuple(Trial(experiment, "lstm1997", seed, "k", n is not None,
                         budget if n is None else n, 0.0, 1.0, "v", "t", "[]")
                   for seed, n in outcomes.items())
    return Summary(experiment, "lstm1997", "k", budget, trials,
                   PublishedRow("lstm1997", "x", 30, 1.0, paper))


def test_a_reading_is_compared_on_common_seeds_within_the_smaller_budget():
    """The text ran seeds 0-3 to 100,000, the reading seeds 0-2 to 40,000: the text's success
    at 60,000 is a failure within 40,000 and its seed 3 is left out."""
    text = _outcomes("1", {0: 20_000, 1: 60_000, 2: None, 3: 30_000}, 100_000)
    reading = _outcomes("1:r", {0: 10_000, 1: None, 2: 35_000}, 40_000)
    base, mine = _like_with_like(text, reading)
    assert (base.budget, mine.budget) == (40_000, 40_000)
    assert [(t.seed, t.success, t.sequences) for t in base.trials] == [
        (0, True, 20_000), (1, False, 40_000), (2, False, 40_000)]
    assert mine.trials == reading.trials


@pytest.mark.parametrize(("text", "reading", "expected"), [
    # 1 of 10 against 7 of 10, Wilson 2-40 % and 40-89 % overlapping, but seed for seed 6
    # gained and none lost (sign test p = 0.031): supported (2c:mild-bias-unhalved-error's case)
    ({s: (1_000 if s == 0 else None) for s in range(10)},
     {s: (1_000 if s < 7 else None) for s in range(10)}, "narrows the gap, does not close it"),
    # 4 gained, none lost (p = 0.125), Wilson 17-69 % against 0-28 %: not supported
    ({s: None for s in range(10)}, {s: (1_000 if s < 4 else None) for s in range(10)},
     "rejected: no change the intervals support"),
    # the reverse of the first: supported the other way
    ({s: (1_000 if s < 6 else None) for s in range(10)}, {s: None for s in range(10)},
     "rejected: widens the gap"),
    # a success after the text's budget is no success: nothing to compare within 5,000
    ({s: None for s in range(10)}, {s: 8_000 for s in range(10)},
     "rejected: neither succeeds within the common budget (5,000)"),
])
def test_a_readings_label_needs_a_change_its_intervals_support(text, reading, expected):
    base, mine = _like_with_like(_outcomes("2a", text, 5_000),
                                 _outcomes("2a:r", reading, 20_000))
    assert _compared(base, mine) == expected


def _means(sequences: list[int], paper: int) -> Summary:
    trials = tuple(Trial("4", "lstm1997", seed, "k", True, n, 0.0, 1.0, "v", "t", "[]")
                   for seed, n in enumerate(sequences))
    return Summary("4", "lstm1997", "k", 10**6, trials,
                   PublishedRow("lstm1997", "T=100", 10, None, paper))


@pytest.mark.parametrize(("paper", "expected"), [
    (100_000, "inside ours"),         # the published mean in our interval
    (110_000, "outside ours only"),   # above ours (to 109,286), ours inside 99,786-120,214
    (60_000, "outside both"),         # ours outside the paper's scaled interval too
])
def test_where_the_means_stand_against_both_intervals(paper, expected):
    """The paper's interval is ours scaled to its mean: with our mean 100,000 and interval
    (a, b), the paper's is paper x (a, b) / 100,000, recomputed here from the bootstrap."""
    ours = [80_000, 90_000, 95_000, 100_000, 105_000, 110_000, 120_000]
    row = _means(ours, paper)
    _, low, high = bootstrap_mean_interval([float(n) for n in ours], 0.95, 10_000, 0)
    assert row.published_mean_interval == pytest.approx((paper * low / 100_000,
                                                         paper * high / 100_000))
    assert row.mean_difference == expected


def test_too_few_successes_give_the_paper_no_interval():
    row = _means([80_000, 90_000, 100_000, 110_000], 50_000)  # 4 < SPREAD_MIN_SUCCESSES
    assert row.published_mean_interval is None and row.mean_difference == ""


def test_not_run_names_a_committed_unfinished_store(tmp_path):
    """A run stopped before its end and committed to be resumed is named where its row would
    be: its store holds the set-up (configs) and no trial yet."""
    plain = not_run([], stores=tmp_path)
    line = "| 3b | lstm1997 | 3b T=1000 N=1, ST2 |"
    assert line in plain and "unfinished" not in plain
    folder = tmp_path / "3b-T1000-N1"
    folder.mkdir()
    with TrialStore(folder / "trials.sqlite") as store:
        store.describe_config("72555d86c15019ad", "('3b@T=1000,N=1', Setup1997(...), 1000, "
                                                  "'lstm1997', (...), 3000000)")
    named = not_run([], stores=tmp_path)
    [row] = [r for r in named.splitlines() if r.startswith(line)]
    assert f"unfinished: its resumable store is `{folder.as_posix()}/`" in row
    assert "`lstmlab reproduce 3b@T=1000,N=1 --method lstm1997`" in row
    # only that run: its ST1 row (another setting) and other methods stay as they were
    assert named.count("unfinished") == 1

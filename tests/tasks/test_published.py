"""The published tables hold the rows of the paper notes §0.1-0.3, each with a source."""

import pytest

from lstmlab.tasks import PublishedRow
from lstmlab.tasks import _adding as adding
from lstmlab.tasks import _continual_reber as continual_reber
from lstmlab.tasks import _copy_memory as copy_memory
from lstmlab.tasks import _long_lags as long_lags
from lstmlab.tasks import _multiplication as multiplication
from lstmlab.tasks import _reber as reber
from lstmlab.tasks import _temporal_order as temporal_order
from lstmlab.tasks import _two_sequence as two_sequence
from lstmlab.tasks._published import rows_for

MODULES = (reber, long_lags, two_sequence, adding, multiplication, temporal_order,
           continual_reber)
ALL = tuple(row for m in MODULES for row in m.PUBLISHED) + adding.MODERN_PUBLISHED + \
    copy_memory.PUBLISHED


def find(rows, method, setting):
    hits = [r for r in rows if r.method == method and r.setting == setting]
    assert len(hits) == 1, (method, setting, hits)
    return hits[0]


def test_every_row_has_a_source_and_sane_values():
    assert len(ALL) >= 50
    for row in ALL:
        assert isinstance(row, PublishedRow)
        assert row.source.startswith("["), row
        assert row.success is None or 0.0 <= row.success <= 1.0
        assert row.sequences is None or row.sequences > 0
        assert row.trials is None or row.trials > 0


# Spot values transcribed from lstm1997-experiments.md §0.1 (LSTM results of [H97]).
@pytest.mark.parametrize(("module", "setting", "trials", "success", "sequences", "source"), [
    (reber, "1-1", 30, 1.00, 39_740, "[H97] Table 1"),
    (reber, "1-4", 30, 0.97, 9_500, "[H97] Table 1"),
    (reber, "1-5", 30, 1.00, 8_440, "[H97] Table 1 and caption"),
    (long_lags, "2a p=100", 18, 1.0, 5_040, "[H97] Table 2"),
    (long_lags, "2b p=100", 18, 1.0, 5_680, "[H97] §5.2 text"),
    (long_lags, "2c q=50 p=50", 20, None, 30_000, "[H97] Table 3"),
    (long_lags, "2c q=1000 p=1000", 20, None, 49_000, "[H97] Table 3"),
    (long_lags, "2c q=1000 p=50", 20, None, 203_000, "[H97] Table 3"),
    (two_sequence, "3a T=100 N=3, ST1", 10, None, 27_380, "[H97] Table 4"),
    (two_sequence, "3a T=1000 N=3, ST2", 10, None, 452_460, "[H97] Table 4"),
    (two_sequence, "3b T=100 N=1, ST2", 10, None, 78_430, "[H97] Table 5"),
    (two_sequence, "3c T=100 N=1", 10, None, 565_640, "[H97] Table 6"),
    (adding, "T=100", 10, None, 74_000, "[H97] Table 7"),
    (adding, "T=1000", 10, None, 853_000, "[H97] Table 7 and caption"),
    (multiplication, "T=100, n_seq=13", 10, None, 1_273_000, "[H97] Table 8"),
    (temporal_order, "6a", 20, None, 31_390, "[H97] Table 9"),
    (temporal_order, "6b", 10, None, 571_100, "[H97] Table 9"),
])
def test_lstm_rows_of_section_0_1(module, setting, trials, success, sequences, source):
    row = find(module.PUBLISHED, "lstm1997", setting)
    assert (row.trials, row.success, row.sequences, row.source) == (
        trials, success, sequences, source)


def test_lstm_row_counts_match_the_tables():
    lstm = [r for r in ALL if r.method == "lstm1997" and r.source.startswith("[H97]")]
    # Table 1: 5, Table 2 + 2b: 2, Table 3: 9, Tables 4-5: 2 x 3 x 2 stop rules, Table 6: 2,
    # Table 7: 3, Table 8: 2, Table 9: 2.
    assert len(lstm) == 5 + 2 + 9 + 12 + 2 + 3 + 2 + 2
    assert "0.000078" in find(two_sequence.PUBLISHED, "lstm1997", "3a T=1000 N=3, ST1").test
    assert "139 of 2560" in find(multiplication.PUBLISHED, "lstm1997", "T=100, n_seq=140").test


# §0.2: the competitors of [H97].
@pytest.mark.parametrize(("module", "method", "setting", "success", "sequences"), [
    (reber, "rtrl", "3 hidden, lr=0.05", None, 173_000),
    (reber, "elman", "15 hidden", 0.0, None),
    (reber, "rcc", "7-9 hidden", 0.5, 182_000),
    (long_lags, "rtrl", "2a p=4, lr=1.0", 0.78, 1_043_000),
    (long_lags, "rtrl", "2a p=4, lr=10.0", 0.22, 254_000),
    (long_lags, "bptt", "2a p=100", 0.0, None),
    (long_lags, "chunker", "2a p=100", 0.33, 32_400),
    # §5.2 on 2b: "the chunker failed ... so did BPTT and RTRL".
    (long_lags, "rtrl", "2b p=100", 0.0, None),
    (long_lags, "bptt", "2b p=100", 0.0, None),
    (long_lags, "chunker", "2b p=100", 0.0, None),
    (two_sequence, "guess", "3a", None, None),
    (two_sequence, "guess", "3c T=100 N=3", None, None),
])
def test_competitor_rows_of_section_0_2(module, method, setting, success, sequences):
    row = find(module.PUBLISHED, method, setting)
    assert (row.success, row.sequences) == (success, sequences)


# §0.3: [G00] Table 2, averages over 100 networks.
@pytest.mark.parametrize(("method", "success", "streams"), [
    ("lstm1997_external_reset", 0.74, 7_441),
    ("lstm1997", 0.0, None),
    ("lstm1997_state_decay", 0.0, None),
    ("lstm_forget", 0.18, 18_889),
    ("lstm_forget_alpha_decay", 0.62, 14_087),
])
def test_cerg_rows_of_section_0_3(method, success, streams):
    row = find(continual_reber.PUBLISHED, method, "CERG")
    assert (row.trials, row.success, row.sequences, row.source) == (
        100, success, streams, "[G00] Table 2")
    assert "<" in row.test  # the mean error-free lengths are kept in the text


def test_tasks_carry_their_own_rows():
    assert [r.setting for r in two_sequence.TwoSequence("3b", 100, 3).published] == [
        "3b T=100 N=3, ST1", "3b T=100 N=3, ST2"]
    assert rows_for(adding.PUBLISHED, "T=100") == adding.Adding(100).published
    assert long_lags.VeryLongLag(1000, 200).published[0].sequences == 75_000
    assert reber.EmbeddedReber("1-3").published[0].success == 0.97


# The rows whose text says the mean is over all their trials (PublishedRow.all_reached).
def test_rows_of_tables_3_to_9_imply_that_every_trial_reached_the_criterion():
    lstm = [r for r in ALL if r.method == "lstm1997" and r.source.startswith("[H97]")]
    marked = [r for r in lstm if r.all_reached]
    assert len(marked) == 9 + 12 + 2 + 3 + 2 + 2  # Tables 3, 4-5, 6, 7, 8, 9
    for row in marked:
        assert row.success is None and row.trials in (10, 20)
        assert f"{row.trials} trials" in row.all_reached and "required" in row.all_reached
        assert row.all_reached.count('"') % 2 == 0  # quoted sentences, closed
        assert row.reached_by(None) == (row.trials, row.trials)
    # rates given (Tables 1-2, 2b), or only "some fraction" (Table 1's RTRL): not marked
    assert all(not r.all_reached for r in ALL if r not in marked)
    assert find(temporal_order.PUBLISHED, "lstm1997", "6b").all_reached.startswith(
        'Table 9 caption: "The rightmost column gives the number of training sequences')


@pytest.mark.parametrize(("budget", "bounds"), [
    (300_000, (0, 0)),          # none below 370,000
    (369_999, (0, 0)),
    (370_000, (0, 7)),
    (500_000, (0, 7)),
    (700_000, (7, 7)),          # "exceeding 700,000 in only 3 cases"
    (1_000_000, (7, 10)),       # the mean alone: fewer than 8.53 longer, so at least 2
    (2_020_000, (10, 10)),
    (9_000_000, (10, 10)),
    (None, (10, 10)),
])
def test_reached_by_reads_table_7s_t1000_caption(budget, bounds):
    assert find(adding.PUBLISHED, "lstm1997", "T=1000").reached_by(budget) == bounds


@pytest.mark.parametrize(("budget", "bounds"), [
    (3_000_000, (10, 10)),      # 10 x 300,000: a trial past it would need the sum above 3,000,000
    (2_999_999, (9, 10)),
    (1_000_000, (8, 10)),       # fewer than 3 past it
    (300_000, (1, 10)),         # fewer than 10 past it
    (299_999, (0, 10)),
])
def test_reached_by_bounds_the_trials_past_a_budget_by_the_mean(budget, bounds):
    row = PublishedRow("lstm1997", "x", 10, None, 300_000, all_reached="means of 10 trials")
    assert row.reached_by(budget) == bounds


@pytest.mark.parametrize(("changes", "message"), [
    ({"success": 1.0}, "all_reached needs trials and a mean and no published rate"),
    ({"trials": None}, "all_reached needs trials"),
    ({"all_reached": "", "reached_within": ((5, 1),)}, "reached_within needs all_reached"),
    ({"reached_within": ((5, 11),)}, r"count in \[0, 10\]"),
    ({"reached_within": ((0, 1),)}, "sequences > 0"),
    ({"reached_within": ((5, 3), (9, 2))}, "never fall in count"),
    ({"reached_within": ((9, 3), (5, 4))}, "rise in sequences"),
])
def test_a_malformed_implied_rate_is_refused(changes, message):
    fields = {"method": "lstm1997", "setting": "x", "trials": 10, "success": None,
              "sequences": 1_000, "all_reached": "means of 10 trials"} | changes
    with pytest.raises(ValueError, match=message):
        PublishedRow(**fields)


def test_reached_by_refuses_a_bad_budget():
    row = find(temporal_order.PUBLISHED, "lstm1997", "6b")
    for budget in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="budget must be a positive integer"):
            row.reached_by(budget)
    assert find(reber.PUBLISHED, "rtrl", "12 hidden, lr=0.1").reached_by(1_000) is None

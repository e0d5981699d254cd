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

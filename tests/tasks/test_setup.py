"""The set-ups against [H97] Tables 10-11: weight counts, squashing ranges, bias schemes."""

import pytest

from lstmlab.cells import G2, H1
from lstmlab.tasks import BiasedUnits, Connectivity, Setup1997
from lstmlab.tasks import _adding as adding
from lstmlab.tasks import _long_lags as long_lags
from lstmlab.tasks import _multiplication as multiplication
from lstmlab.tasks import _reber as reber
from lstmlab.tasks import _temporal_order as temporal_order
from lstmlab.tasks import _two_sequence as two_sequence
from lstmlab.tasks._continual_reber import SETUP as CERG_SETUP
from lstmlab.tasks._setup import weight_count

ALL_SETUPS = (*reber.SETUPS.values(), long_lags.SETUP_2A, long_lags.SETUP_2B,
              *(long_lags.setup_2c(q, p) for q, p, _ in long_lags.TABLE_3),
              *two_sequence.SETUPS.values(), *adding.SETUPS.values(), multiplication.SETUP,
              *temporal_order.SETUPS.values(), CERG_SETUP)


@pytest.mark.parametrize("setup", ALL_SETUPS, ids=lambda s: s.experiment)
def test_wiring_reproduces_the_papers_weight_count(setup):
    assert weight_count(setup) == setup.weights


# Table 10, column by column (W, in, out, blocks, size, ogb, igb, alpha) for a few rows.
@pytest.mark.parametrize(("setup", "row"), [
    (reber.SETUPS["1-1"], (264, 7, 7, 4, 1, (-1.0, -2.0, -3.0, -4.0), None, 0.1)),
    (reber.SETUPS["1-5"], (276, 7, 7, 3, 2, (-1.0, -2.0, -3.0), None, 0.5)),
    (long_lags.SETUP_2A, (10_504, 101, 101, 1, 1, None, None, 1.0)),
    (long_lags.setup_2c(1000, 500), (3064, 504, 2, 2, 1, None, None, 0.01)),
    (two_sequence.SETUPS["3c"], (102, 1, 1, 3, 1, (-2.0, -4.0, -6.0), (-1.0, -3.0, -5.0), 0.1)),
    (adding.SETUPS[1000], (93, 2, 1, 2, 2, None, (-3.0, -6.0), 0.5)),
    (multiplication.SETUP, (93, 2, 1, 2, 2, None, None, 0.1)),
    (temporal_order.SETUPS["6b"], (308, 8, 8, 3, 2, None, (-2.0, -4.0, -6.0), 0.1)),
])
def test_table_10_rows(setup, row):
    got = (setup.weights, setup.input_size, setup.output_size, setup.blocks, setup.block_size,
           setup.output_gate_bias, setup.input_gate_bias, setup.learning_rate)
    assert got == row


def test_table_10_and_11_categories():
    assert not long_lags.SETUP_2A.output_gate and long_lags.SETUP_2A.connectivity is Connectivity.B
    assert long_lags.SETUP_2A.max_sequences == 5_000_000
    assert reber.SETUP.biased is BiasedUnits.GATES and two_sequence.SETUPS["3a"].biased is \
        BiasedUnits.HIDDEN and adding.SETUP.biased is BiasedUnits.ALL
    assert [s.init_range for s in (reber.SETUP, long_lags.SETUP_2B, adding.SETUP)] == [
        0.2, 0.2, 0.1]
    assert all(s.online for s in ALL_SETUPS)
    assert [s.trials for s in (reber.SETUP, long_lags.SETUP_2A, long_lags.setup_2c(50, 50),
                               two_sequence.SETUPS["3a"], temporal_order.SETUPS["6a"])] == [
        30, 18, 20, 10, 20]
    assert not CERG_SETUP.reset_each_sequence and CERG_SETUP.forget_gate


def test_bad_bias_tuple():
    with pytest.raises(ValueError, match="input_gate_bias"):
        Setup1997(experiment="x", blocks=2, block_size=1, input_size=1, output_size=1, weights=0,
                  connectivity=Connectivity.F, biased=BiasedUnits.NONE, output_gate=True,
                  output_gate_bias=None, input_gate_bias=(1.0,), h=H1, g=G2, learning_rate=1.0,
                  init_range=0.1, trials=1, test_size=1, source="test")

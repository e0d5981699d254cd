"""The intervals and the sign test of lstmlab.stats against scipy and closed forms."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from lstmlab.stats import bootstrap_mean_interval, sign_test, wilson_interval


@pytest.mark.parametrize("successes,trials", [(0, 10), (3, 10), (10, 10), (57, 80), (1, 1)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_equals_scipy(successes, trials, confidence):
    expected = scipy_stats.binomtest(successes, trials).proportion_ci(confidence, "wilson")
    got = wilson_interval(successes, trials, confidence)
    assert got.estimate == successes / trials
    assert got.low == pytest.approx(expected.low, abs=1e-12)
    assert got.high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_closed_form_at_half():
    # p = 1/2: centre 1/2, half-width z / (2 sqrt(n + z^2)).
    z = 1.959963984540054
    got = wilson_interval(50, 100)
    assert got.high - 0.5 == pytest.approx(z / (2 * math.sqrt(100 + z * z)), rel=1e-12)
    assert 0.5 - got.low == pytest.approx(got.high - 0.5, rel=1e-12)


def test_bootstrap_matches_scipy_percentile_bootstrap():
    values = np.random.default_rng(3).normal(1.0, 2.0, size=12)
    ours = bootstrap_mean_interval(values, resamples=40_000, seed=1)
    theirs = scipy_stats.bootstrap((values,), np.mean, n_resamples=40_000, method="percentile",
                                   random_state=2).confidence_interval
    assert ours.estimate == pytest.approx(values.mean(), rel=1e-12)
    # Two Monte Carlo estimates of the same quantiles: agree to a few hundredths of the spread.
    width = theirs.high - theirs.low
    assert ours.low == pytest.approx(theirs.low, abs=0.03 * width)
    assert ours.high == pytest.approx(theirs.high, abs=0.03 * width)


def test_bootstrap_is_seeded_and_drops_nan():
    values = [0.2, 0.5, float("nan"), 0.4, 0.9]
    a = bootstrap_mean_interval(values, seed=4)
    assert a == bootstrap_mean_interval(values, seed=4)
    assert a.estimate == pytest.approx(0.5)
    assert a.low <= a.estimate <= a.high
    assert not a.excludes_zero() or a.low > 0
    constant = bootstrap_mean_interval([0.3, 0.3, 0.3])
    assert constant.low == constant.high == pytest.approx(0.3)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(1, 0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=1.5)
    with pytest.raises(ValueError, match="values"):
        bootstrap_mean_interval([1.0, float("nan")])


@pytest.mark.parametrize(("gains", "losses"), [(0, 0), (6, 0), (4, 0), (0, 5), (7, 2), (3, 3),
                                               (12, 1), (20, 30)])
def test_sign_test_equals_scipy_exact_binomial(gains, losses):
    n = gains + losses
    expected = 1.0 if n == 0 else scipy_stats.binomtest(gains, n, 0.5).pvalue
    assert sign_test(gains, losses) == pytest.approx(expected, rel=1e-12)


def test_sign_test_closed_form_and_bad_counts():
    assert sign_test(6, 0) == 2 / 64  # all six discordant seeds one way: 2 * (1/2)^6
    with pytest.raises(ValueError, match="gains and losses"):
        sign_test(-1, 2)

"""lstmlab.stats against scipy and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from lstmlab.stats import bootstrap_mean_interval, wilson_interval


@pytest.mark.parametrize(("successes", "trials"), [(0, 10), (1, 10), (5, 10), (15, 30),
                                                   (29, 30), (30, 30), (3, 1000), (1, 1)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_equals_scipys_wilson_interval(successes, trials, confidence):
    expected = scipy_stats.binomtest(successes, trials).proportion_ci(confidence, "wilson")
    low, high = wilson_interval(successes, trials, confidence)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_closed_form_at_zero_of_n():
    # p = 0: centre = half, so the interval is [0, z² / (n + z²)].
    z = 1.959963984540054
    assert wilson_interval(0, 18) == (0.0, pytest.approx(z * z / (18 + z * z), rel=1e-12))
    assert wilson_interval(18, 18) == (pytest.approx(18 / (18 + z * z), rel=1e-12), 1.0)


@pytest.mark.parametrize(("args", "match"), [((3, 0), "trials"), ((-1, 5), "successes"),
                                              ((6, 5), "successes"), ((1, 5, 1.5), "confidence"),
                                              ((1.0, 5), "successes")])
def test_wilson_refuses_bad_input_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        wilson_interval(*args)


def test_bootstrap_is_seeded_and_depends_on_the_seed():
    values = list(np.random.default_rng(5).exponential(20_000.0, size=30))
    assert bootstrap_mean_interval(values, seed=3) == bootstrap_mean_interval(values, seed=3)
    assert bootstrap_mean_interval(values, seed=3) != bootstrap_mean_interval(values, seed=4)


def test_bootstrap_equals_an_independent_percentile_bootstrap():
    # The same draws written out one resample at a time, quantiles by numpy's linear rule.
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    rng = np.random.default_rng(11)
    picks = rng.integers(0, len(values), size=(2_000, len(values)))
    means = sorted(float(np.mean(values[row])) for row in picks)

    def quantile(q):
        position = q * (len(means) - 1)
        below = math.floor(position)
        return means[below] + (position - below) * (means[below + 1] - means[below])

    low, high = bootstrap_mean_interval(values, resamples=2_000, seed=11)
    assert low == pytest.approx(quantile(0.025), abs=1e-12)
    assert high == pytest.approx(quantile(0.975), abs=1e-12)


def test_bootstrap_agrees_with_scipys_percentile_bootstrap_and_the_normal_interval():
    values = np.random.default_rng(0).normal(10.0, 2.0, size=400)
    low, high = bootstrap_mean_interval(values, resamples=5_000, seed=1)
    scipy_ci = scipy_stats.bootstrap((values,), np.mean, confidence_level=0.95,
                                     n_resamples=5_000, method="percentile",
                                     random_state=np.random.default_rng(2)).confidence_interval
    half = 1.959964 * values.std(ddof=1) / math.sqrt(values.size)
    for ours, theirs in ((low, scipy_ci.low), (high, scipy_ci.high),
                         (low, values.mean() - half), (high, values.mean() + half)):
        assert ours == pytest.approx(theirs, abs=0.03)  # a tenth of the half-width (~0.2)


def test_bootstrap_of_one_value_is_that_value():
    assert bootstrap_mean_interval([74_000.0]) == (74_000.0, 74_000.0)


@pytest.mark.parametrize(("kwargs", "match"), [({"values": []}, "values"),
                                                ({"values": [1.0, math.nan]}, "values"),
                                                ({"values": [1.0], "confidence": 0.0},
                                                 "confidence"),
                                                ({"values": [1.0], "resamples": 0},
                                                 "resamples")])
def test_bootstrap_refuses_bad_input_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_mean_interval(**kwargs)

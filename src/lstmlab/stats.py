"""Intervals for claims that must hold across seeds: Wilson for rates, bootstrap for means.

A finding of the project is a mean over seeds (or a rate over trials) with its 95 % interval,
and is stated only when the interval supports it (e.g. a difference whose interval excludes 0).

- ``wilson_interval``: the Wilson score interval of a binomial rate (Wilson 1927; Agresti &
  Coull 1998 recommend it over the normal "Wald" interval, which collapses at 0 and 1). With
  p = k / n and z the standard normal quantile at (1 + confidence) / 2::

      centre = (p + z^2 / (2n)) / (1 + z^2 / n)
      half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

- ``sign_test``: the exact two-sided sign test of paired binary outcomes (McNemar's exact
  test): of n = gains + losses seeds whose outcome differs between two set-ups, the chance
  under "either direction equally likely" of a split at least as uneven as the observed one,
  ``min(1, 2 * sum_{k <= min(gains, losses)} C(n, k) / 2^n)``.
- ``bootstrap_mean_interval``: the percentile bootstrap of a mean (Efron & Tibshirani 1993,
  ch. 13): resample the values with replacement, take the mean of each resample, report the
  (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of those means. Seeded: the same
  values and seed give the same interval on every machine (numpy's PCG64 stream).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import NamedTuple

import numpy as np


class Interval(NamedTuple):
    """An estimate and its interval: ``low <= estimate <= high``."""

    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0 (the sign is supported)."""
        return self.low > 0 or self.high < 0


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf((1.0 + confidence) / 2.0)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """The rate ``successes / trials`` and its Wilson score interval (module docstring)."""
    if isinstance(trials, bool) or int(trials) != trials or trials < 1:
        raise ValueError(f"trials must be a positive integer, got {trials!r}")
    if isinstance(successes, bool) or int(successes) != successes \
            or not 0 <= successes <= trials:
        raise ValueError(f"successes must be an integer in [0, trials={trials}], got "
                         f"{successes!r}")
    z = _check_confidence(confidence)
    n, p = float(trials), successes / trials
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95, resamples: int = 10_000,
    seed: int = 0,
) -> Interval:
    """The mean of ``values`` and its percentile-bootstrap interval (module docstring).

    NaN values are dropped first (an empty distance bucket of one seed); at least two finite
    values are needed for an interval.
    """
    _check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[~np.isnan(array)]
    if array.size < 2:
        raise ValueError(f"values must hold at least 2 finite numbers, got {array.size}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, array.size, size=(resamples, array.size))
    means = array[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(array.mean()), float(low), float(high))


def sign_test(gains: int, losses: int) -> float:
    """The two-sided p-value of the exact sign test (module docstring): ``gains`` seeds that
    succeed under the second set-up only, ``losses`` under the first only (ties left out)."""
    if gains < 0 or losses < 0:
        raise ValueError(f"gains and losses must be >= 0, got {gains} and {losses}")
    n = gains + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(gains, losses) + 1))
    return min(1.0, 2 * tail / 2 ** n)

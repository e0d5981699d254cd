"""Intervals for claims across seeds: Wilson for success rates, the bootstrap for means.

A finding of lstmlab is a rate or a mean over trials (seeds) with its 95 % interval:

- :func:`wilson_interval`, the Wilson score interval of a binomial proportion (Wilson 1927):
  with ``p = successes / trials``, ``n = trials`` and ``z`` the two-sided normal quantile,

      centre = (p + z² / 2n) / (1 + z² / n)
      half   = z / (1 + z² / n) * sqrt(p (1 - p) / n + z² / 4n²)

  It stays inside [0, 1] and is sensible at 0 of n and n of n, where the normal approximation
  collapses to a point.
- :func:`bootstrap_mean_interval`, the percentile bootstrap of a mean (Efron 1979): draw
  ``resamples`` samples of the same size with replacement, take each one's mean, and report the
  ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those means. Seeded, so a
  rendered table is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a number in (0, 1), received {confidence!r}")


def wilson_interval(successes: int, trials: int, confidence: float = 0.95,
                    ) -> tuple[float, float]:
    """The Wilson score interval (low, high) of ``successes`` out of ``trials``."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials: expected a positive integer, received {trials!r}")
    if isinstance(successes, bool) or not isinstance(successes, int) or not (
            0 <= successes <= trials):
        raise ValueError(f"successes: expected an integer in [0, trials={trials}], received "
                         f"{successes!r}")
    _check_confidence(confidence)
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    n, p = trials, successes / trials
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n))
    # The exact ends at 0 of n and n of n: no rounding below 0 or above 1.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def bootstrap_mean_interval(values: Sequence[float], confidence: float = 0.95,
                            resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """The percentile-bootstrap interval (low, high) of the mean of ``values``.

    ``resamples`` samples of ``len(values)`` drawn with replacement by
    ``numpy.random.default_rng(seed)``; the interval is the pair of quantiles (numpy's default,
    linear interpolation) of their means. One value gives the point (value, value)."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1 or data.size == 0:
        raise ValueError(f"values: expected a non-empty sequence of numbers, received "
                         f"{len(data) if data.ndim == 1 else data.shape} values")
    if not np.all(np.isfinite(data)):
        raise ValueError("values: expected finite numbers, received NaN or infinity")
    _check_confidence(confidence)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ValueError(f"resamples: expected a positive integer, received {resamples!r}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, data.size, size=(resamples, data.size))
    means = data[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)

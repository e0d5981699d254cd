"""Wilson and bootstrap intervals for the bench table (temporary: ``lstmlab.stats`` is being
added to main by other branches with the same two functions and the same numbers; once it has
merged, import them from there and delete this module).

- ``wilson_interval(k, n)``: the Wilson score interval of the rate k / n (Wilson 1927), with
  z the normal quantile at (1 + confidence) / 2 and p = k / n:
  ``centre = (p + z^2/(2n)) / (1 + z^2/n)``, ``half = z/(1 + z^2/n) sqrt(p(1-p)/n + z^2/(4n^2))``.
- ``bootstrap_mean_interval(values)``: the percentile bootstrap of a mean (Efron & Tibshirani
  1993, ch. 13), ``resamples`` resamples drawn by ``numpy.random.default_rng(seed)``; the same
  values give the same interval on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np


def wilson_interval(successes: int, trials: int, confidence: float = 0.95
                    ) -> tuple[float, float]:
    """(low, high) of the Wilson score interval of ``successes`` out of ``trials``."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in 0..trials with trials >= 1, got "
                         f"{successes} of {trials}")
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    n, p = float(trials), successes / trials
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_mean_interval(values: Sequence[float], confidence: float = 0.95,
                            resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """(low, high) of the percentile-bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1 or data.size == 0 or not np.all(np.isfinite(data)):
        raise ValueError(f"values must be a non-empty sequence of finite numbers, got {values!r}")
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)

"""The tour's figures of means over seeds with their 95 % intervals (matplotlib, Agg)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lstmlab.stats import Interval  # noqa: E402


def _arrays(values: Sequence[Interval]) -> tuple[np.ndarray, np.ndarray]:
    mean = np.array([v.estimate for v in values], dtype=float)
    errors = np.array([[v.estimate - v.low if not math.isnan(v.estimate) else 0.0,
                        v.high - v.estimate if not math.isnan(v.estimate) else 0.0]
                       for v in values]).T
    return mean, errors


def interval_lines(labels: Sequence[str], series: dict[str, Sequence[Interval]], xlabel: str,
                   ylabel: str, chance: float | None = None) -> Figure:
    """One line per series over ``labels`` with its interval as a band (e.g. accuracy by
    distance, LSTM vs RNN); a dotted line at ``chance``."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2), layout="constrained")
    x = np.arange(len(labels))
    for name, values in series.items():
        mean, _ = _arrays(values)
        low = np.array([v.low for v in values], dtype=float)
        high = np.array([v.high for v in values], dtype=float)
        ax.plot(x, mean, marker="o", label=name)
        ax.fill_between(x, low, high, alpha=0.25)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # never over the data
    return fig


def interval_bars(groups: Sequence[str], series: dict[str, Sequence[Interval]],
                  ylabel: str) -> Figure:
    """Bars per group, one colour per series, each with its interval as an error bar."""
    fig, ax = plt.subplots(figsize=(max(6.5, 0.5 * len(groups) * len(series)), 3.4),
                           layout="constrained")
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        mean, errors = _arrays(values)
        ax.bar(np.arange(len(groups)) + k * width, mean, width, yerr=errors, capsize=3,
               label=name)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels(groups, rotation=30 if len(groups) > 4 else 0, ha="right"
                       if len(groups) > 4 else "center", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # never over the data
    return fig

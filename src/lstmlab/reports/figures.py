"""The report's figures (matplotlib, Agg): each function takes plain arrays and returns a Figure.

Shapes: T tokens, U chosen units, H all units, L lags. Gate rows are the equation letters
i, f, g, o and the states c, h.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ROWS = ("i", "f", "g", "o", "c", "h")


def _token_axis(ax, words: Sequence[str]) -> None:
    ax.set_xticks(range(len(words)))
    ax.set_xticklabels(words, rotation=90, fontsize=7)


def gate_heatmaps(words: Sequence[str], values: dict[str, np.ndarray],
                  units: Sequence[int]) -> Figure:
    """One heatmap per row of ``ROWS``: ``values[row]`` (T, U) for the given units."""
    fig, axes = plt.subplots(len(ROWS), 1, figsize=(max(6, 0.22 * len(words)), 1.1 * len(ROWS)
                                                     + 1.4), sharex=True, layout="constrained")
    for ax, row in zip(axes, ROWS, strict=True):
        gate = row in "ifo"
        image = ax.imshow(values[row].T, aspect="auto", interpolation="nearest",
                          cmap="viridis" if gate else "RdBu_r",
                          vmin=0 if gate else -1, vmax=1)
        ax.set_yticks(range(len(units)))
        ax.set_yticklabels([str(u) for u in units], fontsize=6)
        ax.set_ylabel(row, rotation=0, labelpad=10)
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.02)
    _token_axis(axes[-1], words)
    return fig


def unit_scores(scores: np.ndarray, chosen: Sequence[int], label: str) -> Figure:
    """Bar chart of a per-unit score (H,), the chosen units highlighted."""
    fig, ax = plt.subplots(figsize=(7, 2.6), layout="constrained")
    colors = ["tab:red" if u in chosen else "tab:gray" for u in range(len(scores))]
    ax.bar(range(len(scores)), scores, color=colors)
    ax.set_xlabel("unit")
    ax.set_ylabel(label)
    ax.axhline(0, color="black", lw=0.5)
    return fig


def retention_map(words: Sequence[str], retention: np.ndarray, unit: int) -> Figure:
    """``retention`` (T, T): entry (s, t) is the fraction of step s's write left at step t."""
    fig, ax = plt.subplots(figsize=(max(5, 0.2 * len(words)), max(4, 0.2 * len(words))),
                           layout="constrained")
    image = ax.imshow(retention, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    _token_axis(ax, words)
    ax.set_yticks(range(len(words)))
    ax.set_yticklabels(words, fontsize=7)
    ax.set_xlabel("read at token t")
    ax.set_ylabel("written at token s")
    ax.set_title(f"unit {unit}: retention prod f from s+1 to t")
    fig.colorbar(image, ax=ax, fraction=0.03)
    return fig


def forget_events(words: Sequence[str], discarded: np.ndarray, units: Sequence[int]) -> Figure:
    """``discarded`` (T, U): |(1 - f_t) * c_{t-1}|, the content each step throws away."""
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(words)), 2.8), layout="constrained")
    image = ax.imshow(discarded.T, aspect="auto", cmap="Reds", interpolation="nearest")
    _token_axis(ax, words)
    ax.set_yticks(range(len(units)))
    ax.set_yticklabels([str(u) for u in units], fontsize=6)
    ax.set_ylabel("unit")
    fig.colorbar(image, ax=ax, fraction=0.02)
    return fig


def saturation_scatter(saturation: np.ndarray, gate_names: Sequence[str]) -> Figure:
    """``saturation`` (G, H, 2): per gate, each unit's fraction of steps < 0.1 (x) and > 0.9 (y)."""
    fig, axes = plt.subplots(1, len(gate_names), figsize=(3 * len(gate_names), 3),
                             layout="constrained", sharex=True, sharey=True)
    for ax, name, values in zip(axes, gate_names, saturation, strict=True):
        ax.scatter(values[:, 0], values[:, 1], s=12, alpha=0.7)
        ax.plot([0, 1], [1, 0], color="gray", lw=0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name)
        ax.set_xlabel("left saturated (< 0.1)")
    axes[0].set_ylabel("right saturated (> 0.9)")
    return fig


def gradient_curves(curves: dict[str, np.ndarray], ylabel: str) -> Figure:
    """Each curve (L,) against the lag k = 0..L-1, log scale."""
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for name, curve in curves.items():
        ax.semilogy(np.arange(len(curve)), curve, marker=".", label=name)
    ax.set_xlabel("steps back from the prediction, k")
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig


def grouped_bars(groups: Sequence[str], series: dict[str, Sequence[float]],
                 ylabel: str) -> Figure:
    """Bars per group, one colour per series (e.g. accuracy by distance, LSTM vs RNN)."""
    fig, ax = plt.subplots(figsize=(max(6, 0.18 * len(groups)), 3), layout="constrained")
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        ax.bar(np.arange(len(groups)) + k * width, values, width, label=name)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels(groups, rotation=90 if len(groups) > 8 else 0, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig

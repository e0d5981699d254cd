"""The report's figures (matplotlib, Agg): each function takes plain arrays and returns a Figure.

Shapes: T tokens, U chosen units, H all units, L lags. Gate rows are the equation letters
i, f, g, o and the states c, h. Every heatmap has a labelled colour key, every axis a label,
and legends sit outside the axes so they never cover data. ``marks`` (e.g. ``{"subject": [2],
"pronoun": [9]}``) colour those tokens' labels and put a triangle above their column, with a
legend; the colours are the explorer's (``MARK_COLOURS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402

ROWS = ("i", "f", "g", "o", "c", "h")
ROW_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g",
             "o": "output gate o", "c": "cell state c", "h": "hidden state h"}
MARK_COLOURS = ("#c0392b", "#1f5fa8", "#23803a", "#7b3fa0", "#c46300", "#7a4b2a")
Marks = Mapping[str, Sequence[int]]


def _token_axis(ax, words: Sequence[str], marks: Marks | None = None, *,
                triangles: bool = True) -> None:
    """Words as x tick labels, marked ones coloured (and a triangle above their column)."""
    ax.set_xticks(range(len(words)))
    labels = ax.set_xticklabels(words, rotation=90, fontsize=7)
    ax.set_xlabel("token")
    for k, positions in enumerate((marks or {}).values()):
        for t in positions:
            labels[t].set_color(MARK_COLOURS[k % len(MARK_COLOURS)])
            labels[t].set_fontweight("bold")
    if triangles:
        _mark_triangles(ax, marks)


def _mark_triangles(ax, marks: Marks | None) -> None:
    """A triangle above each marked token's column (outside the axes: it covers no data)."""
    limits = ax.get_xlim()
    # x in data, y = 1 (the top edge) lifted by 5 points: the whole triangle is above the data.
    above = ax.get_xaxis_transform() + ScaledTranslation(0, 5 / 72, ax.figure.dpi_scale_trans)
    for k, positions in enumerate((marks or {}).values()):
        if len(positions):
            ax.scatter(list(positions), [1.0] * len(positions), marker="v", s=28,
                       color=MARK_COLOURS[k % len(MARK_COLOURS)],
                       transform=above, clip_on=False, zorder=3)
    ax.set_xlim(limits)  # the triangles must not widen the data limits


def _marks_legend(fig: Figure, marks: Marks | None) -> None:
    """A legend of the marks above the axes, outside every data area."""
    if not marks:
        return
    handles = [plt.Line2D([], [], marker="v", linestyle="", color=MARK_COLOURS[k % 6],
                          label=name) for k, name in enumerate(marks)]
    fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), fontsize=8,
               frameon=False)


def gate_heatmaps(words: Sequence[str], values: dict[str, np.ndarray],
                  units: Sequence[int], *, marks: Marks | None = None) -> Figure:
    """One heatmap per row of ``ROWS``: ``values[row]`` (T, U) for the given units."""
    fig, axes = plt.subplots(len(ROWS), 1, figsize=(max(6, 0.22 * len(words)), 1.1 * len(ROWS)
                                                     + 1.8), sharex=True, layout="constrained")
    for ax, row in zip(axes, ROWS, strict=True):
        gate = row in "ifo"
        image = ax.imshow(values[row].T, aspect="auto", interpolation="nearest",
                          cmap="viridis" if gate else "RdBu_r",
                          vmin=0 if gate else -1, vmax=1)
        ax.set_yticks(range(len(units)))
        ax.set_yticklabels([str(u) for u in units], fontsize=6)
        ax.set_ylabel(row, rotation=0, labelpad=10)
        key = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.02,
                           extend="neither" if gate or row == "g" else "both")
        key.set_label(ROW_NAMES[row], fontsize=7)
        key.ax.tick_params(labelsize=6)
    _token_axis(axes[-1], words, marks, triangles=False)
    _mark_triangles(axes[0], marks)
    fig.supylabel("unit (one row each)", fontsize=9)
    _marks_legend(fig, marks)
    return fig


def unit_scores(scores: np.ndarray, chosen: Sequence[int], label: str) -> Figure:
    """Bar chart of a per-unit score (H,), the chosen units highlighted."""
    fig, ax = plt.subplots(figsize=(7, 2.8), layout="constrained")
    colors = ["tab:red" if u in chosen else "tab:gray" for u in range(len(scores))]
    ax.bar(range(len(scores)), scores, color=colors)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("unit")
    ax.set_ylabel(label)
    ax.axhline(0, color="black", lw=0.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color="tab:red", label="highlighted units"),
               plt.Rectangle((0, 0), 1, 1, color="tab:gray", label="other units")]
    fig.legend(handles=handles, loc="outside upper right", ncols=2, fontsize=8, frameon=False)
    return fig


def retention_map(words: Sequence[str], retention: np.ndarray, unit: int, *,
                  marks: Marks | None = None) -> Figure:
    """``retention`` (T, T): entry (s, t) is the fraction of step s's write left at step t."""
    fig, ax = plt.subplots(figsize=(max(5, 0.2 * len(words)), max(4, 0.2 * len(words))),
                           layout="constrained")
    image = ax.imshow(retention, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    _token_axis(ax, words, marks)
    ax.set_yticks(range(len(words)))
    labels = ax.set_yticklabels(words, fontsize=7)
    for k, positions in enumerate((marks or {}).values()):
        for s in positions:
            labels[s].set_color(MARK_COLOURS[k % len(MARK_COLOURS)])
    ax.set_xlabel("read at token t")
    ax.set_ylabel("written at token s")
    ax.set_title(f"unit {unit}: retention prod f from s+1 to t", fontsize=10, pad=12)
    key = fig.colorbar(image, ax=ax, fraction=0.03)
    key.set_label("retention (0 to 1)")
    _marks_legend(fig, marks)
    return fig


def forget_events(words: Sequence[str], discarded: np.ndarray, units: Sequence[int], *,
                  marks: Marks | None = None) -> Figure:
    """``discarded`` (T, U): |(1 - f_t) * c_{t-1}|, the content each step throws away."""
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(words)), 3.2), layout="constrained")
    image = ax.imshow(discarded.T, aspect="auto", cmap="Reds", interpolation="nearest", vmin=0)
    _token_axis(ax, words, marks)
    ax.set_yticks(range(len(units)))
    ax.set_yticklabels([str(u) for u in units], fontsize=6)
    ax.set_ylabel("unit")
    key = fig.colorbar(image, ax=ax, fraction=0.02)
    key.set_label("discarded |(1 - f) c|", fontsize=8)
    _marks_legend(fig, marks)
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
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


def grouped_bars(groups: Sequence[str], series: dict[str, Sequence[float]],
                 ylabel: str, *, xlabel: str = "") -> Figure:
    """Bars per group, one colour per series (e.g. accuracy by distance, LSTM vs RNN)."""
    fig, ax = plt.subplots(figsize=(max(6, 0.18 * len(groups)), 3), layout="constrained")
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        ax.bar(np.arange(len(groups)) + k * width, values, width, label=name)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels(groups, rotation=90 if len(groups) > 8 else 0, fontsize=8)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    if len(series) > 1:
        fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


def share_heatmap(words: Sequence[str], shares: np.ndarray, units: Sequence[int],
                  label: str) -> Figure:
    """``shares`` (T, U) in [0, 1]: entry (t, u) is what step t's write is worth to unit u at
    the last step (e.g. an sLSTM's share of c_T / n_T, or a product of forget gates)."""
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(words)), 0.25 * len(units) + 1.8),
                           layout="constrained")
    image = ax.imshow(np.asarray(shares).T, aspect="auto", interpolation="nearest",
                      cmap="magma", vmin=0, vmax=1)
    ax.set_yticks(range(len(units)))
    ax.set_yticklabels([str(u) for u in units], fontsize=6)
    ax.set_ylabel("unit")
    _token_axis(ax, words)
    key = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)
    key.set_label(label, fontsize=8)
    return fig

"""The report's figures: a labelled colour key on every heatmap, axis labels, legends outside the
data, and marked tokens coloured with a triangle above their column."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lstmlab.reports._figures as figures

WORDS = "she came out and played with her dog . the king met the girl and fed his cat .".split()
MARKS = {"subject": [0, 9], "pronoun": [6, 15]}
UNITS = [3, 7, 9]


def _values():
    generator = np.random.default_rng(0)
    values = {row: generator.uniform(-1.3, 1.3, (len(WORDS), 3)) for row in figures.ROWS}
    for row in "ifo":
        values[row] = generator.uniform(0, 1, (len(WORDS), 3))
    return values


def _all_figures():
    values, generator = _values(), np.random.default_rng(1)
    retention = np.triu(generator.uniform(0, 1, (len(WORDS), len(WORDS))))
    return {
        "gate_heatmaps": figures.gate_heatmaps(WORDS, values, UNITS, marks=MARKS),
        "forget_events": figures.forget_events(WORDS, np.abs(values["c"]), UNITS, marks=MARKS),
        "retention_map": figures.retention_map(WORDS, retention, 3, marks=MARKS),
        "unit_scores": figures.unit_scores(generator.normal(size=12), [3, 7], "correlation"),
        "gradient_curves": figures.gradient_curves(
            {"LSTM": np.exp(-np.arange(20) / 5), "RNN": np.exp(-np.arange(20.0))}, "norm"),
        "grouped_bars": figures.grouped_bars(["1-5", "6-10"], {"LSTM": [1, 0.9],
                                                               "RNN": [0.9, 0.5]},
                                             "accuracy", xlabel="distance"),
        "saturation": figures.saturation_scatter(generator.uniform(0, 1, (3, 12, 2)),
                                                 ("input", "forget", "output")),
    }


@pytest.fixture(scope="module")
def drawn():
    made = _all_figures()
    for fig in made.values():
        fig.canvas.draw()
    yield made
    for fig in made.values():
        plt.close(fig)


def _data_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_every_heatmap_has_a_labelled_colour_key(drawn):
    heatmaps = 0
    for fig in drawn.values():
        for ax in _data_axes(fig):
            for image in ax.get_images():
                heatmaps += 1
                assert image.colorbar is not None
                assert image.colorbar.ax.get_ylabel()
    assert heatmaps == 6 + 1 + 1


def test_every_axis_is_labelled(drawn):
    for name, fig in drawn.items():
        data = _data_axes(fig)
        assert data[-1].get_xlabel(), name
        assert all(ax.get_ylabel() for ax in data[:1]), name
    heatmap_rows = [ax.get_ylabel() for ax in _data_axes(drawn["gate_heatmaps"])]
    assert heatmap_rows == list(figures.ROWS)


def test_legends_cover_no_data(drawn):
    legends = 0
    for name, fig in drawn.items():
        renderer = fig.canvas.get_renderer()
        for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
            legends += 1
            box = legend.get_window_extent(renderer)
            for ax in _data_axes(fig):
                assert not box.overlaps(ax.get_window_extent(renderer)), name
    assert legends == 6  # three marked figures, unit scores, gradient curves, grouped bars


def test_marked_tokens_are_coloured_and_their_triangles_sit_above_the_data(drawn):
    for name in ("gate_heatmaps", "forget_events", "retention_map"):
        fig = drawn[name]
        bottom = _data_axes(fig)[-1] if name == "gate_heatmaps" else _data_axes(fig)[0]
        labels = bottom.get_xticklabels()
        for k, positions in enumerate(MARKS.values()):
            for t in positions:
                assert mcolors.same_color(labels[t].get_color(), figures.MARK_COLOURS[k]), name
        unmarked = labels[1].get_color()
        assert not any(mcolors.same_color(unmarked, c) for c in figures.MARK_COLOURS)
        top = _data_axes(fig)[0]
        assert top.get_xlim() == (-0.5, len(WORDS) - 0.5)  # the triangles moved no limit
        triangles = [c for c in top.collections if c.get_offsets().shape[0]]
        positions = sorted(float(x) for c in triangles for x, _ in c.get_offsets())
        assert positions == sorted(float(t) for ts in MARKS.values() for t in ts), name
        assert all(y == 1.0 for c in triangles for _, y in c.get_offsets())  # axes top


def test_triangles_cover_no_data(drawn):
    for name in ("gate_heatmaps", "forget_events", "retention_map"):
        fig = drawn[name]
        top = _data_axes(fig)[0]
        renderer = fig.canvas.get_renderer()
        data_top = top.get_window_extent(renderer).y1
        for collection in top.collections:
            centres = collection.get_offset_transform().transform(collection.get_offsets())
            radius = np.sqrt(collection.get_sizes()).max() / 2 * fig.dpi / 72  # points -> px
            assert (centres[:, 1] - radius >= data_top).all(), name

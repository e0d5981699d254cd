"""The gate explorer: its embedded data, and the page driven in a real browser."""

import json
import re

import numpy as np
import pytest
import torch

from lstmlab.errors import UserError
from lstmlab.introspection import trace
from lstmlab.reports import ExplorerExample, write_explorer
from lstmlab.reports._explorer import ROWS, explorer_data, format_retention, format_values

WORDS = ("she", "came", "out", "and", "played", "with", "her", "dog", ".")


@pytest.fixture
def example():
    """A random LSTM's trace over 9 tokens: the Python-side values the page must show."""
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    x = torch.randn(1, len(WORDS), 3, generator=torch.Generator().manual_seed(3))
    layer = trace(lstm, x)[0]
    names = ("input", "forget", "candidate", "output", "cell", "hidden")
    values = {row: getattr(layer, name)[:, 0].double().numpy()
              for row, name in zip(ROWS, names, strict=True)}
    return ExplorerExample(WORDS, values)


def _embedded(path):
    text = path.read_text()
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return text, json.loads(match.group(1))


def test_page_embeds_the_rounded_values_and_loads_nothing(tmp_path, example):
    path = write_explorer([example], tmp_path / "explorer.html", initial_unit=2)
    text, data = _embedded(path)
    assert data["examples"][0]["words"] == list(WORDS)
    np.testing.assert_array_equal(np.array(data["examples"][0]["f"]),
                                  np.round(example.values["f"], 4))
    assert data["initial_unit"] == 2
    assert not re.search(r"(src|href)=\"?(https?:)?//", text)
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        '"http://www.w3.org/2000/svg"', "")


def test_format_values_reads_the_python_numbers(example):
    f = example.values["f"][4][1]
    assert f"f={f:.4f}" in format_values(WORDS, example.values, 4, 1)
    expected = float(np.prod(np.round(example.values["f"][3:7, 1], 4)))
    assert format_retention(example.values, 2, 6, 1).endswith(f"{expected:.4f}")


def test_mismatched_hidden_sizes_are_refused(example):
    other = ExplorerExample(WORDS, {k: v[:, :3] for k, v in example.values.items()})
    with pytest.raises(ValueError, match="examples"):
        explorer_data([example, other], "x")


@pytest.mark.browser
def test_explorer_in_chromium(tmp_path, example, page, count_non_white):
    path = write_explorer([example, example], tmp_path / "explorer.html")
    page.goto(path.as_uri())
    page.select_option("#unit", "3")
    assert page.text_content("#status") == "input 0, unit 3, 9 tokens"
    page.hover('rect.cell[data-row="f"][data-t="4"]')
    assert page.text_content("#tip") == format_values(WORDS, example.values, 4, 3)
    assert page.is_visible("#tip")
    # Later forget gates acting on token 4's write: the retention row.
    page.hover('rect.cell[data-row="retention"][data-t="7"]')
    assert page.text_content("#tip") == format_retention(example.values, 4, 7, 3)
    assert page.locator('rect[data-row="retention"]').count() == len(WORDS) - 4
    shot = page.screenshot()
    assert count_non_white(shot) > 5000
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests)


def _random_example(words, hidden, seed, **kwargs):
    generator = np.random.default_rng(seed)
    values = {row: generator.uniform(-1, 1, (len(words), hidden)) for row in ROWS}
    for row in "ifo":
        values[row] = generator.uniform(0, 1, (len(words), hidden))
    return ExplorerExample(tuple(words), values, **kwargs)


def test_embedded_data_is_linear_in_the_number_of_tokens(tmp_path):
    """No T x T matrix: every array is (T, H), so the page grows linearly with T."""
    sizes = []
    for steps in (200, 400):
        example = _random_example([f"w{t}" for t in range(steps)], 4, seed=steps)
        path = write_explorer([example], tmp_path / f"e{steps}.html")
        _, data = _embedded(path)
        assert {np.array(data["examples"][0][row]).shape for row in ROWS} == {(steps, 4)}
        sizes.append(len(data["examples"][0]["f"]) * len(data["examples"][0]["f"][0]))
    assert sizes[1] == 2 * sizes[0]


def test_bad_examples_are_refused_with_the_argument_named(example):
    values = dict(example.values, f=np.full_like(example.values["f"], np.nan))
    with pytest.raises(UserError, match=r"examples\[0\].values\['f'\]: 45 non-finite"):
        explorer_data([ExplorerExample(WORDS, values)], "x")
    with pytest.raises(UserError, match=r"marks\['subject'\]: positions must lie in 0..8"):
        explorer_data([ExplorerExample(WORDS, example.values, marks={"subject": [9]})], "x")
    with pytest.raises(UserError, match=r"units: expected units in 0..4"):
        explorer_data([ExplorerExample(WORDS, example.values, units=(5,))], "x")
    with pytest.raises(UserError, match=r"row_labels: expected keys"):
        explorer_data([ExplorerExample(WORDS, example.values, row_labels={"z": "x"})], "x")
    with pytest.raises(UserError, match=r"one row per word"):
        explorer_data([ExplorerExample(WORDS[:-1], example.values)], "x")


@pytest.mark.browser
def test_keys_marks_units_and_word_label_hover(tmp_path, example, page):
    marked = ExplorerExample(WORDS, example.values, marks={"subject": [0], "pronoun": [6]},
                             units=(1, 3))
    path = write_explorer([marked], tmp_path / "explorer.html", initial_unit=3, smoke=True)
    page.goto(path.as_uri())
    assert "Smoke run" in page.text_content("#banner") and page.is_visible("#banner")
    # One colour key per scale, with its ticks.
    scales = page.eval_on_selector_all("svg.colour-key", "els => els.map(e => e.dataset.scale)")
    assert scales == ["0..1", "-1..1"]
    ticks = page.eval_on_selector_all("svg.colour-key text.tick", "els => els.map(e => "
                                      "e.textContent)")
    assert ticks == ["0", "0.5", "1", "-1", "0", "1"]
    # Marks: legend, band above the grid, coloured word; highlighted units in the selector.
    assert page.eval_on_selector_all(".mark-name", "els => els.map(e => e.textContent)") == [
        "subject", "pronoun"]
    bands = page.eval_on_selector_all("rect.mark-band", "els => els.map(e => "
                                      "[e.dataset.mark, +e.dataset.t])")
    assert bands == [["subject", 0], ["pronoun", 6]]
    assert "mark-1" in page.get_attribute('#sentence .word[data-t="6"]', "class")
    assert page.eval_on_selector_all("#units button", "els => els.map(e => e.textContent)") == [
        "1", "3"]
    assert page.text_content('#unit option[value="3"]') == "unit 3 (highlighted)"
    assert page.text_content('#unit option[value="2"]') == "unit 2"
    # Hovering a word label (not only a cell) shows the values and draws the retention row.
    page.hover('g.token[data-t="5"]')
    assert page.text_content("#tip") == format_values(WORDS, example.values, 5, 3)
    assert page.locator('rect[data-row="retention"]').count() == len(WORDS) - 5
    page.hover('#sentence .word[data-t="2"]')
    assert page.text_content("#tip") == format_values(WORDS, example.values, 2, 3)
    page.focus('#sentence .word[data-t="7"]')  # the keyboard reaches every word too
    assert page.text_content("#tip") == format_values(WORDS, example.values, 7, 3)
    page.click('#units button[data-unit="1"]')
    assert page.text_content("#status") == "input 0, unit 1, 9 tokens"
    # Axis labels: which unit the rows show, what the x axis is, each row named.
    assert page.text_content("text.axis-label") == "unit 1"
    rows = page.eval_on_selector_all("text.row-label", "els => els.map(e => e.textContent)")
    assert rows[:6] == ["i  input gate", "f  forget gate", "g  candidate", "o  output gate",
                        "c  cell (tanh c)", "h  hidden"]
    assert page.errors == [] and page.csp_violations() == []


@pytest.mark.browser
def test_long_sentence_scrolls_inside_its_panel(tmp_path, page):
    words = [f"word{t}" for t in range(400)] + ["a" * 300]
    path = write_explorer([_random_example(words, 3, seed=1)], tmp_path / "explorer.html")
    page.goto(path.as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1200  # the page itself never widens
    panel = page.evaluate("[document.getElementById('grid-panel').scrollWidth,"
                          " document.getElementById('grid-panel').clientWidth]")
    assert panel[0] > 5 * panel[1]  # the grid scrolls inside its panel
    assert page.evaluate("document.getElementById('sentence').scrollWidth") <= 1200  # wraps
    # The last, very long word: its label is cut, its tooltip and sentence show it whole.
    page.locator('g.token[data-t="400"]').scroll_into_view_if_needed()
    page.hover('g.token[data-t="400"]')
    assert f"'{'a' * 300}'" in page.text_content("#tip")
    assert page.errors == []


@pytest.mark.browser
def test_views_switch_examples_and_hidden_sizes(tmp_path, page):
    forward = _random_example(["a", "b", "c"], 4, seed=1, view="layer 0 · forward",
                              row_labels={"f": "update z", "i": "1 - z"})
    reverse = _random_example(["a", "b", "c", "d"], 6, seed=2, view="layer 0 · reverse",
                              units=(5,))
    path = write_explorer([forward, reverse], tmp_path / "explorer.html")
    page.goto(path.as_uri())
    assert page.is_visible("#view")
    assert page.eval_on_selector_all("#view option", "els => els.map(e => e.value)") == [
        "layer 0 · forward", "layer 0 · reverse"]
    assert page.locator("#unit option").count() == 4
    rows = page.eval_on_selector_all("text.row-label", "els => els.map(e => e.textContent)")
    assert rows[:3] == ["i  1 - z", "f  update z", "g  candidate"]
    page.select_option("#view", "layer 0 · reverse")
    assert page.locator("#unit option").count() == 6
    assert page.text_content("#status") == "input 1, unit 0, 4 tokens, view layer 0 · reverse"
    page.hover('rect.cell[data-row="h"][data-t="3"]')
    assert page.text_content("#tip") == format_values(reverse.words, reverse.values, 3, 0)
    assert page.errors == []


@pytest.mark.browser
def test_one_view_hides_the_view_selector(tmp_path, example, page):
    page.goto(write_explorer([example], tmp_path / "explorer.html").as_uri())
    assert not page.is_visible("#view")
    assert page.locator("#banner").count() == 0

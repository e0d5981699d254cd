"""The gate explorer: its embedded data, and the page driven in a real browser."""

import json
import re

import numpy as np
import pytest
import torch

from lstmlab.introspection import trace
from lstmlab.reports.explorer import (
    ROWS,
    ExplorerExample,
    explorer_data,
    format_retention,
    format_values,
    write_explorer,
)

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

"""``results.html`` of ``lstmlab reproduce``: escaped, under the policy, readable in Chromium."""

import importlib.util
import sys
from pathlib import Path

import pytest

from lstmlab.reproduce import ReproduceConfig, run

EVIL = "m </script><!--<script>alert(1)</script>'\"&\u2028"


def _fakes():
    # tests/reproduce's fakes, loaded by path (tests/ has no packages).
    name = "reproduce_fakes"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "reproduce" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _results_page(tmp_path, quick=False):
    fakes = _fakes()
    run(ReproduceConfig((fakes.fake_experiment(trials=3),), (fakes.FakeMethod(name=EVIL),),
                        out=tmp_path, quick=quick))
    return tmp_path / "results.html"


def test_results_page_carries_the_policy_and_escapes_the_method_name(tmp_path):
    text = _results_page(tmp_path).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "http-equiv=\"Content-Security-Policy\" content=\"default-src &#x27;none&#x27;" in text
    assert EVIL not in text and "<script" not in text


@pytest.mark.browser
def test_results_page_shows_the_name_exactly_without_violations(tmp_path, page):
    page.goto(_results_page(tmp_path, quick=True).as_uri())
    cells = page.eval_on_selector_all("table.reproduce td:first-child",
                                      "els => els.map(e => e.textContent)")
    assert EVIL in cells
    assert "Smoke run" in page.text_content("#banner")
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.errors == [] and page.csp_violations() == []

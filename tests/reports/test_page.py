"""Escaping for each context and the Content-Security-Policy of every page (lstmlab.reports._page).

The browser tests render a report and an explorer whose every string is hostile: the script
must run, nothing may be blocked or thrown, and the page must show the text exactly.
"""

import base64
import hashlib
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lstmlab.errors import UserError
from lstmlab.reports import (
    ExplorerExample,
    Report,
    ReportFigure,
    Section,
    write_explorer,
    write_report,
)
from lstmlab.reports._explorer import ROWS, format_values
from lstmlab.reports._page import content_security_policy, document, script_json, text

# Every way text has broken a page: end the script, open a comment, start a script, quotes,
# an entity, markup, and the JavaScript line terminators U+2028 / U+2029.
EVIL = "a </script> <!-- <script>alert(1)</script> 'q' \"dq\" &amp; <b>x</b> \u2028 y\u2029 end"


def test_script_json_escapes_what_can_end_a_script_and_round_trips():
    value = {"text": EVIL, "<key>": [1.5, -0.0, 1e-300], "more": "&\u2028\u2029"}
    encoded = script_json(value)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in encoded
    assert encoded.isascii()
    assert json.loads(encoded) == value


def test_script_json_refuses_non_finite_numbers():
    with pytest.raises(ValueError, match="non-finite"):
        script_json({"x": float("nan")})


def test_text_escapes_markup_and_quotes_and_replaces_lone_surrogates():
    assert text("<a href='x'>\"&") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;"
    assert text("bad \udcff byte") == "bad ? byte"


def test_policy_allows_exactly_the_page_s_own_script_and_style():
    style, script = "body { color: red; }", "document.title = 'x';"
    page = document("t", "<p>b</p>", style=style, script=script, data={"a": 1})
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    policy = policy.replace("&#x27;", "'")
    assert policy == content_security_policy(style, script)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none'") and "img-src data:" in policy
    assert "unsafe-inline" not in policy
    # The policy comes before anything it governs.
    assert page.index("Content-Security-Policy") < page.index("<style>")


def _figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    return fig


def _hostile_example():
    words = tuple(EVIL.split(" "))
    generator = np.random.default_rng(0)
    values = {row: generator.uniform(-1, 1, (len(words), 3)) for row in ROWS}
    values["f"] = generator.uniform(0, 1, (len(words), 3))
    return ExplorerExample(words, values, view="</script><!--",
                           marks={"<img src=x onerror=alert(1)>": [1]}, units=(2,))


@pytest.mark.browser
def test_tampered_page_is_blocked_and_the_violation_seen(tmp_path, page):
    """The policy is in force: a script that is not the page's own does not run."""
    html = document("t", "<p>x</p>", style="p { color: red; }", script="window.own = 1;")
    path = tmp_path / "tampered.html"
    path.write_text(html.replace("<p>x</p>", "<p>x</p><script>window.injected = 1;</script>"))
    page.goto(path.as_uri())
    assert page.evaluate("window.own") == 1
    assert page.evaluate("window.injected") is None
    assert any("script-src" in v for v in page.csp_violations())


@pytest.mark.browser
def test_hostile_text_in_the_explorer_changes_nothing_but_the_text(tmp_path, page):
    example = _hostile_example()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    path = write_explorer([example], tmp_path / "explorer.html", title=EVIL,
                          banner_text=EVIL, initial_unit=2)
    page.goto(path.as_uri())
    assert page.get_attribute("body", "data-ready") == "true"  # the script ran to its end
    assert page.text_content("h1") == EVIL
    assert page.text_content("#banner") == EVIL
    words = page.eval_on_selector_all("#sentence .word", "els => els.map(e => e.textContent)")
    assert words == list(example.words)
    assert page.text_content(".mark-name") == "<img src=x onerror=alert(1)>"
    t = 3  # the word "<script>alert(1)</script>"
    page.hover(f'#sentence .word[data-t="{t}"]')
    assert page.text_content("#tip") == format_values(example.words, example.values, t, 2)
    page.hover(f'g.token[data-t="{len(example.words) - 3}"]')  # the word "\u2028"
    assert page.text_content("#tip") == format_values(example.words, example.values,
                                                      len(example.words) - 3, 2)
    assert page.errors == [] and page.csp_violations() == [] and dialogs == []
    assert page.evaluate("document.querySelectorAll('script').length") == 2  # data + code
    assert all(url.startswith("file://") for url in page.requests)


@pytest.mark.browser
def test_hostile_text_in_the_report_is_shown_exactly(tmp_path, page):
    report = Report(EVIL, (EVIL, "plain"), (Section(EVIL, EVIL, (
        ReportFigure("figure", EVIL, _figure()),)),), links={"explorer.html": EVIL},
        banner=EVIL)
    page.goto(write_report(report, tmp_path).as_uri())
    assert page.text_content("h1") == EVIL
    assert page.text_content("#banner") == EVIL
    assert page.eval_on_selector_all("#summary li", "els => els.map(e => e.textContent)") == [
        EVIL, "plain"]
    assert page.text_content("figcaption") == EVIL
    assert page.get_attribute("figure img", "alt") == EVIL
    assert page.evaluate("document.querySelector('figure img').naturalWidth") == 180  # data: ok
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.title() == EVIL
    assert page.errors == [] and page.csp_violations() == []


def test_report_refuses_links_and_figure_names_that_leave_the_folder(tmp_path):
    with pytest.raises(UserError, match="links"):
        write_report(Report("t", (), links={"javascript:alert(1)": "x"}), tmp_path)
    with pytest.raises(UserError, match="name"):
        ReportFigure("../up", "x", _figure())


def test_text_that_is_not_utf8_is_written_not_refused(tmp_path):
    """Text decoded with surrogateescape (bytes that are not UTF-8) still makes a page."""
    words = ("caf\udce9", "ok")
    values = {row: np.zeros((2, 1)) for row in ROWS}
    page = write_explorer([ExplorerExample(words, values)], tmp_path / "e.html",
                          title="t\udcff").read_text(encoding="utf-8")
    assert "caf\\udce9" in page and "<title>t?</title>" in page
    index = write_report(Report("r\udcff", ("s\udcfe",)), tmp_path).read_text(encoding="utf-8")
    assert "<h1>r?</h1>" in index and "<li>s?</li>" in index

"""The self-contained report: inline images, no external URL, and it renders in Chromium."""

import base64
import re

import matplotlib.pyplot as plt
import pytest

from lstmlab.reports import Report, ReportFigure, Section, write_report


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1, 0, 1])
    return fig


def test_report_inlines_every_figure_and_writes_png_and_svg(tmp_path):
    report = Report("t <&>", ("one 1.0", "two 2.0"),
                    (Section("S", "text", (ReportFigure("curve", "a curve", _figure()),)),))
    index = write_report(report, tmp_path)
    text = index.read_text()
    png = (tmp_path / "figures" / "curve.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert (tmp_path / "figures" / "curve.svg").read_text().lstrip().startswith("<?xml")
    inline = re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1)
    assert base64.b64decode(inline) == png
    assert "t &lt;&amp;&gt;" in text  # escaped
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<script" not in text


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path, page, count_non_white):
    report = Report("rendered", ("a 1",), (Section("S", "t", (
        ReportFigure("one", "first", _figure()), ReportFigure("two", "second", _figure()))),))
    page.goto(write_report(report, tmp_path).as_uri())
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert widths == [270, 270]  # 3 x 2 inches at 90 dpi, decoded from the inline data
    assert count_non_white(page.screenshot(full_page=True)) > 10_000
    assert page.errors == []


def test_smoke_reports_say_so_first(tmp_path):
    plain = write_report(Report("r", ("a 1",)), tmp_path / "plain").read_text()
    smoke = write_report(Report("r", ("a 1",)), tmp_path / "smoke", smoke=True).read_text()
    assert 'id="banner"' not in plain
    body = smoke[smoke.index("<body>"):]
    assert body.index('id="banner"') < body.index("<h1>")
    assert "Smoke run (--quick)" in body
    assert 'http-equiv="Content-Security-Policy"' in plain


@pytest.mark.browser
def test_a_wide_figure_scrolls_in_its_box_at_full_size(tmp_path, page):
    wide, ax = plt.subplots(figsize=(30, 2))  # a long sentence: 2700 px at 90 dpi
    ax.plot(range(100))
    report = Report("wide", ("a",), (Section("S", "t", (ReportFigure("wide", "w", wide),)),))
    page.goto(write_report(report, tmp_path).as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 1200  # the page stays
    box = page.evaluate("[document.querySelector('figure .scroll').scrollWidth,"
                        " document.querySelector('figure .scroll').clientWidth]")
    assert box[0] > 2 * box[1]
    assert page.evaluate("document.querySelector('figure img').width") == 2700  # not shrunk
    assert page.errors == [] and page.csp_violations() == []

"""The self-contained report: inline images, no external URL, and it renders in Chromium."""

import base64
import re

import matplotlib.pyplot as plt
import pytest

from lstmlab.reports.html import Report, ReportFigure, Section, write_report
from lstmlab.tour import TourConfig, run_tour
from lstmlab.tour.report import write_tour_report


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


@pytest.fixture(scope="module")
def tour_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    return write_tour_report(run_tour(TourConfig.quick()), out)


@pytest.mark.browser
def test_tour_index_renders_offline(tour_report, page, count_non_white):
    page.goto(tour_report["index"].as_uri())
    images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert len(images) == 8 and all(width > 100 for width in images)
    assert page.text_content("h1").startswith("lstmlab tour")
    assert count_non_white(page.screenshot(full_page=True)) > 50_000
    assert page.errors == []
    assert all(url.startswith(("file://", "data:")) for url in page.requests)


@pytest.mark.browser
def test_tour_explorer_renders(tour_report, page, count_non_white):
    page.goto(tour_report["explorer"].as_uri())
    assert page.locator("rect.cell").count() > 6 * 10
    assert count_non_white(page.screenshot()) > 5000
    assert page.errors == []

"""The self-contained HTML report: one ``index.html`` that opens offline.

Every image is inline (base64 PNG), there is no script and no external URL, so the file can be
mailed or opened from disk. The same figures are written beside it as PNG and SVG files. Every
string of the report is escaped and the page carries a Content-Security-Policy that allows only
its own style and ``data:`` images (``lstmlab.reports._page``). A smoke run (``smoke=True`` or a
``banner``) shows a warning banner above everything else.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from lstmlab.errors import UserError
from lstmlab.reports._page import BANNER_STYLE, SMOKE_BANNER, banner, document, text

EQUATIONS = """\
i_t = sigmoid(x_t @ W_i.T + h_{t-1} @ U_i.T + b_i)      input gate
f_t = sigmoid(x_t @ W_f.T + h_{t-1} @ U_f.T + b_f)      forget gate
g_t = tanh(x_t @ W_g.T + h_{t-1} @ U_g.T + b_g)         candidate
o_t = sigmoid(x_t @ W_o.T + h_{t-1} @ U_o.T + b_o)      output gate
c_t = f_t * c_{t-1} + i_t * g_t                          cell state
h_t = o_t * tanh(c_t)                                    hidden state / output

discarded at step t:              (1 - f_t) * c_{t-1}
retention of step s's write at t:  prod_{r=s+1..t} f_r
    so that c_t = sum_{s<=t} [prod_{r=s+1..t} f_r] * i_s * g_s + [prod_{r<=t} f_r] * c_{-1}
gradient along the carousel:       dc_t/dc_{t-1} = diag(f_t)  (plus the paths through h)"""


_FILE_STEM = re.compile(r"[A-Za-z0-9_-]+")
# A link is a relative path inside the report folder: no scheme ("javascript:"), no "..".
_RELATIVE_LINK = re.compile(r"(?!.*\.\.)[A-Za-z0-9_./-]+")


@dataclass(frozen=True)
class ReportFigure:
    """A figure, the file stem it is saved under and the caption shown below it."""

    name: str
    caption: str
    figure: Figure

    def __post_init__(self) -> None:
        if not _FILE_STEM.fullmatch(self.name):
            raise UserError(f"ReportFigure.name: expected letters, digits, '_' or '-' (a file "
                            f"stem in figures/), got {self.name!r}")


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    figures: tuple[ReportFigure, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    summary: tuple[str, ...]
    sections: tuple[Section, ...] = ()
    links: dict[str, str] = field(default_factory=dict)  # file name -> what it is
    banner: str = ""  # a warning shown above everything (e.g. page.SMOKE_BANNER)
    equations: str = EQUATIONS  # the model's equations (a GRU report shows the GRU's)


_STYLE = """
body { font-family: "DejaVu Sans", sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; line-height: 1.45; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }
figure { margin: 1em 0; }
/* A figure of a long sentence keeps its readable size and scrolls inside its own box. */
figure .scroll { overflow-x: auto; max-width: 100%; }
figure img { border: 1px solid #ddd; display: block; }
figcaption { font-size: 0.9em; color: #555; }
li { margin: 0.2em 0; }
""" + BANNER_STYLE


def write_report(report: Report, out: Path, *, smoke: bool = False) -> Path:
    """Write ``out/index.html`` and ``out/figures/<name>.png|.svg``; return the index path.

    ``smoke``: the numbers come from a smoke run (``--quick``); the page says so in a banner
    (``report.banner`` when set, else ``page.SMOKE_BANNER``).
    """
    out = Path(out)
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    for name in report.links:
        if not _RELATIVE_LINK.fullmatch(name) or name.startswith("/"):
            raise UserError(f"Report.links: expected a file name inside the report folder, got "
                            f"{name!r}")
    message = report.banner or (SMOKE_BANNER if smoke else "")
    parts = [
        banner(message),
        f"<h1>{text(report.title)}</h1>", "<h2>Summary</h2>", '<ul id="summary">',
        *(f"<li>{text(line)}</li>" for line in report.summary), "</ul>",
        "<h2>The equations</h2>", f'<pre id="equations">{text(report.equations)}</pre>',
    ]
    if report.links:
        parts.append("<p>" + " ".join(
            f'<a href="{text(name)}">{text(name)}</a>: {text(what)}.'
            for name, what in report.links.items()) + "</p>")
    for section in report.sections:
        parts += [f"<h2>{text(section.title)}</h2>", f"<p>{text(section.text)}</p>"]
        for item in section.figures:
            png = io.BytesIO()
            item.figure.savefig(png, format="png", dpi=90)
            (figures_dir / f"{item.name}.png").write_bytes(png.getvalue())
            item.figure.savefig(figures_dir / f"{item.name}.svg", format="svg")
            plt.close(item.figure)
            data = base64.b64encode(png.getvalue()).decode("ascii")
            parts.append(
                f'<figure><div class="scroll"><img alt="{text(item.caption)}" '
                f'src="data:image/png;base64,{data}"></div><figcaption>{text(item.caption)}'
                "</figcaption></figure>")
    index = out / "index.html"
    index.write_text(document(report.title, "\n".join(parts), style=_STYLE), encoding="utf-8")
    return index

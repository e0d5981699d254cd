"""The interactive gate explorer: one HTML file, no server, no network, vanilla JS.

Pick a view (when there are several, e.g. "layer 1 · reverse"), an example and a unit; the page
draws i, f, o (0..1), g, tanh(c) and h (-1..1) of that unit over the tokens, with a colour key
for each scale. Hovering a word label, a word of the sentence or a cell shows that token's
values in the tooltip ``#tip`` and draws the bottom row: the retention of that token's write,
``prod_{r=t+1..s} f_r`` at every later token s (what later forget gates did to it), computed in
the page for the hovered token only, so the embedded data stays linear in T. Examples may carry
named marks (``{"subject": [2], "pronoun": [9]}``: coloured word labels, a band above the grid
and a legend) and highlighted units (marked in the unit selector and listed as buttons). Long
inputs scroll inside their panel; the sentence above the grid wraps.

With an ``ExplorerModel`` the page also runs that LSTM on a sentence the reader types
(``lstmlab.reports._explorer_model``); the result becomes an example like the built-in ones, and
its full-precision values are exposed to scripts as ``window.lstmlabExplorer.typed``.

The data is embedded as JSON, every value rounded to 4 decimals, and the page shows them with
4 decimals, so the tooltip text equals ``format_values`` of the data. Every string is escaped
for its context and the page carries a Content-Security-Policy (``lstmlab.reports._page``).

Data layout: ``{"examples": [{"words": [...], "view": "", "marks": {...}, "units": [...],
"i": [[T x H]], "f": ..., "h": ...}], "model": {...} | null, ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from lstmlab.errors import UserError
from lstmlab.reports._explorer_model import ExplorerModel
from lstmlab.reports._page import BANNER_STYLE, SMOKE_BANNER, banner, document, text

ROWS = ("i", "f", "g", "o", "c", "h")


@dataclass(frozen=True, eq=False)
class ExplorerExample:
    """One input: its tokens and ``values[row]`` (T, H) for every row of ``ROWS``.

    ``view``: which view it belongs to (one hidden size per view); ``marks``: named token
    positions to mark (e.g. ``{"subject": (2,), "pronoun": (9,)}``); ``units``: the units to
    highlight (e.g. the units that track the subject's gender); ``row_labels``: names shown
    for rows instead of the LSTM's (e.g. a GRU drawn in these rows: ``{"f": "update z"}``).
    """

    words: tuple[str, ...]
    values: dict[str, np.ndarray]
    view: str = ""
    marks: Mapping[str, Sequence[int]] = field(default_factory=dict)
    units: tuple[int, ...] = ()
    row_labels: Mapping[str, str] = field(default_factory=dict)


def _rounded(value: float) -> float:
    return round(float(value), 4) + 0.0  # + 0.0: -0.0 prints as "-0.0000", JS's -0 as "0.0000"


def format_values(words: Sequence[str], values: dict[str, np.ndarray], t: int,
                  unit: int) -> str:
    """The tooltip text for token t of one unit (the page builds the same string)."""
    numbers = " ".join(f"{row}={_rounded(values[row][t][unit]):.4f}" for row in ROWS)
    return f"t={t} '{words[t]}' unit {unit}: {numbers}"


def format_retention(values: dict[str, np.ndarray], t: int, s: int, unit: int) -> str:
    """The tooltip text of the retention row: product of the rounded f, in token order."""
    product = 1.0
    for r in range(t + 1, s + 1):
        product *= _rounded(values["f"][r][unit])
    return f"retention of t={t}'s write at s={s}, unit {unit}: {product:.4f}"


def _example_data(k: int, ex: ExplorerExample) -> dict:
    steps = len(ex.words)
    arrays = {}
    for row in ROWS:
        if row not in ex.values:
            raise UserError(f"examples[{k}].values: expected rows {ROWS}, missing {row!r}")
        array = np.asarray(ex.values[row], dtype=np.float64)
        if array.ndim != 2 or array.shape[0] != steps:
            raise UserError(f"examples[{k}].values[{row!r}]: expected shape ({steps}, H), one "
                            f"row per word, got {array.shape}")
        bad = int((~np.isfinite(array)).sum())
        if bad:
            raise UserError(f"examples[{k}].values[{row!r}]: {bad} non-finite values (NaN or "
                            "inf); the explorer shows finite values only")
        arrays[row] = (np.round(array, 4) + 0.0).tolist()
    hidden = len(arrays["f"][0]) if steps else 0
    for name, positions in ex.marks.items():
        if any(not 0 <= int(t) < steps for t in positions):
            raise UserError(f"examples[{k}].marks[{name!r}]: positions must lie in "
                            f"0..{steps - 1}, got {list(positions)}")
    if not set(ex.row_labels) <= set(ROWS):
        raise UserError(f"examples[{k}].row_labels: expected keys among {ROWS}, got "
                        f"{sorted(ex.row_labels)}")
    if any(not 0 <= int(u) < hidden for u in ex.units):
        raise UserError(f"examples[{k}].units: expected units in 0..{hidden - 1}, got "
                        f"{list(ex.units)}")
    return {"words": [str(w) for w in ex.words], "view": str(ex.view),
            "marks": {str(name): sorted({int(t) for t in positions})
                      for name, positions in ex.marks.items()},
            "units": [int(u) for u in ex.units], "hidden_size": hidden,
            "row_labels": {str(r): str(name) for r, name in ex.row_labels.items()}, **arrays}


def explorer_data(examples: Sequence[ExplorerExample], title: str,
                  model: ExplorerModel | None = None) -> dict:
    """The page's data: checked (one hidden size per view, finite values, marks in range)."""
    if not examples:
        raise UserError("examples: expected at least one example")
    data = [_example_data(k, ex) for k, ex in enumerate(examples)]
    hidden: dict[str, set[int]] = {}
    for ex in data:
        if not ex["words"]:
            raise UserError("examples: every example needs at least one word")
        hidden.setdefault(ex["view"], set()).add(ex["hidden_size"])
    if model is not None and model.view in hidden:
        hidden[model.view].add(model.hidden_size)
    for view, sizes in hidden.items():
        if len(sizes) != 1:
            raise UserError(f"examples: expected one hidden size per view, view {view!r} has "
                            f"{sorted(sizes)}")
    mark_names = list(dict.fromkeys(name for ex in data for name in ex["marks"]))
    return {
        "title": title,
        "hidden_size": data[0]["hidden_size"],
        "views": list(dict.fromkeys(ex["view"] for ex in data)),
        "mark_names": mark_names,
        "examples": data,
        "model": None if model is None else model.data(),
    }


def _asset(name: str) -> str:
    return resources.files("lstmlab.reports").joinpath(name).read_text(encoding="utf-8")


_BODY = """{banner}
<h1>{title}</h1>
<p class="intro">Pick an input and a unit. Rows: input gate i, forget gate f and output gate o
(0 to 1), candidate g, cell state c (coloured by tanh c) and hidden state h (-1 to 1). Hover a
word or a cell: its values, and in the last row how much of its write i*g later forget gates
left in the cell (retention: the product of f after it).</p>
<section id="typed-section" hidden>
<h2>Type your own sentence</h2>
<form id="typed-form"><input id="typed" type="text" size="70" autocomplete="off"
 placeholder="she came out and played with her dog ."> <button id="run" type="submit">run
</button></form>
<p id="typed-status"></p>
<details><summary>How the page reads it, and the words the model knows</summary>
<p class="intro">The page runs the LSTM on what you type, in this page, with 64-bit floats.
<span id="tokenizer"></span></p>
<p id="vocabulary"></p></details>
</section>
<div class="controls">
<label id="view-label">view <select id="view"></select></label>
<label>input <select id="example"></select></label>
<label>unit <select id="unit"></select></label>
</div>
<div id="units"></div>
<div id="keys"></div>
<div class="panel" id="sentence-panel"><p id="sentence"></p></div>
<div class="panel" id="grid-panel"><svg id="grid" xmlns="http://www.w3.org/2000/svg"></svg></div>
<p id="status"></p>
<div id="tip"></div>"""


def write_explorer(examples: Sequence[ExplorerExample], path: Path,
                   title: str = "lstmlab gate explorer", initial_unit: int = 0, *,
                   model: ExplorerModel | None = None, smoke: bool = False,
                   banner_text: str = "") -> Path:
    """Write the explorer page to ``path`` (the data inline as JSON); return ``path``.

    ``model``: an LSTM the page runs on sentences the reader types. ``smoke``: the numbers come
    from a smoke run; the page says so (``banner_text`` when given, else ``SMOKE_BANNER``).
    """
    data = explorer_data(examples, title, model)
    data["initial_unit"] = initial_unit
    message = banner_text or (SMOKE_BANNER if smoke else "")
    body = _BODY.format(banner=banner(message), title=text(title))  # one pass: no re-expansion
    page = document(title, body, style=_asset("explorer.css") + BANNER_STYLE,
                    script=_asset("explorer.js"), data=data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path

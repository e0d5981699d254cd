"""The interactive gate explorer: one HTML file, no server, no network, vanilla JS.

Pick an example and a unit; the page draws i, f, g, o (0..1) and c, h (-1..1) of that unit over
the tokens. Hovering a token shows its values in the tooltip ``#tip`` and draws the bottom row:
the retention of that token's write, ``prod_{r=t+1..s} f_r`` at every later token s (what later
forget gates did to it). The data is embedded as JSON, every value rounded to 4 decimals, and
the page shows them with 4 decimals, so the tooltip text equals ``format_values`` of the data.

Data layout: ``{"examples": [{"words": [...], "i": [[T x H]], "f": ..., "h": ...}], ...}``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROWS = ("i", "f", "g", "o", "c", "h")


@dataclass(frozen=True)
class ExplorerExample:
    """One input: its tokens and ``values[row]`` (T, H) for every row of ``ROWS``."""

    words: tuple[str, ...]
    values: dict[str, np.ndarray]


def format_values(words: Sequence[str], values: dict[str, np.ndarray], t: int,
                  unit: int) -> str:
    """The tooltip text for token t of one unit (the page builds the same string)."""
    numbers = " ".join(f"{row}={round(float(values[row][t][unit]), 4):.4f}" for row in ROWS)
    return f"t={t} '{words[t]}' unit {unit}: {numbers}"


def format_retention(values: dict[str, np.ndarray], t: int, s: int, unit: int) -> str:
    """The tooltip text of the retention row: product of the rounded f, in token order."""
    product = 1.0
    for r in range(t + 1, s + 1):
        product *= round(float(values["f"][r][unit]), 4)
    return f"retention of t={t}'s write at s={s}, unit {unit}: {product:.4f}"


def explorer_data(examples: Sequence[ExplorerExample], title: str) -> dict:
    hidden = {ex.values["f"].shape[1] for ex in examples}
    if len(hidden) != 1:
        raise ValueError(f"examples: expected one hidden size, got {sorted(hidden)}")
    return {
        "title": title,
        "hidden_size": hidden.pop(),
        "examples": [
            {"words": list(ex.words),
             **{row: np.round(np.asarray(ex.values[row], dtype=np.float64), 4).tolist()
                for row in ROWS}}
            for ex in examples
        ],
    }


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 1.5em; color: #222; }
#tip { position: fixed; background: #222; color: #fff; padding: 4px 8px; font-size: 13px;
       pointer-events: none; display: none; border-radius: 3px; white-space: nowrap; }
svg text { font-size: 11px; }
rect.cell { stroke: #fff; stroke-width: 0.5; }
</style></head><body>
<h1>__TITLE__</h1>
<p>Pick an input and a unit. Rows: input gate i, forget gate f, candidate g, output gate o
(0..1, dark to yellow), cell c (coloured by tanh c) and hidden h (-1..1, blue to red).
Hover a token: its values, and in the last row, how much of its write i*g later forget gates
left in the cell (retention: the product of f after it).</p>
<label>input <select id="example"></select></label>
<label>unit <select id="unit"></select></label>
<p id="status"></p>
<svg id="grid" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="tip"></div>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const ROWS = ["i", "f", "g", "o", "c", "h"];
const CELL = 24, LEFT = 90, TOP = 90;
const exampleSel = document.getElementById("example");
const unitSel = document.getElementById("unit");
const svg = document.getElementById("grid");
const tip = document.getElementById("tip");
const status = document.getElementById("status");
let anchor = null;

DATA.examples.forEach((ex, k) => {
  const option = document.createElement("option");
  option.value = k; option.textContent = k + ": " + ex.words.slice(0, 8).join(" ") + " ...";
  exampleSel.appendChild(option);
});
for (let u = 0; u < DATA.hidden_size; u++) {
  const option = document.createElement("option");
  option.value = u; option.textContent = "unit " + u; unitSel.appendChild(option);
}

function color(v, gate) {
  if (gate) {  // 0..1: dark blue to yellow
    const x = Math.max(0, Math.min(1, v));
    const r = Math.round(40 + 213 * x), g = Math.round(30 + 201 * x), b = Math.round(120 - 83 * x);
    return `rgb(${r},${g},${b})`;
  }
  const x = Math.max(-1, Math.min(1, v));  // -1..1: blue, white, red
  return x >= 0 ? `rgb(255,${Math.round(255 * (1 - x))},${Math.round(255 * (1 - x))})`
                : `rgb(${Math.round(255 * (1 + x))},${Math.round(255 * (1 + x))},255)`;
}

function element(name, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  svg.appendChild(node);
  return node;
}

function values(ex, t, u) {
  return `t=${t} '${ex.words[t]}' unit ${u}: ` +
         ROWS.map(r => `${r}=${ex[r][t][u].toFixed(4)}`).join(" ");
}

function retention(ex, t, s, u) {
  let product = 1.0;
  for (let r = t + 1; r <= s; r++) product *= ex.f[r][u];
  return product;
}

function showTip(event, text) {
  tip.textContent = text; tip.style.display = "block";
  tip.style.left = (event.clientX + 12) + "px"; tip.style.top = (event.clientY + 12) + "px";
}

function draw() {
  const ex = DATA.examples[+exampleSel.value], u = +unitSel.value, T = ex.words.length;
  svg.innerHTML = "";
  svg.setAttribute("width", LEFT + CELL * T + 20);
  svg.setAttribute("height", TOP + CELL * (ROWS.length + 1) + 20);
  ex.words.forEach((w, t) => element("text", {
    x: LEFT + CELL * t + CELL / 2, y: TOP - 6, "text-anchor": "start",
    transform: `rotate(-60 ${LEFT + CELL * t + CELL / 2} ${TOP - 6})`,
    class: "token", "data-t": t}, w));
  ROWS.forEach((r, k) => {
    element("text", {x: LEFT - 8, y: TOP + CELL * k + 16, "text-anchor": "end"}, r);
    for (let t = 0; t < T; t++) {
      const shown = r === "c" ? Math.tanh(ex[r][t][u]) : ex[r][t][u];
      const cell = element("rect", {x: LEFT + CELL * t, y: TOP + CELL * k, width: CELL,
        height: CELL, fill: color(shown, "ifo".includes(r)), class: "cell",
        "data-row": r, "data-t": t});
      cell.addEventListener("mousemove", e => {
        anchor = t; drawRetention(); showTip(e, values(ex, t, u));
      });
      cell.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    }
  });
  drawRetention();
  status.textContent = `input ${exampleSel.value}, unit ${u}, ${T} tokens`;
}

function drawRetention() {
  const ex = DATA.examples[+exampleSel.value], u = +unitSel.value, T = ex.words.length;
  svg.querySelectorAll(".retention").forEach(n => n.remove());
  const y = TOP + CELL * ROWS.length;
  element("text", {x: LEFT - 8, y: y + 16, "text-anchor": "end", class: "retention"},
          anchor === null ? "retention" : `kept from ${anchor}`);
  if (anchor === null) return;
  for (let s = anchor; s < T; s++) {
    const value = retention(ex, anchor, s, u), from = anchor;
    const cell = element("rect", {x: LEFT + CELL * s, y: y, width: CELL, height: CELL,
      fill: color(value, true), class: "retention cell", "data-row": "retention", "data-t": s});
    cell.addEventListener("mousemove", e => showTip(e,
      `retention of t=${from}'s write at s=${s}, unit ${u}: ${value.toFixed(4)}`));
    cell.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }
}

exampleSel.addEventListener("change", () => { anchor = null; draw(); });
unitSel.addEventListener("change", draw);
unitSel.value = DATA.initial_unit;
draw();
</script></body></html>
"""


def write_explorer(examples: Sequence[ExplorerExample], path: Path,
                   title: str = "lstmlab gate explorer", initial_unit: int = 0) -> Path:
    """Write the explorer page to ``path`` (the data inline as JSON); return ``path``."""
    data = explorer_data(examples, title)
    data["initial_unit"] = initial_unit
    # "</" inside the JSON would end the script element early.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = _PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", payload)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path

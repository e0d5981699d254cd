"use strict";
// The gate explorer (lstmlab.reports.explorer): draws the embedded data, no network.
const DATA = JSON.parse(document.getElementById("data").textContent);
const ROWS = ["i", "f", "g", "o", "c", "h"];
const ROW_NAMES = {i: "input gate", f: "forget gate", g: "candidate", o: "output gate",
                   c: "cell (tanh c)", h: "hidden"};
const GATES = "ifo";  // rows on the 0..1 scale; the others on -1..1
const MARK_COLOURS = ["#c0392b", "#1f5fa8", "#23803a", "#7b3fa0", "#c46300", "#7a4b2a"];
const CELL = 22, LEFT = 130, WORD_MAX = 24, SVG_NS = "http://www.w3.org/2000/svg";
const $ = id => document.getElementById(id);
const viewSel = $("view"), exampleSel = $("example"), unitSel = $("unit");
const svg = $("grid"), tip = $("tip"), status = $("status");
let anchor = null, typedIndex = null;
const api = {data: DATA, typed: null, tokenize, forward};
window.lstmlabExplorer = api;

// ---- scales and keys -------------------------------------------------------------------
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

function make(name, attrs, text, parent) {
  const node = name === "svg" || parent instanceof SVGElement
    ? document.createElementNS(SVG_NS, name) : document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function colourKey(title, gate) {
  const box = make("div", {class: "key"}, undefined, $("keys"));
  make("div", {class: "key-title"}, title, box);
  const key = make("svg", {class: "colour-key", "data-scale": gate ? "0..1" : "-1..1",
                           width: 230, height: 30}, undefined, box);
  const lo = gate ? 0 : -1, n = 50;
  for (let k = 0; k < n; k++) {
    const v = lo + (1 - lo) * (k + 0.5) / n;
    make("rect", {x: 10 + 4 * k, y: 0, width: 4, height: 12, fill: color(v, gate)}, undefined, key);
  }
  const ticks = gate ? [0, 0.5, 1] : [-1, 0, 1];
  ticks.forEach(v => {
    const x = 10 + 200 * (v - lo) / (1 - lo);
    make("line", {x1: x, x2: x, y1: 12, y2: 16, stroke: "#444"}, undefined, key);
    make("text", {x: x, y: 27, "text-anchor": "middle", class: "tick"}, String(v), key);
  });
}

function drawKeys() {
  $("keys").textContent = "";
  colourKey("i, f, o and retention: 0 to 1", true);
  colourKey("g, tanh(c), h: -1 to 1", false);
  if (DATA.mark_names.length) {
    const legend = make("div", {class: "key mark-legend"}, undefined, $("keys"));
    make("span", {class: "key-title"}, "marked tokens:", legend);
    DATA.mark_names.forEach((name, k) => {
      make("span", {class: `swatch mark-${k % MARK_COLOURS.length}`}, undefined, legend);
      make("span", {class: "mark-name"}, name, legend);
    });
  }
}

// ---- selectors ---------------------------------------------------------------------------
function currentExample() { return DATA.examples[+exampleSel.value]; }

function exampleLabel(ex, k) {
  const head = ex.words.slice(0, 8).join(" ") + (ex.words.length > 8 ? " ..." : "");
  return (ex.typed ? "typed: " : k + ": ") + head;
}

function fillViews() {
  DATA.views.forEach(v => make("option", {value: v}, v === "" ? "default" : v, viewSel));
  $("view-label").hidden = DATA.views.length < 2;
}

function fillExamples(selected) {
  exampleSel.textContent = "";
  DATA.examples.forEach((ex, k) => {
    if (ex.view === viewSel.value) make("option", {value: k}, exampleLabel(ex, k), exampleSel);
  });
  if (selected !== undefined) exampleSel.value = selected;
}

function fillUnits(preferred) {
  const ex = currentExample(), marked = new Set(ex.units);
  unitSel.textContent = "";
  for (let u = 0; u < ex.hidden_size; u++) {
    make("option", {value: u}, "unit " + u + (marked.has(u) ? " (highlighted)" : ""), unitSel);
  }
  unitSel.value = preferred < ex.hidden_size ? preferred : (ex.units.length ? ex.units[0] : 0);
  const box = $("units");
  box.textContent = "";
  if (ex.units.length) {
    make("span", {}, "highlighted units: ", box);
    ex.units.forEach(u => {
      const button = make("button", {type: "button", "data-unit": u}, String(u), box);
      button.addEventListener("click", () => { unitSel.value = u; draw(); });
    });
  }
}

// ---- the grid ----------------------------------------------------------------------------
function values(ex, t, u) {
  return `t=${t} '${ex.words[t]}' unit ${u}: ` +
         ROWS.map(r => `${r}=${ex[r][t][u].toFixed(4)}`).join(" ");
}

function showTip(event, text) {
  tip.textContent = text;
  tip.style.display = "block";
  const width = tip.offsetWidth, height = tip.offsetHeight;
  let x = event.clientX + 12, y = event.clientY + 12;
  if (x + width > window.innerWidth - 4) x = Math.max(4, event.clientX - width - 12);
  if (y + height > window.innerHeight - 4) y = Math.max(4, event.clientY - height - 12);
  tip.style.left = x + "px";
  tip.style.top = y + "px";
}

function hideTip() { tip.style.display = "none"; }

function marksOf(ex) {  // token -> indices into DATA.mark_names
  const byToken = new Map();
  Object.entries(ex.marks).forEach(([name, positions]) => positions.forEach(t => {
    if (!byToken.has(t)) byToken.set(t, []);
    byToken.get(t).push(DATA.mark_names.indexOf(name));
  }));
  return byToken;
}

function hover(event, t) {
  const ex = currentExample(), u = +unitSel.value;
  if (anchor !== t) { anchor = t; drawRetention(); }
  showTip(event, values(ex, t, u));
  document.querySelectorAll("#sentence .word.anchor").forEach(n => n.classList.remove("anchor"));
  const word = document.querySelector(`#sentence .word[data-t="${t}"]`);
  if (word) word.classList.add("anchor");
}

function geometry(ex) {
  const longest = Math.min(WORD_MAX, Math.max(...ex.words.map(w => w.length)));
  const labels = 16 + Math.ceil(6.7 * longest);
  const bands = DATA.mark_names.length;
  return {labels, top: labels + 6 + 7 * bands + (bands ? 4 : 0)};
}

function drawSentence(ex) {
  const box = $("sentence"), marks = marksOf(ex);
  box.textContent = "";
  ex.words.forEach((w, t) => {
    const kinds = marks.get(t) || [];
    const span = make("span", {class: "word", "data-t": t, tabindex: 0}, w, box);
    if (kinds.length) {
      span.classList.add(`mark-${kinds[0] % MARK_COLOURS.length}`);
      span.title = kinds.map(k => DATA.mark_names[k]).join(", ");
    }
    box.appendChild(document.createTextNode(" "));
  });
}

function draw() {
  const ex = currentExample(), u = +unitSel.value, T = ex.words.length;
  const {labels, top} = geometry(ex), marks = marksOf(ex);
  svg.textContent = "";
  const bottom = top + CELL * (ROWS.length + 1);
  svg.setAttribute("width", LEFT + CELL * T + 20);
  svg.setAttribute("height", bottom + 34);
  // y axis: what the rows are
  const middle = (top + bottom) / 2;
  make("text", {x: 14, y: middle, "text-anchor": "middle", class: "axis-label",
                transform: `rotate(-90 14 ${middle})`}, `unit ${u}`, svg);
  make("text", {x: LEFT + 4, y: bottom + 26, class: "axis-label"},
       "token t \u2192 (hover a word or a cell for its values)", svg);
  ex.words.forEach((w, t) => {
    const x = LEFT + CELL * t;
    const group = make("g", {class: "token", "data-t": t}, undefined, svg);
    make("rect", {x: x, y: 0, width: CELL, height: labels, fill: "transparent"}, undefined, group);
    const shown = w.length > WORD_MAX ? w.slice(0, WORD_MAX - 1) + "\u2026" : w;
    const kinds = marks.get(t) || [];
    make("text", {x: x + CELL / 2 + 4, y: labels - 2, "text-anchor": "start",
                  transform: `rotate(-90 ${x + CELL / 2 + 4} ${labels - 2})`,
                  fill: kinds.length ? MARK_COLOURS[kinds[0] % MARK_COLOURS.length] : "#222",
                  "font-weight": kinds.length ? "bold" : "normal"}, shown, group);
    kinds.forEach(k => make("rect", {x: x + 1, y: labels + 4 + 7 * k, width: CELL - 2, height: 5,
      fill: MARK_COLOURS[k % MARK_COLOURS.length], class: "mark-band",
      "data-mark": DATA.mark_names[k], "data-t": t}, undefined, svg));
  });
  ROWS.forEach((r, k) => {
    make("text", {x: LEFT - 8, y: top + CELL * k + 15, "text-anchor": "end", class: "row-label"},
         `${r}  ${(ex.row_labels || {})[r] || ROW_NAMES[r]}`, svg);
    for (let t = 0; t < T; t++) {
      const shown = r === "c" ? Math.tanh(ex[r][t][u]) : ex[r][t][u];
      make("rect", {x: LEFT + CELL * t, y: top + CELL * k, width: CELL, height: CELL,
                    fill: color(shown, GATES.includes(r)), class: "cell", "data-row": r,
                    "data-t": t}, undefined, svg);
    }
  });
  drawSentence(ex);
  drawRetention();
  const view = DATA.views.length > 1 ? `, view ${ex.view}` : "";
  status.textContent = `input ${exampleSel.value}, unit ${u}, ${T} tokens${view}`;
}

function drawRetention() {
  const ex = currentExample(), u = +unitSel.value, T = ex.words.length;
  const {top} = geometry(ex);
  svg.querySelectorAll(".retention").forEach(n => n.remove());
  const y = top + CELL * ROWS.length;
  make("text", {x: LEFT - 8, y: y + 15, "text-anchor": "end", class: "retention row-label"},
       anchor === null ? "retention (hover)" : `kept from t=${anchor}`, svg);
  if (anchor === null || anchor >= T) return;
  make("rect", {x: LEFT + CELL * anchor, y: top, width: CELL, height: CELL * ROWS.length,
                fill: "none", stroke: "#000", "stroke-width": 2, "pointer-events": "none",
                class: "retention anchor-outline"}, undefined, svg);
  let product = 1.0;  // prod_{r=anchor+1..s} f_r, multiplied in token order
  for (let s = anchor; s < T; s++) {
    if (s > anchor) product *= ex.f[s][u];
    make("rect", {x: LEFT + CELL * s, y: y, width: CELL, height: CELL,
                  fill: color(product, true), class: "retention cell", "data-row": "retention",
                  "data-t": s, "data-value": product}, undefined, svg);
  }
}

// One listener for the whole grid (a long input has 6 T cells): what is under the pointer.
svg.addEventListener("mousemove", event => {
  const target = event.target.closest("[data-t]");
  if (target === null) { hideTip(); return; }
  const t = +target.dataset.t;
  if (target.dataset.row === "retention") {
    const value = +target.dataset.value;
    showTip(event, `retention of t=${anchor}'s write at s=${t}, unit ${+unitSel.value}: ` +
                   value.toFixed(4));
  } else hover(event, t);
});
svg.addEventListener("mouseleave", hideTip);
$("sentence").addEventListener("mousemove", event => {
  const word = event.target.closest(".word");
  if (word === null) hideTip(); else hover(event, +word.dataset.t);
});
$("sentence").addEventListener("mouseleave", hideTip);
$("sentence").addEventListener("focusin", event => {  // keyboard: Tab through the words
  const word = event.target.closest(".word"), box = event.target.getBoundingClientRect();
  if (word !== null) hover({clientX: box.left, clientY: box.bottom}, +word.dataset.t);
});
$("sentence").addEventListener("focusout", hideTip);

// ---- the LSTM in the page (lstmlab.reports.explorer_model) -------------------------------
// explorer_model.tokenize: "words" lower-cases and puts '.' and ',' on their own, then both
// rules split on ASCII whitespace.
function tokenize(text, tokenizer = "words") {
  if (tokenizer === "words") text = text.toLowerCase().replace(/[.,]/g, " $& ");
  return text.split(/[ \t\n\r\f\v]+/).filter(w => w.length > 0);
}

const sigmoid = x => 1 / (1 + Math.exp(-x));

function forward(model, ids) {  // ids: vocabulary rows; returns {i, f, g, o, c, h} (T x H)
  const H = model.hidden_size, out = {i: [], f: [], g: [], o: [], c: [], h: []};
  let h = new Float64Array(H), c = new Float64Array(H);
  for (const id of ids) {
    const x = model.embedding === null ? null : model.embedding[id];
    const pre = new Float64Array(4 * H);
    for (let k = 0; k < 4 * H; k++) {
      const wih = model.weight_ih[k], whh = model.weight_hh[k];
      let sum = model.bias[k];
      if (x === null) sum += wih[id];
      else for (let j = 0; j < x.length; j++) sum += wih[j] * x[j];
      for (let j = 0; j < H; j++) sum += whh[j] * h[j];
      pre[k] = sum;
    }
    const gates = {i: [], f: [], g: [], o: []}, cNew = new Float64Array(H);
    const hNew = new Float64Array(H);
    for (let u = 0; u < H; u++) {
      const i = sigmoid(pre[u]), f = sigmoid(pre[H + u]);
      const g = Math.tanh(pre[2 * H + u]), o = sigmoid(pre[3 * H + u]);
      cNew[u] = f * c[u] + i * g;
      hNew[u] = o * Math.tanh(cNew[u]);
      gates.i.push(i); gates.f.push(f); gates.g.push(g); gates.o.push(o);
    }
    c = cNew; h = hNew;
    for (const r of "ifgo") out[r].push(gates[r]);
    out.c.push(Array.from(c)); out.h.push(Array.from(h));
  }
  return out;
}

function runTyped(event) {
  if (event) event.preventDefault();
  const model = DATA.model, message = $("typed-status");
  const words = tokenize($("typed").value, model.tokenizer);
  message.className = "";
  if (!words.length) {
    message.textContent = "Type at least one word.";
    message.className = "error";
    return;
  }
  const index = new Map(model.vocabulary.map((w, k) => [w, k]));
  const unknown = [...new Set(words.filter(w => !index.has(w)))];
  if (unknown.length && model.unknown === null) {
    message.textContent = "Not in the model's vocabulary: " +
      unknown.map(w => `'${w}'`).join(", ") + ". The model knows only the words listed below.";
    message.className = "error";
    $("vocabulary").closest("details").open = true;
    return;
  }
  const ids = words.map(w => index.has(w) ? index.get(w) : index.get(model.unknown));
  const result = forward(model, ids);
  const sameView = DATA.examples.find(ex => ex.view === model.view && !ex.typed);
  const example = {words, view: model.view, marks: {}, typed: true,
                   units: sameView ? sameView.units : [], row_labels: {},
                   hidden_size: model.hidden_size,
                   ...result};
  if (typedIndex === null) { typedIndex = DATA.examples.length; DATA.examples.push(example); }
  else DATA.examples[typedIndex] = example;
  api.typed = {words, ids, ...result};
  if (!DATA.views.includes(model.view)) { DATA.views.push(model.view); fillViewsAgain(); }
  viewSel.value = model.view;
  fillExamples(typedIndex);
  anchor = null;
  fillUnits(+unitSel.value);
  draw();
  message.textContent = `${words.length} tokens: ` + words.join(" ") +
    (unknown.length ? `  (unknown, read as '${model.unknown}': ${unknown.join(", ")})` : "");
}

function fillViewsAgain() { viewSel.textContent = ""; fillViews(); }

// ---- start -------------------------------------------------------------------------------
fillViews();
viewSel.addEventListener("change", () => {
  anchor = null; fillExamples(); fillUnits(+unitSel.value); draw();
});
exampleSel.addEventListener("change", () => { anchor = null; fillUnits(+unitSel.value); draw(); });
unitSel.addEventListener("change", draw);
viewSel.value = DATA.examples[0].view;
fillExamples(0);
fillUnits(DATA.initial_unit);
drawKeys();
draw();
if (DATA.model !== null) {
  $("typed-section").hidden = false;
  $("vocabulary").textContent = `The model knows ${DATA.model.vocabulary.length} words: ` +
    DATA.model.vocabulary.join(" ");
  $("tokenizer").textContent = DATA.model.tokenizer === "words"
    ? "Tokens: lower-case; '.' and ',' are tokens of their own; split on spaces."
    : "Tokens: split on spaces, case and punctuation kept.";
  $("typed-form").addEventListener("submit", runTyped);
}
document.body.dataset.ready = "true";

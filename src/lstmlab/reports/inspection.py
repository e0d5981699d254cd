"""``lstmlab inspect``: the tour's report for a user's own LSTM on the user's own input.

The model comes from ``lstmlab.interop.load_lstm`` (a torch state dict or a Keras file); the
input is either an array (T, I) / (B, T, I) from a .npy or .pt file, or text. Text becomes
vectors as follows (the model never saw them, so this shows the gates' mechanics, not what the
model learnt): tokens are split on whitespace; if the model's input width I is at least the
number of distinct tokens, token k (in order of first appearance) is the one-hot vector e_k;
otherwise each distinct token gets a fixed random vector N(0, 1/I) drawn from ``seed``.

The report shows layer 0, forward direction (shapes (T, B, H) as in ``Trace``). Units shown:
the 8 whose cell state varies most over the input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lstmlab.interop import load_lstm
from lstmlab.introspection import (
    LayerTrace,
    discarded,
    gradient_flow,
    retention_matrix,
    saturation,
    trace,
)
from lstmlab.reports import figures
from lstmlab.reports.explorer import ROWS, ExplorerExample, write_explorer
from lstmlab.reports.html import Report, ReportFigure, Section, write_report

GATE_NAMES = ("input", "forget", "output")  # the sigmoid gates, for saturation
_FIELDS = dict(zip(ROWS, ("input", "forget", "candidate", "output", "cell", "hidden"),
                   strict=True))
_SHOWN_UNITS = 8


class InspectError(ValueError):
    """An input that does not fit the model, said in one line."""


def text_input(text: str, input_size: int, seed: int) -> tuple[Tensor, list[str]]:
    """Whitespace tokens -> x (1, T, I) as the module docstring says, and the tokens."""
    words = text.split()
    if not words:
        raise InspectError("--text: expected at least one token, got an empty text")
    distinct = list(dict.fromkeys(words))
    if input_size >= len(distinct):
        table = torch.eye(input_size)[: len(distinct)]
    else:
        generator = torch.Generator().manual_seed(seed)
        table = torch.randn(len(distinct), input_size, generator=generator) / input_size**0.5
    index = torch.tensor([distinct.index(w) for w in words])
    return table[index][None], words


def file_input(path: Path, input_size: int) -> Tensor:
    """An array (T, I) or (B, T, I) from .npy (no pickles) or .pt (weights_only) -> (B, T, I)."""
    path = Path(path)
    if not path.is_file():
        raise InspectError(f"--input {path}: no such file")
    try:
        if path.suffix == ".npy":
            array = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            array = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # numpy/torch raise many kinds for a file that is not theirs
        raise InspectError(f"--input {path}: cannot read an array ({type(error).__name__})") \
            from error
    if not isinstance(array, Tensor) or array.dim() not in (2, 3):
        shape = tuple(array.shape) if isinstance(array, Tensor) else type(array).__name__
        raise InspectError(f"--input {path}: expected an array (T, I) or (B, T, I), got {shape}")
    array = array[None] if array.dim() == 2 else array
    if array.shape[-1] != input_size:
        raise InspectError(f"--input {path}: the model reads {input_size} features per step, "
                           f"the array has {array.shape[-1]} (shape {tuple(array.shape)})")
    return array.float()


def _values(layer: LayerTrace, b: int) -> dict[str, np.ndarray]:
    return {row: getattr(layer, name)[:, b].numpy() for row, name in _FIELDS.items()}


def inspect_model(model_path: Path, *, text: str | None, input_path: Path | None, out: Path,
                  seed: int = 0) -> tuple[dict[str, Path], list[str]]:
    """Load, trace, measure and write the report; returns the paths and the summary lines."""
    model = load_lstm(model_path)
    if text is not None:
        x, words = text_input(text, model.input_size, seed)
    else:
        x = file_input(input_path, model.input_size)
        words = [f"t{t}" for t in range(x.shape[1])]
    x = x.to(next(model.parameters()).dtype)
    layer = trace(model, x)[0]
    steps, batch, hidden = layer.forget.shape
    units = [int(u) for u in layer.cell.std(dim=(0, 1)).argsort(descending=True)[:_SHOWN_UNITS]]
    values = _values(layer, 0)
    chosen = {row: v[:, units] for row, v in values.items()}
    thrown = discarded(layer).abs()  # (T, B, H)
    t_max, b_max, u_max = np.unravel_index(int(thrown.argmax()), thrown.shape)
    top = units[0]
    retention = retention_matrix(layer, 0)[:, :, top].numpy()
    # L = sum of the top layer's last output (batch_first: output (B, T, P)).
    flow = gradient_flow(model, x, lambda output, state: output[:, -1].sum())
    curve = flow[0].hidden.norm(dim=-1).mean(1).flip(0).numpy()  # k steps before the last
    gates = saturation(layer)
    fractions = torch.stack([torch.stack([gates[g].left, gates[g].right], dim=-1)
                             for g in GATE_NAMES])  # (3, H, 2)
    lag = min(10, steps - 1)
    lines = [
        f"{model_path.name}: an LSTM with input width {model.input_size}, {hidden} units, "
        f"{model.num_layers} layer(s); layer 0 traced over {steps} steps x {batch} sequence(s).",
        f"Forget gates average {float(layer.forget.mean()):.3f}; they sit above 0.9 for "
        f"{float(fractions[1, :, 1].mean()):.1%} of unit-steps and below 0.1 for "
        f"{float(fractions[1, :, 0].mean()):.1%}.",
        f"The largest forget event: unit {u_max} at step {t_max} ('{words[t_max]}', sequence "
        f"{b_max}) discards |(1 - f) * c| = {float(thrown[t_max, b_max, u_max]):.3f}.",
        f"The gradient of the sum of the last output reaches {lag} steps back with "
        f"{curve[lag] / curve[0]:.3g} times its norm at the last step.",
    ]
    sections = (
        Section("Gates", f"i, f, g, o, c, h of the {len(units)} units whose cell state varies "
                "most, on the first sequence.", (
                    ReportFigure("gate_heatmaps", "Gates and states",
                                 figures.gate_heatmaps(words, chosen, units)),)),
        Section("Forget events", "|(1 - f_t) * c_{t-1}|: what each step discards.", (
            ReportFigure("forget_events", "Discarded content per token and unit",
                         figures.forget_events(words, thrown[:, 0, units].numpy(), units)),)),
        Section("Retention", f"Unit {top}: the share of each step's write left at each later "
                "step.", (ReportFigure("retention_map", f"Retention map, unit {top}",
                                       figures.retention_map(words, retention, top)),)),
        Section("Saturation", "Per gate, each unit's fraction of steps below 0.1 and above 0.9.",
                (ReportFigure("saturation", "Gate saturation per unit",
                              figures.saturation_scatter(fractions.numpy(), GATE_NAMES)),)),
        Section("Gradient flow", "Mean ||dL/dh_{T-k}|| of layer 0 for L = the sum of the "
                "model's last output.", (
            ReportFigure("gradient_flow", "||dL/dh|| by steps back",
                         figures.gradient_curves({"LSTM": curve}, "mean ||dL/dh||")),)),
    )
    report = Report(title=f"lstmlab inspect: {model_path.name}", summary=tuple(lines),
                    sections=sections,
                    links={"explorer.html": "pick a sequence and a unit, hover a token"})
    index = write_report(report, Path(out))
    examples = [ExplorerExample(tuple(words), _values(layer, b)) for b in range(min(batch, 8))]
    explorer = write_explorer(examples, Path(out) / "explorer.html",
                              title=f"lstmlab inspect: {model_path.name}", initial_unit=top)
    return {"index": index, "explorer": explorer}, lines

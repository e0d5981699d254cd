"""``lstmlab inspect``: the tour's report for a user's own LSTM or GRU on the user's own input.

The model: a torch state dict or a Keras file (``interop.load_model``: the first recurrent
stack, LSTM or GRU, and the embedding that feeds it), or the user's own ``nn.Module`` class
built from ``--model-class`` and loaded with the state dict (``interop.model_class``), run with
its own forward; every LSTM and GRU inside it is traced on the input it received
(``trace_module``). The input: ``inspect_input.py`` (the model's own embedding with ``--vocab``
or ``--ids``, an array, or made-up vectors for text; the report says which).

The report covers every module, layer and direction (``inspect_views.py``): per view the gates
and states of the 8 units whose state varies most, the largest forget (GRU: overwrite) events,
retention and saturation; the gradient flow of each stack. Memory grows linearly with the
number of steps T: the trace is (T, B, H) per view; the figures show a window of at most
``FIGURE_WINDOW`` tokens around the view's largest event, the retention map (per pair of steps)
only the ``RETENTION_WINDOW`` tokens around it, the explorer at most ``EXPLORER_WINDOW`` tokens,
and the gradient flow re-runs the last ``GRADIENT_WINDOW`` steps from their traced states (the
gradient of a loss on the last output by the states of those steps is exact: nothing earlier
takes part in it). Summary numbers cover all T steps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch import nn

from lstmlab.errors import UserError
from lstmlab.folders import folder_to_write
from lstmlab.interop import load_model, read_state_dict
from lstmlab.interop.model_class import build_model, call_arguments
from lstmlab.interop.model_file import Embedding
from lstmlab.introspection import trace, trace_gru, trace_module
from lstmlab.introspection.trace_module import recurrent_kind
from lstmlab.reports import figures
from lstmlab.reports.explorer import ExplorerExample, write_explorer
from lstmlab.reports.html import EQUATIONS, Report, ReportFigure, Section, write_report
from lstmlab.reports.inspect_gradients import Stack, gradient_curves
from lstmlab.reports.inspect_input import (
    InspectError,
    ModelInput,
    check_finite,
    check_seed,
    choose_input,
)
from lstmlab.reports.inspect_views import View, centred_window, views, window_retention

__all__ = ["InspectError", "inspect_model"]

FIGURE_WINDOW = 60
RETENTION_WINDOW = 40
EXPLORER_WINDOW = 1000
EXPLORER_SEQUENCES = 4
GRADIENT_WINDOW = 500
SHOWN_UNITS = 8
StageProgress = Callable[[str, int, int], None]

GRU_EQUATIONS = """\
r_t = sigmoid(x_t @ W_ir.T + b_ir + h_{t-1} @ W_hr.T + b_hr)        reset gate
z_t = sigmoid(x_t @ W_iz.T + b_iz + h_{t-1} @ W_hz.T + b_hz)        update gate (keep share)
n_t = tanh(x_t @ W_in.T + b_in + r_t * (h_{t-1} @ W_hn.T + b_hn))   candidate
h_t = (1 - z_t) * n_t + z_t * h_{t-1}                                hidden state

overwritten at step t:             (1 - z_t) * h_{t-1}
retention of step s's write at t:  prod_{r=s+1..t} z_r
    so that h_t = sum_{s<=t} [prod_{r=s+1..t} z_r] * (1 - z_s) * n_s + [prod_{r<=t} z_r] * h_{-1}
explorer rows: i = 1 - z, f = z, g = n, o = r, c = h = h"""


def _load(model_path: Path, model_class: str | None, model_args: str | None
          ) -> tuple[nn.Module, Embedding | None, str]:
    """(the model to run, its embedding or None, a one-line description)."""
    if model_class is None:
        loaded = load_model(model_path)
        model = loaded.recurrent
        proj = getattr(model, "proj_size", 0)
        what = (f"an {loaded.kind}" if loaded.kind == "LSTM" else "a GRU") + \
            f" (keys '{loaded.prefix}*')" * bool(loaded.prefix)
        return model, loaded.embedding, what + (f" with proj_size {proj}" if proj else "")
    model = build_model(model_class, model_args, read_state_dict(model_path), str(model_path))
    table = next(((name, m) for name, m in model.named_modules()
                  if isinstance(m, nn.Embedding)), None)
    embedding = None if table is None else Embedding(f"{table[0]}.weight",
                                                     table[1].weight.detach())
    return model, embedding, f"{type(model).__name__} built from {model_class}"


def _first_recurrent(model: nn.Module) -> nn.Module:
    for module in model.modules():
        if recurrent_kind(module) is not None:
            return module
    raise InspectError(f"{type(model).__name__} holds no torch.nn.LSTM/GRU or "
                       "lstmlab.layers.LSTM/GRU")


def _run(model: nn.Module, model_class: str | None, data: ModelInput) -> list[Stack]:
    """Trace every recurrent stack on ``data``."""
    recurrent = _first_recurrent(model)
    dtype = recurrent.weight_ih_l0.dtype
    if model_class is None:
        x = data.features if data.ids is None else data.embedding.weight[data.ids]
        x = x.to(dtype)
        kind = recurrent_kind(model)
        result = trace(model, x) if kind == "LSTM" else trace_gru(model, x)
        return [Stack("", kind, model, x, None, result)]
    x = data.ids if data.ids is not None else data.features.to(dtype)
    if not recurrent.batch_first:  # the user's model reads (T, B, ...), as its first stack
        x = x.transpose(0, 1)
    try:
        traced = trace_module(model, *call_arguments(model, x, data.batch))
    except UserError:
        raise
    except Exception as error:  # the user's forward may raise anything on our input
        raise InspectError(f"--model-class: {type(model).__name__}.forward raised "
                           f"{type(error).__name__}: {error}") from error
    stacks, seen = [], {}
    for call in traced.calls:  # a module called twice: "lstm", then "lstm call 2"
        seen[call.name] = seen.get(call.name, 0) + 1
        name = call.name if seen[call.name] == 1 else f"{call.name} call {seen[call.name]}"
        stacks.append(Stack(name, call.kind, call.module, call.input, call.hx, call.trace))
    return stacks


GRU_ROW_LABELS = {"i": "1 - z (write)", "f": "update z (keep)", "g": "candidate n",
                  "o": "reset r", "c": "h", "h": "h"}
PROJECTED_ROW_LABELS = {"h": "o * tanh(c)"}


def _example(words: list[str], values: dict[str, np.ndarray], view: View,
             units: list[int]) -> ExplorerExample:
    """An explorer example labelled with its view and, for a GRU or a projected LSTM, with the
    names of the rows as they are filled (``inspect_views.py``)."""
    labels = GRU_ROW_LABELS if view.kind == "GRU" else \
        PROJECTED_ROW_LABELS if view.projected else {}
    return ExplorerExample(tuple(words), values, view=view.label, units=tuple(units),
                           row_labels=labels)


def _view_report(view: View, words: list[str]) -> tuple[list[str], Section,
                                                         list[ExplorerExample], int]:
    """Summary lines, the section and the explorer examples of one view, and its most varying
    unit."""
    steps, batch, hidden = view.keep.shape
    units = [int(u) for u in view.held.std(dim=(0, 1)).argsort(descending=True)[:SHOWN_UNITS]]
    top = units[0]
    t_max, b_max, u_max = np.unravel_index(int(view.thrown.argmax()), view.thrown.shape)
    first = view.thrown[:, 0].amax(-1)
    centre = int(first.argmax())
    start, stop = centred_window(steps, centre, FIGURE_WINDOW)
    shown = words[start:stop]
    chosen = {row: v[start:stop, 0][:, units].numpy() for row, v in view.rows.items()}
    r_start, r_stop = centred_window(steps, centre, RETENTION_WINDOW)
    retention = window_retention(view.keep[:, 0, [top]], r_start, r_stop,
                                 view.direction == 1)[..., 0].numpy()
    keep_gate = "forget" if view.kind == "LSTM" else "update"
    share = view.saturation[keep_gate]
    event = "discards |(1 - f) * c|" if view.kind == "LSTM" else "overwrites |(1 - z) * h|"
    lines = [
        f"{view.label}: {view.keep_name} average {float(view.keep.mean()):.3f}; above 0.9 for "
        f"{float(share.right.mean()):.1%} of unit-steps, below 0.1 for "
        f"{float(share.left.mean()):.1%}. Largest event: unit {u_max} at step {t_max} "
        f"('{words[t_max] if t_max < len(words) else t_max}', sequence {b_max}) {event} = "
        f"{float(view.thrown[t_max, b_max, u_max]):.3f}."]
    span = f" (tokens {start}..{stop - 1} of {steps})" if (start, stop) != (0, steps) else ""
    thrown = "(1 - f_t) * c_{t-1}" if view.kind == "LSTM" else "(1 - z_t) * h_{t-1}"
    keep = "f" if view.kind == "LSTM" else "z"
    slug = view.slug
    section = Section(
        view.label, f"The {len(units)} units whose state varies most, first sequence{span}; "
        f"|{thrown}|: what each step {'discards' if view.kind == 'LSTM' else 'overwrites'}; "
        f"unit {top}'s retention (prod {keep}) over tokens {r_start}..{r_stop - 1}.", (
            ReportFigure(f"gates_{slug}", f"{view.label}: gates and states",
                         figures.gate_heatmaps(shown, chosen, units)),
            ReportFigure(f"events_{slug}", f"{view.label}: |{thrown}| per token and unit",
                         figures.forget_events(shown, view.thrown[start:stop, 0][:, units]
                                               .numpy(), units)),
            ReportFigure(f"retention_{slug}", f"{view.label}: retention map, unit {top}",
                         figures.retention_map(words[r_start:r_stop], retention, top)),
        ))
    e_start, e_stop = centred_window(steps, centre, EXPLORER_WINDOW)
    examples = [_example(words[e_start:e_stop],
                         {row: v[e_start:e_stop, b].numpy() for row, v in view.rows.items()},
                         view, units)
                for b in range(min(batch, EXPLORER_SEQUENCES))]
    return lines, section, examples, top


def _saturation_figure(stack: Stack, stack_views: list[View]) -> ReportFigure:
    """One figure per stack: a panel per view and sigmoid gate."""
    names, panels = [], []
    for view in stack_views:
        short = f"L{view.layer} {'fwd' if view.direction == 0 else 'rev'}"
        for gate, share in view.saturation.items():
            names.append(f"{short} {gate}")
            panels.append(np.stack([share.left.numpy(), share.right.numpy()], axis=-1))
    slug = "".join(c if c.isalnum() else "_" for c in stack.name) or "model"
    return ReportFigure(f"saturation_{slug}", f"{stack.name or stack.kind}: gate saturation "
                        "per unit", figures.saturation_scatter(np.stack(panels), names))


def _check_views(all_views: list[View]) -> None:
    for view in all_views:
        for row, values in view.rows.items():
            check_finite(values, f"{view.label}: the traced row {row}")


def _describe(stacks: list[Stack], what: str, model_path: Path, steps: int, batch: int) -> str:
    parts = []
    for stack in stacks:
        module = stack.module
        directions = 2 if module.bidirectional else 1
        proj = getattr(module, "proj_size", 0)
        width = f" (h has {proj} columns: proj_size {proj})" if proj else ""
        name = f"{stack.name}: " if stack.name else ""
        parts.append(f"{name}{stack.kind} with input width {module.input_size}, "
                     f"{module.hidden_size} units per layer and direction{width}, "
                     f"{module.num_layers} layer(s) x {directions} direction(s)"
                     + (" (bidirectional)" if directions == 2 else ""))
    return (f"{model_path.name}: {what}; " + "; ".join(parts) + f". Every layer and direction "
            f"traced over {steps} steps x {batch} sequence(s).")


def inspect_model(model_path: Path, *, text: str | None = None, input_path: Path | None = None,
                  ids: str | None = None, vocab: Path | None = None,
                  vocab_format: str = "auto", model_class: str | None = None,
                  model_args: str | None = None, out: Path, seed: int = 0,
                  progress: StageProgress | None = None) -> tuple[dict[str, Path], list[str]]:
    """Load, trace, measure and write the report; returns the paths and the summary lines.
    ``progress(stage, done, total)`` is called as the stages finish."""
    report = progress or (lambda stage, done, total: None)
    check_seed(seed)
    folder_to_write(Path(out), "out")
    model_path = Path(model_path)
    model, embedding, what = _load(model_path, model_class, model_args)
    recurrent = _first_recurrent(model)
    data = choose_input(text=text, ids=ids, input_path=input_path, vocab=vocab,
                        vocab_format=vocab_format, embedding=embedding,
                        input_size=recurrent.input_size, seed=seed,
                        takes_ids=model_class is not None and embedding is not None)
    stacks = _run(model, model_class, data)
    all_views = [v for stack in stacks for v in views(stack.trace, stack.kind, stack.name)]
    _check_views(all_views)
    total = len(all_views) + len(stacks) + 2
    report("traced", 1, total)
    steps, batch, _ = all_views[0].keep.shape
    words = list(data.words) + [f"t{t}" for t in range(len(data.words), steps)]
    lines = [_describe(stacks, what, model_path, steps, batch), data.description]
    sections, examples, tops = [], [], []
    for k, view in enumerate(all_views):
        view_lines, section, view_examples, top = _view_report(view, words)
        lines += view_lines
        sections.append(section)
        examples += view_examples
        tops.append(top)
        report(f"analysed {view.label}", 2 + k, total)
    curves: dict[str, np.ndarray] = {}
    for k, stack in enumerate(stacks):
        curves.update(gradient_curves(stack, GRADIENT_WINDOW) or {})
        report("gradient flow", 2 + len(all_views) + k, total)
    if curves:
        name, curve = next(iter(curves.items()))
        lag = min(10, len(curve) - 1)
        lines.append(f"The gradient of the sum of the last output reaches {lag} steps back "
                     f"({name}, forward) with {curve[lag] / curve[0]:.3g} times its norm at "
                     "the last step.")
    if steps > FIGURE_WINDOW:
        lines.append(f"Long input ({steps} steps): each view's figures show {FIGURE_WINDOW} "
                     f"tokens around its largest event, the retention map {RETENTION_WINDOW}, "
                     f"the explorer up to {EXPLORER_WINDOW}; the numbers above cover all steps.")
    sections.append(Section("Saturation", "Per view and sigmoid gate, each unit's fraction of "
                            "steps below 0.1 (x) and above 0.9 (y).",
                            tuple(_saturation_figure(stack, [v for v in all_views
                                                             if v.module == stack.name])
                                  for stack in stacks)))
    if curves:
        sections.append(Section(
            "Gradient flow", f"Mean ||dL/dh_(T-k)|| of each layer's forward direction for L = "
            f"the sum of the stack's last output, over the last {GRADIENT_WINDOW} steps at most.",
            (ReportFigure("gradient_flow", "||dL/dh|| by steps back",
                          figures.gradient_curves(curves, "mean ||dL/dh||")),)))
    labels = "; ".join(f"{v.label}: inputs {k * min(batch, EXPLORER_SEQUENCES)}.."
                       f"{(k + 1) * min(batch, EXPLORER_SEQUENCES) - 1}"
                       for k, v in enumerate(all_views))
    link = f"pick a view, a sequence and a unit, hover a token ({labels})"
    title = f"lstmlab inspect: {model_path.name}"
    kinds = {stack.kind for stack in stacks}
    equations = GRU_EQUATIONS if kinds == {"GRU"} else \
        EQUATIONS + "\n\nGRU:\n" + GRU_EQUATIONS if "GRU" in kinds else EQUATIONS
    index = write_report(Report(title=title, summary=tuple(lines), sections=tuple(sections),
                                links={"explorer.html": link}, equations=equations), Path(out))
    explorer = write_explorer(examples, Path(out) / "explorer.html", title=title,
                              initial_unit=tops[0])
    report("written", total, total)
    return {"index": index, "explorer": explorer}, lines

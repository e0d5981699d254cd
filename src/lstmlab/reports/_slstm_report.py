"""A report of what an sLSTM keeps: retention under exponential gating, from its trace.

The sigmoid LSTM's retention is the product of its forget gates. An sLSTM (xLSTM, Beck et al.
2024) writes exp(pre_i) z_t, which is not bounded by 1, and outputs the normalized memory
c_T / n_T, so what step t's write is worth at the last step is its ``weight`` (its share of
c_T / n_T; the weights of all steps and the initial state sum to 1), beside the product of the
sigmoid forget gates after t (``forget_product``): ``lstmlab.introspection._exp_retention``
derives both and ``docs/theory.md`` (claims C20-C22) proves them. This module puts the two maps
and the gates into the same self-contained page as ``lstmlab inspect``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

import lstmlab.reports._figures as figures
from lstmlab.errors import UserError
from lstmlab.introspection import exp_retention, trace_slstm
from lstmlab.reports._html import Report, ReportFigure, Section, write_report

SLSTM_EQUATIONS = """\
sLSTM (Beck et al. 2024), stabilized; pre_* = W_* x_t + R_* h_{t-1} + b_* (R block-diagonal
by head):
m_t = max(pre_i, log f_t + m_{t-1})           f_t = sigmoid(pre_f)
i'_t = exp(pre_i - m_t)                       f'_t = exp(log f_t + m_{t-1} - m_t)
z_t = tanh(pre_z)                             o_t = sigmoid(pre_o)
c_t = f'_t * c_{t-1} + i'_t * z_t             n_t = f'_t * n_{t-1} + i'_t
h_t = o_t * c_t / n_t
weight_t = (prod_{s>t} f'_s) i'_t / n_T      (share of step t in c_T / n_T; sums to 1)
forget_product_t = prod_{s>t} f_s            (the sigmoid forget gates' product)"""


def write_slstm_report(model: nn.Module, x: Tensor, out: Path, *,
                       words: Sequence[str] | None = None, sequence: int = 0, layer: int = 0,
                       direction: int = 0, units: Sequence[int] | None = None) -> Path:
    """Trace ``model`` (an ``lstmlab.layers.SLSTM`` or ``SLSTMCell``) on ``x`` and write
    ``out/index.html`` with, for sequence ``sequence`` of the batch: each step's share of the
    last step's normalized memory, the product of the sigmoid forget gates after each step, and
    the gates i', f', o. ``words`` label the steps (default "0", "1", ...); ``units`` the units
    shown (default the first 16). Returns the page's path."""
    trace = trace_slstm(model, x)
    if not 0 <= layer < len(trace.layers) or not 0 <= direction < len(trace.layers[layer]):
        raise UserError(f"layer, direction: expected one of the traced {len(trace.layers)} "
                        f"layer(s) x {len(trace.layers[0])} direction(s), got ({layer}, "
                        f"{direction})")
    traced = trace.layers[layer][direction]
    steps, batch, hidden = traced.forget.shape
    if not 0 <= sequence < batch:
        raise UserError(f"sequence: expected 0..{batch - 1}, got {sequence}")
    words = [str(t) for t in range(steps)] if words is None else list(words)
    if len(words) != steps:
        raise UserError(f"words: expected one per step ({steps}), got {len(words)}")
    units = list(range(min(hidden, 16))) if units is None else list(units)
    retention = exp_retention(traced)
    weight = retention.weight[:, sequence, units].to(torch.float64).numpy()
    product = retention.forget_product[:, sequence, units].to(torch.float64).numpy()
    initial = retention.initial_weight[sequence, units]
    gates = {name: getattr(traced, field)[:, sequence, units].numpy()
             for name, field in (("i'", "input"), ("f'", "forget"), ("o", "output"))}
    kept = weight.sum(axis=0)
    summary = (
        f"sLSTM, layer {layer}, direction {'reverse' if traced.reverse else 'forward'}: "
        f"{steps} steps, {hidden} units; sequence {sequence} of {batch}.",
        f"Share of the last step's normalized memory c_T / n_T held by the steps' writes, over "
        f"the units shown: mean {float(kept.mean()):.3f} (the rest, "
        f"{float(initial.mean()):.3f}, is the initial state's).",
        f"The most recent write's share: mean {float(weight[-1].mean()):.3f}; the first "
        f"step's: {float(weight[0].mean()):.3f}.",
    )
    sections = (
        Section("Each step's share of the output memory", "weight_t = (prod_{s>t} f'_s) i'_t "
                "/ n_T: the share of step t's candidate z_t in c_T / n_T (a convex "
                "combination: a write is not only kept or lost, later writes outweigh it).", (
                    ReportFigure("slstm_weight", "weight_t per unit (rows) and step",
                                 figures.share_heatmap(words, weight, units,
                                                       "share of c_T / n_T")),)),
        Section("The sigmoid forget gates' product", "prod_{s>t} f_s: the share of step t's "
                "true write exp(pre_i) z_t left in the unnormalized cell at T; the sigmoid "
                "LSTM's retention, free of the stabilizer.", (
                    ReportFigure("slstm_forget_product", "prod_{s>t} f_s per unit and step",
                                 figures.share_heatmap(words, product, units,
                                                       "prod of forget gates")),)),
        Section("Gates", "The stabilized input gate i' (it can exceed 1: shown clipped at 1), "
                "f' and o per step.", tuple(
            ReportFigure(f"slstm_gate_{k}", f"{name} per unit and step",
                         figures.share_heatmap(words, values.clip(0, 1), units, name))
            for k, (name, values) in enumerate(gates.items()))),
    )
    return write_report(Report(title="lstmlab: what an sLSTM keeps", summary=summary,
                               sections=sections, equations=SLSTM_EQUATIONS), Path(out))

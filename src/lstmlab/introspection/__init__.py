"""lstmlab.introspection: every gate of any LSTM at every step, and what it means.

``trace(model, x)`` for a torch.nn.LSTM or ours; retention, forgetting, saturation, gradient
flow and unit finding read a ``Trace`` (or re-run the model, for gradients).
"""

from lstmlab.introspection.forgetting import ForgetEvent, discarded, forget_events
from lstmlab.introspection.gradient_flow import (
    GradientFlow,
    JacobianNorms,
    StateGradients,
    gradient_flow,
    jacobian_norms,
)
from lstmlab.introspection.recurrence import linear_recurrence, loop_recurrence, scan_recurrence
from lstmlab.introspection.retention import (
    Decomposition,
    decompose,
    initial_retention,
    retention,
    retention_matrix,
)
from lstmlab.introspection.saturation import GateSaturation, gate_saturation, saturation
from lstmlab.introspection.trace import LayerTrace, Trace, final_cell, previous_cell, step_mask
from lstmlab.introspection.tracer import trace
from lstmlab.introspection.units import UnitRanking, auc, point_biserial, rank_units

__all__ = [
    "Decomposition",
    "ForgetEvent",
    "GateSaturation",
    "GradientFlow",
    "JacobianNorms",
    "LayerTrace",
    "StateGradients",
    "Trace",
    "decompose",
    "discarded",
    "final_cell",
    "forget_events",
    "gate_saturation",
    "gradient_flow",
    "initial_retention",
    "jacobian_norms",
    "linear_recurrence",
    "loop_recurrence",
    "previous_cell",
    "retention",
    "retention_matrix",
    "saturation",
    "scan_recurrence",
    "step_mask",
    "point_biserial",
    "rank_units",
    "auc",
    "UnitRanking",
    "trace",
]

"""lstmlab.introspection: every gate of any LSTM at every step, and what it means.

``trace(model, x)`` for a torch.nn.LSTM or ours; retention, forgetting, saturation, gradient
flow and unit finding read a ``Trace`` (or re-run the model, for gradients).
"""

from lstmlab.introspection.recurrence import linear_recurrence, loop_recurrence, scan_recurrence
from lstmlab.introspection.trace import LayerTrace, Trace
from lstmlab.introspection.tracer import trace

__all__ = [
    "LayerTrace",
    "Trace",
    "linear_recurrence",
    "loop_recurrence",
    "scan_recurrence",
    "trace",
]

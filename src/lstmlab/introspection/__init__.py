"""lstmlab.introspection: every gate of any LSTM at every step, and what it means.

"How does the forget gate decide what is discarded?", in numbers, for a plain torch.nn.LSTM::

    model = torch.nn.LSTM(8, 32)                # or lstmlab.layers.LSTM, any cell
    layer = trace(model, x)[0]                  # x (T, B, 8); layer.forget is (T, B, 32)
    forget_events(layer, 5, tokens=words)       # where (1 - f_t) * c_{t-1} was largest
    retention(layer)                            # share of step t's write left at the end
    decompose(layer)                            # c_T = (prod f) c_0 + sum_t (prod f) i_t g_t
    saturation(layer)["forget"].right           # how often each forget gate is > 0.9
    gradient_flow(model, x, loss_fn)[0].cell    # dL/dc_t for every t, one backward pass
    rank_units(layer.cell, labels)              # which units track a labelled property
    trace_module(my_model, ids)["rnn"]          # every LSTM/GRU inside your own nn.Module
    trace_gru(gru, x)[0].update                 # a GRU's update gate z (its keep share)
    gate_terms(model, x)[0][0].input            # W_f x_t of pre_f = W_f x_t + U_f h_{t-1} + b_f
    patched_run(model, x, Clamp("forget", [3], 1.0, where=steps))  # intervene on a gate

``trace`` runs torch's fused kernel (no Python loop for the standard cell); gradient flow and
Jacobians re-run the model step by step with every state in the graph.
"""

from lstmlab.introspection._exp_retention import (
    ExpRetention,
    SLSTMLayerTrace,
    exp_retention,
    trace_slstm,
)
from lstmlab.introspection._forgetting import ForgetEvent, discarded, forget_events
from lstmlab.introspection._gradient_flow import (
    GradientFlow,
    JacobianNorms,
    StateGradients,
    gradient_flow,
    jacobian_norms,
)
from lstmlab.introspection._gru import (
    GRULayerTrace,
    GRUTrace,
    decompose_hidden,
    overwritten,
    trace_gru,
    update_retention,
)
from lstmlab.introspection._intervention import Clamp, GatePatch, PatchedRun, combine, patched_run
from lstmlab.introspection._preactivation import GateTerms, gate_terms
from lstmlab.introspection._retention import Decomposition, decompose, retention, retention_matrix
from lstmlab.introspection._saturation import GateSaturation, saturation
from lstmlab.introspection._trace import LayerTrace, Trace, TraceError
from lstmlab.introspection._trace_module import ModuleTrace, TracedCall, trace_module
from lstmlab.introspection._tracer import trace
from lstmlab.introspection._units import UnitRanking, rank_units

__all__ = [
    # the trace of any LSTM, of the LSTMs and GRUs inside a user's module, of a GRU, an sLSTM
    "trace", "Trace", "LayerTrace", "TraceError",
    "trace_module", "ModuleTrace", "TracedCall",
    "trace_gru", "GRUTrace", "GRULayerTrace",
    "trace_slstm", "SLSTMLayerTrace",
    # what the trace means
    "retention", "retention_matrix", "decompose", "Decomposition",
    "forget_events", "discarded", "ForgetEvent",
    "saturation", "GateSaturation",
    "gradient_flow", "GradientFlow", "StateGradients", "jacobian_norms", "JacobianNorms",
    "rank_units", "UnitRanking",
    "gate_terms", "GateTerms",
    "patched_run", "Clamp", "combine", "GatePatch", "PatchedRun",
    "update_retention", "overwritten", "decompose_hidden",
    "exp_retention", "ExpRetention",
]

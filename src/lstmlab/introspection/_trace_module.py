"""``trace_module(model, *inputs)``: run a user's own ``nn.Module`` and trace every LSTM and GRU
inside it on the input it really received.

The user's class and forward run unchanged (embedding, dropout in eval mode, whatever their
code does between layers). A forward hook on each recurrent submodule (``torch.nn.LSTM``,
``torch.nn.GRU``, ``lstmlab.layers.LSTM`` / ``GRU`` with any cell) records the arguments of each
call: its input (a tensor or a ``PackedSequence``) and its initial state. After the forward pass
each recorded call is traced with ``trace`` (LSTM) or ``trace_gru`` (GRU) on exactly those
arguments, so the trace is of the input the module saw, not one made up for it. The hooks are
removed afterwards, also when the forward raises.

Returns a ``ModuleTrace``: one ``TracedCall`` per call of a recurrent submodule, in call order,
each with the submodule's qualified name (``"rnn"``, ``"encoder.lstm"``), the module, what it was
called with, and its ``Trace`` / ``GRUTrace``. A module called twice (e.g. shared weights) gives
two entries with the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.introspection._gru import GRUTrace, is_gru, trace_gru
from lstmlab.introspection._trace import Trace, TraceError
from lstmlab.introspection._tracer import trace


@dataclass(frozen=True)
class TracedCall:
    """One call of a recurrent submodule: ``name`` (qualified, ``""`` for the model itself),
    ``module``, ``kind`` ("LSTM" or "GRU"), ``input`` as the module received it (detached),
    ``hx`` its initial state or None, ``output`` what it returned (detached), and ``trace``."""

    name: str
    module: nn.Module
    kind: str
    input: Tensor | PackedSequence
    hx: Any
    output: Any
    trace: Trace | GRUTrace


@dataclass(frozen=True)
class ModuleTrace:
    """``calls``: every traced call in call order; ``output``: what the model returned."""

    calls: tuple[TracedCall, ...]
    output: Any

    def __getitem__(self, name: str) -> Trace | GRUTrace:
        """The trace of the first call of the submodule ``name``."""
        for call in self.calls:
            if call.name == name:
                return call.trace
        raise KeyError(f"no recurrent submodule called {name!r}; traced: "
                       f"{[call.name for call in self.calls]}")


def recurrent_kind(module: nn.Module) -> str | None:
    """"LSTM" or "GRU" for a module ``trace`` / ``trace_gru`` can read; None otherwise."""
    if is_gru(module):
        return "GRU"
    if getattr(module, "mode", None) == "LSTM" and hasattr(module, "num_layers"):
        return "LSTM"
    return None


def _detach(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, PackedSequence):
        return PackedSequence(value.data.detach(), value.batch_sizes, value.sorted_indices,
                              value.unsorted_indices)
    if isinstance(value, tuple | list):
        return type(value)(_detach(v) for v in value)
    return value


def trace_module(model: nn.Module, *inputs: Any, **kwargs: Any) -> ModuleTrace:
    """Run ``model(*inputs, **kwargs)`` without gradients and trace every recurrent call.

    ``TraceError`` (a ``UserError``) if the model holds no LSTM or GRU, or if none of them ran.
    """
    recurrent = [(name, module, kind) for name, module in model.named_modules()
                 if (kind := recurrent_kind(module)) is not None]
    # a recurrent module inside another (ours wraps nothing, but a user's subclass might):
    # trace the outermost only
    outer = [(n, m, k) for n, m, k in recurrent
             if not any(n != o and n.startswith(o + ".") for o, _, _ in recurrent if o)]
    if not outer:
        raise TraceError(f"{type(model).__name__} contains no torch.nn.LSTM/GRU or "
                         "lstmlab.layers.LSTM/GRU to trace")
    recorded: list[tuple[str, nn.Module, str, tuple, dict, Any]] = []

    def hook_for(name: str, kind: str):
        def hook(module: nn.Module, args: tuple, call_kwargs: dict, output: Any) -> None:
            recorded.append((name, module, kind, _detach(args), _detach(call_kwargs),
                             _detach(output)))
        return hook

    handles = [module.register_forward_hook(hook_for(name, kind), with_kwargs=True)
               for name, module, kind in outer]
    try:
        with torch.no_grad():
            output = model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    if not recorded:
        raise TraceError(f"{type(model).__name__}'s forward called none of its recurrent "
                         f"modules ({', '.join(n or '<model>' for n, _, _ in outer)})")
    calls = []
    for name, module, kind, args, call_kwargs, module_output in recorded:
        x = args[0] if args else call_kwargs.get("input")
        hx = args[1] if len(args) > 1 else call_kwargs.get("hx")
        if kind == "LSTM":
            hx = None if hx is None else tuple(hx)
            result = trace(module, x, hx)
        else:
            result = trace_gru(module, x, hx)
        calls.append(TracedCall(name, module, kind, x, hx, module_output, result))
    return ModuleTrace(tuple(calls), _detach(output))

"""``compiled_unroll(cell, xs, state)``: the variant cells' compiled path, ``unroll``'s numbers.

(Compiled, not "fused": in lstmlab "fused" names torch's own LSTM kernel, ``torch._VF.lstm``,
which ``lstmlab.layers.LSTM`` calls for the standard cell.)

For ``PeepholeLSTMCell``, ``CIFGLSTMCell``, ``LSTM1997Cell`` (2-D weights), and the standard
``LSTMCell`` without projection (the peephole kernels with zero peepholes; ``LSTM`` has torch's
own kernel for it, this is for comparison and for the small sizes where the C loop wins).
Shapes: T time, B batch, I input, H hidden, G gate rows (4H peephole, 3H CIFG, R = C + H (+ C
with output gates) for the 1997 cell), R the recurrent input's width (H, or the 1997 hidden
layer [i, h, o]).

What makes it fast, with the cell's equations unchanged (they are in each cell's docstring):
1. the input part of every gate for all steps is one product,
   ``xw = xs @ weight_ih.T + bias`` (T*B, G), instead of T small ones;
2. a step is one product ``y_{t-1} @ weight_hh.T`` plus one call of a C kernel that does all
   the gate math (``cell_kernels``: ``lstmlab/_native/cells.c``): no per-step tensors, no
   autograd graph of T * 10 nodes;
3. the backward pass is written out (backpropagation through time): per step one kernel call
   for the gate derivatives ``dpre_t`` and one product ``dpre_t @ weight_hh`` for dL/dy_{t-1};
   the weight gradients are then three big products over all steps at once:
       dweight_ih = dpre.T @ xs,  dweight_hh = dpre.T @ y_prev,  dxs = dpre @ weight_ih
   (y_prev = [y_0, y_1, .., y_{T-2}] with y_0 the initial state's), and peephole gradients are
   sums over all steps, e.g. dp_i = sum_{t,b} dpre_i * c_{t-1}.
Products (``products``): on CPU in float32, the large ones (``products.ONEDNN_MIN``) go through
oneDNN with the weight packed once per call (``torch.ops.mkldnn._linear_pointwise``),
faster per flop than MKL on the AMD machines we run on (BENCHMARKS.md, the GFLOP/s table's
per-step peaks); the rest through ``torch.mm``. Small layers (at most ``SMALL_STEP``
multiply-adds a step, the 1997 sizes) run the whole sequence, products included, in C: there
a BLAS call and a Python iteration cost more than the arithmetic.

The readable path (``unroll``) is the reference: ``tests/layers/test_compiled.py`` checks outputs,
final states and every gradient against it, for each way of running the steps. Whatever this
path does not cover (other cells, ``record``, ``lengths``, population weights, other dtypes or
devices, no C compiler) goes to ``unroll``: ``compiled_unroll`` can replace ``unroll`` anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells.cifg import CIFGLSTMCell
from lstmlab.cells.lstm import LSTMCell
from lstmlab.cells.lstm1997 import LSTM1997Cell, LSTM1997State
from lstmlab.cells.peephole import PeepholeLSTMCell
from lstmlab.cells.squash import KIND_IDENTITY, Squash
from lstmlab.cells.state import Gates, LSTMState
from lstmlab.layers.cell_kernels import kernel
from lstmlab.layers.products import Product, use_onednn_weight_gradients, weight_gradients_onednn
from lstmlab.layers.unroll import Recording, Unrolled, unroll


def _squash_arguments(squash: Squash) -> tuple[float, float, int]:
    """A squash as ``cells.c`` takes it: (a, b, linear), for ``a * sigmoid(x) + b``, or ``x``
    where ``linear`` (from ``Squash.kernel_code``)."""
    kind, a, b = squash.kernel_code
    return (1.0, 0.0, 1) if kind == KIND_IDENTITY else (a, b, 0)


class Spec(NamedTuple):
    """A cell as the sequence function sees it: kernel names, sizes, constant arguments."""

    name: str  # "peephole", "cifg" or "lstm1997"
    hidden_size: int  # H
    width: int  # R, the recurrent input y
    gates: int  # G
    saved: int  # columns saved per step besides y and c: the gates, or g for 1997
    sizes: tuple[int, ...]  # the kernels' size arguments after B: (H,) or (C, S, out)
    squash: tuple  # the 1997 kernels' (a, b, linear) for g, then h; () for the others
    flags: tuple  # the backward kernel's: (full,) for peephole (0: detached peepholes)
    truncated: bool  # no error flows back through y_{t-1} (the 1997 truncation)


# Below this many multiply-adds per step (B * G * R) the whole sequence runs in C, with a plain
# loop for the product: a BLAS call and a Python iteration cost more than the arithmetic.
SMALL_STEP = 32768


class _Sequence(torch.autograd.Function):
    """All T steps forward; backward through time written out. Returns ``ys`` (T, B, R) and
    ``cs`` (T, B, H). ``extra``: the peephole weights (zeros (P, H) when the cell has none)."""

    @staticmethod
    def forward(ctx, spec: Spec, xs: Tensor, y0: Tensor, c0: Tensor, weight_ih: Tensor,
                weight_hh: Tensor | None, bias: Tensor | None, extra: Tensor
                ) -> tuple[Tensor, Tensor]:
        ys, cs, saved, y0, c0, extra = _forward(spec, xs, y0, c0, weight_ih, weight_hh, bias,
                                                extra)
        ctx.spec = spec
        ctx.save_for_backward(xs, y0, c0, weight_ih, weight_hh, extra, ys, cs, saved)
        return ys, cs

    @staticmethod
    def backward(ctx, dys: Tensor, dcs: Tensor) -> tuple[Tensor | None, ...]:
        return _backward(ctx, dys, dcs)


# Without gradients the gates need not be kept: the input projection is then done CHUNK_ROWS
# rows (steps * B) at a time, into a buffer a few MB big instead of one of T*B*G numbers
# (first-touching fresh memory costs about as much as the gate math on our machines).
CHUNK_ROWS = 1024


def _forward(spec: Spec, xs: Tensor, y0: Tensor, c0: Tensor, weight_ih: Tensor,
             weight_hh: Tensor | None, bias: Tensor | None, extra: Tensor, keep: bool = True
             ) -> tuple[Tensor, ...]:
    """``ys`` (T, B, R), ``cs`` (T, B, H), ``saved`` (the gates, or g for 1997; None when
    ``keep=False`` let them go), and the contiguous ``y0, c0, extra`` the kernels read."""
    steps, batch = xs.shape[:2]
    G, R, H = spec.gates, spec.width, spec.hidden_size
    head, lstm1997 = (batch, *spec.sizes), spec.name == "lstm1997"
    small = batch * G * R <= SMALL_STEP
    chunk = max(1, CHUNK_ROWS // batch)
    if not keep and not lstm1997 and not small and chunk < steps:
        return _forward_chunked(spec, xs, y0.contiguous(), c0.contiguous(), weight_ih,
                                weight_hh, bias, extra.contiguous(), chunk)
    # the input part of pre for all steps (T, B, G); the kernels overwrite step t's rows
    # with its gates (peephole, CIFG) or its y (1997): one buffer fewer to allocate
    xw = Product(weight_ih, steps * batch)(xs.view(steps * batch, -1), bias)
    xw = xw.view(steps, batch, G)
    if lstm1997:
        ys, saved = xw, xs.new_empty(steps, batch, H)  # y = [i, h, o]; g
    else:
        ys, saved = xs.new_empty(steps, batch, R), xw  # h; gates
    cs = xs.new_empty(steps, batch, H)
    y0, c0, extra = y0.contiguous(), c0.contiguous(), extra.contiguous()
    if small:
        run = kernel(spec.name + "_sequence", xs.dtype)
        wt = None if weight_hh is None else weight_hh.T.contiguous()  # (R, G)
        rec = xs.new_zeros(batch, G)
        if lstm1997:
            run(steps, *head, xw, wt, y0, c0, *spec.squash, rec, saved, cs)
        else:
            run(steps, *head, xw, wt, y0, c0, extra, rec, cs, ys)
    else:
        step = kernel(spec.name + "_forward", xs.dtype)
        product = Product(weight_hh, batch) if weight_hh is not None else None
        zeros = xs.new_zeros(batch, G)
        c_prev, y = c0, y0
        for t in range(steps):
            rec = product(y) if product is not None else zeros
            if lstm1997:
                step(*head, ys[t], rec, c_prev, *spec.squash, saved[t], cs[t])
            else:
                step(*head, saved[t], rec, c_prev, extra, cs[t], ys[t])
            c_prev, y = cs[t], ys[t]
    return ys, cs, saved, y0, c0, extra


def _forward_chunked(spec: Spec, xs: Tensor, y0: Tensor, c0: Tensor, weight_ih: Tensor,
                     weight_hh: Tensor, bias: Tensor | None, extra: Tensor, chunk: int
                     ) -> tuple[Tensor, ...]:
    """``_forward`` for the peephole kernels and CIFG without keeping the gates: ``chunk``
    steps' input projection at a time, each step's gates written over it."""
    steps, batch = xs.shape[:2]
    H = spec.hidden_size
    step = kernel(spec.name + "_forward", xs.dtype)
    project, product = Product(weight_ih, chunk * batch), Product(weight_hh, batch)
    ys, cs = xs.new_empty(steps, batch, H), xs.new_empty(steps, batch, H)
    c_prev, y = c0, y0
    for first in range(0, steps, chunk):
        block = project(xs[first:first + chunk].reshape(-1, xs.shape[2]), bias)  # (n*B, G)
        for t in range(first, min(first + chunk, steps)):
            row = t - first
            step(batch, H, block[row * batch:(row + 1) * batch], product(y), c_prev, extra,
                 cs[t], ys[t])
            c_prev, y = cs[t], ys[t]
    return ys, cs, None, y0, c0, extra


def _backward(ctx, dys: Tensor, dcs: Tensor) -> tuple[Tensor | None, ...]:
    """Backpropagation through time, from what ``_Sequence.forward`` saved."""
    spec: Spec = ctx.spec
    xs, y0, c0, weight_ih, weight_hh, extra, ys, cs, saved = ctx.saved_tensors
    steps, batch = xs.shape[:2]
    G, R, H = spec.gates, spec.width, spec.hidden_size
    dys, dcs = dys.contiguous(), dcs.contiguous()
    recurrent = weight_hh is not None and not spec.truncated
    dpre = xs.new_empty(steps, batch, G)
    dc, dyr = xs.new_zeros(batch, H), xs.new_zeros(batch, R)
    head, lstm1997 = (batch, *spec.sizes), spec.name == "lstm1997"
    if batch * G * R <= SMALL_STEP:
        run = kernel(spec.name + "_sequence_backward", xs.dtype)
        w = weight_hh.contiguous() if recurrent else None  # (G, R)
        if lstm1997:
            run(steps, *head, w, dys, dcs, dc, dyr, ys, saved, cs, *spec.squash, dpre)
        else:
            run(steps, *head, w, dys, dcs, dc, dyr, saved, cs, c0, extra, *spec.flags, dpre)
    else:
        step = kernel(spec.name + "_backward", xs.dtype)
        back = Product(weight_hh.T.contiguous(), batch) if recurrent else None
        for t in range(steps - 1, -1, -1):
            if lstm1997:
                step(*head, dys[t], dyr, dcs[t], dc, ys[t], saved[t], cs[t], *spec.squash,
                     dpre[t])
            else:
                step(*head, dys[t], dyr, dcs[t], dc, saved[t], cs[t], cs[t - 1] if t else c0,
                     extra, *spec.flags, dpre[t])
            if back is not None:
                dyr = back(dpre[t])
    flat = dpre.view(steps * batch, G)
    needs = ctx.needs_input_grad
    dxs = None
    if needs[1]:
        dxs = Product(weight_ih.T.contiguous(), steps * batch)(flat).view_as(xs)
    flat_xs = xs.reshape(steps * batch, -1)
    if use_onednn_weight_gradients(flat, flat_xs):
        dweight_ih, dweight_hh = weight_gradients_onednn(flat, flat_xs, y0, ys, needs[4],
                                                 needs[5] and weight_hh is not None)
    else:
        dweight_ih = flat.T @ flat_xs if needs[4] else None
        dweight_hh = None
        if weight_hh is not None and needs[5]:  # y_{t-1} is y0 at t = 0, else ys[t-1]
            dweight_hh = dpre[0].T @ y0
            if steps > 1:
                later = flat[batch:].T @ ys[:-1].reshape((steps - 1) * batch, R)
                dweight_hh = dweight_hh + later
    dbias = flat.sum(0) if needs[6] else None
    dextra = _extra_gradient(spec, dpre, c0, cs) if needs[7] else None
    return None, dxs, dyr if recurrent else None, dc, dweight_ih, dweight_hh, dbias, dextra


def _extra_gradient(spec: Spec, dpre: Tensor, c0: Tensor, cs: Tensor) -> Tensor | None:
    """Peephole weights: dp = sum over t and b of dpre_gate * the c the gate peeps at
    (p_i, p_f: c_{t-1}, which is c0 at t = 0; p_o: c_t)."""
    H = spec.hidden_size

    def peeping_at_previous(columns: slice) -> Tensor:
        first = (dpre[0, :, columns] * c0).sum(0)
        return first + (dpre[1:, :, columns] * cs[:-1]).sum((0, 1))

    if spec.name == "peephole":
        return torch.stack([peeping_at_previous(slice(0, H)),
                            peeping_at_previous(slice(H, 2 * H)),
                            (dpre[..., 3 * H:] * cs).sum((0, 1))])
    if spec.name == "cifg":
        return torch.stack([peeping_at_previous(slice(0, H)),
                            (dpre[..., 2 * H:] * cs).sum((0, 1))])
    return None


def _zero_state(cell: nn.Module, batch: int, xs: Tensor):
    return cell.initial_state(batch, dtype=xs.dtype, device=xs.device)


def compiled_unroll(
    cell: nn.Module, xs: Tensor, state: NamedTuple | None = None, *, record: bool = False,
    lengths: Tensor | Sequence[int] | None = None, reverse: bool = False,
) -> Unrolled:
    """``unroll``'s call and numbers, fast for a peephole, CIFG, 1997 or standard ``cell``.

    ``xs`` (T, B, I), ``state`` the cell's (zeros if None); returns ``Unrolled(outputs (T, B,
    H), final state, recording or None)``. ``reverse=True`` reads xs from step T-1 down to 0
    (outputs and recording stay in input position order, as ``unroll``'s). ``record=True``
    is fast when no gradient is asked for (the kernels' saved gates are the recording); with
    gradients, and with ``lengths``, it is ``unroll``, as is anything else the fast path does
    not cover (module docstring).
    """
    # torch.compile and torch.export cannot look inside the C kernels (they read data
    # pointers); the readable loop of the same numbers traces
    if torch.compiler.is_compiling() or torch.compiler.is_exporting():
        return unroll(cell, xs, state, record=record, lengths=lengths, reverse=reverse)
    spec = _spec(cell)
    if lengths is not None or not _covered(cell, xs, spec) or (record and _wants_grad(
            cell, xs, state)):
        return unroll(cell, xs, state, record=record, lengths=lengths, reverse=reverse)
    batch = xs.shape[1]
    zero = _zero_state(cell, batch, xs)
    if state is None:
        state = zero
    for name, tensor, expected in zip(zero._fields, state, zero, strict=True):
        if not isinstance(tensor, Tensor) or tensor.shape != expected.shape \
                or tensor.dtype != xs.dtype or tensor.device != xs.device:
            received = (f"{tuple(tensor.shape)} {tensor.dtype} on {tensor.device}"
                        if isinstance(tensor, Tensor) else type(tensor).__name__)
            raise ValueError(f"state.{name} must be {tuple(expected.shape)} {xs.dtype} on "
                             f"{xs.device}, got {received}")
    if not reverse:
        return _run(cell, spec, xs, state, record)
    outputs, final, recording = _run(cell, spec, xs.flip(0), state, record)
    if recording is not None:  # back to input position order
        recording = Recording(*(type(part)(*(t.flip(0) for t in part)) for part in recording))
    return Unrolled(outputs.flip(0), final, recording)


def _wants_grad(cell: nn.Module, xs: Tensor, state: NamedTuple | None) -> bool:
    tensors = [xs, *cell.parameters(), *(state or ())]
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _run(cell: nn.Module, spec: Spec, xs: Tensor, state: NamedTuple, record: bool) -> Unrolled:
    """The fast path proper, on checked arguments; ``record`` only when no grad is wanted."""
    xs = xs.contiguous()
    if isinstance(cell, LSTM1997Cell):
        weights = cell.weights()
        parts = [state.input, state.h, state.output][: 2 + cell.output_gate]
        args = (spec, xs, torch.cat(parts, -1), state.c, *weights, xs.new_zeros(0))
    else:
        bias = None if cell.bias_ih is None else cell.bias_ih + cell.bias_hh
        extra = getattr(cell, "weight_peephole", None)
        if extra is None:  # no peepholes: zero ones (p_i, p_f, p_o, or p_i, p_o for CIFG)
            extra = xs.new_zeros(3 if spec.name == "peephole" else 2, cell.hidden_size)
        args = (spec, xs, state.h, state.c, cell.weight_ih, cell.weight_hh, bias, extra)
    if record:
        with torch.no_grad():
            ys, cs, saved = _forward(*args)[:3]
    elif not _wants_grad(cell, xs, state):
        with torch.no_grad():
            ys, cs, saved = _forward(*args, keep=False)[:3]
    else:
        (ys, cs), saved = _Sequence.apply(*args), None
    H = cell.hidden_size
    if not isinstance(cell, LSTM1997Cell):
        states = LSTMState(ys, cs)
        if spec.name == "peephole":
            gates = None if saved is None else Gates(*saved.split(H, -1))
        else:
            gates = None if saved is None else _cifg_gates(*saved.split(H, -1))
    else:
        C, S = cell.num_blocks, cell.block_size
        i = ys[..., :C]
        o = ys[..., C + H:] if cell.output_gate else torch.ones_like(i)
        states = LSTM1997State(ys[..., C:C + H], cs, i, o)
        gates = None if saved is None else Gates(
            i.repeat_interleave(S, -1), torch.ones_like(cs), saved, o.repeat_interleave(S, -1))
    final = type(states)(*(t[-1] for t in states))
    return Unrolled(states.h, final, None if gates is None else Recording(states, gates))


def _cifg_gates(i: Tensor, g: Tensor, o: Tensor) -> Gates:
    return Gates(i, 1 - i, g, o)


def _covered(cell: nn.Module, xs: Tensor, spec: Spec | None) -> bool:
    """Whether the fast path runs ``cell`` on ``xs``: a covered cell (``spec``), CPU
    float32/float64 input of the right shape, every parameter in that dtype on the CPU, and
    the kernels built."""
    if spec is None or not (isinstance(xs, Tensor) and xs.dim() == 3
                            and xs.device.type == "cpu" and xs.shape[0] > 0
                            and xs.dtype in (torch.float32, torch.float64)
                            and xs.shape[2] == cell.input_size):
        return False
    if any(p.dtype != xs.dtype or p.device.type != "cpu" for p in cell.parameters()):
        return False
    return kernel(spec.name + "_forward", xs.dtype) is not None


def _spec(cell: nn.Module) -> Spec | None:
    """The cell's ``Spec``, or None when the fast path does not cover it."""
    H = cell.hidden_size
    if type(cell) is LSTMCell and cell.proj_size == 0:  # the peephole cell with p = 0
        return Spec("peephole", H, H, 4 * H, 4 * H, (H,), (), (1.0,), False)
    if type(cell) is PeepholeLSTMCell:
        full = 0.0 if cell.detach_peepholes else 1.0
        return Spec("peephole", H, H, 4 * H, 4 * H, (H,), (), (full,), False)
    if type(cell) is CIFGLSTMCell:
        return Spec("cifg", H, H, 3 * H, 3 * H, (H,), (), (), False)
    if type(cell) is LSTM1997Cell and cell.weight_ih.dim() == 2 \
            and cell.g.kernel_code is not None and cell.h.kernel_code is not None:
        C, S, R = cell.num_blocks, cell.block_size, cell.num_units
        squash = (*_squash_arguments(cell.g), *_squash_arguments(cell.h))
        return Spec("lstm1997", H, R, R, H, (C, S, int(cell.output_gate)), squash, (),
                    cell.truncate_gradient)
    return None

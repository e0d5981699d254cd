"""The online learning algorithm of Hochreiter & Schmidhuber (1997) [H97], App. A.1: truncated
gradient, forward in time, O(1) time and memory per weight and step (eq. 29).

Shapes: T time, K population (independent networks in lockstep, each with its own weights and
data), B batch (per member, summed into one update), I input, C blocks, S block size,
H = C*S cells, R hidden units (in gates, cells, out gates), O outputs, M = I + R + 1 sending
units of the hidden layer ``z(t) = [x(t), y^u(t-1), 1]`` (the 1 is the bias unit; absent parts
drop out: no recurrence, no bias).

Per step, after the forward pass of ``Network1997.step`` (current-step outputs, §5):

    E(t)        = 1/2 sum_k mask (t^k - y^k)^2                                       (16)
    e_k         = f_k'(net_k) (t^k - y^k) mask                                      (19)
    delta_c     = sum_k w_{kc} e_k                     (error reaching cell c's output)
    e_out_j     = f_out'(net_out_j) sum_v h(s_{c_j^v}) delta_{c_j^v}                 (21)
    e_s_c       = y^out_j h'(s_c) delta_c                                            (23)
    ds_c/dw_{in_j m} += g(net_c) f_in'(net_in_j) z_m      (trace_in, one per cell)   (25)
    ds_c/dw_{c m}    += y^in_j g'(net_c) z_m              (trace_cell)               (27)
    -dE(t)/dw_{lm} = e_l z_m (l = k, out_j; z_m = y^c(t) or x(t) for l = k)         (22)
                   = sum_v e_s_{c_j^v} ds_{c_j^v}/dw_{lm}   (l = in_j, c_j^v)      (24, 26, 28)
    w_{lm}     += alpha (-dE(t)/dw_{lm})                                            (17)

Only the traces ``ds_c/dw`` for weights into cells and input gates persist between steps;
they start at zero with the state (activations are reset before every sequence, §5). Error
reaching net_c, net_in, net_out is not propagated back in time (§4): the gradient is the one
autograd gives through ``LSTM1997Cell(truncate_gradient=True)``, which the tests check.

The ½ in (16): [H97] writes E(t) without it but defines e_l = -dE(t)/dnet_l (18) and then
e_k = f_k'(net_k)(t^k - y^k) (19), i.e. the gradient of ½·(16). We follow the update rules
(19)-(28), so ``learning_rate`` means the paper's alpha.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

import lstmlab.training._online1997_kernel as online1997_kernel
from lstmlab.cells import LSTM1997Weights
from lstmlab.training._network1997 import Network1997, NetworkWeights1997


class UpdateMode(enum.Enum):
    """When the weights change: every step (the paper, eq. 17), once at the sequence end with
    the summed contributions, or never (only accumulate the gradient)."""

    STEP = "step"
    SEQUENCE = "sequence"
    NONE = "none"


_MODE_CODE = {UpdateMode.STEP: 0, UpdateMode.SEQUENCE: 1, UpdateMode.NONE: 2}


class OnlineResult(NamedTuple):
    """``weights`` (K, ...) after the sequence; ``gradient`` (K, ...) = sum_t dE(t)/dw
    (truncated; each term at the weights of its step); ``outputs`` (T, K, B, O) y^k(t);
    ``loss`` (K,) = sum_t E(t)."""

    weights: NetworkWeights1997
    gradient: NetworkWeights1997
    outputs: Tensor
    loss: Tensor


def online_sequence(
    network: Network1997, weights: NetworkWeights1997, inputs: Tensor, targets: Tensor,
    mask: Tensor | None = None, *, learning_rate: float | Tensor = 0.0,
    mode: UpdateMode = UpdateMode.STEP, trainable: NetworkWeights1997 | None = None,
    compiled: bool | None = None, sparse: bool = True,
) -> OnlineResult:
    """Present one sequence per member and learn online from it.

    ``network`` gives the architecture (its own parameters are not used); ``weights`` (K, ...)
    e.g. from ``population_weights``; ``inputs`` (T, K, B, I); ``targets`` (T, K, B, O);
    ``mask`` (T, K, B), 1 where a step carries error (None: every step); ``learning_rate``
    alpha, a float or one per member (K,) (0 freezes a member); ``trainable``, shaped like
    ``weights``, 1 where a weight may change and 0 where it stays (e.g. exp 2a's memory cell,
    "added once the error has stopped decreasing", §5.2). The input weights are not modified.

    A member's numbers are bit for bit those of a K = 1 run, whatever the other members and
    its slot: contractions are elementwise products summed over a last dimension (``_dot``,
    ``_batch_sum``), not BLAS batched products, and squashing functions run on zero-padded
    per-member rows (``_PerMember``). This holds while K * 64 stays under torch's parallel
    grain (32,768 elements, i.e. K < 512 for small nets); it costs about 1.6x (K = 1) to 2x
    (K = 100) in time per step against plain batched code.

    ``compiled``: run the loop in C (``online1997_kernel``; float64 on the CPU with [H97]'s
    squashing functions; 19x-63x faster on the paper's nets, BENCHMARKS.md), or in the readable
    torch code below (False), which is the reference the kernel is tested against. None (default):
    the kernel where it can run, else torch; True: the kernel or a ValueError.

    ``sparse`` (the kernel only): at steps where at most half the inputs are nonzero, skip the
    zero ones in the hidden layer's products and trace updates (one-hot inputs: ~1/I of the
    work); the numbers are the same bit for bit (``online1997_kernel``; the ``-march=native``
    build always steps densely), False is the dense loop they are tested against.
    """
    cell, config = network.cell, network.config
    C, S, H = cell.num_blocks, cell.block_size, cell.hidden_size
    _check(network, weights, inputs, targets, mask)
    T, K, B, _ = inputs.shape
    factory = {"dtype": inputs.dtype, "device": inputs.device}
    if isinstance(learning_rate, int | float):  # the common case, without as_tensor/expand
        alpha = torch.full((K,), float(learning_rate), **factory)
    else:
        alpha = torch.as_tensor(learning_rate, **factory)
        if alpha.dim() > 1 or alpha.numel() not in (1, K):
            raise ValueError(f"learning_rate must be a float or ({K},), got shape "
                             f"{tuple(alpha.shape)}")
        alpha = alpha.expand(K)
    squashes = (cell.g, cell.h, config.output_squash)
    use_kernel = compiled is not False and online1997_kernel.available(
        inputs.dtype, inputs.device, squashes)
    if compiled and not use_kernel:
        raise ValueError("compiled=True: the C kernel needs float64 CPU tensors, [H97]'s "
                         f"squashing functions and a C compiler; got {inputs.dtype} on "
                         f"{inputs.device}")
    mask = torch.ones(T, K, B, **factory) if mask is None else mask.to(inputs.dtype)

    # Hidden-layer weights as one (K, R, M) matrix over the senders z(t); fresh copies (the
    # input weights are not modified): torch.cat allocates, the others are cloned.
    has_bias = weights.cell.bias is not None
    W, W_ho, W_io, b_o = _packed(weights)
    W = W.detach()
    W_ho, W_io, b_o = (w.detach().clone(memory_format=torch.contiguous_format)
                       if w is not None else None for w in (W_ho, W_io, b_o))
    column_mask = _column_mask(cell, has_bias, W.shape[1:], factory)
    may_change = [None] * 4 if trainable is None else [
        w.to(**factory) if w is not None else None for w in _packed(trainable)]

    if use_kernel:
        # The C loop masks W's bias column, zeroes the gradients, applies a SEQUENCE update
        # and returns sum_t dE(t)/dw itself: what the torch code below does op by op.
        grads = [torch.empty_like(w) if w is not None else None for w in (W, W_ho, W_io, b_o)]
        outputs_t = torch.empty(T, K, B, config.output_size, **factory)
        loss = torch.empty(K, **factory)
        dims = (T, K, B, cell.input_size, C, S, config.output_size, int(cell.recurrent),
                int(cell.output_gate), int(has_bias), int(W_io is not None),
                int(b_o is not None), _MODE_CODE[mode], int(sparse))
        online1997_kernel.run(dims, squashes, [
            inputs.contiguous(), targets.contiguous(), mask.contiguous(), alpha.contiguous(),
            W, W_ho, W_io, b_o, column_mask,
            *(m.expand_as(w).contiguous() if m is not None else None
              for m, w in zip(may_change, (W, W_ho, W_io, b_o), strict=True)),
            *grads, outputs_t, loss])
        return _result(cell, has_bias, (W, W_ho, W_io, b_o), grads, outputs_t, loss,
                       negate=False)

    if has_bias:
        W[..., -1] *= column_mask[:, -1]
    grads = [torch.zeros_like(w) if w is not None else None for w in (W, W_ho, W_io, b_o)]
    carries_error = mask.flatten(1).any(1).tolist()
    y_in = torch.zeros(K, B, C, **factory)
    y_out = torch.zeros(K, B, C, **factory) if cell.output_gate else torch.ones(K, B, C, **factory)
    y_c, s = torch.zeros(K, B, H, **factory), torch.zeros(K, B, C, S, **factory)
    bias_unit = torch.ones(K, B, 1, **factory)
    # d s_{c_j^v} / d w_{in_j m} and d s_{c_j^v} / d w_{c_j^v m}: (K, B, C, S, M) each.
    trace_in = torch.zeros(K, B, C, S, W.shape[-1], **factory)
    trace_cell = torch.zeros_like(trace_in)
    outputs, loss = [], torch.zeros(K, **factory)
    lanes = _PerMember()

    for t in range(T):
        x = inputs[t]
        senders = [x]
        if cell.recurrent:
            senders += [y_in, y_c, y_out] if cell.output_gate else [y_in, y_c]
        z = torch.cat(senders + ([bias_unit] if has_bias else []), -1)  # (K, B, M)
        # Forward pass (App. A.1; Network1997.step), cells as (K, B, C, S).
        net = _dot(z.unsqueeze(-2), W.unsqueeze(1))  # (K, B, R): net_in | net_c | net_out
        net_c = net[..., C:C + H].unflatten(-1, (C, S))
        gates = lanes("gates", torch.sigmoid, net)  # y^in, y^out; its cell part goes unused
        y_in = gates[..., :C]
        if cell.output_gate:
            y_out = gates[..., C + H:]
        g_c = lanes("g", cell.g.fn, net_c)
        s = s + y_in.unsqueeze(-1) * g_c
        h_s = lanes("h", cell.h.fn, s)
        y_c = (y_out.unsqueeze(-1) * h_s).flatten(-2)
        net_k = _dot(y_c.unsqueeze(-2), W_ho.unsqueeze(1))
        if W_io is not None:
            net_k = net_k + _dot(x.unsqueeze(-2), W_io.unsqueeze(1))
        if b_o is not None:
            net_k = net_k + b_o.unsqueeze(-2)
        y_k = lanes("f_k", config.output_squash.fn, net_k)
        outputs.append(y_k)
        # Traces of the internal states, every step (eqs. 25, 27); f_in' = y^in (1 - y^in).
        z_cells = z[:, :, None, None, :]
        trace_in += (g_c * (y_in * (1 - y_in)).unsqueeze(-1)).unsqueeze(-1) * z_cells
        g_prime = lanes("g'", cell.g.derivative, net_c)
        trace_cell += (y_in.unsqueeze(-1) * g_prime).unsqueeze(-1) * z_cells
        if not carries_error[t]:
            continue  # no member has a target now: dE(t)/dw = 0
        # Backward pass, truncated (App. A.1, eqs. 19-28).
        miss = (targets[t] - y_k) * mask[t].unsqueeze(-1)
        loss += 0.5 * miss.square().sum((1, 2))
        e_k = lanes("f_k'", config.output_squash.derivative, net_k) * miss
        delta = _dot(e_k.unsqueeze(-2), W_ho.mT.unsqueeze(1)).unflatten(-1, (C, S))
        e_s = (y_out.unsqueeze(-1) * lanes("h'", cell.h.derivative, s) * delta).unsqueeze(-1)
        step_W = [_batch_sum(e_s * trace_in, also=-2),  # over v and B
                  _batch_sum(e_s * trace_cell).flatten(1, 2)]
        if cell.output_gate:
            e_out = y_out * (1 - y_out) * (h_s * delta).sum(-1)
            step_W.append(_batch_sum(e_out.unsqueeze(-1) * z.unsqueeze(-2)))
        e_k = e_k.unsqueeze(-1)
        step = [torch.cat(step_W, 1) * column_mask, _batch_sum(e_k * y_c.unsqueeze(-2)),
                _batch_sum(e_k * x.unsqueeze(-2)) if W_io is not None else None,
                _batch_sum(e_k)[..., 0] if b_o is not None else None]
        for total, part in zip(grads, step, strict=True):
            if total is not None:
                total += part
        if mode is UpdateMode.STEP:
            _apply(alpha, (W, W_ho, W_io, b_o), step, may_change)
    if mode is UpdateMode.SEQUENCE:
        _apply(alpha, (W, W_ho, W_io, b_o), grads, may_change)

    return _result(cell, has_bias, (W, W_ho, W_io, b_o), grads, torch.stack(outputs), loss)


def forward_sequence(network: Network1997, weights: NetworkWeights1997, inputs: Tensor,
                     lengths: Tensor, *, sparse: bool = True) -> Tensor:
    """Each member's outputs (T, K, B, O) on its sequences, without learning, by the C loop
    (``online1997_kernel.forward``): what a stopping or test set needs.

    ``inputs`` (T, K, B, I) float64 on the CPU; ``lengths`` (K, B): sequence (k, b) is real at
    the steps t < lengths[k, b]. There the outputs are ``online_sequence(..., compiled=True)``'s
    bit for bit (the same forward pass in the same order; the tests check it); after a
    sequence's end nothing is computed and they are 0 (a batch is padded to its longest
    sequence; Exp. 1's stopping set of 512 strings, 11 to 16 symbols on average, comes in two
    batches of 24 and 33 steps). ``sparse``: skip zero inputs as ``online_sequence`` does (the
    same numbers; False computes densely). Raises ValueError where the kernel cannot run."""
    cell, config = network.cell, network.config
    if inputs.dim() != 4 or inputs.shape[-1] != cell.input_size:
        raise ValueError(f"inputs must be (T, K, B, {cell.input_size}), got "
                         f"{tuple(inputs.shape)}")
    T, K, B, _ = inputs.shape
    if tuple(lengths.shape) != (K, B):
        raise ValueError(f"lengths must be {(K, B)}, got {tuple(lengths.shape)}")
    if weights.weight_ho.dim() != 3 or weights.weight_ho.shape[0] != K:
        raise ValueError(f"weights need a leading population dimension K={K}, got weight_ho "
                         f"of shape {tuple(weights.weight_ho.shape)}")
    squashes = (cell.g, cell.h, config.output_squash)
    if not online1997_kernel.available(inputs.dtype, inputs.device, squashes):
        raise ValueError("forward_sequence: the C kernel needs float64 CPU tensors, [H97]'s "
                         f"squashing functions and a C compiler; got {inputs.dtype} on "
                         f"{inputs.device}")
    factory = {"dtype": inputs.dtype, "device": inputs.device}
    has_bias = weights.cell.bias is not None
    W, W_ho, W_io, b_o = (w.detach().to(**factory).contiguous() if w is not None else None
                          for w in _packed(weights))
    if has_bias:  # as online_sequence does to its copy (cat made this one)
        W[..., -1] *= _column_mask(cell, has_bias, W.shape[1:], factory)[:, -1]
    outputs = torch.empty(T, K, B, config.output_size, **factory)
    dims = (T, K, B, cell.input_size, cell.num_blocks, cell.block_size, config.output_size,
            int(cell.recurrent), int(cell.output_gate), int(has_bias), int(W_io is not None),
            int(b_o is not None), int(sparse))
    online1997_kernel.forward(dims, squashes, [
        inputs.contiguous(), lengths.to(torch.int64).contiguous(), W, W_ho, W_io, b_o,
        outputs])
    return outputs


def _result(cell, has_bias: bool, weights: tuple, grads: list, outputs: Tensor,
            loss: Tensor, negate: bool = True) -> OnlineResult:
    """The packed (W, W_ho, W_io, b_o) and their summed steps (``negate``: the descent
    direction, else the gradient already) -> an OnlineResult."""
    def unpack(W, W_ho, W_io, b_o, sign=None):
        # views of the packed tensors (fresh, no one else holds them); -1.0 * each part of a
        # descent direction
        signed = (lambda w: w) if sign is None else (lambda w: sign * w)
        I, R = cell.input_size, cell.num_units
        cell_weights = LSTM1997Weights(
            signed(W[..., :I]), signed(W[..., I:I + R]) if cell.recurrent else None,
            signed(W[..., -1]) if has_bias else None)
        return NetworkWeights1997(cell_weights, signed(W_ho),
                                  *(signed(w) if w is not None else None for w in (W_io, b_o)))

    return OnlineResult(unpack(*weights), unpack(*grads, sign=-1.0 if negate else None),
                        outputs, loss)


class _PerMember:
    """``lanes(fn, x)`` = ``fn(x)`` for x (K, ...), each member's numbers independent of K.

    torch evaluates elementwise functions (sigmoid's exp) in vectorized chunks plus a scalar
    tail, which round differently, and which elements fall in the tail depends on the tensor's
    size. Each member's values are copied into a zero-padded row of a multiple of 64 (kept per
    call site), which leaves no tail and aligns the chunks with the members.
    """

    def __init__(self) -> None:
        self.rows: dict[str, Tensor] = {}

    def __call__(self, site: str, fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
        flat = x.reshape(x.shape[0], -1)
        n = flat.shape[1]
        row = self.rows.get(site)
        if row is None:
            row = self.rows[site] = flat.new_zeros(flat.shape[0], n + (-n % 64))
        row[:, :n] = flat
        out = fn(row)
        if out.data_ptr() == row.data_ptr():  # fn returned its input (the identity)
            out = out.clone()
        return out[:, :n].unflatten(1, x.shape[1:])


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """``(a * b).sum(-1)``, broadcast: a contraction reduced over its last dimension in an
    order that depends on that dimension alone (a BLAS batched product may pick its kernel by
    the batch size K)."""
    return (a * b).sum(-1)


def _batch_sum(product: Tensor, also: int | None = None) -> Tensor:
    """Sum (K, B, ...) over B (and over dimension ``also`` of the rest), K-independently: the
    summed dimensions moved last, contiguous, reduced by ``sum(-1)``."""
    moved = product.movedim(1, -1)
    if also is not None:
        moved = moved.movedim(also - 1, -1).flatten(-2)
    return moved[..., 0] if moved.shape[-1] == 1 else moved.contiguous().sum(-1)


def _packed(weights: NetworkWeights1997) -> tuple:
    """(W (K, R, M) = [weight_ih | weight_hh | bias], weight_ho, weight_io, bias_o)."""
    cell = weights.cell
    W = torch.cat([w for w in (cell.weight_ih, cell.weight_hh,
                               cell.bias.unsqueeze(-1) if cell.bias is not None else None)
                   if w is not None], -1)
    return W, weights.weight_ho, weights.weight_io, weights.bias_o


def _apply(alpha: Tensor, weights: tuple, descent: list, may_change: list) -> None:
    """w += alpha_k * (-dE/dw) [* trainable], member by member, in place."""
    for weight, direction, mask in zip(weights, descent, may_change, strict=True):
        if weight is not None:
            step = alpha.view(-1, *[1] * (weight.dim() - 1)) * direction
            weight += step if mask is None else step * mask


_COLUMN_MASKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _column_mask(cell, has_bias: bool, shape: torch.Size, factory: dict) -> Tensor:
    """(R, M) ones, the bias column ``cell.bias_mask`` (the unwired biases 0): built once per
    cell and kept (read only) while the mask, dtype and shape stay the same."""
    bias_mask = cell.bias_mask if has_bias else None
    key = (tuple(shape), factory["dtype"], factory["device"],
           None if bias_mask is None else (id(bias_mask), bias_mask._version))
    cached = _COLUMN_MASKS.get(cell)
    if cached is not None and cached[0] == key:
        return cached[1]
    mask = torch.ones(shape, **factory)
    if bias_mask is not None:
        mask[:, -1] = bias_mask.to(**factory)
    _COLUMN_MASKS[cell] = (key, mask)
    return mask


def _check(network, weights, inputs, targets, mask) -> None:
    if inputs.dim() != 4 or inputs.shape[-1] != network.cell.input_size:
        raise ValueError(f"inputs must be (T, K, B, {network.cell.input_size}), "
                         f"got {tuple(inputs.shape)}")
    T, K, B, _ = inputs.shape
    expected = (T, K, B, network.config.output_size)
    if tuple(targets.shape) != expected:
        raise ValueError(f"targets must be {expected}, got {tuple(targets.shape)}")
    if mask is not None and tuple(mask.shape) != (T, K, B):
        raise ValueError(f"mask must be {(T, K, B)}, got {tuple(mask.shape)}")
    if weights.weight_ho.dim() != 3 or weights.weight_ho.shape[0] != K:
        raise ValueError(f"weights need a leading population dimension K={K}, got weight_ho "
                         f"of shape {tuple(weights.weight_ho.shape)}")

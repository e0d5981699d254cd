"""minGRU and minLSTM: gates that read only x_t, so all T steps come from one parallel scan.

Source: Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, "Were RNNs All We Needed?", 2024
(arXiv:2410.01201), §3.1.2 (minGRU), §3.2.3 (minLSTM), Appendix B (the log-space versions,
whose candidate g(.) keeps every state positive so the scan can run on logarithms).
Shapes: T time, B batch, I input, H hidden. Parameters: ``weight_ih`` (G*H, I) and ``bias_ih``
(G*H) (None without ``bias``); no ``weight_hh``: nothing reads h_{t-1} but the state update.

minGRU, gate order z, g (G = 2)::

    pre = x_t @ weight_ih.T + bias_ih          split into pre_z, pre_g
    z_t = sigmoid(pre_z)                       the update gate: 1 takes the candidate
    g_t = gpos(pre_g)                          the candidate h~_t, positive
    h_t = (1 - z_t) * h_{t-1} + z_t * g_t

minLSTM, gate order i, f, g (torch's; G = 3)::

    pre = x_t @ weight_ih.T + bias_ih          split into pre_i, pre_f, pre_g
    i_t = sigmoid(pre_i) / (sigmoid(pre_f) + sigmoid(pre_i))      i' (normalized)
    f_t = sigmoid(pre_f) / (sigmoid(pre_f) + sigmoid(pre_i))      f' = 1 - i'
    g_t = gpos(pre_g)
    h_t = f_t * h_{t-1} + i_t * g_t

with ``gpos(x) = x + 0.5`` for x >= 0, ``sigmoid(x)`` for x < 0 (the paper's g, continuous,
positive). Paper symbols -> ours: z_t = z, h~_t = g, f'_t = f, i'_t = i. Note minGRU's z is
the paper's (z = 1 writes), the opposite of torch's GRU (z = 1 keeps).

Layers: ``lstmlab.layers.MinGRU`` and ``MinLSTM``, with nn.GRU's interface (the state is h
alone, so neither is a ``cell=`` of ``LSTM``, whose hx is (h, c)).

Both are h_t = a_t * h_{t-1} + b_t with a_t in (0, 1) and b_t > 0, solved for all t at once
in two ways, both the step's numbers up to rounding (``parallel(method=...)``):

- ``scan_linear`` (the default): a blocked scan on (a_t, b_t) themselves: sqrt(T) blocks
  scanned all at once, then the blocks' entry states, then one fix-up (O(T) work, 2 sqrt(T)
  vectorized steps instead of T); its backward pass is the same scan backwards in time. No
  logarithms, so no cancellation: in float32 it matches the step as closely as the step
  matches float64.
- ``scan_log``, the paper's (its Appendix B, after Heinsen 2023, "Efficient parallelization
  of a ubiquitous sequential computation"):

    A_t = sum_{s<=t} log a_s
    h_t = exp(A_t) * h_0 + exp(A_t + logcumsumexp_{s<=t}(log b_s - A_s))

  It subtracts numbers of size |A_t|, so in float32 its error grows with the chunk length:
  unchunked at T = 1024 it is over 10x the blocked scan's (tested); in float64 both are tiny.
The carried state h_0 enters linearly, so it may have any sign and needs no logarithm. The
public implementations that follow the paper's parallel listing put the carried state through
the candidate's transform instead, ``log_g(h_0)``, while their sequential step uses h_0 itself;
for h_0 >= 0 that carries h_0 + 0.5 in place of h_0, and the two paths disagree by
0.5 * prod a (``tests/cells/test_min_rnn.py::test_carried_state_is_not_transformed``).

``chunk_size`` splits either scan into chunks run one after the other, each from the state the
previous one ended in (for ``scan_log``, the sums A_t then stay within one chunk); the
result is the same recurrence (tested equal to the step, chunked or not).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import check_size, check_step, reset_uniform
from lstmlab.cells._state import HiddenState


class MinGRUGates(NamedTuple):
    """The gates of one minGRU step, each (B, H): ``update`` z and ``candidate`` g."""

    update: Tensor
    candidate: Tensor


class MinLSTMGates(NamedTuple):
    """The gates of one minLSTM step, each (B, H): the normalized ``input`` i' and ``forget``
    f' (i' + f' = 1) and the ``candidate`` g."""

    input: Tensor
    forget: Tensor
    candidate: Tensor


class Scanned(NamedTuple):
    """``outputs`` (T, B, H), every h_t; ``state``, the final ``HiddenState``; ``gates``, the
    cell's gates type with each field (T, B, H)."""

    outputs: Tensor
    state: HiddenState
    gates: NamedTuple


def gpos(x: Tensor) -> Tensor:
    """The paper's positive candidate: x + 0.5 for x >= 0, sigmoid(x) below."""
    return torch.where(x >= 0, F.relu(x) + 0.5, torch.sigmoid(x))


def log_gpos(x: Tensor) -> Tensor:
    """log(gpos(x)), computed without forming gpos(x) where it is tiny."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def scan_log(log_a: Tensor, log_b: Tensor, h0: Tensor, chunk_size: int | None = None
             ) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t for t = 1..T in log space (the paper's scan, Heinsen's
    formula): ``log_a``, ``log_b`` (T, B, H), ``h0`` (B, H) of any sign -> (T, B, H). See the
    module docstring for the formula and for ``chunk_size`` (None: one chunk)."""
    steps = log_a.shape[0]
    if chunk_size is not None:
        check_size("chunk_size", chunk_size)
    size = steps if chunk_size is None else chunk_size
    outputs = []
    h = h0
    for start in range(0, steps, size):
        A = log_a[start:start + size].cumsum(0)
        written = torch.exp(A + torch.logcumsumexp(log_b[start:start + size] - A, dim=0))
        chunk = torch.exp(A) * h + written
        outputs.append(chunk)
        h = chunk[-1]
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


def _blocked(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t along dim 0, ``a``, ``b`` (T, ...), ``h0`` (...) -> (T, ...).

    Two levels of about sqrt(T) short loops instead of T: the sequence is cut into n blocks of
    L ~ sqrt(T) steps; (1) every block is scanned from a zero state at once, one step of all
    blocks per iteration, keeping the running products P (the share of the block's entry state
    left at each step); (2) the entry states, one block after the other; (3) h = local + P *
    entry. O(T) work, 2 sqrt(T) vectorized Python steps; each h is a short product chain, so the
    rounding is the sequential loop's."""
    steps = a.shape[0]
    length = math.isqrt(steps - 1) + 1 if steps > 1 else 1
    pad = (-steps) % length
    if pad:  # a = 1, b = 0 keeps the state: padding changes nothing
        a = torch.cat([a, a.new_ones(pad, *a.shape[1:])])
        b = torch.cat([b, b.new_zeros(pad, *b.shape[1:])])
    blocks = a.shape[0] // length
    a, b = a.view(blocks, length, *a.shape[1:]), b.view(blocks, length, *b.shape[1:])
    local, products = torch.empty_like(b), torch.empty_like(a)
    h, p = b[:, 0], a[:, 0]
    local[:, 0], products[:, 0] = h, p
    for j in range(1, length):
        h, p = torch.addcmul(b[:, j], a[:, j], h), p * a[:, j]
        local[:, j], products[:, j] = h, p
    entry = torch.empty((blocks, *h0.shape), dtype=h0.dtype, device=h0.device)
    state = h0
    for k in range(blocks):
        entry[k] = state
        state = torch.addcmul(local[k, -1], products[k, -1], state)
    h = torch.addcmul(local, products, entry.unsqueeze(1))
    return h.view(blocks * length, *h.shape[2:])[:steps]


class _LinearScan(torch.autograd.Function):
    """h = scan_linear(a, b, h0), its backward the same scan run backwards in time:
    e_t = dL/dh_t + a_{t+1} * e_{t+1}; then dL/db_t = e_t, dL/da_t = e_t * h_{t-1},
    dL/dh_0 = a_1 * e_1."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        h = _blocked(a, b, h0)
        ctx.save_for_backward(a, h0, h)
        return h

    @staticmethod
    def backward(ctx, grad_h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        a, h0, h = ctx.saved_tensors
        later = torch.cat([a[1:], torch.zeros_like(a[:1])]).flip(0)  # a_{t+1}, reversed
        e = _blocked(later, grad_h.flip(0), torch.zeros_like(h0)).flip(0)
        previous = torch.cat([h0.unsqueeze(0), h[:-1]])
        return e * previous, e, a[0] * e[0]


def scan_linear(a: Tensor, b: Tensor, h0: Tensor, chunk_size: int | None = None) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t for t = 1..T by a blocked scan on the values themselves:
    ``a``, ``b`` (T, B, H), ``h0`` (B, H) -> (T, B, H). No logarithm, no cancellation: with
    0 < a <= 1 its rounding error is the sequential loop's (tested to 1e-6 in float32 at
    T = 1024), and b and h0 may have any sign. The backward pass is the same scan reversed.
    ``chunk_size``: chunks one after the other, as in ``scan_log`` (None: one chunk)."""
    steps = a.shape[0]
    if chunk_size is not None:
        check_size("chunk_size", chunk_size)
    size = steps if chunk_size is None else chunk_size
    outputs = []
    h = h0
    for start in range(0, steps, size):
        outputs.append(_LinearScan.apply(a[start:start + size], b[start:start + size], h))
        h = outputs[-1][-1]
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


def _method(method: str) -> str:
    if method not in ("linear", "log"):
        raise ValueError(f'method must be "linear" or "log", got {method!r}')
    return method


class _MinCell(nn.Module):
    """What minGRU and minLSTM share: ``weight_ih``, ``bias_ih``, the state h, the checks."""

    blocks: int

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"dtype": dtype, "device": device}
        rows = self.blocks * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.GRU``."""
        reset_uniform(self, generator)

    def initial_state(self, batch_size: int, *, dtype: torch.dtype | None = None,
                      device: torch.device | None = None) -> HiddenState:
        """h = 0, (batch_size, H)."""
        dtype = self.weight_ih.dtype if dtype is None else dtype
        device = self.weight_ih.device if device is None else device
        return HiddenState(torch.zeros(batch_size, self.hidden_size, dtype=dtype,
                                       device=device))

    def _check_sequence(self, xs: Tensor, state: HiddenState | None) -> HiddenState:
        if not isinstance(xs, Tensor) or xs.dim() != 3 or xs.shape[2] != self.input_size \
                or xs.shape[0] == 0:
            received = tuple(xs.shape) if isinstance(xs, Tensor) else type(xs).__name__
            raise ValueError(f"xs must have shape (time >= 1, batch, {self.input_size}), "
                             f"got {received}")
        if state is None:
            return self.initial_state(xs.shape[1], dtype=xs.dtype, device=xs.device)
        check_step(xs[0], self.weight_ih, self.input_size, state, (self.hidden_size,))
        return state

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}")


class MinGRUCell(_MinCell):
    """One minGRU step (``forward``) or a whole sequence at once (``parallel``); the equations
    are in the module docstring. ``cell(x, HiddenState(h)) -> (HiddenState(h),
    MinGRUGates(update, candidate))``, every tensor (B, H) but ``x`` (B, I)."""

    blocks = 2

    def forward(self, x: Tensor, state: HiddenState) -> tuple[HiddenState, MinGRUGates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,))
        pre_z, pre_g = F.linear(x, self.weight_ih, self.bias_ih).chunk(2, dim=1)
        z = torch.sigmoid(pre_z)
        g = gpos(pre_g)
        h = (1 - z) * state.h + z * g
        return HiddenState(h), MinGRUGates(z, g)

    def parallel(self, xs: Tensor, state: HiddenState | None = None, *,
                 method: str = "linear", chunk_size: int | None = None) -> Scanned:
        """All steps of ``xs`` (T, B, I) from ``state`` (zeros if None) at once: the numbers
        of T calls of ``forward``. ``method``: "linear" (``scan_linear``) or "log" (the
        paper's ``scan_log``); ``chunk_size`` as they take it."""
        state = self._check_sequence(xs, state)
        pre_z, pre_g = F.linear(xs, self.weight_ih, self.bias_ih).chunk(2, dim=2)
        z, g = torch.sigmoid(pre_z), gpos(pre_g)
        if _method(method) == "log":
            log_a = -F.softplus(pre_z)  # log(1 - z)
            log_b = -F.softplus(-pre_z) + log_gpos(pre_g)  # log(z * g)
            outputs = scan_log(log_a, log_b, state.h, chunk_size)
        else:
            outputs = scan_linear(torch.sigmoid(-pre_z), z * g, state.h, chunk_size)
        return Scanned(outputs, HiddenState(outputs[-1]), MinGRUGates(z, g))


class MinLSTMCell(_MinCell):
    """One minLSTM step (``forward``) or a whole sequence at once (``parallel``); the equations
    are in the module docstring. ``cell(x, HiddenState(h)) -> (HiddenState(h),
    MinLSTMGates(input, forget, candidate))``, every tensor (B, H) but ``x`` (B, I)."""

    blocks = 3

    def forward(self, x: Tensor, state: HiddenState) -> tuple[HiddenState, MinLSTMGates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,))
        pre_i, pre_f, pre_g = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        total = torch.sigmoid(pre_f) + torch.sigmoid(pre_i)
        i = torch.sigmoid(pre_i) / total
        f = torch.sigmoid(pre_f) / total
        g = gpos(pre_g)
        h = f * state.h + i * g
        return HiddenState(h), MinLSTMGates(i, f, g)

    def parallel(self, xs: Tensor, state: HiddenState | None = None, *,
                 method: str = "linear", chunk_size: int | None = None) -> Scanned:
        """All steps of ``xs`` (T, B, I) from ``state`` (zeros if None) at once: the numbers
        of T calls of ``forward``. ``method``: "linear" (``scan_linear``) or "log" (the
        paper's ``scan_log``); ``chunk_size`` as they take it."""
        state = self._check_sequence(xs, state)
        pre_i, pre_f, pre_g = F.linear(xs, self.weight_ih, self.bias_ih).chunk(3, dim=2)
        g = gpos(pre_g)
        if _method(method) == "log":
            # log f' = log f - log(f + i) = -softplus(log i - log f), and log i' likewise
            diff = F.softplus(-pre_f) - F.softplus(-pre_i)  # log i - log f
            log_f, log_i = -F.softplus(diff), -F.softplus(-diff)
            outputs = scan_log(log_f, log_i + log_gpos(pre_g), state.h, chunk_size)
            f, i = torch.exp(log_f), torch.exp(log_i)
        else:
            total = torch.sigmoid(pre_f) + torch.sigmoid(pre_i)
            i, f = torch.sigmoid(pre_i) / total, torch.sigmoid(pre_f) / total
            outputs = scan_linear(f, i * g, state.h, chunk_size)
        return Scanned(outputs, HiddenState(outputs[-1]), MinLSTMGates(i, f, g))

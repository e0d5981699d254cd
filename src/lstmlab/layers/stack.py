"""What ``LSTM``, ``GRU`` and ``RNN`` share: a stack of cells under torch's parameter names.

The counterpart of torch's ``RNNBase``. Shapes: T time, B batch, I input, H hidden, P the size
of ``h`` (``proj_size`` or H), L ``num_layers``, D directions (2 if ``bidirectional``).

Parameters. Layer k, direction d has one cell; the cell's parameter ``name`` is registered on
the stack as ``{name}_l{k}`` (``{name}_l{k}_reverse`` for d = 1), in torch's order (layer,
direction, then the cell's own order: ``weight_ih, weight_hh, bias_ih, bias_hh, weight_hr``),
so ``state_dict()``, ``named_parameters()`` and attributes like ``weight_ih_l0`` are torch's,
and a variant cell's extra parameters follow the same rule (``weight_peephole_l0``). The cells
themselves are kept outside the module tree (``state_dict`` holds each tensor once); before a
forward pass each cell is pointed at the stack's current tensors (``bound_cell``), so
``.to()``, ``load_state_dict`` and assigning ``lstm.weight_ih_l0 = ...`` all just work.

Input handling, as ``torch.nn.RNNBase.forward``: (T, B, I), (B, T, I) with ``batch_first``,
unbatched (T, I), or a ``PackedSequence`` (the output is then packed the same way).

The readable path (``readable``): ``unroll`` each cell over the layer's input; the layers are
joined by ``dropout`` in training mode (not after the last), exactly as torch does. Packed input
is unpacked to a padded batch with ``lengths``, so states freeze past each sequence's end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmlab.cells.elman import ElmanCell
from lstmlab.cells.gru import GRUCell
from lstmlab.cells.lstm import LSTMCell
from lstmlab.errors import UserError
from lstmlab.layers.arguments import (
    LayerInputError,
    LayerTypeError,
    check_constructor,
    check_hx_ranks,
)
from lstmlab.layers.compiled import compiled_unroll
from lstmlab.layers.unroll import unroll

# The cells whose parameters cuDNN's flat layout describes (torch's own equations).
_CUDNN_CELLS = (LSTMCell, GRUCell, ElmanCell)


class Prepared(NamedTuple):
    """The input in one canonical form: ``x`` (T, B, I) or the packed data (N, I)."""

    x: Tensor
    batch_sizes: Tensor | None
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None
    unbatched: bool


class RecurrentStack(nn.Module):
    """L layers of D directions of cells made by ``make_cell(input_size)``.

    ``state_fields``: the fields of the cell state that ``hx`` holds, ``("h", "c")`` for an LSTM,
    ``("h",)`` for a GRU or RNN (``hx`` is then one tensor, as in torch).
    """

    state_fields: tuple[str, ...] = ("h",)

    def __init__(
        self, make_cell: Callable[[int], nn.Module], input_size: int, hidden_size: int,
        num_layers: int, bias: bool, batch_first: bool, dropout: float, bidirectional: bool,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        check_constructor(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                          bidirectional, proj_size)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout, self.proj_size = float(dropout), proj_size
        directions = 2 if bidirectional else 1
        output_size = proj_size if proj_size > 0 else hidden_size
        self._cells: list[tuple[nn.Module, dict[str, str]]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                cell = make_cell(input_size if layer == 0 else directions * output_size)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = {}
                for name, parameter in cell.named_parameters():
                    names[name] = name.replace(".", "_") + suffix
                    self.register_parameter(names[name], parameter)
                for name, buffer in cell.named_buffers():
                    names[name] = name.replace(".", "_") + suffix
                    self.register_buffer(names[name], buffer)
                self._cells.append((cell, names))
        self._flat_weights_names = [n for _, names in self._cells for n in names.values()
                                    if n in self._parameters]
        probe = self._cells[0][0].initial_state(1)
        self.state_sizes = tuple(getattr(probe, f).shape[-1] for f in self.state_fields)

    def options_repr(self, defaults: dict[str, object], extra: str = "") -> str:
        """torch's ``extra_repr``: the sizes, then each option of ``defaults`` (in its order)
        whose value differs from its default, then ``extra``, then ``fused=False`` when the
        readable path runs."""
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text + extra + ("" if self.fused else ", fused=False")

    @property
    def _flat_weights(self) -> list[Tensor]:
        """The parameters in torch's order, as ``torch._VF`` kernels take them."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """Per layer and direction, its weights (torch's ``all_weights``), also while one is
        reparametrized (e.g. ``torch.nn.utils.weight_norm``: then a plain tensor)."""
        flat = set(self._flat_weights_names)
        return [[getattr(self, n) for n in names.values() if n in flat]
                for _, names in self._cells]

    def flatten_parameters(self) -> None:
        """torch's ``flatten_parameters``: on CUDA with cuDNN, put the weights of the standard
        cell into one contiguous buffer (cuDNN's layout); otherwise, as in torch, nothing.
        Training code (DataParallel, after ``.cuda()``) calls it on every recurrent layer."""
        if getattr(self, "fused", False) and type(self._cells[0][0]) in _CUDNN_CELLS:
            nn.RNNBase.flatten_parameters(self)  # type: ignore[arg-type]

    def bound_cell(self, index: int) -> nn.Module:
        """Cell ``index`` = layer * D + direction, holding the stack's current tensors."""
        cell, names = self._cells[index]
        for name, stack_name in names.items():
            owner, _, leaf = name.rpartition(".")
            module = cell.get_submodule(owner)
            # the cell's own registration decides the table: the stack's entry may have become
            # a plain tensor (weight_norm, parametrize, functional_call) and must still win
            table = module._parameters if leaf in module._parameters else module._buffers
            table[leaf] = getattr(self, stack_name)
        return cell

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Each cell's own initialisation, in torch's order (U(-1/sqrt(H), 1/sqrt(H)) for the
        standard cells: the same draws as torch's module from the same seed)."""
        for index in range(len(self._cells)):
            self.bound_cell(index).reset_parameters(generator=generator)

    def prepare(self, input: Tensor | PackedSequence, hx: Tensor | tuple | None
                ) -> tuple[Prepared, tuple[Tensor, ...] | None]:
        """Validate ``input`` and ``hx`` as ``torch.nn.RNNBase.forward`` does (same checks,
        order and exception types, see ``arguments``); return the canonical input and ``hx``
        as (L*D, B, .) tensors, or None."""
        kind = "RNN" if self.mode.startswith("RNN") else self.mode
        states = self._hx_tuple(hx)
        if isinstance(input, PackedSequence):
            x, batch_sizes, sorted_indices, unsorted_indices = input
            unbatched, batch_size = False, int(batch_sizes[0])
            self._check_input(x, 2)
        else:
            if not isinstance(input, Tensor):
                raise LayerTypeError("input must be a Tensor or a PackedSequence, got "
                                     f"{type(input).__name__}")
            if input.dim() not in (2, 3):
                layout = "(batch, time, I)" if self.batch_first else "(time, batch, I)"
                raise UserError(f"{kind}: Expected input to be 2D or 3D, got {input.dim()}D "
                                f"instead: {layout} or, unbatched, (time, I)")
            batch_sizes = sorted_indices = unsorted_indices = None
            unbatched = input.dim() == 2
            if states is not None:
                check_hx_ranks(kind, states, batched=not unbatched)
                if unbatched:
                    states = tuple(t.unsqueeze(1) for t in states)
            x = input.unsqueeze(1) if unbatched else input
            x = x.transpose(0, 1) if self.batch_first and not unbatched else x
            self._check_input(x, 3)
            batch_size = x.shape[1]
            if x.shape[0] == 0:
                raise LayerInputError("Expected sequence length to be larger than 0 in RNN, "
                                      f"got input of shape {tuple(input.shape)}")
        prepared = Prepared(x, batch_sizes, sorted_indices, unsorted_indices, unbatched)
        if states is not None:
            self._check_hx(states, batch_size, x)
        return prepared, states

    def _check_input(self, x: Tensor, rank: int) -> None:
        """torch's ``check_input``: dtype (ValueError), rank and width (RuntimeError), and the
        device (RuntimeError, from torch's kernel)."""
        reference = self._flat_weights[0]
        if x.dtype != reference.dtype:
            raise UserError(
                f"RNN input dtype ({x.dtype}) does not match weight dtype ({reference.dtype}). "
                f"Convert input: input.to({reference.dtype}), or convert model: "
                f"model.to({x.dtype})")
        if x.dim() != rank:
            raise LayerInputError(f"input must have {rank} dimensions, got {x.dim()}")
        if x.shape[-1] != self.input_size:
            raise LayerInputError("input.size(-1) must be equal to input_size. Expected "
                                  f"{self.input_size}, got {x.shape[-1]}")
        if x.device != reference.device:
            raise LayerInputError("Input and parameter tensors are not at the same device, "
                                  f"found input tensor at {x.device} and parameter tensor at "
                                  f"{reference.device}")

    def _hx_tuple(self, hx: Tensor | tuple | list | None) -> tuple[Tensor, ...] | None:
        """``hx`` as a tuple of ``state_fields`` tensors: ``(h_0, c_0)`` for an LSTM, ``h_0``
        alone otherwise (``LayerInputError`` for anything else)."""
        if hx is None:
            return None
        if len(self.state_fields) == 1:
            if not isinstance(hx, Tensor):
                raise LayerInputError(f"hx must be a Tensor h_0, got {type(hx).__name__}")
            return (hx,)
        count = len(self.state_fields)
        if not isinstance(hx, tuple | list) or len(hx) != count \
                or not all(isinstance(t, Tensor) for t in hx):
            received = f"{len(hx)} items" if isinstance(hx, tuple | list) \
                else type(hx).__name__
            names = ", ".join(f"{field}_0" for field in self.state_fields)
            words = "two" if count == 2 else str(count)
            raise LayerInputError(f"{self.mode.lower()} expects {words} hidden states: hx must "
                                  f"be a tuple ({names}) of {words} tensors, got {received}")
        return tuple(hx)

    def _check_hx(self, states: tuple[Tensor, ...], batch_size: int, x: Tensor) -> None:
        """torch's ``check_hidden_size`` for each state (L*D, B, size), then its kernel's
        dtype and device checks; ``LayerInputError`` naming the state."""
        rows = self.num_layers * (2 if self.bidirectional else 1)
        single = len(states) == 1
        for k, (tensor, size) in enumerate(zip(states, self.state_sizes, strict=True)):
            name = "hidden" if single else f"hidden[{k}]"
            expected = (rows, batch_size, size)
            if tuple(tensor.shape) != expected:
                raise LayerInputError(f"Expected {name} size {expected}, got "
                                      f"{list(tensor.shape)}")
            if tensor.dtype != x.dtype or tensor.device != x.device:
                raise LayerInputError(f"Expected {name} to have the input's dtype {x.dtype} "
                                      f"and device {x.device}, got {tensor.dtype} on "
                                      f"{tensor.device}")

    def finish(self, prepared: Prepared, output: Tensor, state: tuple[Tensor, ...]
               ) -> tuple[Tensor | PackedSequence, Tensor | tuple[Tensor, ...]]:
        """Back to the caller's layout: ``output`` (T, B, D*P) or packed data, ``state``."""
        if prepared.batch_sizes is not None:
            output = PackedSequence(output, prepared.batch_sizes, prepared.sorted_indices,
                                    prepared.unsorted_indices)
        elif prepared.unbatched:
            output, state = output.squeeze(1), tuple(s.squeeze(1) for s in state)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, state[0] if len(state) == 1 else state

    def through_layers(
        self, x: Tensor, run: Callable[[int, nn.Module, Tensor, bool], tuple[Tensor, object]],
    ) -> tuple[Tensor, list]:
        """``x`` (T, B, I) through every layer, as torch stacks them: each direction's cell runs
        as ``run(index, cell, x, reverse) -> (output (T, B, P), final state)``, index = layer * D
        + direction, the reverse direction with ``reverse=True``; the directions' outputs are
        joined along the last axis into the next layer's input, with ``dropout`` between layers
        in training mode (not after the last). Returns the last layer's output (T, B, D*P) and
        the final states in index order."""
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, training=True)
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                output, final = run(index, self.bound_cell(index), x, direction == 1)
                outputs.append(output)
                finals.append(final)
            x = torch.cat(outputs, dim=2)
        return x, finals

    def readable(self, prepared: Prepared, hx: tuple[Tensor, ...] | None
                 ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """``unroll`` over every cell; returns ``output`` (T, B, D*P) or packed data (N, D*P)
        and the final states (L*D, B, .), batch in the caller's order."""
        x, lengths = prepared.x, None
        if prepared.batch_sizes is not None:
            packed = PackedSequence(*prepared[:4])
            x, lengths = pad_packed_sequence(packed)  # (T, B, I) in the caller's order

        def run(index: int, cell: nn.Module, x: Tensor, reverse: bool) -> tuple[Tensor, object]:
            state = cell.initial_state(x.shape[1], dtype=x.dtype, device=x.device)
            if hx is not None:
                state = state._replace(**{field: tensor[index] for field, tensor in
                                          zip(self.state_fields, hx, strict=True)})
            # The standard cell's readable path is the plain reference the fused kernel is
            # tested against; a variant cell takes compiled_unroll (C gate math, the same
            # numbers; it falls back to unroll wherever it does not apply).
            unrolled = unroll if type(cell) is LSTMCell else compiled_unroll
            output, final, _ = unrolled(cell, x, state, lengths=lengths, reverse=reverse)
            return output, final

        x, finals = self.through_layers(x, run)
        state = tuple(torch.stack([getattr(final, field) for final in finals])
                      for field in self.state_fields)
        if lengths is not None:
            order = prepared.sorted_indices
            padded = x if order is None else x.index_select(1, order)
            sorted_lengths = lengths if order is None else lengths[order.cpu()]
            x = pack_padded_sequence(padded, sorted_lengths).data
        return x, state

    def fused_path(self, prepared: Prepared, hx: tuple[Tensor, ...] | None,
                   fused: Callable[..., tuple[Tensor, ...]]) -> tuple[Tensor, tuple[Tensor, ...]]:
        """torch's fused kernel (``torch._VF.lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``) on the
        stack's flat weights, called exactly as ``torch.nn.RNNBase.forward`` calls it."""
        x, batch_sizes = prepared.x, prepared.batch_sizes
        if hx is None:
            batch_size = x.shape[1] if batch_sizes is None else int(batch_sizes[0])
            rows = self.num_layers * (2 if self.bidirectional else 1)
            hx = tuple(torch.zeros(rows, batch_size, size, dtype=x.dtype, device=x.device)
                       for size in self.state_sizes)
        elif prepared.sorted_indices is not None:  # torch's function wants the packed order
            hx = tuple(t.index_select(1, prepared.sorted_indices) for t in hx)
        state = hx[0] if len(hx) == 1 else hx
        arguments = (self._flat_weights, self.bias, self.num_layers, self.dropout,
                     self.training, self.bidirectional)
        # With proj_size on CPU, torch's kernel says once per process (as for nn.LSTM) that
        # oneDNN has no projections; no per-call warning filter here (it would reset Python's
        # show-once memory and is not thread-safe)
        if batch_sizes is None:
            result = fused(x, state, *arguments, False)  # x is (T, B, I)
        else:
            result = fused(x, batch_sizes, state, *arguments)
        output, state = result[0], tuple(result[1:])
        if prepared.unsorted_indices is not None:
            state = tuple(t.index_select(1, prepared.unsorted_indices) for t in state)
        return output, state

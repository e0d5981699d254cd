"""Shared by the layer tests: run one of our layers and its torch twin on the same weights and
inputs, then compare outputs, final states and the gradients of every parameter and input."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.testing import assert_close

TOLERANCES = {torch.float64: {"rtol": 1e-10, "atol": 1e-10},
              torch.float32: {"rtol": 1e-5, "atol": 1e-5}}
STEPS, BATCH, INPUT, HIDDEN = 6, 3, 3, 4
UNSORTED_LENGTHS = [4, 6, 2]


@dataclass(frozen=True)
class Case:
    """One point of the grid; ``inputs`` is padded, unbatched, packed_sorted or
    packed_unsorted. ``options``: module-specific constructor arguments."""

    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    bias: bool = True
    dropout: float = 0.0
    inputs: str = "padded"
    given_hx: bool = False
    options: dict = field(default_factory=dict)

    def kwargs(self) -> dict:
        return {"num_layers": self.num_layers, "bidirectional": self.bidirectional,
                "batch_first": self.batch_first, "bias": self.bias, "dropout": self.dropout,
                **self.options}


def make_pair(ours_class, torch_class, case: Case, dtype, fused: bool, torch_to_ours: bool):
    """Our module and torch's with identical weights, loaded one way or the other (strict
    ``load_state_dict``: the keys must be identical)."""
    torch.manual_seed(1)
    theirs = torch_class(INPUT, HIDDEN, dtype=dtype, **case.kwargs())
    torch.manual_seed(2)
    ours = ours_class(INPUT, HIDDEN, dtype=dtype, fused=fused, **case.kwargs())
    if torch_to_ours:
        ours.load_state_dict(theirs.state_dict())
    else:
        theirs.load_state_dict(ours.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.eval()
    theirs.eval()
    return ours, theirs


def make_inputs(module, case: Case, dtype, state_sizes: tuple[int, ...]):
    """Leaf tensors ``x`` and ``hx`` (or None) and a function building the module input."""
    generator = torch.Generator().manual_seed(3)
    directions = 2 if case.bidirectional else 1
    unbatched = case.inputs == "unbatched"
    if unbatched:
        shape = (STEPS, INPUT)
    else:
        shape = (BATCH, STEPS, INPUT) if case.batch_first else (STEPS, BATCH, INPUT)
    x = torch.randn(*shape, dtype=dtype, generator=generator, requires_grad=True)
    hx = None
    if case.given_hx:
        batch = () if unbatched else (BATCH,)
        hx = tuple(torch.randn(module.num_layers * directions, *batch, size, dtype=dtype,
                               generator=generator, requires_grad=True)
                   for size in state_sizes)

    def build():
        if case.inputs.startswith("packed"):
            lengths = UNSORTED_LENGTHS
            if case.inputs == "packed_sorted":
                lengths = sorted(lengths, reverse=True)
            return pack_padded_sequence(x, torch.tensor(lengths), batch_first=case.batch_first,
                                        enforce_sorted=case.inputs == "packed_sorted")
        return x

    return x, hx, build


def _flatten(output, state) -> list[torch.Tensor]:
    if isinstance(output, PackedSequence):
        output = output.data
    return [output, *(state if isinstance(state, tuple) else (state,))]


def check_parity(ours, theirs, case: Case, dtype, state_sizes: tuple[int, ...]) -> None:
    """Outputs, final states and the gradients of a random linear loss with respect to every
    parameter, the input and ``hx`` agree to the dtype's tolerance."""
    tolerance = TOLERANCES[dtype]
    x, hx, build = make_inputs(ours, case, dtype, state_sizes)
    results = []
    for module in (ours, theirs):
        state_in = None if hx is None else (hx[0] if len(hx) == 1 else hx)
        output, state = module(build(), state_in)
        if isinstance(output, PackedSequence):
            results.append((output.batch_sizes, output.sorted_indices, output.unsorted_indices))
        tensors = _flatten(output, state)
        generator = torch.Generator().manual_seed(4)
        loss = sum((t * torch.randn(t.shape, dtype=dtype, generator=generator)).sum()
                   for t in tensors)
        leaves = [*module.parameters(), x, *(hx or ())]
        results.append((tensors, torch.autograd.grad(loss, leaves)))
    if len(results) == 4:
        packing_ours, packing_theirs = results.pop(0), results.pop(1)
        for a, b in zip(packing_ours, packing_theirs, strict=True):
            assert (a is None and b is None) or torch.equal(a, b)
    (tensors_ours, grads_ours), (tensors_theirs, grads_theirs) = results
    assert_close(tensors_ours, tensors_theirs, **tolerance)
    assert_close(grads_ours, grads_theirs, **tolerance)

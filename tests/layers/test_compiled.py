"""The compiled path (``compiled_unroll``) against the readable one (``unroll``): outputs, final
states, recordings and the gradients of every parameter, the input and the initial state, for
the standard, peephole, CIFG and 1997 cells: to 1e-10 in float64 and 1e-5 in float32."""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from kernels_required import kernels_or_skip
from lstmlab.cells.cifg import CIFGLSTMCell
from lstmlab.cells.lstm import LSTMCell
from lstmlab.cells.lstm1997 import LSTM1997Cell
from lstmlab.cells.peephole import PeepholeLSTMCell
from lstmlab.cells.squash import IDENTITY, LOGISTIC
from lstmlab.layers import cell_kernels, compiled, products
from lstmlab.layers.compiled import compiled_unroll
from lstmlab.layers.unroll import unroll

kernels_or_skip(cell_kernels.load_cells(), "cells.c")

TOLERANCE = {torch.float64: {"rtol": 1e-10, "atol": 1e-10},
             torch.float32: {"rtol": 1e-5, "atol": 1e-5}}

CELLS = {
    "lstm": functools.partial(LSTMCell, 5, 7),
    "peephole": functools.partial(PeepholeLSTMCell, 5, 7),
    "peephole-detached": functools.partial(PeepholeLSTMCell, 5, 7, detach_peepholes=True),
    "peephole-nobias": functools.partial(PeepholeLSTMCell, 5, 7, bias=False),
    "cifg": functools.partial(CIFGLSTMCell, 5, 7),
    "cifg-nopeep": functools.partial(CIFGLSTMCell, 5, 7, peepholes=False),
    "lstm1997": functools.partial(LSTM1997Cell, 5, 3, 2, input_gate_bias=[-1, -2, -3]),
    "lstm1997-s1": functools.partial(LSTM1997Cell, 5, 4, 1, cell_bias=True),
    "lstm1997-truncated": functools.partial(LSTM1997Cell, 5, 3, 2, truncate_gradient=True),
    "lstm1997-2a": functools.partial(LSTM1997Cell, 5, 3, 1, output_gate=False, g=LOGISTIC,
                                     h=IDENTITY),
    "lstm1997-feedforward": functools.partial(LSTM1997Cell, 5, 3, 2, recurrent=False,
                                              output_gate=False),
}


def make(name: str, dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(3)
    cell = CELLS[name](dtype=dtype)
    with torch.no_grad():  # every parameter nonzero and large enough to matter
        for parameter in cell.parameters():
            parameter.uniform_(-0.8, 0.8)
    return cell


def random_state(cell: nn.Module, batch: int, dtype: torch.dtype):
    """A nonzero initial state (gate fields in (0, 1)) that asks for its gradient."""
    zero = cell.initial_state(batch, dtype=dtype)
    fields = [torch.rand(t.shape, dtype=dtype) * 0.9 + 0.05 for t in zero]
    return type(zero)(*(f.requires_grad_(True) for f in fields))


def took_fast_path(tensor: torch.Tensor) -> bool:
    """Whether the autograd graph of ``tensor`` holds the fast path's sequence node (so a test
    cannot pass by ``compiled_unroll`` quietly falling back to ``unroll``)."""
    stack = [tensor.grad_fn]
    for _ in range(4):
        stack = [fn for node in stack if node is not None for fn, _ in node.next_functions]
        if any(type(node).__name__ == "_SequenceBackward" for node in stack):
            return True
    return type(tensor.grad_fn).__name__ == "_SequenceBackward"


def run(path, cell, xs, state, weights):
    """Outputs, final state and the gradients of a loss touching every output and final
    state field (its weights fixed random numbers)."""
    cell.zero_grad()
    xs = xs.detach().requires_grad_(True)
    state = type(state)(*(t.detach().requires_grad_(True) for t in state))
    outputs, final, _ = path(cell, xs, state)
    assert took_fast_path(outputs) == (path is compiled_unroll)
    loss = (outputs * weights[0]).sum() + sum((t * w).sum() for t, w in
                                              zip(final, weights[1:], strict=False))
    loss.backward()
    grads = {name: p.grad for name, p in cell.named_parameters()}
    grads["xs"] = xs.grad
    for name, tensor in zip(state._fields, state, strict=True):
        grads[f"state.{name}"] = tensor.grad
    return outputs, final, grads


def use_loop(monkeypatch, loop: str) -> None:
    """Every way the fast path runs the steps: the whole sequence in C ("c-loop", small
    layers), and a Python loop of products and C gate kernels ("python-loop": oneDNN for the
    large float32 products; "-mkl": torch.mm everywhere; "-onednn-all": oneDNN for the weight
    gradients too). The oneDNN variants only differ in float32."""
    monkeypatch.setattr(compiled, "SMALL_STEP", 10**9 if loop == "c-loop" else 0)
    monkeypatch.setattr(products, "ONEDNN", loop != "python-loop-mkl")
    monkeypatch.setattr(products, "ONEDNN_MIN", 0)  # oneDNN even for the tests' tiny products
    monkeypatch.setattr(products, "ONEDNN_WEIGHT_GRADIENTS", loop == "python-loop-onednn-all")


# every cell through both loops in both dtypes; the other product paths (float32 only) with
# one cell of each kernel family
RUNS = [(name, loop, dtype) for name in CELLS for loop in ("c-loop", "python-loop")
        for dtype in TOLERANCE]
RUNS += [(name, loop, torch.float32) for name in ("peephole", "cifg", "lstm1997")
         for loop in ("python-loop-mkl", "python-loop-onednn-all")]


@pytest.mark.parametrize(("name", "loop", "dtype"), RUNS)
def test_fast_equals_readable(name: str, loop: str, dtype: torch.dtype, monkeypatch) -> None:
    use_loop(monkeypatch, loop)
    cell = make(name, dtype)
    generator = torch.Generator().manual_seed(1)
    steps, batch = 9, 4
    xs = torch.randn(steps, batch, 5, generator=generator, dtype=dtype)
    state = random_state(cell, batch, dtype)
    reference = unroll(cell, xs, state)
    weights = [torch.randn(reference.outputs.shape, generator=generator, dtype=dtype)]
    weights += [torch.randn(t.shape, generator=generator, dtype=dtype) for t in reference.state]
    expected = run(unroll, cell, xs, state, weights)
    actual = run(compiled_unroll, cell, xs, state, weights)
    tolerance = TOLERANCE[dtype]
    torch.testing.assert_close(actual[0], expected[0], **tolerance)
    for got, want in zip(actual[1], expected[1], strict=True):
        torch.testing.assert_close(got, want, **tolerance)
    assert actual[2].keys() == expected[2].keys()
    for key, want in expected[2].items():
        got = actual[2][key]
        if want is None:  # no gradient reaches it on the readable path (e.g. truncation)
            assert got is None or not got.any(), key
        else:
            torch.testing.assert_close(got, want, **tolerance, msg=lambda m, k=key: f"{k}: {m}")


@pytest.mark.parametrize("loop", ["c-loop", "python-loop"])
def test_zero_initial_state_and_long_sequence(loop: str, monkeypatch) -> None:
    """The default (zero) state and 200 steps, where errors would compound."""
    use_loop(monkeypatch, loop)
    cell = make("peephole", torch.float64)
    xs = torch.randn(200, 3, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    expected, actual = unroll(cell, xs), compiled_unroll(cell, xs)
    torch.testing.assert_close(actual.outputs, expected.outputs, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(actual.state.c, expected.state.c, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("loop", ["c-loop", "python-loop"])
@pytest.mark.parametrize("name", ["peephole", "lstm1997"])
def test_reverse(name: str, loop: str, monkeypatch) -> None:
    """reverse=True: outputs and final state as unroll's reverse direction."""
    use_loop(monkeypatch, loop)
    cell = make(name, torch.float64)
    xs = torch.randn(6, 3, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected, actual = unroll(cell, xs, reverse=True), compiled_unroll(cell, xs, reverse=True)
    assert took_fast_path(actual.outputs)
    torch.testing.assert_close(actual.outputs, expected.outputs, rtol=1e-10, atol=1e-10)
    for got, want in zip(actual.state, expected.state, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64])
@pytest.mark.parametrize("name", list(CELLS))
def test_recording_without_grad_is_fast_and_equal(name: str, dtype: torch.dtype,
                                                  monkeypatch) -> None:
    """record=True under no_grad: every recorded state and gate as unroll's, both directions,
    both loops, and unroll is never called."""
    cell = make(name, dtype)
    xs = torch.randn(7, 3, 5, generator=torch.Generator().manual_seed(5), dtype=dtype)
    state = random_state(cell, 3, dtype)
    with torch.no_grad():
        expected = [unroll(cell, xs, state, record=True, reverse=r) for r in (False, True)]

    def refuse(*args, **kwargs):
        raise AssertionError("compiled_unroll fell back to unroll")

    monkeypatch.setattr(compiled, "unroll", refuse)
    for small in (10**9, 0):
        monkeypatch.setattr(compiled, "SMALL_STEP", small)
        for reverse, want in zip((False, True), expected, strict=True):
            with torch.no_grad():
                got = compiled_unroll(cell, xs, state, record=True, reverse=reverse)
            pairs = [(got.outputs, want.outputs), *zip(got.state, want.state, strict=True)]
            for got_part, want_part in zip(got.recording, want.recording, strict=True):
                pairs += zip(got_part, want_part, strict=True)
            for actual, reference in pairs:
                torch.testing.assert_close(actual, reference, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", ["lstm", "peephole", "cifg-nopeep", "lstm1997"])
def test_no_grad_forward_in_chunks(name: str, dtype: torch.dtype, monkeypatch) -> None:
    """Without gradients the input projection goes chunk by chunk (here 2 steps, the last
    chunk short): outputs and final state as unroll's."""
    use_loop(monkeypatch, "python-loop")
    monkeypatch.setattr(compiled, "CHUNK_ROWS", 8)  # B = 4: two steps a chunk, T = 9
    cell = make(name, dtype)
    xs = torch.randn(9, 4, 5, generator=torch.Generator().manual_seed(6), dtype=dtype)
    state = random_state(cell, 4, dtype)
    with torch.no_grad():
        expected, actual = unroll(cell, xs, state), compiled_unroll(cell, xs, state)
    torch.testing.assert_close(actual.outputs, expected.outputs, **TOLERANCE[dtype])
    for got, want in zip(actual.state, expected.state, strict=True):
        torch.testing.assert_close(got, want, **TOLERANCE[dtype])


def test_record_with_grad_and_lengths_go_to_unroll() -> None:
    cell = make("cifg", torch.float64)
    xs = torch.randn(5, 2, 5, dtype=torch.float64)
    for kwargs in ({"lengths": [5, 3]}, {}):
        expected = unroll(cell, xs, record=True, **kwargs)
        actual = compiled_unroll(cell, xs, record=True, **kwargs)
        assert not took_fast_path(actual.outputs)
        torch.testing.assert_close(actual.outputs, expected.outputs, rtol=0, atol=0)
        torch.testing.assert_close(actual.recording.gates.input,
                                   expected.recording.gates.input, rtol=0, atol=0)


def test_uncovered_cells_fall_back_to_unroll() -> None:
    cell = LSTMCell(5, 7, proj_size=3, dtype=torch.float64)
    xs = torch.randn(4, 2, 5, dtype=torch.float64, requires_grad=True)
    actual = compiled_unroll(cell, xs).outputs
    assert not took_fast_path(actual)
    torch.testing.assert_close(actual, unroll(cell, xs).outputs, rtol=0, atol=0)


def test_bad_state_names_the_argument() -> None:
    cell = make("cifg", torch.float64)
    xs = torch.randn(4, 2, 5, dtype=torch.float64)
    state = cell.initial_state(3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"state\.h must be \(2, 7\) torch.float64 on cpu, "
                                         r"got \(3, 7\)"):
        compiled_unroll(cell, xs, state)
    wide = cell.initial_state(2, dtype=torch.float64)._replace(c=torch.zeros(2, 8,
                                                                             dtype=torch.float64))
    with pytest.raises(ValueError, match=r"state\.c must be \(2, 7\)"):
        compiled_unroll(cell, xs, wide)

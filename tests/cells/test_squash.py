"""[H97]'s squashing functions: each against its equation written here, its derivative against
autograd, its range, and its C kernel code against its function."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.cells.squash import (
    G2,
    H1,
    IDENTITY,
    KIND_IDENTITY,
    LOGISTIC,
    SQUASHES,
    Squash,
)

F64 = torch.float64
EXACT = {"rtol": 0.0, "atol": 0.0}
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


def test_each_is_its_equation_of_appendix_a1():
    x = torch.linspace(-30, 30, 601, dtype=F64)
    assert_close(LOGISTIC.fn(x), 1 / (1 + torch.exp(-x)), **TIGHT)  # eq. 3
    assert_close(H1.fn(x), torch.tanh(x / 2))  # eq. 4: 2 sigma(x) - 1 = tanh(x / 2)
    assert_close(G2.fn(x), 2 * torch.tanh(x / 2))  # eq. 5: 4 sigma(x) - 2
    assert_close(IDENTITY.fn(x), x, **EXACT)


def test_each_reaches_its_range_and_stays_in_it():
    x = torch.linspace(-40, 40, 801, dtype=F64)
    for squash in (LOGISTIC, H1, G2):
        low, high = squash.range
        values = squash.fn(x)
        assert_close(values.amin(), torch.tensor(low, dtype=F64))
        assert_close(values.amax(), torch.tensor(high, dtype=F64))
    assert IDENTITY.range == (-float("inf"), float("inf"))


def test_derivatives_match_autograd():
    net = torch.linspace(-5, 5, 21, dtype=F64, requires_grad=True)
    for squash in SQUASHES.values():
        (grad,) = torch.autograd.grad(squash.fn(net).sum(), net)
        assert_close(squash.derivative(net), grad, **TIGHT)


def test_the_kernel_code_computes_the_function():
    """The C kernels compute ``a * sigmoid(x) + b`` (kind 1) or ``x`` (kind 0) from the code."""
    x = torch.linspace(-8, 8, 33, dtype=F64)
    for squash in SQUASHES.values():
        kind, a, b = squash.kernel_code
        written = x if kind == KIND_IDENTITY else a * torch.sigmoid(x) + b
        assert_close(written, squash.fn(x), **TIGHT)


def test_names_are_table_10s():
    assert {name: squash.name for name, squash in SQUASHES.items()} == {
        "logistic": "logistic", "h1": "h1", "g2": "g2", "identity": "identity"}


def test_a_bad_squash_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="range: expected"):
        Squash("tanh", torch.tanh, lambda x: 1 - torch.tanh(x) ** 2, (1.0, -1.0))
    with pytest.raises(ValueError, match="kernel_code: expected"):
        Squash("tanh", torch.tanh, lambda x: 1 - torch.tanh(x) ** 2, (-1.0, 1.0), (2.0, 1.0, 0.0))

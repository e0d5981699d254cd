"""Shared pieces of the PyTorch conformance tests: the two targets and small helpers.

Every ported test takes ``api``, a namespace with ``LSTM``, ``GRU`` and ``RNN`` from either
``torch.nn`` or ``lstmlab.layers``, and must pass on both: a test that fails on ``torch.nn`` is
a bad port, one that fails on ``lstmlab.layers`` is a place where the drop-in is not one.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import lstmlab.layers

APIS = {
    "torch.nn": SimpleNamespace(LSTM=torch.nn.LSTM, GRU=torch.nn.GRU, RNN=torch.nn.RNN),
    "lstmlab.layers": SimpleNamespace(LSTM=lstmlab.layers.LSTM, GRU=lstmlab.layers.GRU,
                                      RNN=lstmlab.layers.RNN),
}
MODES = ("RNN", "GRU", "LSTM")


@pytest.fixture(params=list(APIS), name="api")
def api_fixture(request: pytest.FixtureRequest) -> SimpleNamespace:
    return APIS[request.param]


def seeded(factory, *args, seed: int = 0, **kwargs):
    """``factory(*args, **kwargs)`` with torch's global generator at ``seed``: both targets
    draw the same weights from the same seed (tested in the layer tests)."""
    torch.manual_seed(seed)
    return factory(*args, **kwargs)


def torch_twin(module: torch.nn.Module, **kwargs) -> torch.nn.Module:
    """The ``torch.nn`` module of the same class and configuration, holding ``module``'s
    weights (for comparing numbers across the two targets)."""
    twin = getattr(torch.nn, type(module).__name__)(**kwargs)
    twin = twin.to(next(module.parameters()).dtype)
    twin.load_state_dict(module.state_dict())
    return twin.train(module.training)

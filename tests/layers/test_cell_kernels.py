"""The cells' C kernels: built once into the cache, and without them compiled_unroll is unroll."""

from __future__ import annotations

import logging

import pytest
import torch

from kernels_required import needs_kernels
from lstmlab import native
from lstmlab.cells import PeepholeLSTMCell
from lstmlab.layers import _cell_kernels as cell_kernels
from lstmlab.layers import unroll
from lstmlab.layers._compiled import compiled_unroll


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty kernel cache; the process forgets what it loaded, before and after."""
    monkeypatch.setenv("LSTMLAB_CACHE", str(tmp_path))
    monkeypatch.delenv(native.REQUIRE_VARIABLE, raising=False)
    native.forget_loaded()
    yield tmp_path
    native.forget_loaded()


@needs_kernels(cell_kernels.load_cells, "cells.c")
def test_builds_once_into_the_cache(fresh_cache) -> None:
    assert cell_kernels.load_cells() is not None
    built = list(fresh_cache.glob("lstmlab_cells_*.so"))
    assert len(built) == 1
    native.forget_loaded()
    stamp = built[0].stat().st_mtime_ns
    assert cell_kernels.load_cells() is not None
    assert built[0].stat().st_mtime_ns == stamp  # loaded from the cache, not rebuilt
    assert cell_kernels.kernel("peephole_forward", torch.float16) is None


def test_without_a_compiler_compiled_unroll_is_unroll(fresh_cache, monkeypatch, caplog) -> None:
    monkeypatch.setenv("CC", str(fresh_cache / "no-such-compiler"))
    with caplog.at_level(logging.WARNING, logger="lstmlab.native"):
        assert cell_kernels.load_cells() is None
        assert cell_kernels.load_cells() is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once, saying how much slower the readable path is
    assert cell_kernels.SLOWER in warnings[0].getMessage()
    cell = PeepholeLSTMCell(3, 4, dtype=torch.float64)
    xs = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(compiled_unroll(cell, xs).outputs, unroll(cell, xs).outputs,
                               rtol=0, atol=0)

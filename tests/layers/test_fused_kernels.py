"""Building the fast path's C kernels: cached per machine, and a clean fallback without them."""

from __future__ import annotations

import shutil

import pytest
import torch

from lstmlab.cells.peephole import PeepholeLSTMCell
from lstmlab.layers import fused_kernels
from lstmlab.layers.fused import fused_unroll
from lstmlab.layers.unroll import unroll


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty kernel cache; ``load`` forgets what it loaded, before and after."""
    monkeypatch.setenv("LSTMLAB_CACHE", str(tmp_path))
    fused_kernels.load.cache_clear()
    yield tmp_path
    fused_kernels.load.cache_clear()


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler on this machine")
def test_builds_once_into_the_cache(fresh_cache) -> None:
    library = fused_kernels.load()
    assert library is not None
    built = list(fresh_cache.glob("lstmlab_kernels_*.so"))
    assert len(built) == 1
    fused_kernels.load.cache_clear()
    stamp = built[0].stat().st_mtime_ns
    assert fused_kernels.load() is not None
    assert built[0].stat().st_mtime_ns == stamp  # loaded from the cache, not rebuilt
    assert fused_kernels.kernel("peephole_forward", torch.float16) is None


def test_without_a_compiler_fused_unroll_is_unroll(fresh_cache, monkeypatch) -> None:
    monkeypatch.setenv("CC", str(fresh_cache / "no-such-compiler"))
    assert fused_kernels.load() is None
    cell = PeepholeLSTMCell(3, 4, dtype=torch.float64)
    xs = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(fused_unroll(cell, xs).outputs, unroll(cell, xs).outputs,
                               rtol=0, atol=0)

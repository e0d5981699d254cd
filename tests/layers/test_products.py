"""The fast path's products (oneDNN packed, or torch.mm) against plain torch products."""

from __future__ import annotations

import pytest
import torch

from lstmlab.layers._products import Product, weight_gradients_onednn


@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_product_equals_addmm(onednn: bool, dtype: torch.dtype) -> None:
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(24, 10, generator=generator, dtype=dtype)
    bias = torch.randn(24, generator=generator, dtype=dtype)
    y = torch.randn(6, 10, generator=generator, dtype=dtype)
    product = Product(weight, rows=6, onednn_min=0 if onednn else None)
    assert (product.packed is not None) == (onednn and dtype == torch.float32
                                             and torch.backends.mkldnn.is_available())
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-12,
                                                                              "atol": 1e-12}
    torch.testing.assert_close(product(y), y @ weight.T, **tolerance)
    torch.testing.assert_close(product(y, bias), torch.addmm(bias, y, weight.T), **tolerance)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch")
def test_weight_gradients_onednn() -> None:
    """dpre.T @ xs and dpre.T @ [y0, ys[:-1]] (T = 3, B = 2)."""
    generator = torch.Generator().manual_seed(1)
    dpre = torch.randn(6, 8, generator=generator)
    xs = torch.randn(6, 5, generator=generator)
    y0, ys = torch.randn(2, 4, generator=generator), torch.randn(3, 2, 4, generator=generator)
    dweight_ih, dweight_hh = weight_gradients_onednn(dpre, xs, y0, ys, True, True)
    y_prev = torch.cat([y0, ys[:-1].reshape(-1, 4)])
    torch.testing.assert_close(dweight_ih, dpre.T @ xs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dweight_hh, dpre.T @ y_prev, rtol=1e-5, atol=1e-5)

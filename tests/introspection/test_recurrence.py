"""Both solvers of c_t = f_t * c_{t-1} + u_t equal the recurrence written out."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection._recurrence import linear_recurrence, loop_recurrence, scan_recurrence


def written_out(f, u, c0):
    c, out = c0, []
    for t in range(u.shape[0]):
        c = f[t] * c + u[t]
        out.append(c)
    return torch.stack(out)


@pytest.mark.parametrize("solver", [loop_recurrence, scan_recurrence, linear_recurrence])
@pytest.mark.parametrize("steps", [1, 2, 5, 8, 33, 1000])
def test_solvers_equal_the_recurrence(solver, steps):
    generator = torch.Generator().manual_seed(steps)
    f = torch.rand(steps, 3, 4, dtype=torch.float64, generator=generator)
    u = torch.randn(steps, 3, 4, dtype=torch.float64, generator=generator)
    c0 = torch.randn(3, 4, dtype=torch.float64, generator=generator)
    torch.testing.assert_close(solver(f, u, c0), written_out(f, u, c0), rtol=0, atol=1e-12)


def test_scan_survives_underflowing_products():
    # f = 1e-30 makes prod f underflow to 0 after a dozen steps; no division means no nan
    f = torch.full((64, 1, 2), 1e-30, dtype=torch.float64)
    u = torch.ones(64, 1, 2, dtype=torch.float64)
    c = scan_recurrence(f, u, torch.ones(1, 2, dtype=torch.float64))
    torch.testing.assert_close(c, written_out(f, u, torch.ones(1, 2, dtype=torch.float64)),
                               rtol=0, atol=1e-12)

"""The new cells are plain torch ops: ``torch.export`` traces one step of each and each parallel
form without a graph break, and the exported program computes the eager numbers on new inputs.
(Dynamic sequence lengths, torch.compile and ONNX are the compile/export work's tests.)"""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lstmlab.cells import LayerNormLSTMCell, MinGRUCell, MinLSTMCell, MLSTMCell, SLSTMCell

B, I, H = 2, 4, 8
STEP_CELLS = [
    lambda: SLSTMCell(I, H, num_heads=2), lambda: MLSTMCell(I, H, num_heads=2),
    lambda: MinGRUCell(I, H), lambda: MinLSTMCell(I, H), lambda: LayerNormLSTMCell(I, H),
]


@pytest.mark.parametrize("make", STEP_CELLS, ids=["slstm", "mlstm", "mingru", "minlstm",
                                                  "layernorm"])
def test_step_exports_and_matches_eager(make):
    cell = make()
    state = cell.initial_state(B)
    program = torch.export.export(cell, (torch.randn(B, I), state))
    x = torch.randn(B, I)
    state, _ = cell(torch.randn(B, I), state)  # a non-initial state: m finite, n > 0
    exported_state, exported_gates = program.module()(x, state)
    eager_state, eager_gates = cell(x, state)
    for a, b in zip((*exported_state, *exported_gates), (*eager_state, *eager_gates),
                    strict=True):
        assert_close(a, b)


class _Parallel(nn.Module):
    def __init__(self, cell: nn.Module, **options) -> None:
        super().__init__()
        self.cell, self.options = cell, options

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        return self.cell.parallel(xs, **self.options).outputs


@pytest.mark.parametrize("module", [
    _Parallel(MinGRUCell(I, H)), _Parallel(MinLSTMCell(I, H)),
    _Parallel(MinLSTMCell(I, H), method="log", chunk_size=4),
    _Parallel(MLSTMCell(I, H, num_heads=2))], ids=["mingru", "minlstm", "minlstm-log", "mlstm"])
def test_parallel_form_exports_and_matches_eager(module):
    with torch.no_grad():
        program = torch.export.export(module, (torch.randn(10, B, I),))
        xs = torch.randn(10, B, I)
        assert_close(program.module()(xs), module(xs))

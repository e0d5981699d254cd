"""Gers, Schmidhuber & Cummins (2000) §2: without a forget gate the cell state of an LSTM fed a
continual stream grows without bound, its output squashing saturates, and error stops flowing;
a forget gate keeps it bounded. Checked on the continual embedded Reber grammar."""

import torch

from lstmlab.cells import LSTM1997Cell, LSTMCell
from lstmlab.layers import unroll
from lstmlab.tasks import ContinualEmbeddedReber

STEPS = 4000


def _stream():
    task = ContinualEmbeddedReber()
    return task.stream(1, torch.Generator().manual_seed(0)).next(STEPS).inputs.double()


def test_without_a_forget_gate_the_state_grows_linearly_and_h_saturates():
    cell = LSTM1997Cell(7, num_blocks=4, block_size=2, init_range=0.2, cell_bias=True,
                        generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        _, _, recording = unroll(cell, _stream(), record=True)
    size = recording.states.c.abs().mean(dim=(1, 2))                   # (T,) mean |s_c|
    growth = float(size[STEPS - 1] / size[STEPS // 4 - 1])
    assert growth > 3.0, f"|s_c| grew {growth:.2f}x over 4x the steps; a random walk gives ~2x"
    # h(s) = 2 sigmoid(s) - 1, h'(s) = 2 sigmoid(s) (1 - sigmoid(s)): the error gate closes
    slope = 2 * torch.sigmoid(recording.states.c) * (1 - torch.sigmoid(recording.states.c))
    assert float(slope[-100:].mean()) < 0.1 * float(slope[:100].mean())


def test_with_a_forget_gate_the_state_stays_within_the_geometric_bound():
    torch.manual_seed(2)
    cell = LSTMCell(7, 8, dtype=torch.float64)
    with torch.no_grad():
        _, _, recording = unroll(cell, _stream(), record=True)
    # |c_t| <= sum_k f_max^k |g| <= 1 / (1 - f_max): the closed form of docs/theory.md §2.1
    bound = 1 / (1 - recording.gates.forget.max())
    assert bool((recording.states.c.abs() <= bound).all())
    size = recording.states.c.abs().mean(dim=(1, 2))
    assert float(size[STEPS - 500:].mean() / size[STEPS // 4 - 500: STEPS // 4].mean()) < 1.5

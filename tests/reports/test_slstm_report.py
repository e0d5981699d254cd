"""The sLSTM report: its numbers are the trace's shares, and the shares rebuild the output."""

import re

import pytest
import torch
from torch.testing import assert_close

from lstmlab.errors import UserError
from lstmlab.layers import SLSTM
from lstmlab.reports import write_slstm_report


def _model_and_input():
    torch.manual_seed(5)
    model = SLSTM(3, 8, num_heads=2).double().eval()
    return model, torch.randn(12, 2, 3, dtype=torch.float64)


def test_the_report_states_shares_that_rebuild_h_from_the_candidates(tmp_path):
    model, x = _model_and_input()
    index = write_slstm_report(model, x, tmp_path, sequence=1, units=range(8))
    page = index.read_text(encoding="utf-8")
    # Independent reference: step the layer's own cell and keep every candidate z_t, then
    # h_T = o_T * sum_t weight_t z_t must equal the layer's output at T for the stated weights.
    with torch.no_grad():
        cell = model.bound_cell(0)
        state = cell.initial_state(2, dtype=torch.float64)
        candidates, weights_numerator = [], []
        for t in range(x.shape[0]):
            state, gates = cell(x[t], state)
            candidates.append(gates.candidate)
            weights_numerator = [w * gates.forget for w in weights_numerator] + [gates.input]
        weights = torch.stack(weights_numerator) / state.n  # (T, B, H)
        output, _ = model(x)
    rebuilt = gates.output * (weights * torch.stack(candidates)).sum(0)
    assert_close(rebuilt, output[-1], rtol=1e-10, atol=1e-12)
    # the page states the mean share of the steps' writes and of the last write, sequence 1
    kept = re.search(r"mean (\d\.\d{3}) \(the rest", page).group(1)
    last = re.search(r"most recent write\S*s share: mean (\d\.\d{3})", page).group(1)
    assert float(kept) == pytest.approx(float(weights[:, 1].sum(0).mean()), abs=6e-4)
    assert float(last) == pytest.approx(float(weights[-1, 1].mean()), abs=6e-4)
    for name in ("slstm_weight", "slstm_forget_product", "slstm_gate_0"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000
    assert "h_t = o_t * c_t / n_t" in page


def test_bad_arguments_are_named(tmp_path):
    model, x = _model_and_input()
    with pytest.raises(UserError, match="sequence: expected 0..1"):
        write_slstm_report(model, x, tmp_path, sequence=2)
    with pytest.raises(UserError, match="words: expected one per step"):
        write_slstm_report(model, x, tmp_path, words=["a"])

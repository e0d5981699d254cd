"""torch.nn.LSTM state dicts load unchanged into ours: same outputs as torch's module."""

import pytest
import torch

from lstmlab.interop import InteropError, load_lstm, lstm_from_state_dict


@pytest.mark.parametrize("kwargs", [
    {"num_layers": 1},
    {"num_layers": 2, "bidirectional": True},
    # torch's own notice that oneDNN has no projections (it falls back to its plain kernel)
    pytest.param({"num_layers": 1, "proj_size": 3}, marks=pytest.mark.filterwarnings(
        "ignore:LSTM with projections is not supported with oneDNN:UserWarning")),
    {"num_layers": 1, "bias": False},
])
def test_state_dict_file_gives_torch_outputs(tmp_path, kwargs):
    reference = torch.nn.LSTM(4, 5, batch_first=True, **kwargs)
    torch.save(reference.state_dict(), tmp_path / "lstm.pt")
    ours = load_lstm(tmp_path / "lstm.pt")
    x = torch.randn(2, 7, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, (h_ref, c_ref) = reference(x)
        output, (h, c) = ours(x)
    torch.testing.assert_close(output, expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(c, c_ref, atol=1e-6, rtol=1e-6)


def test_prefixed_state_dict_of_a_larger_model(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LSTM(4, 6))
    lstm = lstm_from_state_dict(model.state_dict())
    torch.testing.assert_close(lstm.weight_hh_l0, model[1].weight_hh_l0)


def test_whole_module_is_refused_with_advice(tmp_path):
    torch.save(torch.nn.LSTM(2, 3), tmp_path / "module.pt")
    with pytest.raises(InteropError, match="state_dict"):
        load_lstm(tmp_path / "module.pt")


def test_non_lstm_and_wrong_files(tmp_path):
    torch.save(torch.nn.GRU(2, 3).state_dict(), tmp_path / "gru.pt")
    with pytest.raises(InteropError, match="a GRU, not an LSTM"):
        load_lstm(tmp_path / "gru.pt")
    torch.save(torch.nn.Linear(2, 3).state_dict(), tmp_path / "linear.pt")
    with pytest.raises(InteropError, match="no LSTM or GRU weights"):
        load_lstm(tmp_path / "linear.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(InteropError, match="not a torch file"):
        load_lstm(tmp_path / "text.pt")
    with pytest.raises(InteropError, match="no such file"):
        load_lstm(tmp_path / "missing.pt")

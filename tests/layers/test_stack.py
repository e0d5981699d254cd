"""Bad input to the layers: a ValueError naming the argument, the expected and the received."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstmlab.layers import GRU, LSTM, RNN


@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_wrong_rank_and_feature_size(layer_class):
    layer = layer_class(3, 4)
    with pytest.raises(ValueError, match=r"input must have shape \(time, batch, 3\) or, "
                                         r"unbatched, \(time, 3\), got \(2, 5, 3, 1\)"):
        layer(torch.zeros(2, 5, 3, 1))
    with pytest.raises(ValueError, match=r"got \(5,\)"):
        layer(torch.zeros(5))
    with pytest.raises(ValueError, match=r"\(time, batch, 3\).*got \(5, 2, 7\)"):
        layer(torch.zeros(5, 2, 7))
    batch_first = layer_class(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"\(batch, time, 3\).*got \(2, 5, 4\)"):
        batch_first(torch.zeros(2, 5, 4))
    packed = pack_padded_sequence(torch.zeros(5, 2, 6), torch.tensor([5, 3]))
    with pytest.raises(ValueError, match=r"input \(packed\) must hold data of shape \(N, 3\), "
                                         r"got \(8, 6\)"):
        layer(packed)


@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_dtype_mismatch_between_input_and_parameters(layer_class):
    layer = layer_class(3, 4)
    with pytest.raises(ValueError, match=r"input must have the parameters' dtype torch.float32 "
                                         r"and device cpu, got torch.float64 on cpu"):
        layer(torch.zeros(5, 2, 3, dtype=torch.float64))


def test_lstm_hx_shapes():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    x = torch.zeros(5, 6, 3)
    h, c = torch.zeros(4, 6, 2), torch.zeros(4, 6, 4)
    with pytest.raises(ValueError, match=r"hx\[0\] must have shape \(4, 6, 2\), got \(4, 6, 4\)"):
        lstm(x, (c, c))
    with pytest.raises(ValueError, match=r"hx\[1\] must have shape \(4, 6, 4\), got \(2, 6, 4\)"):
        lstm(x, (h, c[:2]))
    with pytest.raises(ValueError, match=r"hx must be a tuple of 2 tensors \('h', 'c'\), "
                                         r"got Tensor"):
        lstm(x, h)
    with pytest.raises(ValueError, match=r"hx\[0\] must have shape \(4, 2\), got \(4, 6, 2\)"):
        lstm(x[:, 0], (h, c))  # unbatched input wants unbatched hx
    with pytest.raises(ValueError, match=r"hx\[1\] must have the input's dtype torch.float32 "
                                         r"and device cpu, got torch.float64"):
        lstm(x, (h, c.double()))


@pytest.mark.parametrize("layer_class", [GRU, RNN])
def test_gru_and_rnn_hx_shapes(layer_class):
    layer = layer_class(3, 4, num_layers=3)
    with pytest.raises(ValueError, match=r"hx must have shape \(3, 2, 4\), got \(3, 5, 4\)"):
        layer(torch.zeros(5, 2, 3), torch.zeros(3, 5, 4))
    packed = pack_padded_sequence(torch.zeros(5, 2, 3), torch.tensor([5, 3]))
    with pytest.raises(ValueError, match=r"hx must have shape \(3, 2, 4\), got \(3, 4\)"):
        layer(packed, torch.zeros(3, 4))


def test_constructor_arguments():
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\], got 1.5"):
        LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="num_layers must be an int >= 1, got 0"):
        GRU(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got -1"):
        RNN(3, -1)
    with pytest.raises(ValueError, match=r"proj_size must be smaller than hidden_size \(4\), "
                                         r"got 4"):
        LSTM(3, 4, proj_size=4)
    with pytest.warns(UserWarning, match="with num_layers=1 it does nothing"):
        LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize(("layer", "expected"), [
    (lambda: LSTM(3, 4), "LSTM(3, 4)"),
    (lambda: LSTM(3, 4, 2, bias=False, proj_size=2, fused=False),
     "LSTM(3, 4, num_layers=2, bias=False, proj_size=2, fused=False)"),
    (lambda: GRU(3, 4, bidirectional=True), "GRU(3, 4, bidirectional=True)"),
    (lambda: RNN(3, 4, nonlinearity="relu", batch_first=True, fused=False),
     "RNN(3, 4, nonlinearity='relu', batch_first=True, fused=False)"),
])
def test_repr_lists_the_options_that_differ_from_torchs_defaults(layer, expected):
    assert repr(layer()) == expected

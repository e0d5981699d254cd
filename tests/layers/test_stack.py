"""Bad input to the layers: torch's exception types and messages (see ``layers.arguments``),
naming the argument, the expected and the received."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstmlab.errors import UserError
from lstmlab.layers import GRU, LSTM, RNN, LayerInputError, LayerTypeError


@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_wrong_rank_and_feature_size(layer_class):
    layer = layer_class(3, 4)
    kind = layer_class.__name__
    with pytest.raises(UserError, match=rf"{kind}: Expected input to be 2D or 3D, got 4D "
                                        r"instead: \(time, batch, I\) or, unbatched, "
                                        r"\(time, I\)"):
        layer(torch.zeros(2, 5, 3, 1))
    with pytest.raises(UserError, match="got 1D instead"):
        layer(torch.zeros(5))
    with pytest.raises(LayerInputError, match=r"input.size\(-1\) must be equal to input_size. "
                                              r"Expected 3, got 7"):
        layer(torch.zeros(5, 2, 7))
    batch_first = layer_class(3, 4, batch_first=True)
    with pytest.raises(LayerInputError, match="Expected 3, got 4"):
        batch_first(torch.zeros(2, 5, 4))
    packed = pack_padded_sequence(torch.zeros(5, 2, 6), torch.tensor([5, 3]))
    with pytest.raises(LayerInputError, match="Expected 3, got 6"):  # torch does not check
        layer(packed)
    with pytest.raises(LayerTypeError, match="input must be a Tensor or a PackedSequence, "
                                             "got list"):
        layer([[0.0, 1.0, 2.0]])
    with pytest.raises(LayerInputError, match="Expected sequence length to be larger than 0"):
        layer(torch.zeros(0, 2, 3))


@pytest.mark.parametrize("layer_class", [LSTM, GRU, RNN])
def test_dtype_mismatch_between_input_and_parameters(layer_class):
    layer = layer_class(3, 4)
    with pytest.raises(UserError, match=r"RNN input dtype \(torch.float64\) does not match "
                                        r"weight dtype \(torch.float32\). Convert input: "
                                        r"input.to\(torch.float32\), or convert model: "
                                        r"model.to\(torch.float64\)"):
        layer(torch.zeros(5, 2, 3, dtype=torch.float64))


def test_lstm_hx_shapes():
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    x = torch.zeros(5, 6, 3)
    h, c = torch.zeros(4, 6, 2), torch.zeros(4, 6, 4)
    with pytest.raises(LayerInputError, match=r"Expected hidden\[0\] size \(4, 6, 2\), "
                                              r"got \[4, 6, 4\]"):
        lstm(x, (c, c))
    with pytest.raises(LayerInputError, match=r"Expected hidden\[1\] size \(4, 6, 4\), "
                                              r"got \[2, 6, 4\]"):
        lstm(x, (h, c[:2]))
    with pytest.raises(LayerInputError, match=r"lstm expects two hidden states: hx must be a "
                                              r"tuple \(h_0, c_0\) of two tensors, got Tensor"):
        lstm(x, h)
    with pytest.raises(LayerInputError, match=r"For unbatched 2-D input, hx and cx should also "
                                              r"be 2-D but got \(3-D, 3-D\) tensors"):
        lstm(x[:, 0], (h, c))
    with pytest.raises(LayerInputError, match=r"Expected hidden\[1\] to have the input's dtype "
                                              r"torch.float32 and device cpu, got torch.float64"):
        lstm(x, (h, c.double()))


@pytest.mark.parametrize("layer_class", [GRU, RNN])
def test_gru_and_rnn_hx_shapes(layer_class):
    layer = layer_class(3, 4, num_layers=3)
    with pytest.raises(LayerInputError, match=r"Expected hidden size \(3, 2, 4\), "
                                              r"got \[3, 5, 4\]"):
        layer(torch.zeros(5, 2, 3), torch.zeros(3, 5, 4))
    packed = pack_padded_sequence(torch.zeros(5, 2, 3), torch.tensor([5, 3]))
    with pytest.raises(LayerInputError, match=r"Expected hidden size \(3, 2, 4\), "
                                              r"got \[3, 4\]"):
        layer(packed, torch.zeros(3, 4))
    with pytest.raises(LayerInputError, match="hx must be a Tensor h_0, got tuple"):
        layer(torch.zeros(5, 2, 3), (torch.zeros(3, 2, 4),))
    with pytest.raises(LayerInputError, match="For batched 3-D input, hx should also be 3-D but "
                                              "got 2-D tensor"):
        layer(torch.zeros(5, 2, 3), torch.zeros(3, 4))


def test_constructor_arguments():
    with pytest.raises(UserError, match=r"dropout should be a number in range \[0, 1\] "
                                        r"representing the probability of an element being "
                                        r"zeroed, got 1.5"):
        LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(UserError, match="num_layers must be greater than zero, got 0"):
        GRU(3, 4, num_layers=0)
    with pytest.raises(UserError, match="hidden_size must be greater than zero, got -1"):
        RNN(3, -1)
    with pytest.raises(UserError, match=r"proj_size has to be smaller than hidden_size \(4\), "
                                        r"got 4"):
        LSTM(3, 4, proj_size=4)
    with pytest.raises(UserError, match="proj_size should be a positive integer or zero"):
        LSTM(3, 4, proj_size=-1)
    for name, value in (("num_layers", 1.5), ("proj_size", 1.0), ("hidden_size", True)):
        with pytest.raises(LayerTypeError, match=f"{name} should be of type int, got: "
                                                 f"{type(value).__name__}"):
            LSTM(**{"input_size": 3, "hidden_size": 4, name: value})
    for name in ("bidirectional", "fused"):
        with pytest.raises(LayerTypeError, match=f"{name} should be of type bool, got: str"):
            LSTM(3, 4, **{name: "False"})
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, "
                                         "but got dropout=0.5 and num_layers=1") as record:
        LSTM(3, 4, dropout=0.5)
    assert record[0].filename == __file__  # the warning points at the caller's line


@pytest.mark.parametrize(("layer", "expected"), [
    (lambda: LSTM(3, 4), "LSTM(3, 4)"),
    (lambda: LSTM(3, 4, 2, bias=False, proj_size=2, fused=False),
     "LSTM(3, 4, proj_size=2, num_layers=2, bias=False, fused=False)"),
    (lambda: GRU(3, 4, bidirectional=True), "GRU(3, 4, bidirectional=True)"),
    (lambda: RNN(3, 4, nonlinearity="relu", batch_first=True, fused=False),
     "RNN(3, 4, nonlinearity='relu', batch_first=True, fused=False)"),
])
def test_repr_lists_the_options_that_differ_from_torchs_defaults(layer, expected):
    assert repr(layer()) == expected

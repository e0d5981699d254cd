"""PyTorch's ``test/test_nn.py`` RNN/GRU/LSTM tests, ported, run on torch.nn and lstmlab.layers.

Ported from ``TestNN`` and ``TestNNDeviceType`` (pytorch/pytorch, test/test_nn.py): the CPU
parts of test_rnn_args_check, test_projections_lstm_args_check, test_cudnn_forward_exception,
test_error_RNN_seq_len_zero, test_RNN_input_size_zero, test_rnn_initial_hidden_state,
test_projections_lstm_initial_hidden_state, test_projections_errors_on_gru_and_rnn,
test_RNN_nonlinearity(_passed_as_arg), test_RNN_dropout, test_RNN_dropout_state,
test_RNN_change_dropout, test_rnn_weight_norm, test_rnn_retain_variables and
test_variable_sequence. Rewritten as pytest cases; where the original needs CUDA, only its CPU
half is here. Plus two checks the issue asked for: ``flatten_parameters()`` and Python's
show-once warning memory. Every test runs on both targets (``api``).
"""

from __future__ import annotations

import copy
import io
import itertools
import warnings

import pytest
import torch
from torch.nn.utils import rnn as rnn_utils
from torch.testing import assert_close
from torch_conformance import MODES, api_fixture, seeded  # noqa: F401

INPUT, HIDDEN, LAYERS, BATCH, STEPS, BAD = 3, 5, 2, 4, 6, 7  # BAD: prime, divides nothing


def _bad(shape: tuple[int, ...], dim: int, size: int = BAD) -> tuple[int, ...]:
    return shape[:dim] + (size,) + shape[dim + 1:]


def _hx(mode: str, shape, good=None):
    """The ``hx`` argument for ``mode``: one tensor, or for an LSTM every pairing of the given
    shape with a correct one (test_rnn_args_check tries the bad tensor as h and as c)."""
    if mode != "LSTM":
        return [torch.randn(shape)]
    if good is None or shape == good:
        return [(torch.randn(shape), torch.randn(shape))]
    return [(torch.randn(shape), torch.randn(good)), (torch.randn(good), torch.randn(shape))]


@pytest.mark.parametrize("mode", MODES)
def test_rnn_args_check(api, mode):
    """A wrong batch, input width, hidden width or layer count raises RuntimeError."""
    good_input = (STEPS, BATCH, INPUT)
    good_hidden = (LAYERS, BATCH, HIDDEN)
    wrong = [
        (_bad(good_input, 1), good_hidden),  # input batch
        (good_input, _bad(good_hidden, 1)),  # hidden batch
        (_bad(good_input, 2), good_hidden),  # input size
        (good_input, _bad(good_hidden, 2)),  # hidden size
        (good_input, _bad(good_hidden, 0)),  # hidden layers
    ]
    for input_shape, hidden_shape in wrong:
        for hx in _hx(mode, hidden_shape, good_hidden):
            model = getattr(api, mode)(INPUT, HIDDEN, LAYERS)
            with pytest.raises(RuntimeError):
                model(torch.randn(input_shape), hx)


def test_projections_lstm_args_check(api):
    """The same with proj_size: h is (L, B, P) and c is (L, B, H), each checked."""
    proj = 2
    good_input, good_h, good_c = (STEPS, BATCH, INPUT), (LAYERS, BATCH, proj), \
        (LAYERS, BATCH, HIDDEN)
    wrong = [
        (_bad(good_input, 1), good_h, good_c),
        (good_input, _bad(good_h, 1), _bad(good_c, 1)),
        (_bad(good_input, 2), good_h, good_c),
        (good_input, _bad(good_h, 2), _bad(good_c, 2)),
        (good_input, _bad(good_h, 0), _bad(good_c, 0)),
        (good_input, _bad(good_h, 0, HIDDEN), good_c),  # h as wide as c
        (good_input, _bad(good_h, 0), good_c),
        (good_input, good_h, _bad(good_c, 0)),
    ]
    for input_shape, h_shape, c_shape in wrong:
        model = api.LSTM(INPUT, HIDDEN, LAYERS, proj_size=proj)
        with pytest.raises(RuntimeError):
            model(torch.randn(input_shape), (torch.randn(h_shape), torch.randn(c_shape)))


@pytest.mark.parametrize(("mode", "proj_size"), [(mode, 0) for mode in MODES] + [("LSTM", 10)])
def test_forward_exception_messages(api, mode, proj_size):
    """test_cudnn_forward_exception (its checks run before any kernel, so on CPU too)."""
    options = {"proj_size": proj_size} if proj_size else {}
    rnn = getattr(api, mode)(10, 20, batch_first=True, **options)
    hidden = torch.zeros(1, 2, 19)
    hx = (hidden, hidden) if mode == "LSTM" else hidden
    with pytest.raises(RuntimeError, match="Expected hidden.*size.*got"):
        rnn(torch.randn(2, 3, 10), hx)
    with pytest.raises(RuntimeError, match=r"input\.size\(-1\) must be equal to input_size"):
        rnn(torch.randn(2, 3, 3))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_error_on_zero_sequence_length(api, mode, bidirectional):
    rnn = getattr(api, mode)(5, 6, bidirectional=bidirectional).double()
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        rnn(torch.ones(0, 10, 5, dtype=torch.float64))


@pytest.mark.parametrize("mode", MODES)
def test_zero_batch(api, mode):
    """test_RNN_input_size_zero: a batch of zero sequences works, and so does backward."""
    rnn = getattr(api, mode)(input_size=3, hidden_size=4)
    outputs = rnn(torch.zeros(5, 0, 3))
    assert outputs[0].shape == (5, 0, 4)
    outputs[0].sum().backward()


@pytest.mark.parametrize("mode", MODES)
def test_zero_initial_state_equals_none(api, mode):
    """test_rnn_initial_hidden_state."""
    rnn = getattr(api, mode)(30, 20, 2)
    x = torch.randn(10, 32, 30)
    hidden = torch.zeros(2, 32, 20)
    hx = (hidden, hidden) if mode == "LSTM" else hidden
    output1, hidden1 = rnn(x, hx)
    output2, hidden2 = rnn(x)
    assert_close(output1, output2)
    assert_close(hidden1, hidden2)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_projections_zero_initial_state_equals_none(api, bidirectional):
    """test_projections_lstm_initial_hidden_state (float64: float32 with projections makes
    torch print its once-per-process oneDNN notice, which the test suite turns into an error)."""
    rnn = api.LSTM(30, 20, 2, bidirectional=bidirectional, proj_size=10, dtype=torch.float64)
    directions = 2 if bidirectional else 1
    x = torch.randn(10, 32, 30, dtype=torch.float64)
    hidden = (torch.zeros(2 * directions, 32, 10, dtype=torch.float64),
              torch.zeros(2 * directions, 32, 20, dtype=torch.float64))
    output1, hidden1 = rnn(x, hidden)
    output2, hidden2 = rnn(x)
    assert_close(output1, output2)
    assert_close(hidden1, hidden2)


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_projections_errors_on_gru_and_rnn(api, mode):
    with pytest.raises(ValueError,
                       match="proj_size argument is only supported for LSTM, not RNN or GRU"):
        getattr(api, mode)(30, 20, 2, proj_size=10)


def test_rnn_nonlinearity(api):
    assert api.RNN(1, 10).nonlinearity == "tanh"
    assert api.RNN(1, 10, nonlinearity="relu").nonlinearity == "relu"
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        api.RNN(1, 10, nonlinearity="garbage")


def test_rnn_nonlinearity_passed_as_arg(api):
    rnn = api.RNN(2, 3, 1, "relu")
    assert rnn.nonlinearity == "relu"
    x = torch.randn(1, 2, 2)
    assert bool((rnn(x)[0] >= 0).all())  # relu


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("p", [0.0, 0.276, 0.731, 1.0])
def test_dropout_sits_between_layers(api, p, train):
    """test_RNN_dropout: all-ones weights and input make every unit of layer 0 equal 10 and
    of layer 1 equal 1000 * 10 * (kept share / (1 - p)), so the output reveals the dropout."""
    torch.set_default_dtype(torch.float64)
    try:
        rnn = api.RNN(10, 1000, 2, bias=False, dropout=p, nonlinearity="relu")
    finally:
        torch.set_default_dtype(torch.float32)
    rnn.train(train)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"):
            getattr(rnn, name).fill_(1)
    with torch.no_grad():
        output, hy = rnn(torch.ones(1, 1, 10, dtype=torch.float64),
                         torch.zeros(2, 1, 1000, dtype=torch.float64))
    assert output.min() == output.max()
    value = float(output[0, 0, 0])
    if p == 0 or not train:
        assert value == 10000
    elif p == 1:
        assert value == 0
    else:
        assert 8000 < value < 12000
        remainder = (value * (1 - p)) % 10
        assert min(remainder, 10 - remainder) < 1e-2
    assert hy[0].min() == hy[0].max() and hy[1].min() == hy[1].max()
    assert float(hy[0, 0, 0]) == 10
    assert float(hy[1, 0, 0]) == value


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("p", [0.0, 0.1234])
def test_dropout_state_survives_a_copy(api, p, train):
    """test_RNN_dropout_state: a saved-and-restored module (here: a deep copy and a state
    dict through torch.save / torch.load(weights_only=True), not a pickled module loaded with
    weights_only=False) computes the same; flatten_parameters() is called on it as there."""
    rnn = api.RNN(100, 100, 2, bias=False, dropout=p, nonlinearity="relu")
    rnn.train(train)
    x, hx = torch.rand(1, 1, 100), torch.rand(2, 1, 100)
    output1, hy1 = rnn(x, hx)
    output2, hy2 = rnn(x, hx)
    buffer = io.BytesIO()
    torch.save(rnn.state_dict(), buffer)
    buffer.seek(0)
    rnn2 = copy.deepcopy(rnn)
    rnn2.load_state_dict(torch.load(buffer, weights_only=True))
    assert rnn2.flatten_parameters() is None
    output3, hy3 = rnn2(x, hx)
    if p == 0 or not train:
        assert_close(output1, output2)
        assert_close(output1, output3)
        assert_close(hy1, hy2)
        assert_close(hy1, hy3)
    else:
        assert not torch.equal(output1, output2)
        assert not torch.equal(output1, output3)
        assert not torch.equal(hy1, hy2)
        assert not torch.equal(hy1, hy3)


@pytest.mark.parametrize("train", [True, False])
def test_changing_dropout_after_construction(api, train):
    """test_RNN_change_dropout: ``rnn.dropout = p`` takes effect at the next call."""
    rnn = api.RNN(100, 100, 2, dropout=0, nonlinearity="relu").double()
    rnn.train(train)
    x = torch.rand(3, 2, 100, dtype=torch.float64)
    previous = None
    for p in (0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0):
        rnn.dropout = p
        output1, hy1 = rnn(x)
        output2, hy2 = rnn(x)
        if p in (0, 1) or not train:
            assert_close(output1, output2)
            assert_close(hy1, hy2)
        else:
            assert not torch.equal(output1, output2)
            assert not torch.equal(hy1, hy2)
        if previous is not None:
            assert torch.equal(output1, previous) is (not train)
            assert torch.equal(output2, previous) is (not train)
        previous = output1


@pytest.mark.parametrize(("name", "options", "count"), [
    ("weight_ih_l0", {}, 4), ("weight_hr_l0", {"proj_size": 16}, 5)])
def test_weight_norm(api, name, options, count):
    """test_rnn_weight_norm, plus: the reparametrized module computes with the new weight."""
    lstm = api.LSTM(32, 32, dtype=torch.float64, **options)
    x = torch.randn(4, 2, 32, dtype=torch.float64)
    expected = lstm(x)[0]
    with warnings.catch_warnings():
        # torch.nn.utils.weight_norm is deprecated in favour of parametrizations.weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        lstm = torch.nn.utils.weight_norm(lstm, name=name)
    assert sum(isinstance(p, torch.nn.Parameter) for p in lstm._flat_weights) == count - 1
    assert_close(lstm(x)[0], expected)
    with torch.no_grad():
        getattr(lstm, name + "_g").mul_(2)  # a changed norm must change the computation
    doubled = lstm(x)[0]
    assert not torch.allclose(doubled, expected)
    lstm = torch.nn.utils.remove_weight_norm(lstm, name=name)
    assert sum(isinstance(p, torch.nn.Parameter) for p in lstm._flat_weights) == count
    assert name in lstm._parameters
    assert name + "_g" not in lstm._parameters and name + "_v" not in lstm._parameters
    assert sum(1 for n, _ in lstm.named_parameters() if n == name) == 1
    assert_close(lstm(x)[0], doubled)


def test_parametrized_weight_norm(api):
    """torch.nn.utils.parametrizations.weight_norm: the modern reparametrization."""
    lstm = api.LSTM(6, 5, dtype=torch.float64)
    x = torch.randn(4, 2, 6, dtype=torch.float64)
    expected = lstm(x)[0]
    torch.nn.utils.parametrizations.weight_norm(lstm, name="weight_hh_l0")
    assert_close(lstm(x)[0], expected)
    with torch.no_grad():
        lstm.parametrizations.weight_hh_l0.original0.mul_(3)
    assert not torch.allclose(lstm(x)[0], expected)


@pytest.mark.parametrize("mode", MODES)
def test_retain_graph_gives_the_same_gradients(api, mode):
    """test_rnn_retain_variables."""
    rnn = getattr(api, mode)(10, 20, num_layers=2).double()
    x = torch.randn(5, 6, 10, dtype=torch.float64, requires_grad=True)
    output = rnn(x)
    output[0].sum().backward(retain_graph=True)
    grads = [x.grad.clone()] + [p.grad.clone() for p in rnn.parameters()]
    for _ in range(4):
        rnn.zero_grad()
        x.grad.zero_()
        output[0].sum().backward(retain_graph=True)
        assert_close([x.grad] + [p.grad for p in rnn.parameters()], grads)


@pytest.mark.parametrize(("enforce_sorted", "lengths"), [
    (True, [5]), (False, [5]), (True, [10, 10, 6, 2, 2, 1, 1]),
    (False, [10, 10, 6, 2, 2, 1, 1]), (False, [2, 1, 3, 2, 10, 5, 3])])
@pytest.mark.parametrize("default_hidden", [True, False])
@pytest.mark.parametrize("proj_size", [0, 2])
def test_variable_sequence(api, enforce_sorted, lengths, default_hidden, proj_size):
    """test_variable_sequence: a packed batch gives each sequence's own numbers (outputs,
    final states, and the gradients of input and weights), bidirectional, two layers."""
    dtype = torch.float64
    lstm = seeded(api.LSTM, 3, 4, bidirectional=True, num_layers=2, proj_size=proj_size,
                  dtype=dtype)
    alone = copy.deepcopy(lstm)
    longest = max(lengths)
    x = torch.randn(longest, len(lengths), 3, dtype=dtype, requires_grad=True)
    hidden0 = None
    if not default_hidden:
        hidden0 = (torch.randn(4, len(lengths), proj_size or 4, dtype=dtype),
                   torch.randn(4, len(lengths), 4, dtype=dtype))
    outputs, finals = [], []
    for i, length in enumerate(lengths):
        hx = None if hidden0 is None else tuple(t[:, i:i + 1] for t in hidden0)
        output, final = alone(x[:length, i:i + 1], hx)
        padding = output.new_zeros(longest - length, *output.shape[1:])
        outputs.append(torch.cat([output, padding]))
        finals.append(final)
    one_by_one = torch.cat(outputs, 1)
    one_by_one_final = tuple(torch.cat(parts, 1) for parts in zip(*finals, strict=True))
    packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    packed_output, packed_final = lstm(packed, hidden0)
    unpacked, unpacked_lengths = rnn_utils.pad_packed_sequence(packed_output)
    assert_close(packed_final, one_by_one_final, rtol=0, atol=1e-10)
    assert_close(unpacked, one_by_one, rtol=0, atol=1e-10)
    assert unpacked_lengths.tolist() == lengths
    one_by_one.sum().backward()
    grad_x = x.grad.clone()
    x.grad.zero_()
    unpacked.sum().backward()
    assert_close(x.grad, grad_x, rtol=0, atol=1e-10)
    for p1, p2 in zip(lstm.parameters(), alone.parameters(), strict=True):
        assert_close(p1.grad, p2.grad, rtol=0, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_flatten_parameters(api, mode):
    """Called by DataParallel and much training code after ``.cuda()``: exists, returns None,
    and changes no number (on CPU it does nothing, as torch's)."""
    rnn = getattr(api, mode)(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(5, 2, 3)
    before = rnn(x)[0]
    assert rnn.flatten_parameters() is None
    assert_close(rnn(x)[0], before, rtol=0, atol=0)


@pytest.mark.parametrize("mode", MODES)
def test_a_warning_in_the_users_loop_is_shown_once(api, mode):
    """Python shows a warning once per code location ("default" action). A layer that wraps
    its forward in warnings.catch_warnings() resets that memory on every call, and the user's
    warning reappears at every step; nn.LSTM leaves it alone."""
    rnn = getattr(api, mode)(3, 4)
    x = torch.randn(2, 1, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(5):
            rnn(x)
            warnings.warn("user's notice, once", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["user's notice, once"]


def test_flags_are_not_read_as_truthy_strings(api):
    """batch_first="False" must not silently mean batch-first (issue 17): TypeError."""
    for flag in ("batch_first", "bias"):
        for value in ("False", "True", 0, 1, None):
            with pytest.raises(TypeError, match=f"{flag} should be of type bool"):
                api.LSTM(3, 4, **{flag: value})


@pytest.mark.parametrize(("bias", "batch_first", "bidirectional"),
                         list(itertools.product((False, True), repeat=3)))
def test_flags_take_effect(api, bias, batch_first, bidirectional):
    """The bool flags as given: parameter count, input layout and output width."""
    lstm = api.LSTM(3, 4, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    assert len(list(lstm.parameters())) == directions * (4 if bias else 2)
    x = torch.randn(2, 5, 3) if batch_first else torch.randn(5, 2, 3)
    output, (h_n, _) = lstm(x)
    assert output.shape == ((2, 5, 4 * directions) if batch_first else (5, 2, 4 * directions))
    assert h_n.shape == (directions, 2, 4)

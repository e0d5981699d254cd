"""The LSTM layer against torch.nn.LSTM (both paths), variants, seeds, dropout, bad input."""

import copy
import functools

import pytest
import torch
from layer_parity import Case, check_parity, make_pair
from torch.testing import assert_close

from lstmlab.cells import CIFGLSTMCell, LSTMCell, PeepholeLSTMCell
from lstmlab.layers import LSTM, unroll

# torch.nn.LSTM itself warns (once) that oneDNN has no projections; ours does not
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

CASES = [
    Case(),
    Case(num_layers=2, bidirectional=True, dropout=0.3, given_hx=True),
    Case(num_layers=3, batch_first=True, bias=False, given_hx=True, options={"proj_size": 2}),
    Case(num_layers=2, bidirectional=True, batch_first=True, inputs="unbatched",
         given_hx=True, options={"proj_size": 2}),
    Case(bidirectional=True, inputs="unbatched"),
    Case(num_layers=2, bidirectional=True, dropout=0.5, inputs="packed_unsorted",
         given_hx=True, options={"proj_size": 3}),
    Case(bias=False, inputs="packed_sorted", batch_first=True, given_hx=True),
    Case(num_layers=2, inputs="packed_unsorted"),
    Case(bidirectional=True, batch_first=True),
]


def _state_sizes(case):
    return (case.options.get("proj_size") or 4, 4)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
@pytest.mark.parametrize("torch_to_ours", [True, False], ids=["torch->ours", "ours->torch"])
def test_float64_parity_with_torch(case, fused, torch_to_ours):
    ours, theirs = make_pair(LSTM, torch.nn.LSTM, case, torch.float64, fused, torch_to_ours)
    check_parity(ours, theirs, case, torch.float64, _state_sizes(case))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_float32_parity_with_torch(case, fused):
    ours, theirs = make_pair(LSTM, torch.nn.LSTM, case, torch.float32, fused, True)
    check_parity(ours, theirs, case, torch.float32, _state_sizes(case))


def test_same_seed_same_weights_as_torch():
    torch.manual_seed(5)
    ours = LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    torch.manual_seed(5)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    assert_close(ours.state_dict(), theirs.state_dict(), rtol=0, atol=0)
    first, second = LSTM(3, 4, 2), LSTM(3, 4, 2)
    first.reset_parameters(torch.Generator().manual_seed(9))
    second.reset_parameters(torch.Generator().manual_seed(9))
    assert_close(first.state_dict(), second.state_dict(), rtol=0, atol=0)


def test_attributes_are_torchs():
    ours = LSTM(3, 4, 2, batch_first=True, bidirectional=True, proj_size=2)
    theirs = torch.nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True, proj_size=2)
    for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size", "mode", "_flat_weights_names"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert [[w.shape for w in ws] for ws in ours.all_weights] == \
        [[w.shape for w in ws] for ws in theirs.all_weights]
    assert ours.weight_hr_l1_reverse.shape == (2, 4)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_dropout_in_training_mode(fused):
    # dropout=1 zeroes layer 1's input: the output must equal torch's in eval mode with
    # layer 1's input weights zeroed (a closed form of "dropout acts between layers")
    torch.manual_seed(6)
    ours = LSTM(3, 4, num_layers=2, dropout=1.0, dtype=torch.float64, fused=fused)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, dtype=torch.float64).eval()
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        theirs.weight_ih_l1.zero_()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    output, (h_n, c_n) = ours.train()(x)
    expected, (expected_h, expected_c) = theirs(x)
    assert_close(output, expected, rtol=1e-10, atol=1e-10)
    assert_close(c_n, expected_c, rtol=1e-10, atol=1e-10)


def test_fused_dropout_matches_torch_with_the_same_seed():
    ours = LSTM(3, 4, num_layers=3, dropout=0.4, dtype=torch.float64)
    theirs = torch.nn.LSTM(3, 4, num_layers=3, dropout=0.4, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.manual_seed(7)
    output, _ = ours(x)
    torch.manual_seed(7)
    expected, _ = theirs(x)
    assert_close(output, expected, rtol=1e-10, atol=1e-10)


class _ScaledForgetCell(LSTMCell):
    """A test variant with one extra parameter: the forget gate times ``forget_scale`` (H,)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forget_scale = torch.nn.Parameter(torch.ones(self.hidden_size,
                                                          dtype=self.weight_ih.dtype))

    def forward(self, x, state):
        new_state, gates = super().forward(x, state)
        f = gates.forget * self.forget_scale
        c = f * state.c + gates.input * gates.candidate
        h = gates.output * torch.tanh(c)
        return type(new_state)(h, c), gates._replace(forget=f)


def test_variant_cell_names_its_extra_parameters_and_runs_readable():
    ours = LSTM(3, 4, num_layers=2, bidirectional=True, cell=_ScaledForgetCell,
                dtype=torch.float64)
    assert not ours.fused
    assert "forget_scale_l1_reverse" in ours.state_dict()
    assert ours._flat_weights_names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                            "bias_hh_l0", "forget_scale_l0"]
    # with scale 1 the variant is the standard LSTM: torch's numbers
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    standard = {k: v for k, v in ours.state_dict().items() if "forget_scale" not in k}
    theirs.load_state_dict(standard)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    assert_close(ours(x)[0], theirs(x)[0], rtol=1e-10, atol=1e-10)
    # a changed extra parameter reaches the computation, and gets its gradient
    with torch.no_grad():
        ours.forget_scale_l0.fill_(0.5)
    output, _ = ours(x)
    assert not torch.allclose(output, theirs(x)[0])
    output.sum().backward()
    assert ours.forget_scale_l0.grad.abs().sum() > 0


def test_partial_cell_and_fused_request_for_a_variant():
    make = functools.partial(_ScaledForgetCell)
    assert LSTM(3, 4, cell=make).fused is False
    with pytest.raises(ValueError, match="fused=True needs cell=LSTMCell"):
        LSTM(3, 4, cell=_ScaledForgetCell, fused=True)


def test_to_and_load_state_dict_keep_the_readable_path_in_sync():
    ours = LSTM(3, 4, fused=False)
    ours.double()
    theirs = torch.nn.LSTM(3, 4, dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())
    ours.weight_hh_l0 = torch.nn.Parameter(theirs.weight_hh_l0.detach() * 2)
    with torch.no_grad():
        theirs.weight_hh_l0.mul_(2)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    assert_close(ours(x)[0], theirs(x)[0], rtol=1e-10, atol=1e-10)


def test_peephole_variant_with_zero_peepholes_is_torchs_lstm():
    ours = LSTM(3, 4, num_layers=2, bidirectional=True, cell=PeepholeLSTMCell,
                dtype=torch.float64)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    theirs.load_state_dict({k: v for k, v in ours.state_dict().items() if "peephole" not in k})
    with torch.no_grad():
        for name, parameter in ours.named_parameters():
            if name.startswith("weight_peephole"):
                parameter.zero_()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    hx = (torch.randn(4, 2, 4, dtype=torch.float64), torch.randn(4, 2, 4, dtype=torch.float64))
    output, (h_n, c_n) = ours(x, hx)
    expected, (expected_h, expected_c) = theirs(x, hx)
    assert_close(output, expected, rtol=1e-10, atol=1e-10)
    assert_close(c_n, expected_c, rtol=1e-10, atol=1e-10)


def test_deepcopy_keeps_the_cells_bound_to_the_copys_parameters():
    ours = LSTM(3, 4, num_layers=2, fused=False, dtype=torch.float64)
    twin = copy.deepcopy(ours)
    with torch.no_grad():
        twin.weight_hh_l1.mul_(3)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    assert_close(ours(x)[0], theirs(x)[0], rtol=1e-10, atol=1e-10)
    theirs.load_state_dict(twin.state_dict())
    assert_close(twin(x)[0], theirs(x)[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_functional_call_reaches_both_paths(fused):
    # torch.func.functional_call swaps the module's parameters for the call: both paths must
    # read the swapped tensors (population training and gradient tools rely on it)
    ours = LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64, fused=fused)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    replacement = {name: torch.randn_like(p) for name, p in theirs.named_parameters()}
    theirs.load_state_dict(replacement)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    output, (h_n, c_n) = torch.func.functional_call(ours, replacement, (x,))
    expected, (expected_h, expected_c) = theirs(x)
    assert_close(output, expected, rtol=1e-10, atol=1e-10)
    assert_close(c_n, expected_c, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cell_class", [PeepholeLSTMCell, CIFGLSTMCell])
def test_variant_layer_takes_the_compiled_kernels_and_equals_unroll(cell_class, monkeypatch):
    """A variant layer runs compiled_unroll; the numbers and gradients are unroll's."""
    from lstmlab.layers import _compiled as compiled
    from lstmlab.layers import _stack as stack

    torch.manual_seed(3)
    layer = LSTM(3, 4, num_layers=2, bidirectional=True, cell=cell_class, dtype=torch.float64)
    with torch.no_grad():
        for parameter in layer.parameters():
            parameter.uniform_(-0.8, 0.8)
    x = torch.randn(7, 2, 3, dtype=torch.float64, requires_grad=True)
    calls = []
    monkeypatch.setattr(stack, "compiled_unroll",
                        lambda *a, **k: calls.append(1) or compiled.compiled_unroll(*a, **k))
    output, (h, c) = layer(x)
    fast = torch.autograd.grad(output.square().sum() + c.sum(), [x, *layer.parameters()])
    assert len(calls) == 4
    monkeypatch.setattr(stack, "compiled_unroll", unroll)
    output_ref, (h_ref, c_ref) = layer(x)
    slow = torch.autograd.grad(output_ref.square().sum() + c_ref.sum(), [x, *layer.parameters()])
    torch.testing.assert_close(output, output_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close((h, c), (h_ref, c_ref), rtol=0, atol=1e-12)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["SLSTMCell", "MinLSTMCell", "MinGRUCell"])
def test_cells_whose_state_is_not_h_c_are_refused_by_name(cell):
    # sLSTM would silently drop a given c_0 (m_0 = -inf); minLSTM/minGRU have no c at all.
    import lstmlab.cells

    with pytest.raises(ValueError, match=f"cell={cell}: LSTM carries the state"):
        LSTM(3, 4, cell=getattr(lstmlab.cells, cell))

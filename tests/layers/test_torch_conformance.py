"""PyTorch's own module tests for RNN, GRU and LSTM, ported, run on torch.nn and lstmlab.layers.

Source: ``torch/testing/_internal/common_modules.py`` (torch 2.13), the ``module_db`` entries of
``torch.nn.RNN/GRU/LSTM``: their error inputs (``module_error_inputs_torch_nn_RNN_GRU``: the
exception type and torch's regular expression, checked here as torch's ``TestModule`` checks
them), their module inputs (``module_inputs_torch_nn_RNN_GRU`` / ``_LSTM``: the no-batch-dim
samples with their reference, an unbatched call equals the batched call on one sequence), and the
generic checks ``test/test_modules.py`` runs on every sample (repr, pickling, factory kwargs,
train/eval, non-contiguous inputs, gradcheck). Rewritten as pytest cases, not copied; the
``test/test_nn.py`` ports are in ``test_torch_conformance_nn.py``. Each test runs on both
targets (``api``); on ``lstmlab.layers`` the numbers are also compared with ``torch.nn`` on the
same weights.
"""

from __future__ import annotations

import copy
import itertools
import pickle

import pytest
import torch
from torch.testing import assert_close
from torch_conformance import MODES, api_fixture, seeded, torch_twin  # noqa: F401

from lstmlab.errors import UserError

# module_error_inputs_torch_nn_RNN_GRU (shared by RNN, GRU and LSTM): constructor arguments,
# the exception type torch's test expects, and its regular expression.
CONSTRUCTION_ERRORS = [
    ((10, 0, 1), {}, ValueError, "hidden_size must be greater than zero"),
    ((10, 10, 0), {}, ValueError, "num_layers must be greater than zero"),
    ((3, 5), {"bias": 0}, TypeError, "bias should be of type bool, got: int"),
    ((3, 5), {"bias": 1}, TypeError, "bias should be of type bool, got: int"),
    ((3, 5), {"bias": "True"}, TypeError, "bias should be of type bool, got: str"),
    ((3, 5), {"batch_first": 0}, TypeError, "batch_first should be of type bool, got: int"),
    ((3, 5), {"batch_first": 1}, TypeError, "batch_first should be of type bool, got: int"),
    ((3, 5), {"batch_first": "False"}, TypeError,
     "batch_first should be of type bool, got: str"),
    ((3.0, 5), {}, TypeError, "input_size should be of type int, got: float"),
    (("10", 5), {}, TypeError, "input_size should be of type int, got: str"),
    ((0, 5), {}, ValueError, "input_size must be greater than zero"),
    ((-1, 5), {}, ValueError, "input_size must be greater than zero"),
    ((3, 5.0), {}, TypeError, "hidden_size should be of type int, got: float"),
    # issue 20: a zero or negative hidden_size is named as such (not blamed on proj_size)
    ((5, 0), {}, ValueError, "hidden_size must be greater than zero"),
    ((5, -8), {}, ValueError, "hidden_size must be greater than zero"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("args", "kwargs", "error", "pattern"), CONSTRUCTION_ERRORS)
def test_construction_errors(api, mode, args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern) as caught:
        getattr(api, mode)(*args, **kwargs)
    assert "proj_size" not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_input_dtype_that_differs_from_the_weights(api, mode):
    module = getattr(api, mode)(3, 5, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"RNN input dtype .* does not match weight dtype .* "
                                         r"Convert input: input\.to\(.*\), or convert model: "
                                         r"model\.to\(.*\)"):
        module(torch.randn(2, 4, 3, dtype=torch.float64))


def test_our_errors_are_user_errors_too():
    """Our exceptions also derive from UserError (a ValueError): lstmlab's CLI prints them as
    one line, and ``except ValueError`` written for lstmlab keeps working."""
    from lstmlab.layers import LSTM

    for args, kwargs, error, _ in CONSTRUCTION_ERRORS:
        with pytest.raises(UserError) as caught:
            LSTM(*args, **kwargs)
        assert isinstance(caught.value, error)
    with pytest.raises(UserError) as caught:
        LSTM(3, 5)(torch.randn(4, 2, 3), (torch.zeros(1, 7, 5), torch.zeros(1, 2, 5)))
    assert isinstance(caught.value, RuntimeError)


def _samples(mode: str):
    """module_inputs_torch_nn_RNN_GRU / _LSTM: (constructor kwargs, input shape, hx shapes or
    None). Each configuration once without and once with an initial state."""
    flags = list(itertools.product((False, True), repeat=3))  # bias, batch_first, bidirectional
    samples = []
    if mode == "LSTM":
        for (bias, batch_first, bidirectional), proj_size in itertools.product(flags, (0, 2)):
            options = dict(input_size=2, hidden_size=3, num_layers=2, proj_size=proj_size,
                           batch_first=batch_first, bias=bias, bidirectional=bidirectional)
            rows = 4 if bidirectional else 2
            samples.append((options, (2, 2), None))
            samples.append((options, (3, 2), ((rows, proj_size or 3), (rows, 3))))
        return samples
    nonlinearities = ("relu", "tanh") if mode == "RNN" else (None,)
    for nonlinearity, (bias, batch_first, bidirectional) in itertools.product(nonlinearities,
                                                                              flags):
        options = dict(input_size=2, hidden_size=2, num_layers=2, batch_first=batch_first,
                       bias=bias, bidirectional=bidirectional)
        with_hidden = dict(options, hidden_size=3)
        if nonlinearity is not None:
            options["nonlinearity"] = with_hidden["nonlinearity"] = nonlinearity
        samples.append((options, (3, 2), None))
        samples.append((with_hidden, (3, 2), ((4 if bidirectional else 2, 3),)))
    return samples


SAMPLES = [(mode, *sample) for mode in MODES for sample in _samples(mode)]


def _sample_id(sample) -> str:
    mode, options, _, hx = sample
    flags = "".join(k[0] for k in ("bias", "batch_first", "bidirectional") if options[k])
    extra = f"-p{options['proj_size']}" if options.get("proj_size") else ""
    extra += f"-{options['nonlinearity']}" if "nonlinearity" in options else ""
    return f"{mode}-{flags or 'plain'}{extra}{'-hx' if hx else ''}"


def _call(module, x, hx):
    if hx is None:
        return module(x)
    return module(x, hx if len(hx) == 2 else hx[0])


def _inputs(shape, hx_shapes, dtype=torch.float64, requires_grad=False):
    x = torch.randn(*shape, dtype=dtype, requires_grad=requires_grad)
    hx = None if hx_shapes is None else tuple(
        torch.randn(*s, dtype=dtype, requires_grad=requires_grad) for s in hx_shapes)
    return x, hx


def _flat(result) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


@pytest.mark.parametrize("sample", SAMPLES, ids=[_sample_id(s) for s in SAMPLES])
def test_unbatched_input_equals_a_batch_of_one(api, sample):
    """The samples' reference (no_batch_dim_reference_rnn_gru / _lstm): an unbatched (T, I)
    input and (L*D, P) states give the batched call's numbers on one sequence, squeezed."""
    mode, options, shape, hx_shapes = sample
    module = seeded(getattr(api, mode), dtype=torch.float64, **options)
    x, hx = _inputs(shape, hx_shapes)
    result = _flat(_call(module, x, hx))
    batch_dim = 0 if options["batch_first"] else 1
    batched_hx = None if hx is None else tuple(t.unsqueeze(1) for t in hx)
    reference = _flat(_call(module, x.unsqueeze(batch_dim), batched_hx))
    expected = [reference[0].squeeze(batch_dim)] + [t.squeeze(1) for t in reference[1:]]
    assert_close(result, expected, rtol=1e-12, atol=1e-12)
    if module.__module__.startswith("lstmlab"):
        twin = torch_twin(module, **options)
        assert_close(result, _flat(_call(twin, x, hx)), rtol=1e-10, atol=1e-10)


# test/test_modules.py runs these on every sample; one representative sample per class here
# (bidirectional, two layers, an initial state) keeps the file fast.
GENERIC = [s for s in SAMPLES if s[1]["bidirectional"] and s[1]["bias"] and s[3] is not None
           and not s[1]["batch_first"] and s[1].get("nonlinearity", "tanh") == "tanh"]


@pytest.mark.parametrize("sample", GENERIC, ids=[_sample_id(s) for s in GENERIC])
def test_pickle_round_trip(api, sample):
    """test_pickle: a pickled and restored module computes the same (pickling is how modules
    travel to DataLoader workers, multiprocessing and Ray). The bytes are made here."""
    mode, options, shape, hx_shapes = sample
    module = seeded(getattr(api, mode), dtype=torch.float64, **options)
    restored = pickle.loads(pickle.dumps(module))
    x, hx = _inputs(shape, hx_shapes)
    assert_close(_flat(_call(restored, x, hx)), _flat(_call(module, x, hx)), rtol=0, atol=0)
    assert repr(restored) == repr(module)


@pytest.mark.parametrize("sample", GENERIC, ids=[_sample_id(s) for s in GENERIC])
def test_factory_kwargs(api, sample):
    """test_factory_kwargs: dtype= and device= reach every parameter."""
    mode, options, _, _ = sample
    module = getattr(api, mode)(dtype=torch.float64, device="cpu", **options)
    assert {(p.dtype, p.device.type) for p in module.parameters()} == {(torch.float64, "cpu")}
    assert len(list(module.parameters())) == len(list(getattr(torch.nn, mode)(**options)
                                                      .parameters()))


@pytest.mark.parametrize("sample", GENERIC, ids=[_sample_id(s) for s in GENERIC])
def test_non_contiguous_inputs_give_the_same_numbers_and_gradients(api, sample):
    """test_non_contiguous_tensors: strided views of the input and states change nothing."""
    mode, options, shape, hx_shapes = sample
    module = seeded(getattr(api, mode), dtype=torch.float64, **options)
    x, hx = _inputs(shape, hx_shapes)

    def strided(t: torch.Tensor) -> torch.Tensor:
        wide = torch.stack([torch.zeros_like(t), t], dim=-1)  # (..., 2): every other element
        return wide[..., 1].detach().requires_grad_()

    results = []
    for make in (lambda t: t.clone().requires_grad_(), strided):
        x_in = make(x)
        hx_in = None if hx is None else tuple(make(t) for t in hx)
        assert x_in.is_contiguous() is (make is not strided)
        module.zero_grad()
        outputs = _flat(_call(module, x_in, hx_in))
        sum(o.sum() for o in outputs).backward()
        results.append(outputs + [x_in.grad, *(t.grad for t in hx_in)]
                       + [p.grad for p in module.parameters()])
    assert_close(results[1], results[0], rtol=1e-12, atol=1e-12)


# the LSTM with a projection covers the one without (fast mode: a random projection of the
# Jacobian, checked against the analytical one, keeps the file at seconds)
GRADCHECKED = [s for s in GENERIC if s[0] != "LSTM" or s[1]["proj_size"]]


@pytest.mark.parametrize("sample", GRADCHECKED, ids=[_sample_id(s) for s in GRADCHECKED])
def test_gradcheck(api, sample):
    """test_grad: float64 gradcheck through input, states and every parameter (small T)."""
    mode, options, shape, hx_shapes = sample
    module = seeded(getattr(api, mode), dtype=torch.float64, **options)
    x, hx = _inputs(shape, hx_shapes, requires_grad=True)
    names = [name for name, _ in module.named_parameters()]
    parameters = tuple(p.detach().clone().requires_grad_() for p in module.parameters())

    def function(x, *tensors):
        states, weights = tensors[:len(hx)], tensors[len(hx):]
        replaced = dict(zip(names, weights, strict=True))
        arguments = (x,) if not states else (x, states if len(states) == 2 else states[0])
        return tuple(_flat(torch.func.functional_call(module, replaced, arguments)))

    assert torch.autograd.gradcheck(function, (x, *hx, *parameters), fast_mode=True)


@pytest.mark.parametrize("mode", MODES)
def test_train_and_eval_differ_only_by_dropout(api, mode):
    """train_and_eval_differ=True: with dropout between layers, training mode draws masks
    (two calls differ) and eval mode does not (equal to dropout=0)."""
    module = seeded(getattr(api, mode), 4, 5, num_layers=2, dropout=0.5, dtype=torch.float64)
    x = torch.randn(6, 3, 4, dtype=torch.float64)
    assert not torch.equal(module(x)[0], module(x)[0])
    undropped = copy.deepcopy(module)
    undropped.dropout = 0.0
    module.eval()
    assert_close(module(x)[0], undropped(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("mode", MODES)
def test_repr_is_torchs(api, mode):
    """test_repr: the printed module is torch's (same options, same order)."""
    options = dict(num_layers=2, bias=False, batch_first=True, dropout=0.25, bidirectional=True)
    if mode == "LSTM":
        options["proj_size"] = 2
    module = getattr(api, mode)(3, 4, **options)
    assert repr(module) == repr(getattr(torch.nn, mode)(3, 4, **options))

"""torch.compile, torch.export and ONNX Runtime on every layer of the family, against eager.

What holds (README "Compile and export"), shapes T time, B batch, I input, H hidden:
- ``torch.compile(fullgraph=True)``: every layer, outputs equal to eager; a second sequence
  length recompiles (the step loop is Python, unrolled into the graph at each length).
- ``torch.export`` at the traced length: every layer. With ``Dim`` for T: refused by torch for
  every layer, because the time loop (ours, and the decomposition of torch's own fused
  ``lstm``/``gru``/``rnn`` kernels) is unrolled at trace time and specializes T; the test pins
  the error so a change in torch is noticed.
- ONNX: the fused LSTM, GRU and RNN through torch's TorchScript exporter, which maps torch's
  kernels to ONNX's own LSTM/GRU/RNN operators with a dynamic T (run in ONNX Runtime at another
  length); every other layer through the dynamo exporter at the traced length (ONNX Runtime
  refuses another length, tested).
Measured with every test run (``-m "slow or not slow"``, 36 tests, 9 min on the 2-core machine
shared by ~9 agents, load ~22): each ``torch.compile`` test took 10-110 s (LSTM 53 s, the
Peephole variant 58 s, LayerNorm 111 s, GRU 84 s, SLSTM 60 s, MLSTM 38 s, MinGRU 10 s), far over
the ~20 s the default run can spend, so the default run compiles MinGRU only and the other
compile tests are slow; every export test (under 1.2 s each), the fused ONNX tests and the
SLSTM dynamo-ONNX test run by default.
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
import torch
from torch import Tensor, nn
from torch.export import Dim

from lstmlab.cells import LayerNormLSTMCell, PeepholeLSTMCell
from lstmlab.layers import GRU, LSTM, MLSTM, RNN, SLSTM, MinGRU, MinLSTM

I, H, B, TRACED, OTHER = 3, 4, 2, 5, 7

LAYERS = {
    "LSTM": lambda: LSTM(I, H),
    "LSTM(cell=PeepholeLSTMCell)": lambda: LSTM(I, H, cell=PeepholeLSTMCell),
    "LSTM(cell=LayerNormLSTMCell)": lambda: LSTM(I, H, cell=LayerNormLSTMCell),
    "GRU": lambda: GRU(I, H),
    "RNN": lambda: RNN(I, H),
    "SLSTM": lambda: SLSTM(I, H, num_heads=2),
    "MLSTM": lambda: MLSTM(I, H, num_heads=2),
    "MinGRU": lambda: MinGRU(I, H),
    "MinLSTM": lambda: MinLSTM(I, H),
}
FUSED = ("LSTM", "GRU", "RNN")
DEFAULT_COMPILE = ("MinGRU",)


class Outputs(nn.Module):
    """The layer's output sequence and its final state's first tensor (h_n), as plain tensors."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        output, state = self.layer(x)
        if isinstance(state, list):  # MLSTM: one MLSTMState per layer
            return output, state[-1].h
        return output, state[0] if isinstance(state, tuple) else state


def _model(name: str) -> nn.Module:
    torch.manual_seed(0)
    return Outputs(LAYERS[name]()).eval()


def _inputs(steps: int) -> Tensor:
    return torch.randn(steps, B, I, generator=torch.Generator().manual_seed(steps))


def _compile_params():
    return [pytest.param(name, marks=() if name in DEFAULT_COMPILE else pytest.mark.slow)
            for name in LAYERS]


def _have_compiler() -> bool:
    return shutil.which(os.environ.get("CXX", "g++")) is not None


# torch's own compiler stack warns about itself (inductor calls torch.jit.script_method, dynamo
# instantiates autograd Functions): deprecations inside torch, nothing the layers can change
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", _compile_params())
def test_compile_fullgraph_equals_eager_at_two_lengths(name):
    if not _have_compiler():
        if os.environ.get("CI") == "true":
            pytest.fail("torch.compile on CPU needs a C++ compiler (g++), none found in CI")
        pytest.skip("torch.compile on CPU needs a C++ compiler (g++)")
    torch._dynamo.reset()
    model = _model(name)
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        for steps in (TRACED, OTHER):
            x = _inputs(steps)
            torch.testing.assert_close(compiled(x), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", list(LAYERS))
def test_export_at_the_traced_length_equals_eager(name):
    model = _model(name)
    x = _inputs(TRACED)
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", list(LAYERS))
def test_export_with_a_dynamic_length_is_refused_by_torch_naming_T(name):
    # the time loop is unrolled at trace time (module docstring): torch says T was specialized
    with pytest.raises(Exception, match=r"(?s)Constraints violated \(T\).*specialized"):
        torch.export.export(_model(name), (_inputs(TRACED),),
                            dynamic_shapes=({0: Dim("T", min=2, max=1024)},))


def _need(module: str) -> None:
    """Fail in CI (the dev extra installs it), skip with the reason on a user's machine."""
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is missing: the dev extra installs it")
        pytest.skip(f"{module} not installed (pip install -e '.[dev]')")


def _ort_run(path: str, x: Tensor) -> list:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})


@pytest.mark.parametrize("name", FUSED)
def test_fused_layers_to_onnx_run_in_onnxruntime_at_another_length(name, tmp_path):
    _need("onnx"), _need("onnxruntime")
    model = _model(name)
    path = str(tmp_path / "layer.onnx")
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of dynamo's, which cannot keep T
        # dynamic here (module docstring); its notes about batch sizes concern h0 we do not give
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (_inputs(TRACED),), path, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "T"}})
    import onnx

    kinds = {node.op_type for node in onnx.load(path).graph.node}
    assert {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}[name] in kinds  # ONNX's own operator
    x = _inputs(OTHER)
    with torch.no_grad():
        expected = model(x)
    output, h_n = _ort_run(path, x)
    torch.testing.assert_close(torch.from_numpy(output), expected[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.from_numpy(h_n), expected[1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in ("SLSTM",)
                                               else pytest.mark.slow)
                                  for n in LAYERS if n not in FUSED])
def test_loop_layers_to_onnx_run_in_onnxruntime_at_the_traced_length(name, tmp_path):
    _need("onnxscript"), _need("onnxruntime")
    model = _model(name)
    path = str(tmp_path / "layer.onnx")
    x = _inputs(TRACED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on optional torchvision ops
        torch.onnx.export(model, (x,), dynamo=True).save(path)
    with torch.no_grad():
        expected = model(x)
    for got, want in zip(_ort_run(path, x), expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(got), want, atol=1e-5, rtol=1e-5)
    import onnxruntime

    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument,
                       match="invalid dimensions"):
        _ort_run(path, _inputs(OTHER))



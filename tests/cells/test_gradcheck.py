"""torch.autograd.gradcheck in float64 for every cell of the family: the analytical gradient
(autograd through our equations) equals finite differences, through several steps, with respect
to the inputs, the initial state and every parameter."""

import importlib

import pytest
import torch

from lstmlab.cells import Cell

BATCH, STEPS, INPUT, HIDDEN = 2, 3, 3, 3
F64 = {"dtype": torch.float64}

# (id, module, how to build the cell from the module). Every cell in its default, full-gradient
# configuration: the truncated ones (detach_peepholes, truncate_gradient) differ from finite
# differences on purpose and are tested in their own files.
CELLS = [
    ("LSTMCell", "lstmlab.cells", lambda m: m.LSTMCell(INPUT, HIDDEN, **F64)),
    ("LSTMCell-proj", "lstmlab.cells",
     lambda m: m.LSTMCell(INPUT, HIDDEN, proj_size=2, **F64)),
    ("GRUCell", "lstmlab.cells", lambda m: m.GRUCell(INPUT, HIDDEN, **F64)),
    ("ElmanCell", "lstmlab.cells", lambda m: m.ElmanCell(INPUT, HIDDEN, **F64)),
    ("LSTM1997Cell", "lstmlab.cells._lstm1997",
     lambda m: m.LSTM1997Cell(INPUT, num_blocks=2, block_size=2, cell_bias=True, **F64)),
    ("LSTM1997Cell-no-output-gate", "lstmlab.cells._lstm1997",
     lambda m: m.LSTM1997Cell(INPUT, num_blocks=2, output_gate=False, **F64)),
    ("PeepholeLSTMCell", "lstmlab.cells",
     lambda m: m.PeepholeLSTMCell(INPUT, HIDDEN, **F64)),
    ("PeepholeLSTMCell-no-bias", "lstmlab.cells",
     lambda m: m.PeepholeLSTMCell(INPUT, HIDDEN, bias=False, **F64)),
    ("CIFGLSTMCell", "lstmlab.cells", lambda m: m.CIFGLSTMCell(INPUT, HIDDEN, **F64)),
    ("CIFGLSTMCell-no-peepholes", "lstmlab.cells",
     lambda m: m.CIFGLSTMCell(INPUT, HIDDEN, peepholes=False, **F64)),
    ("NIGLSTMCell", "lstmlab.cells", lambda m: m.NIGLSTMCell(INPUT, HIDDEN, **F64)),
    ("NFGLSTMCell", "lstmlab.cells", lambda m: m.NFGLSTMCell(INPUT, HIDDEN, **F64)),
    ("NOGLSTMCell", "lstmlab.cells", lambda m: m.NOGLSTMCell(INPUT, HIDDEN, **F64)),
    ("NIAFLSTMCell", "lstmlab.cells", lambda m: m.NIAFLSTMCell(INPUT, HIDDEN, **F64)),
    ("NOAFLSTMCell", "lstmlab.cells", lambda m: m.NOAFLSTMCell(INPUT, HIDDEN, **F64)),
    ("NPLSTMCell", "lstmlab.cells", lambda m: m.NPLSTMCell(INPUT, HIDDEN, **F64)),
    ("FGRLSTMCell", "lstmlab.cells", lambda m: m.FGRLSTMCell(INPUT, HIDDEN, **F64)),
]


def _unrolled(cell: torch.nn.Module, names: list[str], state_type: type):
    """A function of (xs, *parameters, *initial state) -> every state and gate of every step."""
    count = len(names)

    def run(xs, *tensors):
        parameters = dict(zip(names, tensors[:count], strict=True))
        state = state_type(*tensors[count:])
        outputs = []
        for x in xs:
            state, gates = torch.func.functional_call(cell, parameters, (x, state))
            outputs.extend(tensor for tensor in (*state, *gates) if tensor.requires_grad)
        return tuple(outputs)

    return run


@pytest.mark.parametrize(("module", "build"), [case[1:] for case in CELLS],
                         ids=[case[0] for case in CELLS])
def test_gradcheck_float64(module, build):
    cell = build(importlib.import_module(module))
    assert isinstance(cell, Cell)
    assert _gradcheck(cell)


def test_gradcheck_catches_a_truncated_gradient():
    """The harness can fail: detached peepholes drop a true gradient path on purpose."""
    from lstmlab.cells import PeepholeLSTMCell

    assert not _gradcheck(PeepholeLSTMCell(INPUT, HIDDEN, detach_peepholes=True, **F64))


def _gradcheck(cell: torch.nn.Module) -> bool:
    generator = torch.Generator().manual_seed(0)
    names, parameters = zip(*cell.named_parameters(), strict=True)
    template = cell.initial_state(BATCH, dtype=torch.float64)
    # A random state away from zero, in (0, 1) so that states holding gates stay plausible.
    state = [torch.rand(t.shape, generator=generator, **F64) for t in template]
    xs = torch.randn(STEPS, BATCH, cell.input_size, generator=generator, **F64)
    inputs = [xs, *(p.detach().clone() for p in parameters), *state]
    inputs = tuple(tensor.requires_grad_() for tensor in inputs)
    return torch.autograd.gradcheck(
        _unrolled(cell, list(names), type(template)), inputs, eps=1e-6, atol=1e-7, rtol=1e-5,
        raise_exception=False,
    )

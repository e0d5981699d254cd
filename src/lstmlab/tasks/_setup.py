"""The papers' training set-ups as frozen dataclasses: what a faithful re-run must use.

[H97] = Hochreiter & Schmidhuber 1997, "Long Short-Term Memory"; its Tables 10 and 11 (§5.7)
summarise every experiment's conditions, and each experiment's section (§5.1-5.6) gives the
details. [G00] = Gers, Schmidhuber & Cummins 2000, "Learning to Forget". The squashing
functions ``h`` and ``g`` are those of [H97] App. A.1 eqs. 3-5, by Table 10's names
(``lstmlab.cells._squash``: ``LOGISTIC``, ``H1``, ``G2``, ``IDENTITY``).

Table 10's bias columns map to fields as follows: ``ogb``/``igb`` -> ``output_gate_bias`` /
``input_gate_bias``, a tuple with one value per block, or ``None`` for "r" and for "none"/"no
og"; the ``bias`` column -> ``biased`` (:class:`BiasedUnits`); the ``c`` column ->
``connectivity``. Table 10's legend defines "r" as random in [-0.1, 0.1]: the weight-init
interval of Experiments 3-6, but narrower than Experiment 1's [-0.2, 0.2]. A ``Setup1997`` does
not record that interval; a network built for Experiment 1 must draw its "r" biases from
[-0.1, 0.1] itself (``random_gate_bias=0.1`` of :mod:`lstmlab.training._network1997_table10`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lstmlab.cells import LOGISTIC, Squash


class BiasedUnits(enum.Enum):
    """[H97] Table 10, column 12: which units have bias weights."""

    NONE = "none"
    GATES = "ga"  # only gate units (Experiment 1)
    HIDDEN = "b1"  # all hidden units: cells and gates (Experiment 3)
    ALL = "all"  # all non-input units: cells, gates and outputs (Experiments 4-6)
    GATES_AND_OUTPUTS = "ga+out"  # [G00]'s CERG net: gates and output units, not the cells


class Connectivity(enum.Enum):
    """[H97] Table 10, column 9, plus the wiring of [G00] §4 (424 weights for CERG).

    F: outputs from memory cells only; cells and gates from inputs, cells and gates.
    B: each layer from all layers below: cell and gates from the inputs, outputs from inputs and
       cells (Experiments 2a/2b; no recurrent connection into the cell, see the weight count).
    G00: cells and gates from inputs and cell outputs; outputs from inputs and cells.
    """

    F = "F"
    B = "B"
    G00 = "G00"


@dataclass(frozen=True)
class ErrorPlateau:
    """When "the error has stopped decreasing" ([H97] §5.2, Experiments 2a/2b: "memory cell and
    input gate are added once the error has stopped decreasing"; the paper gives no rule).

    Our rule: the training error of a sequence is eq. 16 summed over its steps,
    ``sum_t 1/2 sum_k (t^k(t) - y^k(t))^2``. Sequences are counted from the first presented one
    and cut into consecutive windows of ``window`` sequences. The error has stopped decreasing
    at the end of the first window whose mean error is not below ``(1 - min_decrease)`` times
    the previous window's mean (a fall of less than the fraction ``min_decrease``). The earliest
    possible switch is therefore after ``2 * window`` sequences.
    """

    window: int = 100
    min_decrease: float = 0.05

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window: expected >= 1, received {self.window}")
        if not 0.0 <= self.min_decrease < 1.0:
            raise ValueError(f"min_decrease: expected in [0, 1), received {self.min_decrease}")


@dataclass(frozen=True)
class Setup1997:
    """One row of [H97] Tables 10-11 (or the [G00] set-up), plus the protocol around it.

    ``weights`` is the paper's weight count W; :func:`weight_count` recomputes it from the
    other fields, which pins the wiring down. ``trials`` is the number of trials behind the
    published mean; ``max_sequences`` the paper's cap on training sequences (None where the
    paper trains until its stopping rule fires). Learning is online: one weight update per
    time step, activations reset to zero after each sequence ([H97] §5 intro), unless
    ``reset_each_sequence`` is False (the continual task of [G00]). ``add_cells_after``, where
    given, is the sequential construction of Experiments 2a/2b (§5.2): the net first trains
    without its memory cells (only the direct input-to-output weights) and gets them when the
    error has stopped decreasing by that rule. ``output_unit`` is the squashing f_k of the
    output units: ``LOGISTIC`` (the paper's text, §5 intro: "logistic sigmoids as activation
    functions"; trained with eq. 19's f_k') or ``IDENTITY`` (a linear unit, f_k' = 1), a
    reading of ours for Experiment 4 (``lstmlab.reproduce._readings``).
    """

    experiment: str
    blocks: int
    block_size: int
    input_size: int
    output_size: int
    weights: int
    connectivity: Connectivity
    biased: BiasedUnits
    output_gate: bool
    output_gate_bias: tuple[float, ...] | None
    input_gate_bias: tuple[float, ...] | None
    h: Squash
    g: Squash
    learning_rate: float
    init_range: float
    trials: int
    test_size: int
    source: str
    max_sequences: int | None = None
    forget_gate_bias: tuple[float, ...] | None = None
    learning_rate_decay: float | None = None
    online: bool = True
    reset_each_sequence: bool = True
    add_cells_after: ErrorPlateau | None = None
    output_unit: Squash = LOGISTIC
    #: What the gates and cells send at a sequence's first step (``Network1997Config``'s
    #: field of the same name): 0, or 0.5 under the reading ``1:half-reset``.
    initial_activation: float = field(default=0.0, metadata={"key_omits_default": True})
    #: Whether a given gate bias is added to the gate's random bias weight (drawn in
    #: [-init_range, init_range]) instead of replacing it: False as the text, True under the
    #: reading ``1:added-bias`` (``Network1997Config``'s field of the same name).
    added_gate_bias: bool = field(default=False, metadata={"key_omits_default": True})
    #: Whether random ("r") gate biases are drawn like every other weight, in [-init_range,
    #: init_range], instead of Table 10's [-0.1, 0.1]: False as Table 10, True under the
    #: reading ``1:text-bias-range`` (§5.1: "All weights are initialized in [-0.2,0.2], except
    #: for the output gate biases").
    random_bias_like_weights: bool = field(default=False,
                                           metadata={"key_omits_default": True})

    def __post_init__(self) -> None:
        for name in ("h", "g", "output_unit"):
            if not isinstance(getattr(self, name), Squash):
                raise ValueError(f"{name}: expected a Squash (lstmlab.cells._squash: LOGISTIC, "
                                 f"H1, G2, IDENTITY), received {getattr(self, name)!r}")
        for name in ("input_gate_bias", "output_gate_bias", "forget_gate_bias"):
            value = getattr(self, name)
            if value is not None and len(value) != self.blocks:
                raise ValueError(f"{name}: expected one value per block ({self.blocks}), "
                                 f"received {value}")
        if not self.output_gate and self.output_gate_bias is not None:
            raise ValueError("output_gate_bias: expected None without an output gate, "
                             f"received {self.output_gate_bias}")
        if self.add_cells_after is not None and self.connectivity is not Connectivity.B:
            raise ValueError("add_cells_after: expected None unless the outputs also read the "
                             f"inputs (connectivity B), received {self.connectivity}")

    @property
    def forget_gate(self) -> bool:
        return self.forget_gate_bias is not None


def weight_count(setup: Setup1997) -> int:
    """The number of weights the set-up's wiring implies ([H97] §5, Table 10 column 8).

    With C = blocks x block_size cells and G gates per block (input gate, output gate if
    present, forget gate if present):

        F:   (C + G·blocks) · (I + C + G·blocks) recurrent-layer weights + O·C output weights
        B:   (C + G·blocks) · I                                         + O·(I + C)
        G00: C·(I + C) + G·blocks·(I + C)                               + O·(I + C)

    plus one bias per biased unit.
    """
    cells = setup.blocks * setup.block_size
    gates = setup.blocks * (1 + setup.output_gate + setup.forget_gate)
    i, o = setup.input_size, setup.output_size
    if setup.connectivity is Connectivity.F:
        total = (cells + gates) * (i + cells + gates) + o * cells
    elif setup.connectivity is Connectivity.B:
        total = (cells + gates) * i + o * (i + cells)
    else:
        total = (cells + gates) * (i + cells) + o * (i + cells)
    biases = {
        BiasedUnits.NONE: 0,
        BiasedUnits.GATES: gates,
        BiasedUnits.HIDDEN: gates + cells,
        BiasedUnits.ALL: gates + cells + o,
        BiasedUnits.GATES_AND_OUTPUTS: gates + o,
    }[setup.biased]
    return total + biases


@dataclass(frozen=True)
class ModernSetup:
    """A minibatch set-up of the modern benchmarks (Arjovsky, Shah & Bengio 2016's code).

    ``gradient_clip`` clips each gradient element to [-clip, clip] (``T.clip`` in their code);
    ``loss`` is a function ``(outputs, batch) -> scalar`` from :mod:`lstmlab.tasks._batch`.
    ``hidden_size`` is their command-line default: the per-model sizes used for the paper's
    figures were not found.
    """

    optimizer: type[torch.optim.Optimizer]
    learning_rate: float
    batch_size: int
    hidden_size: int
    gradient_clip: float | None
    forget_bias: float
    train_size: int
    test_size: int
    iterations: int
    loss: Callable[..., Tensor]
    source: str

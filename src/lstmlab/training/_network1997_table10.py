"""The networks of [H97] Table 10 (Hochreiter & Schmidhuber 1997, §5.7) as ``Network1997Config``.

Each reproduces the table's weight count w exactly (checked in the tests; the arithmetic is
``lstmlab.tasks._setup.weight_count``). Columns used: b blocks, s block size, in/out
units, c connectivity (F: outputs from cells only, cells and gates from inputs + cells + gates;
B for 2a/2b: every layer from all layers below, no recurrence into the cell), ogb/igb initial
gate biases (None = "r", random in [-0.1, 0.1]: the init interval of every row with an "r"
except exp 1's, which sets ``random_gate_bias``), bias (ga: gates only; b1: all hidden units;
all: all non-input units), h, g, and the init interval of Table 11 ([-0.2, 0.2] for exps 1-2,
[-0.1, 0.1] after). Learning rates and stopping rules belong to the tasks.
"""

from __future__ import annotations

from dataclasses import replace

from lstmlab.cells import IDENTITY, LOGISTIC
from lstmlab.training._network1997 import Network1997Config

# Exp 1, embedded Reber grammar (rows 1-1..1-5): 264 and 276 weights.
# Weights in [-0.2, 0.2]; input-gate biases "r", [-0.1, 0.1] by Table 10's legend.
EXPERIMENT_1_4X1 = Network1997Config(
    input_size=7, output_size=7, num_blocks=4, block_size=1, init_range=0.2,
    output_gate_bias=(-1.0, -2.0, -3.0, -4.0), random_gate_bias=0.1)
EXPERIMENT_1_3X2 = Network1997Config(
    input_size=7, output_size=7, num_blocks=3, block_size=2, init_range=0.2,
    output_gate_bias=(-1.0, -2.0, -3.0), random_gate_bias=0.1)


def experiment_2ab(p: int = 100) -> Network1997Config:
    """Exps 2a/2b: p+1 inputs and outputs, one cell with an input gate and no output gate, both
    fed by the inputs only; outputs from inputs and the cell; no biases; g logistic, h
    identity (§5.2). p = 100 gives 10,504 weights."""
    return Network1997Config(
        input_size=p + 1, output_size=p + 1, num_blocks=1, output_gate=False,
        recurrent=False, gate_bias=False, input_to_output=True, g=LOGISTIC, h=IDENTITY,
        init_range=0.2)


def experiment_2c(p: int) -> Network1997Config:
    """Exp 2c: p+4 inputs, 2 outputs, 2 blocks of 1 cell, no biases (364 weights at p = 50)."""
    return Network1997Config(input_size=p + 4, output_size=2, num_blocks=2, gate_bias=False,
                             init_range=0.2)


# Exp 3a-3c, two-sequence problem: all hidden units biased ("b1"), 102 weights.
EXPERIMENT_3 = Network1997Config(
    input_size=1, output_size=1, num_blocks=3, cell_bias=True,
    input_gate_bias=(-1.0, -3.0, -5.0), output_gate_bias=(-2.0, -4.0, -6.0))

# Exp 4, adding problem: every non-input unit biased ("all"), 93 weights.
EXPERIMENT_4 = Network1997Config(
    input_size=2, output_size=1, num_blocks=2, block_size=2, cell_bias=True,
    output_bias=True, input_gate_bias=(-3.0, -6.0))
# Exp 5, multiplication problem: as exp 4 with random input-gate biases.
EXPERIMENT_5 = replace(EXPERIMENT_4, input_gate_bias=None)

# Exp 6a/6b, temporal order: 156 and 308 weights.
EXPERIMENT_6A = Network1997Config(
    input_size=8, output_size=4, num_blocks=2, block_size=2, cell_bias=True,
    output_bias=True, input_gate_bias=(-2.0, -4.0))
EXPERIMENT_6B = Network1997Config(
    input_size=8, output_size=8, num_blocks=3, block_size=2, cell_bias=True,
    output_bias=True, input_gate_bias=(-2.0, -4.0, -6.0))

__all__ = [
    "EXPERIMENT_1_3X2", "EXPERIMENT_1_4X1", "EXPERIMENT_3", "EXPERIMENT_4", "EXPERIMENT_5",
    "EXPERIMENT_6A", "EXPERIMENT_6B", "experiment_2ab", "experiment_2c",
]

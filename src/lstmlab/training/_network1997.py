"""The network of Hochreiter & Schmidhuber (1997) [H97]: input layer, one hidden layer of memory
cell blocks (``LSTM1997Cell``), a layer of output units.

Shapes: T time, K population (optional), B batch, I input, H = C*S cells, O outputs.

Output units ([H97] App. A.1, with §5's timing: outputs read the hidden units of the *current*
step, so the net predicts from the input it has just seen)::

    net_k(t) = y^c(t) @ weight_ho.T [+ x(t) @ weight_io.T] [+ bias_o]
    y^k(t)   = f_k(net_k(t))                  f_k logistic ("F" connectivity: from cells only)

``weight_io`` is the input-to-output connection of exps 2a/2b (Table 10 connectivity "B");
``bias_o`` is the output bias of Table 10's "all" (exps 4-6). ``num_weights`` counts what the
paper counts (Table 10 column w; ``lstmlab.tasks._setup.weight_count`` spells out the sum).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells import (
    G2,
    H1,
    LOGISTIC,
    Gates,
    LSTM1997Cell,
    LSTM1997State,
    LSTM1997Weights,
    Squash,
)
from lstmlab.cells._lstm1997 import fill_uniform
from lstmlab.cells._parameters import check_size
from lstmlab.training._pool import stack


@dataclass(frozen=True)
class Network1997Config:
    """One row of [H97] Table 10, as a network. Defaults: exp 1's wiring (gate biases only)."""

    input_size: int
    output_size: int
    num_blocks: int
    block_size: int = 1
    output_gate: bool = True
    recurrent: bool = True
    gate_bias: bool = True
    cell_bias: bool = False
    output_bias: bool = False
    input_to_output: bool = False
    g: Squash = G2
    h: Squash = H1
    output_squash: Squash = LOGISTIC
    init_range: float = 0.1
    input_gate_bias: tuple[float, ...] | None = None
    output_gate_bias: tuple[float, ...] | None = None
    random_gate_bias: float | None = None
    truncate_gradient: bool = True
    #: What the gates and cells send at a sequence's first step, their "previous" activation
    #: (the internal states start at 0 whatever it is): 0 as [H97] §5.1 says, 0.5 in the JKU
    #: simulator (the reading ``1:half-reset``). Written into a store key only when not 0, so
    #: the keys of the trials run before it existed hold (``reproduce._fingerprint``).
    initial_activation: float = field(default=0.0, metadata={"key_omits_default": True})
    #: A given gate bias added to the gate's random bias weight instead of replacing it
    #: (``LSTM1997Cell``'s ``added_gate_bias``; the reading ``1:added-bias``).
    added_gate_bias: bool = field(default=False, metadata={"key_omits_default": True})


class NetworkWeights1997(NamedTuple):
    """All weights: ``cell`` (see ``LSTM1997Weights``), ``weight_ho`` (..., O, H),
    ``weight_io`` (..., O, I) or None, ``bias_o`` (..., O) or None. Leading (K,) for populations."""

    cell: LSTM1997Weights
    weight_ho: Tensor
    weight_io: Tensor | None
    bias_o: Tensor | None


class Network1997(nn.Module):
    """The cell plus output units; ``step`` and ``forward`` also run with given (K, ...) weights."""

    def __init__(
        self, config: Network1997Config, *, generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None, device: torch.device | None = None,
    ) -> None:
        super().__init__()
        check_size("output_size", config.output_size)
        self.config = config
        self.cell = LSTM1997Cell(
            config.input_size, config.num_blocks, config.block_size,
            output_gate=config.output_gate, recurrent=config.recurrent,
            gate_bias=config.gate_bias, cell_bias=config.cell_bias, g=config.g, h=config.h,
            truncate_gradient=config.truncate_gradient, init_range=config.init_range,
            input_gate_bias=config.input_gate_bias, output_gate_bias=config.output_gate_bias,
            random_gate_bias=config.random_gate_bias, generator=generator, dtype=dtype,
            device=device, added_gate_bias=config.added_gate_bias)
        factory = {"dtype": dtype, "device": device}
        O, H, I = config.output_size, self.cell.hidden_size, config.input_size
        self.weight_ho = nn.Parameter(torch.empty(O, H, **factory))
        self.weight_io = (nn.Parameter(torch.empty(O, I, **factory))
                          if config.input_to_output else None)
        self.bias_o = nn.Parameter(torch.empty(O, **factory)) if config.output_bias else None
        for weight in (self.weight_ho, self.weight_io, self.bias_o):
            if weight is not None:
                fill_uniform(weight, config.init_range, generator)

    @property
    def num_weights(self) -> int:
        """[H97]'s weight count: cell weights plus output weights (Table 10 column w)."""
        outputs = sum(w.numel() for w in (self.weight_ho, self.weight_io, self.bias_o)
                      if w is not None)
        return self.cell.num_weights + outputs

    def weights(self) -> NetworkWeights1997:
        return NetworkWeights1997(self.cell.weights(), self.weight_ho, self.weight_io, self.bias_o)

    @torch.no_grad()
    def load_weights(self, weights: NetworkWeights1997) -> None:
        """Copy one member's weights (no leading K; e.g. ``row(population, k)`` of
        ``lstmlab.training._pool``) into this module's parameters, so the module can be
        inspected, unrolled or saved."""
        pairs = [(self.cell.weight_ih, weights.cell.weight_ih),
                 (self.cell.weight_hh, weights.cell.weight_hh), (self.cell.bias, weights.cell.bias),
                 (self.weight_ho, weights.weight_ho), (self.weight_io, weights.weight_io),
                 (self.bias_o, weights.bias_o)]
        for name, (param, given) in zip(("weight_ih", "weight_hh", "bias", "weight_ho",
                                         "weight_io", "bias_o"), pairs, strict=True):
            if (param is None) != (given is None) or (
                    param is not None and param.shape != given.shape):
                expected = None if param is None else tuple(param.shape)
                received = None if given is None else tuple(given.shape)
                raise ValueError(f"weights.{name}: expected {expected}, got {received}")
            if param is not None:
                param.copy_(given)
        if self.cell.bias is not None:
            self.cell.bias.mul_(self.cell.bias_mask)

    def initial_state(self, batch_size: int, *, population: int | None = None,
                      dtype: torch.dtype | None = None,
                      device: torch.device | None = None) -> LSTM1997State:
        state = self.cell.initial_state(batch_size, dtype=dtype, device=device,
                                        population=population)
        start = self.config.initial_activation
        if start == 0:
            return state
        # what the gates and cells send at t = 0; the internal states stay at 0
        return LSTM1997State(torch.full_like(state.h, start), state.c,
                             torch.full_like(state.input, start),
                             torch.full_like(state.output, start) if self.cell.output_gate
                             else state.output)

    def step(
        self, x: Tensor, state: LSTM1997State, weights: NetworkWeights1997 | None = None,
    ) -> tuple[LSTM1997State, Tensor, Gates]:
        """One step: ``x`` (..., B, I) -> new state, outputs y^k(t) (..., B, O), gates."""
        weights = weights if weights is not None else self.weights()
        state, gates = self.cell.step(x, state, weights.cell)
        net_k = state.h @ weights.weight_ho.mT
        if weights.weight_io is not None:
            net_k = net_k + x @ weights.weight_io.mT
        if weights.bias_o is not None:
            net_k = net_k + weights.bias_o.unsqueeze(-2)
        return state, self.config.output_squash.fn(net_k), gates

    def forward(
        self, inputs: Tensor, state: LSTM1997State | None = None,
        weights: NetworkWeights1997 | None = None,
    ) -> tuple[Tensor, LSTM1997State]:
        """``inputs`` (T, B, I), or (T, K, B, I) with (K, ...) ``weights`` -> outputs (T, ..., O)
        and the final state. The state starts at zero unless given (the paper resets it)."""
        if inputs.dim() not in (3, 4) or inputs.shape[-1] != self.config.input_size:
            raise ValueError(f"inputs must be (T, B, {self.config.input_size}) or "
                             f"(T, K, B, {self.config.input_size}), got {tuple(inputs.shape)}")
        if state is None:
            population = inputs.shape[1] if inputs.dim() == 4 else None
            state = self.initial_state(inputs.shape[-2], population=population,
                                       dtype=inputs.dtype, device=inputs.device)
        outputs = []
        for x in inputs:
            state, y, _ = self.step(x, state, weights)
            outputs.append(y)
        return torch.stack(outputs), state


def map_weights(fn: Callable[[Tensor], Tensor], weights: NetworkWeights1997,
                ) -> NetworkWeights1997:
    """``fn`` applied to every tensor of ``weights`` (absent ones stay None), e.g.
    ``map_weights(torch.ones_like, w)`` for an all-trainable mask."""
    def apply(part):
        return None if part is None else fn(part)

    return NetworkWeights1997(LSTM1997Weights(*(apply(p) for p in weights.cell)),
                              *(apply(p) for p in weights[1:]))


def population_weights(network: Network1997, generators: Sequence[torch.Generator],
                       ) -> NetworkWeights1997:
    """Fresh weights for K members, member k drawn from ``generators[k]`` exactly as
    ``Network1997(network.config, generator=generators[k])`` would draw them."""
    param = network.weight_ho
    members = [Network1997(network.config, generator=gen, dtype=param.dtype,
                           device=param.device).weights() for gen in generators]
    return stack(members)

"""The ``modern`` method: today's recipes on the 1997 tasks.

A forget-gate LSTM (Gers et al. 2000; ``torch.nn.LSTM``, one layer, its fused kernel) or a GRU
(Cho et al. 2014; ``torch.nn.GRU``) with a logistic output layer, full backpropagation through
time, Adam on minibatches, optionally the gradient's norm clipped, forget-gate bias 1
(Jozefowicz et al. 2015's advice; Gers et al. 2000 start forget gates open too; a GRU's update
gate z, which keeps h where the LSTM's f keeps c, gets the same bias). The task, its stopping
rule and its success criterion are the paper's, exactly as for ``lstm1997``; the budget is
counted in training sequences (a minibatch of B sequences counts B). The loss is [H97] eq. 16's
squared error or the logistic units' binary cross-entropy, on the steps that carry a target,
averaged over the minibatch::

    (h_t, c_t) = LSTM(x_t, (h_{t-1}, c_{t-1}))          gates i, f, g, o as torch.nn.LSTM
    y_t        = sigmoid(h_t @ W_out.T + b_out)
    loss       = 1/B sum_b sum_t mask_{t,b} sum_k (target_{t,b,k} - y_{t,b,k})^2
                 (or -[target log y + (1 - target) log(1 - y)] per unit: cross-entropy)
    g          = d loss / d theta;  g <- g * min(1, clip_norm / ||g||)    (with clip_norm)

One batch is one step of :class:`ClippedBPTT` (training's ``BPTT`` plus the clipping), run by
the training loop (:func:`~lstmlab.training._loop.train`, through ``trial_loop.train_trials``;
the same algorithm and loss as the ``bptt`` competitor when nothing is clipped and the loss is
eq. 16's; every 1997 task's sequence carries a target, so every batch updates the weights).

Which recipe: :class:`ModernSettings` (one per experiment in ``ModernMethod.recipes``; the
chosen ones are files under ``results/modern/``, written by ``lstmlab sweep``, read by
``lstmlab reproduce --method modern --recipe``: :mod:`lstmlab.reproduce._recipe`).

Seeds: trial ``seed`` draws its initial weights (torch's default uniform(-1/sqrt(H), 1/sqrt(H))
for every parameter) and then its minibatches from ``torch.Generator().manual_seed(seed)``;
stopping sets and the test set use the same offsets as ``lstm1997``. Trials run one after
another: torch's fused LSTM runs a whole sequence of a tiny network in one call (1.6 ms for
T = 1000 at H = 8, BENCHMARKS.md's first table), where a lockstep loop would pay a Python
iteration per step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._method import TrialProgress, TrialResult, torch_threads
from lstmlab.reproduce._trial_loop import (
    CHECK_SEED_OFFSET,
    TEST_SEED_OFFSET,
    Learner,
    TrialNet,
    train_trials,
)
from lstmlab.tasks import Batch, Task
from lstmlab.training._algorithm import StepOutcome
from lstmlab.training._batch import BatchLike
from lstmlab.training._losses import Loss, sum_squared_error
from lstmlab.training._model import SequenceModel
from lstmlab.training._optimizers import TorchOptimizer

#: The recurrent layers a recipe may use (torch's fused kernels; one layer).
CELLS: tuple[type[nn.Module], ...] = (nn.LSTM, nn.GRU)


@dataclass(frozen=True)
class ModernSettings:
    """The recipe. ``hidden_size`` None means as many units as the paper's net has cells;
    ``cell`` is one of ``CELLS``; ``clip_norm`` None clips nothing; ``loss`` is
    ``sum_squared_error`` ([H97] eq. 16) or ``binary_cross_entropy``."""

    hidden_size: int | None = 16
    batch_size: int = 32
    learning_rate: float = 1e-2
    forget_bias: float = 1.0
    optimizer: type[torch.optim.Optimizer] = torch.optim.Adam
    curve_every: int = 500
    threads: int | None = field(default=1, compare=False)
    report_every: int = field(default=20, compare=False)
    cell: type[nn.Module] = nn.LSTM
    clip_norm: float | None = None
    loss: Loss = sum_squared_error

    def __post_init__(self) -> None:
        if self.hidden_size is not None and self.hidden_size < 1:
            raise ValueError(f"hidden_size: expected >= 1 or None, received {self.hidden_size}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, received {self.batch_size}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate: expected > 0, received {self.learning_rate}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"clip_norm: expected > 0 or None, received {self.clip_norm}")
        if self.cell not in CELLS:
            raise ValueError(f"cell: expected one of {', '.join(c.__name__ for c in CELLS)}, "
                             f"received {self.cell!r}")


class ModernNet(nn.Module):
    """``torch.nn.LSTM`` (or ``cell``, one of ``CELLS``) + a logistic output layer; inputs
    (T, B, I) -> outputs (T, B, O)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 forget_bias: float, generator: torch.Generator,
                 cell: type[nn.Module] = nn.LSTM) -> None:
        super().__init__()
        self.recurrent = cell(input_size, hidden_size)
        self.readout = nn.Linear(hidden_size, output_size)
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.rand(parameter.shape, generator=generator) * 2 * bound
                                - bound)
            # LSTM gate order i, f, g, o; GRU r, z, n: the second block (f; z, which keeps
            # h_{t-1} in h_t = (1 - z) * n + z * h_{t-1}) gets total bias forget_bias
            self.recurrent.bias_ih_l0[hidden_size : 2 * hidden_size] = forget_bias
            self.recurrent.bias_hh_l0[hidden_size : 2 * hidden_size] = 0.0

    def forward(self, inputs: Tensor, state: Tensor | tuple[Tensor, Tensor] | None = None,
                ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        """As :class:`~lstmlab.training._model.SequenceModel`: outputs (T, B, O) and the
        state after step T (``(h, c)``; a GRU's h), so that training's algorithms run it."""
        hidden, state = self.recurrent(inputs, state)
        return torch.sigmoid(self.readout(hidden)), state


@dataclass(frozen=True)
class ClippedBPTT:
    """Full BPTT (training's ``BPTT``) with the gradient's global norm clipped to
    ``clip_norm`` before the step (``torch.nn.utils.clip_grad_norm_``); None clips nothing."""

    clip_norm: float | None = None

    def __call__(self, model: SequenceModel, batch: BatchLike, loss: Loss,
                 optimizer: torch.optim.Optimizer) -> StepOutcome:
        optimizer.zero_grad()
        outputs, _ = model(batch.inputs)
        value = loss(outputs, batch.targets, batch.mask)
        value.backward()
        if self.clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), self.clip_norm)
        if bool(batch.mask.any()):  # a batch without error changes nothing, not even momentum
            optimizer.step()
        return StepOutcome(value.detach(), outputs.detach())


@dataclass(frozen=True)
class ModernMethod:
    """Forget-gate LSTM or GRU, BPTT, Adam, minibatches; the paper's task and stopping rule.

    ``recipes`` maps experiment names (as stored: ``"1"``, ``"4@T=1000"``) to their own
    settings, e.g. the ones a sweep chose; an experiment not named there runs ``settings``."""

    settings: ModernSettings = ModernSettings()
    name: str = "modern"
    recipes: tuple[tuple[str, ModernSettings], ...] = ()

    def settings_for(self, experiment: Experiment) -> ModernSettings:
        return next((chosen for name, chosen in self.recipes if name == experiment.name),
                    self.settings)

    def hidden_size(self, experiment: Experiment) -> int:
        setup = experiment.setup
        return self.settings_for(experiment).hidden_size or setup.blocks * setup.block_size

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.settings_for(experiment), self.hidden_size(experiment), CHECK_SEED_OFFSET,
                TEST_SEED_OFFSET)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        # 2a's 10,000-sequence checks judge its two distinct sequences (as lstm1997 does).
        from lstmlab.reproduce._cached_task import with_cached_encodings

        settings = self.settings_for(experiment)
        learner = self._learner(experiment, settings)
        experiment = with_cached_encodings(experiment)
        with torch_threads(settings.threads):
            yield from train_trials(learner, experiment, seeds, budget,
                                    progress, batch_size=settings.batch_size,
                                    curve_every=settings.curve_every,
                                    report_every=settings.report_every)

    def _learner(self, experiment: Experiment, settings: ModernSettings) -> Learner:
        hidden_size = self.hidden_size(experiment)

        def build(task: Task, generator: torch.Generator) -> TrialNet:
            net = ModernNet(task.input_size, hidden_size, task.output_size,
                            settings.forget_bias, generator, settings.cell)

            @torch.no_grad()
            def evaluate(batch: Batch) -> Tensor:
                return net(batch.inputs)[0]

            return TrialNet(net, ClippedBPTT(settings.clip_norm),
                            TorchOptimizer(settings.optimizer, settings.learning_rate), evaluate,
                            settings.loss)

        return build

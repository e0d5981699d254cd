"""The ``modern`` method: today's default recipe on the 1997 tasks.

A forget-gate LSTM (Gers et al. 2000; ``torch.nn.LSTM``, one layer, its fused kernel) with a
logistic output layer, full backpropagation through time, Adam on minibatches, forget-gate bias
1 (Jozefowicz et al. 2015's advice; Gers et al. 2000 start forget gates open too). The task, its
stopping rule and its success criterion are the paper's, exactly as for ``lstm1997``; the budget
is counted in training sequences (a minibatch of B sequences counts B). The loss is [H97]
eq. 16's squared error on the steps that carry a target, averaged over the minibatch::

    (h_t, c_t) = LSTM(x_t, (h_{t-1}, c_{t-1}))          gates i, f, g, o as torch.nn.LSTM
    y_t        = sigmoid(h_t @ W_out.T + b_out)
    loss       = 1/B sum_b sum_t mask_{t,b} sum_k (target_{t,b,k} - y_{t,b,k})^2

One batch is one step of training's :class:`~lstmlab.training._bptt.BPTT` with
:func:`~lstmlab.training._losses.sum_squared_error`, run by the training loop
(:func:`~lstmlab.training._loop.train`, through ``trial_loop.train_trials``; the same algorithm
and loss as the ``bptt`` competitor; every 1997 task's sequence carries a target, so every
batch updates the weights).

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
from lstmlab.reproduce._lstm1997 import CHECK_SEED_OFFSET, TEST_SEED_OFFSET
from lstmlab.reproduce._method import TrialProgress, TrialResult, torch_threads
from lstmlab.reproduce._trial_loop import Learner, TrialNet, train_trials
from lstmlab.tasks import Batch, Task
from lstmlab.training import BPTT
from lstmlab.training._optimizers import TorchOptimizer


@dataclass(frozen=True)
class ModernSettings:
    """The recipe. ``hidden_size`` None means as many units as the paper's net has cells."""

    hidden_size: int | None = 16
    batch_size: int = 32
    learning_rate: float = 1e-2
    forget_bias: float = 1.0
    optimizer: type[torch.optim.Optimizer] = torch.optim.Adam
    curve_every: int = 500
    threads: int | None = field(default=1, compare=False)
    report_every: int = field(default=20, compare=False)


class ModernNet(nn.Module):
    """``torch.nn.LSTM`` + a logistic output layer; inputs (T, B, I) -> outputs (T, B, O)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 forget_bias: float, generator: torch.Generator) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.readout = nn.Linear(hidden_size, output_size)
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.rand(parameter.shape, generator=generator) * 2 * bound
                                - bound)
            # gate order i, f, g, o: the forget gate's total bias is forget_bias
            self.lstm.bias_ih_l0[hidden_size : 2 * hidden_size] = forget_bias
            self.lstm.bias_hh_l0[hidden_size : 2 * hidden_size] = 0.0

    def forward(self, inputs: Tensor, state: tuple[Tensor, Tensor] | None = None,
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """As :class:`~lstmlab.training._model.SequenceModel`: outputs (T, B, O) and the
        state ``(h, c)`` after step T, so that training's algorithms run it."""
        hidden, state = self.lstm(inputs, state)
        return torch.sigmoid(self.readout(hidden)), state


@dataclass(frozen=True)
class ModernMethod:
    """Forget-gate LSTM, BPTT, Adam, minibatches; the paper's task and stopping rule."""

    settings: ModernSettings = ModernSettings()
    name: str = "modern"

    def hidden_size(self, experiment: Experiment) -> int:
        setup = experiment.setup
        return self.settings.hidden_size or setup.blocks * setup.block_size

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.settings, self.hidden_size(experiment), CHECK_SEED_OFFSET, TEST_SEED_OFFSET)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        # 2a's 10,000-sequence checks judge its two distinct sequences (as lstm1997 does).
        from lstmlab.reproduce._cached_task import with_cached_encodings

        experiment = with_cached_encodings(experiment)
        with torch_threads(self.settings.threads):
            yield from train_trials(self._learner(experiment), experiment, seeds, budget,
                                    progress, batch_size=self.settings.batch_size,
                                    curve_every=self.settings.curve_every,
                                    report_every=self.settings.report_every)

    def _learner(self, experiment: Experiment) -> Learner:
        settings = self.settings

        def build(task: Task, generator: torch.Generator) -> TrialNet:
            net = ModernNet(task.input_size, self.hidden_size(experiment), task.output_size,
                            settings.forget_bias, generator)

            @torch.no_grad()
            def evaluate(batch: Batch) -> Tensor:
                return net(batch.inputs)[0]

            return TrialNet(net, BPTT(),
                            TorchOptimizer(settings.optimizer, settings.learning_rate), evaluate)

        return build

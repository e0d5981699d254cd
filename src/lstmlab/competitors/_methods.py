"""The 1997 paper's competitors as methods of ``lstmlab reproduce``.

Each method trains one network per seed on an experiment's task and is judged by the same
stopping rule and success criterion as the LSTM (``lstmlab.reproduce._criteria``), with the same
seed offsets for the stopping and test sets, so the tables compare like with like:

- ``rtrl``: a fully recurrent net trained online by exact RTRL, weights updated at every step
  that carries error ([H97] Tables 1-2; Williams & Zipser 1989);
- ``bptt``: the same net trained by full BPTT, one update per sequence ([H97] Table 2);
- ``elman``: an Elman net (hidden layer copied into context units; Elman 1990) trained as Elman
  did, by backpropagation that treats the context as input, i.e. BPTT truncated to one step
  ([H97] Table 1, the Cleeremans et al. 1989 row);
- ``rcc``: Recurrent Cascade-Correlation (Fahlman's: Quickprop in both phases) on a fixed
  training set ([H97] Table 1);
- ``chunker``: the two-level history compressor ([H97] Table 2), judged by a solution kept
  for 10,000 further training sequences (``trial_loop.KeptSolution``), not reached
  once;
- ``guess``: random weight guessing; its "sequences" column counts guesses, not sequences.

Sizes and learning rates are the paper's where it gives them (``paper_settings``); the rest are
our choices, named in the docstring of that function.

Speed: ``rtrl``, ``bptt``, ``elman`` and ``chunker`` train a sequence by a C kernel
(``fully_recurrent_kernel``, ``chunker_kernel``; 30-300x the torch paths per sequence,
``benchmarks/bench_competitors.py``) and run Experiment 2a on ``cached_task``'s two pre-built
sequences (Experiment 1's task caches its own encodings). Both give the torch paths' numbers
(tested); ``fast=False`` turns the kernels off.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from lstmlab.competitors._chunker import Chunker, ChunkerConfig
from lstmlab.competitors._chunker_kernel import train_chunker
from lstmlab.competitors._fully_recurrent import fully_recurrent_net
from lstmlab.competitors._fully_recurrent_kernel import kernel_kind, train_sequence
from lstmlab.competitors._guess import guess
from lstmlab.competitors._rcc import RCCConfig, train_rcc
from lstmlab.competitors._williams_zipser import WilliamsZipser
from lstmlab.reproduce import Experiment, TrialProgress, TrialResult
from lstmlab.reproduce._cached_task import with_cached_encodings
from lstmlab.reproduce._criteria import Criterion
from lstmlab.reproduce._method import torch_threads
from lstmlab.reproduce._trial_loop import (
    CHECK_SEED_OFFSET,
    KEEP,
    TEST_SEED_OFFSET,
    KeptSolution,
    Learner,
    Trial,
    TrialNet,
    train_trials,
)
from lstmlab.tasks import Batch, Task
from lstmlab.tasks._batch import fresh_batches
from lstmlab.tasks._stopping import RecentWindowRule, TestSetRule
from lstmlab.training import BPTT, SGD, TruncatedBPTT
from lstmlab.training._algorithm import Algorithm, StepOutcome
from lstmlab.training._losses import Loss


@dataclass(frozen=True)
class NetSettings:
    """A fully recurrent net: ``hidden_size`` units, SGD ``learning_rate``, weights in
    ±``weight_range``, output units that also read the inputs when ``inputs_to_outputs``."""

    hidden_size: int
    learning_rate: float
    weight_range: float = 0.2
    inputs_to_outputs: bool = True


#: (method, a competitor's setting of ``reproduce._competitor_settings``) -> [H97]'s net there.
SETTING_NETS: dict[tuple[str, str], NetSettings] = {
    ("rtrl", "1@hidden=3,lr=0.05"): NetSettings(3, 0.05),
    ("elman", "1@hidden=15"): NetSettings(15, 0.1, inputs_to_outputs=False),
    **{("rtrl", f"2a@p={p},lr={lr}"): NetSettings(1, lr)
       for p, lr in ((4, 1.0), (4, 4.0), (4, 10.0), (10, 1.0))},
}


def paper_settings(method: str, experiment: str) -> NetSettings:
    """The net [H97] reports for ``method`` on ``experiment``, or our choice where it reports none.

    A competitor's own setting (``SETTING_NETS``): Table 1's RTRL net of 3 hidden units at
    learning rate 0.05, its Elman net of 15 (learning rate not given: 0.1, ours), Table 2's one
    hidden unit at p = 4 (learning rates 1.0, 4.0, 10.0) and p = 10. Experiment 1: RTRL with 12
    hidden units and learning rate 0.1 (Table 1, Smith & Zipser 1989; BPTT gets the same net);
    the Elman net has 15 hidden units (Table 1, Cleeremans et al. 1989), learning rate not
    given: 0.1, ours. Experiment 2a: one self-recurrent hidden unit, outputs from inputs and
    hidden unit, learning rate 1.0 (Table 2 tried 1.0-10.0). Elsewhere (the paper ran no
    competitor, [H97] §5): 8 hidden units and 0.1, ours.
    """
    if (method, experiment) in SETTING_NETS:
        return SETTING_NETS[(method, experiment)]
    if experiment == "1":
        if method == "elman":
            return NetSettings(15, 0.1, inputs_to_outputs=False)
        return NetSettings(12, 0.1)
    if experiment in ("2a", "2b"):
        return NetSettings(1, 1.0)
    return NetSettings(8, 0.1, weight_range=0.1)


def meets_rule(criterion: Criterion, evaluate: Callable[[Batch], Tensor]) -> bool:
    """Whether a net that no longer learns (an RCC net between growth steps, a guess) meets
    the task's stopping rule, judged by ``evaluate(batch) -> outputs`` (T, B, O).

    A test-set rule (Experiments 1-3) is checked on a fresh stopping set. A window rule (ST3 of
    Experiments 4 and 6, Experiment 5's n_seq) judges the ``window`` most recent training
    sequences; a fixed net would process them as it processes fresh ones, so ``window`` fresh
    sequences from the check generator take their place. Without a rule, every sequence of the
    stopping set must be right.
    """
    rule = criterion.rule
    if isinstance(rule, TestSetRule):
        return criterion.check(evaluate)
    if not isinstance(rule, RecentWindowRule):
        return criterion.final_success(evaluate)
    correct, errors = [], []
    for batch in fresh_batches(criterion.task.sample, rule.window, criterion.generator,
                               criterion.batch_size):
        outputs = evaluate(batch)
        correct.append(criterion.task.is_correct(outputs, batch))
        errors.append(criterion.task.errors(outputs, batch))
    as_test_set = TestSetRule(rule.name, rule.max_wrong, rule.max_mean_error)
    return as_test_set.is_met(torch.cat(correct), torch.cat(errors))


@dataclass(frozen=True)
class KernelStep:
    """A training algorithm for ``fully_recurrent_net``: one sequence by the C kernel of
    ``fully_recurrent_kernel`` for ``kind`` (plain SGD at ``learning_rate``, the optimizer the
    loop builds left unused), else (no kind, no compiler, a batch of several sequences) by
    ``algorithm`` on the batch cast to ``dtype``, with the loop's optimizer."""

    algorithm: Algorithm
    kind: str | None
    learning_rate: float
    dtype: torch.dtype

    def __call__(self, model: nn.Module, batch: Batch, loss: Loss,
                 optimizer: torch.optim.Optimizer) -> StepOutcome:
        if self.kind is not None:
            done = train_sequence(self.kind, model, batch.inputs, batch.targets, batch.mask,
                                  self.learning_rate)
            if done is not None:
                return StepOutcome(*done)
        batch = Batch(batch.inputs.to(self.dtype), batch.targets.to(self.dtype), batch.mask,
                      batch.lengths)
        return self.algorithm(model, batch, loss, optimizer)


@dataclass(frozen=True)
class GradientNetMethod:
    """A fully recurrent net trained by ``algorithm`` (RTRL, BPTT or BPTT(1)) with plain SGD.

    ``settings`` replaces the net of :func:`paper_settings` and of the experiment's competitor
    setting (``reproduce._competitor_settings``: e.g. [H97] Table 1's other RTRL net, 3 hidden
    units at learning rate 0.05, is ``1@hidden=3,lr=0.05``). The net is float64 (``dtype``).
    With ``fast`` (the default) a sequence is trained by the C kernel of
    ``fully_recurrent_kernel`` where one computes ``algorithm`` (online RTRL, BPTT, BPTT(1)): the
    same numbers as the torch path to rounding (tested to 1e-10), so ``fast`` is not part of the
    fingerprint; without a compiler the torch path runs.
    """

    name: str
    algorithm: Algorithm
    curve_every: int = 500
    dtype: torch.dtype = torch.float64
    settings: NetSettings | None = None
    threads: int | None = field(default=1, compare=False)
    report_every: int = field(default=20, compare=False)
    fast: bool = field(default=True, compare=False)

    def net_settings(self, experiment: Experiment) -> NetSettings:
        """``settings``, else :func:`paper_settings`."""
        return self.settings or paper_settings(self.name, experiment.name)

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.algorithm, self.net_settings(experiment), self.curve_every, self.dtype,
                CHECK_SEED_OFFSET, TEST_SEED_OFFSET)

    def build(self, experiment: Experiment) -> Learner:
        settings = self.net_settings(experiment)
        kind = kernel_kind(self.algorithm) if self.fast else None
        dtype = self.dtype

        def learner(task: Task, generator: torch.Generator) -> TrialNet:
            model = fully_recurrent_net(
                task.input_size, settings.hidden_size, task.output_size,
                inputs_to_outputs=settings.inputs_to_outputs,
                weight_range=settings.weight_range, generator=generator, dtype=dtype)

            @torch.no_grad()
            def evaluate(batch: Batch) -> Tensor:
                return model(batch.inputs.to(dtype))[0]

            return TrialNet(model, KernelStep(self.algorithm, kind, settings.learning_rate,
                                              dtype),
                            SGD(settings.learning_rate), evaluate)

        return learner

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        with torch_threads(self.threads):
            yield from train_trials(self.build(experiment), with_cached_encodings(experiment),
                                    seeds, budget, progress,
                                    curve_every=self.curve_every,
                                    report_every=self.report_every)


def rtrl_method() -> GradientNetMethod:
    """Online RTRL: an update at every step that carries error, as [H97]'s RTRL runs (the
    written-out sensitivities of ``williams_zipser``, equal to the generic ``RTRL``)."""
    return GradientNetMethod("rtrl", WilliamsZipser(online=True))


def bptt_method() -> GradientNetMethod:
    """Full BPTT, one update per sequence."""
    return GradientNetMethod("bptt", BPTT())


def elman_method() -> GradientNetMethod:
    """Elman's training: error stops at the context units (BPTT truncated to one step)."""
    return GradientNetMethod("elman", TruncatedBPTT(1))


@dataclass(frozen=True)
class ChunkerStep:
    """The chunker's online update on one batch as a training algorithm: ``chunker_kernel``
    (C) when ``fast`` and it can run, else ``Chunker.train_step``. Its loss is [H97] eq. 16's
    squared error of the system's prediction made while learning (for the record: the update
    follows the chunker's own losses)."""

    fast: bool = True

    def __call__(self, model: Chunker, batch: Batch, loss: Loss,
                 optimizer: torch.optim.Optimizer) -> StepOutcome:
        prediction = None
        if self.fast:
            prediction = train_chunker(model, batch.inputs, batch.targets, batch.mask,
                                       batch.lengths)
        if prediction is None:
            prediction = model.train_step(batch.inputs.double(), batch.targets.double(),
                                          batch.mask, batch.lengths)["prediction"].detach()
        outputs = prediction.float()
        return StepOutcome(loss(outputs, batch.targets, batch.mask).detach(), outputs)


@dataclass(frozen=True)
class ChunkerMethod:
    """The history compressor, trained online one sequence at a time, judged by a solution
    kept (:class:`~lstmlab.reproduce._trial_loop.KeptSolution`): the stopping rule met at a
    check and kept for the next ``keep`` training sequences while learning goes on; its
    sequences to success are those to the check where the kept solution was reached.

    With ``fast`` (the default) a sequence is trained by ``chunker_kernel`` (C, the same
    numbers as ``Chunker.train_step`` to rounding, tested to 1e-10); without a compiler, or
    with ``fast=False``, by ``train_step`` itself.
    """

    config: ChunkerConfig = ChunkerConfig()
    name: str = "chunker"
    keep: int = KEEP
    curve_every: int = 500
    threads: int | None = field(default=1, compare=False)
    report_every: int = field(default=20, compare=False)
    fast: bool = field(default=True, compare=False)

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.config, ("kept", self.keep), self.curve_every, CHECK_SEED_OFFSET,
                TEST_SEED_OFFSET)

    def _learner(self, task: Task, generator: torch.Generator) -> TrialNet:
        net = Chunker(task.input_size, self.config, generator, output_size=task.output_size)

        @torch.no_grad()
        def evaluate(batch: Batch) -> Tensor:
            return net(batch.inputs.double(), batch.targets.double(),
                       batch.lengths)["prediction"].float()

        # The chunker updates both of its nets itself (SGD at the config's rate, its two
        # losses); the SGD the loop builds names that rule and is not used.
        return TrialNet(net, ChunkerStep(self.fast), SGD(self.config.learning_rate), evaluate)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        with torch_threads(self.threads):
            yield from train_trials(self._learner, with_cached_encodings(experiment), seeds,
                                    budget, progress, curve_every=self.curve_every,
                                    report_every=self.report_every,
                                    stopping=functools.partial(KeptSolution, self.keep))


@dataclass(frozen=True)
class RCCMethod:
    """Recurrent Cascade-Correlation as Fahlman's (Quickprop in the output and candidate
    phases, ``competitors.rcc``) on a fixed training set: the task's own where it has one
    (``task.training_set()``: Experiment 1's 256 strings, each once, as Fahlman's), else
    ``training_sequences`` sequences drawn once per trial."""

    config: RCCConfig = RCCConfig()
    training_sequences: int = 256
    name: str = "rcc"
    threads: int | None = field(default=1, compare=False)

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.config, self.training_sequences, CHECK_SEED_OFFSET, TEST_SEED_OFFSET)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        with torch_threads(self.threads):
            presented = 0
            for seed in seeds:
                trial = Trial(experiment, seed)
                training_set = getattr(trial.task, "training_set", None)
                train = (training_set() if training_set is not None
                         else trial.task.sample(self.training_sequences, trial.generator))

                def evaluator(net):
                    return lambda batch: net(batch.inputs.double()).float()

                net, sequences = train_rcc(
                    train.inputs.double(), train.targets.double(), train.mask, self.config,
                    trial.generator, budget=budget,
                    solved=lambda net, c=trial.criterion: meets_rule(c, evaluator(net)))
                success = meets_rule(trial.criterion, evaluator(net))
                presented += sequences
                progress(presented, float("nan"))
                yield trial.result(success, sequences, evaluator(net))


class _Outputs(nn.Module):
    """A ``SequenceModel`` that returns only its outputs (T, B, O), for ``guess``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tensor:
        return self.model(inputs)[0]


@dataclass(frozen=True)
class GuessMethod:
    """Random weight guessing on the competitors' fully recurrent net.

    Every guess is screened on ``screen`` fresh sequences; one that gets at most as many of them
    wrong as the stopping rule allows (``max_wrong``: 0 for most rules, 5 for 3b's ST1/ST2, 12
    for Experiment 5's n_seq = 13) is then judged by the rule itself (:func:`meets_rule`, the
    criterion every method is judged by), so the screen never rejects a guess the rule accepts
    for a reason the rule does not have.
    ``weight_range``: weights uniform in ±10 (our choice; the 1996 paper's ranges are not stored
    here). The result's ``sequences`` counts guesses.
    """

    weight_range: float = 10.0
    screen: int = 64
    batch: int = field(default=64, compare=False)
    name: str = "guess"
    threads: int | None = field(default=1, compare=False)

    def fingerprint(self, experiment: Experiment) -> object:
        return (self.weight_range, self.screen, paper_settings(self.name, experiment.name),
                CHECK_SEED_OFFSET, TEST_SEED_OFFSET)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        settings = paper_settings(self.name, experiment.name)
        with torch_threads(self.threads):
            guesses = 0
            for seed in seeds:
                trial = Trial(experiment, seed)
                task, criterion = trial.task, trial.criterion
                model = _Outputs(fully_recurrent_net(
                    task.input_size, settings.hidden_size, task.output_size,
                    inputs_to_outputs=settings.inputs_to_outputs, weight_range=1.0,
                    generator=trial.generator, dtype=torch.float32))
                # The screen comes first from the stopping-set stream, the rule's sets after it.
                screen = task.sample(self.screen, criterion.generator)
                allowed = getattr(criterion.rule, "max_wrong", 0)

                def solves(forward, screen=screen, criterion=criterion, task=task,
                           allowed=allowed):
                    with torch.no_grad():
                        outputs = forward(screen.inputs)                   # (K, T, B, O)
                        passed = torch.stack([(~task.is_correct(o, screen)).sum() <= allowed
                                              for o in outputs])
                        for k in torch.nonzero(passed).flatten().tolist():
                            passed[k] = meets_rule(criterion, lambda b, k=k: forward(b.inputs)[k])
                    return passed

                result = guess(model, solves, weight_range=self.weight_range,
                               max_trials=budget, generator=trial.generator, batch=self.batch)
                guesses += result.trials
                progress(guesses, float("nan"))  # summed over this call, as TrialProgress says
                if result.success:
                    model.load_state_dict(result.weights)
                yield trial.result(result.success, result.trials, torch.no_grad()(
                    lambda batch, model=model: model(batch.inputs)) if result.success else None)

"""The ``lstm1997`` method: the paper's exact set-up, trials run as one population.

Per experiment, everything comes from the task's ``setup`` ([H97] Tables 10-11): the network
(memory cell blocks, gate biases, squashing functions, wiring, init interval), the learning rate
alpha, online learning with the paper's truncated gradient (one weight update per time step,
``lstmlab.training._online1997``, App. A.1), activations reset before every sequence, and the
task's stopping rule. Training sequences are presented one at a time per network, as in [H97].

Population: up to ``population`` networks (seeds) are trained in lockstep as one batched
computation (a ``lstmlab.training._pool.MemberPool`` of ``Trial`` records and weights), member k
on its own data stream (``task.sample(1, generator_k)``), with its own weights drawn from its own
generator. A member leaves as soon as its stopping rule fires or its
budget is spent, and the next waiting seed takes its place. Nothing a member computes depends on
the other members, so a seed gives the same trial in any population.

Sequential construction (Experiments 2a/2b, ``setup.add_cells_after``): a member first trains
without its memory cell and gets it once its error has stopped decreasing
(``lstmlab.reproduce._sequential1997``); members switch independently, each at its own sequence.

Checkpoints (``lstmlab.reproduce._member_checkpoint``): run by the runner, the method saves every
member every ``settings.checkpoint`` (60 s by default) under ``<out>/checkpoints``; a seed with a
checkpoint resumes from it, and a finished trial's file goes once the runner has stored its row.

Seeds: trial ``seed`` draws its weights and then its training sequences from
``torch.Generator().manual_seed(seed)``; stopping sets and the test set come from generators
seeded ``seed + 1_000_003`` and ``seed + 2_000_003``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._member_checkpoint import CheckpointEvery, CheckpointPlace, MemberCheckpoints
from lstmlab.reproduce._method import TrialProgress, TrialResult, torch_threads
from lstmlab.reproduce._sequential1997 import PlateauTracker, phase_one_mask, without_cells
from lstmlab.reproduce._trial_loop import CHECK_SEED_OFFSET, TEST_SEED_OFFSET, Trial
from lstmlab.tasks import Batch, BiasedUnits, Connectivity, Setup1997
from lstmlab.tasks._batch import sample_each, verdicts
from lstmlab.tasks._words import WordStream, sample_words
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._network1997 import (
    Network1997,
    Network1997Config,
    NetworkWeights1997,
)
from lstmlab.training._online1997 import UpdateMode, forward_sequence, online_sequence
from lstmlab.training._pool import MemberPool, map_state, stack

RANDOM_GATE_BIAS = 0.1  # [H97] Table 10 legend: "r" = random in [-0.1, 0.1]
logger = logging.getLogger(__name__)


def network_config(setup: Setup1997) -> Network1997Config:
    """The network of one row of [H97] Table 10, from the task's set-up."""
    if setup.forget_gate:
        raise ValueError(f"setup: expected a 1997 set-up without forget gates, received "
                         f"{setup.experiment} with forget_gate_bias={setup.forget_gate_bias}")
    biased = setup.biased
    gate_bias = biased in (BiasedUnits.GATES, BiasedUnits.HIDDEN, BiasedUnits.ALL)
    # Table 10's "r" gate biases are drawn in [-0.1, 0.1] even where the other weights are
    # drawn in [-0.2, 0.2] (Exp. 1); elsewhere the two intervals coincide.
    # (The reading 1:text-bias-range draws them like the other weights, as §5.1's text.)
    random_bias = (gate_bias and None in (setup.input_gate_bias, setup.output_gate_bias)
                   and setup.init_range != RANDOM_GATE_BIAS
                   and not setup.random_bias_like_weights)
    return Network1997Config(
        input_size=setup.input_size, output_size=setup.output_size,
        num_blocks=setup.blocks, block_size=setup.block_size, output_gate=setup.output_gate,
        recurrent=setup.connectivity is not Connectivity.B,
        gate_bias=gate_bias,
        cell_bias=biased in (BiasedUnits.HIDDEN, BiasedUnits.ALL),
        output_bias=biased is BiasedUnits.ALL,
        input_to_output=setup.connectivity is Connectivity.B,
        g=setup.g, h=setup.h, init_range=setup.init_range,
        input_gate_bias=setup.input_gate_bias, output_gate_bias=setup.output_gate_bias,
        random_gate_bias=RANDOM_GATE_BIAS if random_bias else None,
        output_squash=setup.output_unit, initial_activation=setup.initial_activation,
        added_gate_bias=setup.added_gate_bias)


@dataclass(frozen=True)
class Lstm1997Settings:
    """How the trials run. ``dtype`` and ``curve_every`` are part of a trial's identity; the
    fields with ``compare=False`` (population size, progress interval, torch threads, how often
    in-flight trials are checkpointed, ``draw_ahead``: each member's training sequences computed
    from its generator's words drawn ahead, ``lstmlab.tasks._words``, the same draws) change
    only the speed, so they stay out of the store's config hash. ``kernel_checks``: stopping
    sets and test sets are evaluated by the C loop (``online1997_kernel``, no learning)
    instead of the torch forward (not for 2a/2b, see ``Lstm1997Method._kernel_checks``); the
    outputs agree to ~1e-15, not bit for bit, so
    whether it applies is part of the store key."""

    population: int = field(default=10, compare=False)
    curve_every: int = 500
    threads: int | None = field(default=1, compare=False)
    report_every: int = field(default=50, compare=False)
    dtype: torch.dtype = torch.float64
    checkpoint: CheckpointEvery = field(default=CheckpointEvery(), compare=False)
    kernel_checks: bool = True
    draw_ahead: bool = field(default=True, compare=False)


class _Member(Trial):
    """A trial in the pool: its ``Trial``, and for the sequential construction of 2a/2b its
    ``PlateauTracker`` and the cells' output weights held aside until phase 2."""

    def __init__(self, experiment: Experiment, seed: int, curve_every: int) -> None:
        super().__init__(experiment, seed, curve_every)
        plateau = experiment.setup.add_cells_after
        self.construction = PlateauTracker(plateau) if plateau is not None else None
        self.held_output: Tensor | None = None
        self.stream = WordStream(self.generator)

    def state_dict(self) -> dict[str, Any]:
        self.stream.sync()  # the generator as the draws so far leave it, not words ahead
        construction = None if self.construction is None else {
            "plateau": self.construction.state_dict(),
            "held_output": self.held_output.detach().clone()}
        return {**super().state_dict(), "construction": construction}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        construction = state["construction"]
        if (construction is None) != (self.construction is None):
            raise ValueError("state['construction']: expected "
                             f"{'none' if self.construction is None else 'a plateau state'}, "
                             f"received {'none' if construction is None else 'one'}")
        if construction is not None:
            held = construction["held_output"]
            if held.shape != self.held_output.shape or held.dtype != self.held_output.dtype:
                raise ValueError(f"state['construction']['held_output']: expected "
                                 f"{self.held_output.dtype} of shape "
                                 f"{tuple(self.held_output.shape)}, received {held.dtype} of "
                                 f"shape {tuple(held.shape)}")
            self.construction.load_state_dict(construction["plateau"])
            self.held_output = held
        super().load_state_dict(state)
        self.stream.discard()  # words drawn before the generator's state was replaced


def draw_member(experiment: Experiment, seed: int, template: Network1997,
                curve_every: int) -> tuple[_Member, NetworkWeights1997]:
    """A fresh member of ``experiment``: its trial, then its weights drawn from its training
    stream (in ``template``'s dtype); with a sequential construction the cells' output weights
    are held aside until phase 2 and the net starts without them."""
    member = _Member(experiment, seed, curve_every)
    weights = Network1997(template.config, generator=member.generator,
                          dtype=template.weight_ho.dtype).weights()
    if member.construction is not None:
        member.held_output = weights.weight_ho.detach().clone()
        weights = without_cells(weights)
    return member, weights


def probe_training(experiment: Experiment, seeds: Sequence[int], budget: int, every: int,
                   ) -> Iterator[tuple[int, Network1997, NetworkWeights1997, tuple[_Member, ...]]]:
    """Train ``seeds`` of ``experiment`` for ``budget`` sequences each, exactly as
    :class:`Lstm1997Method` trains its members (the same draws, the sequential construction's
    phases) but with no checks and no stopping: the diagnostic probes' loop. Yields
    ``(presented, template, weights, members)`` at 0 and every ``every`` sequences: the
    weights float64, stacked over ``seeds`` (not modified after they are yielded), and the
    members' trials (e.g. when their construction fired)."""
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    members, drawn = zip(*(draw_member(experiment, seed, template, every) for seed in seeds),
                         strict=True)
    weights = stack(drawn)
    # as Lstm1997Method: per-sequence updates where the set-up is not online (a reading)
    mode = UpdateMode.STEP if experiment.setup.online else UpdateMode.SEQUENCE
    yield 0, template, weights, members
    for presented in range(1, budget + 1):
        batch = sample_each([m.task for m in members], [m.generator for m in members])
        staged = torch.tensor([m.construction is not None and m.construction.fired_at is None
                               for m in members])
        result = online_sequence(
            template, weights, batch.inputs.to(torch.float64).unsqueeze(2),
            batch.targets.to(torch.float64).unsqueeze(2), batch.mask.unsqueeze(2),
            learning_rate=experiment.setup.learning_rate, mode=mode,
            trainable=phase_one_mask(weights, staged) if bool(staged.any()) else None)
        weights = result.weights
        for k in staged.nonzero().flatten().tolist():
            if members[k].construction.observe(float(result.loss[k])):
                weights.weight_ho[k] = members[k].held_output
        if presented % every == 0:
            yield presented, template, weights, members


@dataclass(frozen=True)
class Lstm1997Method:
    """[H97]'s LSTM, its online truncated-gradient algorithm and its stopping rules."""

    settings: Lstm1997Settings = Lstm1997Settings()
    name: str = "lstm1997"
    checkpoints: CheckpointPlace | None = None

    def with_checkpoints(self, directory: Path, config_hash: str, *,
                         keep_finished: bool = False, nets: Path | None = None
                         ) -> Lstm1997Method:
        """This method, checkpointing its in-flight trials in ``directory`` (the runner's);
        ``keep_finished``: a finished trial's file is left for ``discard_checkpoint``;
        ``nets``: a folder where each finished trial's network is written at its stop."""
        return replace(self, checkpoints=CheckpointPlace(
            Path(directory), config_hash, keep_finished, None if nets is None else Path(nets)))

    def discard_checkpoint(self, experiment: str, seed: int) -> None:
        """Delete the checkpoint of ``seed``'s trial of ``experiment`` (once its row is
        stored); nothing without checkpoints or without a file."""
        if self.checkpoints is not None:
            MemberCheckpoints(self.checkpoints, experiment, self.name,
                              self.settings.checkpoint).path(seed).unlink(missing_ok=True)

    def fingerprint(self, experiment: Experiment) -> object:
        return (experiment.setup, network_config(experiment.setup), self.settings.dtype,
                self.settings.curve_every, CHECK_SEED_OFFSET, TEST_SEED_OFFSET,
                ("kernel checks", self._kernel_checks(experiment)))

    def _kernel_checks(self, experiment: Experiment) -> bool:
        """Whether this experiment's checks run in the C loop: ``kernel_checks``, except where
        the outputs also read the inputs (2a/2b, 101 x 102 output weights): the loop does those
        products one by one, and on 2b's 10,000 random sequences BLAS's batched products in
        the torch forward are ~3x faster."""
        return self.settings.kernel_checks and not network_config(experiment.setup).input_to_output

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        # 2a has two distinct sequences: its 10,000-sequence checks judge those two
        # (reproduce.cached_task; the training draws are the task's, draw for draw).
        from lstmlab.reproduce._cached_task import with_cached_encodings, with_distinct_strings

        cached = with_cached_encodings(experiment)
        if self._checks_per_sequence(experiment):
            # Exp. 1's checks on their distinct strings: the C loop runs each string alone
            cached = with_distinct_strings(cached)
        with torch_threads(self.settings.threads):
            yield from self._run(cached, seeds, budget, progress)

    def _checks_per_sequence(self, experiment: Experiment) -> bool:
        """Whether ``_evaluate`` will run the C loop, whose outputs for a sequence do not depend
        on the batch around it."""
        config = network_config(experiment.setup)
        return self._kernel_checks(experiment) and online1997_kernel.available(
            self.settings.dtype, torch.device("cpu"), (config.g, config.h, config.output_squash))

    def _run(self, experiment: Experiment, seeds: Sequence[int], budget: int,
             progress: TrialProgress) -> Iterator[TrialResult]:
        setup = experiment.setup
        template = Network1997(network_config(setup), dtype=self.settings.dtype)
        kernel_checks = self._kernel_checks(experiment)
        # eq. 17's step after every time step, or (setup.online False: the reading
        # 1:sequence-updates) the sequence's summed steps applied once at its end
        mode = UpdateMode.STEP if setup.online else UpdateMode.SEQUENCE
        waiting = list(seeds)
        pool: MemberPool[_Member, NetworkWeights1997] = MemberPool()
        presented = 0
        steps = 0
        staging = _Staging(self.settings.dtype)
        saver = None if self.checkpoints is None else MemberCheckpoints(
            self.checkpoints, experiment.name, self.name, self.settings.checkpoint)

        def build(seed: int) -> tuple[_Member, NetworkWeights1997]:
            return draw_member(experiment, seed, template, self.settings.curve_every)

        judged = False  # whether a member's rule reads the training verdicts
        evaluators: list = []  # member k's check: its net's outputs on a batch, as it is now
        constructed = setup.add_cells_after is not None  # 2a/2b: members wait for their cells
        while waiting or len(pool):
            joining = waiting[: self.settings.population - len(pool)]
            waiting = waiting[len(joining):]
            for seed in joining:
                if saver is not None:
                    saver.join(pool, seed, build)
                else:
                    pool.join(*build(seed))
            members, weights = pool.records, pool.stacked
            if joining or len(evaluators) != len(members):  # the members changed
                judged = any(m.criterion.reads_verdicts for m in members)
                evaluators = [functools.partial(_evaluate_member, template, pool, k,
                                                kernel_checks) for k in range(len(members))]
            tasks = [m.task for m in members]
            batch = (sample_words(tasks, [m.stream for m in members]) if self.settings.draw_ahead
                     else sample_each(tasks, [m.generator for m in members]))
            inputs = staging.inputs(batch.inputs)
            targets = batch.targets.to(self.settings.dtype)
            batch = (Batch(inputs, targets, batch.mask, batch.lengths, batch.labels,
                           batch.choices) if type(batch) is Batch
                     else replace(batch, inputs=inputs, targets=targets))
            waiting_for_cells = [m.construction is not None and m.construction.fired_at is None
                                 for m in members] if constructed else []
            staged = torch.tensor(waiting_for_cells) if any(waiting_for_cells) else None
            result = online_sequence(
                template, weights, batch.inputs.unsqueeze(2), batch.targets.unsqueeze(2),
                batch.mask.unsqueeze(2), learning_rate=setup.learning_rate, mode=mode,
                trainable=phase_one_mask(weights, staged) if staged is not None else None)
            weights = result.weights
            for k in [] if staged is None else staged.nonzero().flatten().tolist():
                if members[k].construction.observe(float(result.loss[k])):
                    weights.weight_ho[k] = members[k].held_output
                    logger.info("seed %d: memory cell added after %d sequences", members[k].seed,
                                members[k].construction.fired_at)
            pool.update(weights)
            outputs = result.outputs.squeeze(2)  # (T, K, O)
            # One conversion per step; each member's criterion then works on Python values.
            if judged:
                correct, errors = verdicts(members[0].task, outputs, batch)
            else:  # test-set rules (Exps. 1-3): the training verdicts go unread
                errors = members[0].task.errors(outputs, batch).tolist()
                correct = [True] * len(members)
            presented += len(members)
            steps += 1
            leaving = []
            for k, member in enumerate(members):
                evaluate = evaluators[k]
                met = member.criterion.observe_one(correct[k], errors[k], evaluate)
                if met or member.criterion.sequences >= budget:
                    if not met and member.criterion.rule is None:
                        met = member.criterion.final_success(evaluate)
                    leaving.append((k, member.result(met, member.criterion.sequences,
                                                     evaluate)))
            if steps % self.settings.report_every == 0 or leaving:
                progress(presented, min(m.criterion.recent_error for m in members))
            if leaving:
                if saver is not None:
                    for k, _ in leaving:
                        saver.keep_net(pool, k)
                pool.leave([k for k, _ in leaving])
                evaluators = []
                for _, trial in leaving:
                    yield trial
                    if saver is not None and not saver.place.keep_finished:
                        saver.path(trial.seed).unlink(missing_ok=True)  # the row is stored
            if saver is not None and len(pool) and saver.due(steps):
                saver.save(pool)


class _Staging:
    """The training step's inputs converted to the network's dtype in one buffer kept across
    steps, instead of a fresh ``inputs.to(dtype)`` each step.

    A population step of 2c at q = 1000 is ~1,000 steps x 10 members x p + 4 one-hot inputs:
    40 MB of float64 at p = 500, freshly mapped and page-faulted at every step, which took 58 %
    of a whole run's time (py-spy, 2026-12-07); copied into warm memory it is a plain copy. The
    numbers are the same (float32 -> float64 is exact, and a copy converts as ``to`` does). The
    buffer is (T_max, ...) and a step uses its first T rows, a contiguous view; it is rewritten
    at the next step, so a step's batch must not be kept past it (none is)."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype
        self._buffer: Tensor | None = None

    def inputs(self, x: Tensor) -> Tensor:
        """``x.to(dtype)``'s numbers in the reused buffer (``x`` itself where it has them)."""
        if x.dtype == self.dtype:
            return x
        buffer = self._buffer
        if (buffer is None or buffer.shape[1:] != x.shape[1:] or buffer.shape[0] < x.shape[0]
                or buffer.device != x.device):
            # a quarter spare in T: a population's longest sequence varies from step to step
            buffer = torch.empty((x.shape[0] + x.shape[0] // 4, *x.shape[1:]), dtype=self.dtype,
                                 device=x.device)
            self._buffer = buffer
        view = buffer[: x.shape[0]]
        view.copy_(x)
        return view


def _evaluate_member(template: Network1997, pool: MemberPool, k: int, kernel: bool,
                     batch: Batch) -> Tensor:
    """Member ``k``'s outputs on ``batch`` with its weights as they are in ``pool`` now (views
    of its row with K = 1: ``stack([pool.row(k)])``'s numbers without the copies)."""
    return _evaluate(template, map_state(lambda part: part[k:k + 1], pool.stacked), batch,
                     kernel)


#: Sequences of a check batch converted to float64 at a time for the C forward pass: at least
#: ``CHUNK``, more while their float64 inputs stay within ``CHUNK_BYTES`` (Exp. 1's 256 strings
#: of ~30 steps by 7 inputs, ~0.5 MB, go in one call: each call costs ~100 us of Python, as much
#: as the forward pass of ~10 strings; a 2c sequence at q = p = 1000 alone is 8 MB).
CHUNK = 8
CHUNK_BYTES = 1 << 22


def _chunk_size(steps: int, inputs: int) -> int:
    """How many sequences of ``steps`` x ``inputs`` float64 inputs one forward call takes."""
    return max(CHUNK, CHUNK_BYTES // max(1, 8 * steps * inputs))


@torch.no_grad()
def _evaluate(template: Network1997, weights: NetworkWeights1997, batch: Batch,
              kernel: bool = False) -> Tensor:
    """One member's outputs (T, N, O) on ``batch``, no learning (weights with K = 1): by the C
    loop's forward pass where ``kernel`` and it can run (``forward_sequence``: outputs after a
    sequence's end are 0, which no task's verdict reads), else by the torch forward.

    The C pass takes the batch ``_chunk_size`` sequences at a time (``CHUNK_BYTES`` of
    float64 inputs), each chunk copied into one reused float64 buffer: a 2c batch at
    q = p = 1000 is 1 GB of float32 one-hot inputs, and one float64 copy of it (2 GB, freshly
    mapped) cost more than the sparse forward pass itself. The kernel treats every sequence on
    its own, so the outputs are those of one call."""
    dtype = template.weight_ho.dtype
    config = template.config
    if kernel and online1997_kernel.available(dtype, batch.inputs.device,
                                              (config.g, config.h, config.output_squash)):
        T, N, I = batch.inputs.shape
        outputs = torch.empty(T, N, config.output_size, dtype=dtype)
        chunk = _chunk_size(T, I)
        buffer = torch.empty(T, 1, min(N, chunk), I, dtype=dtype)
        for start in range(0, N, chunk):
            size = min(chunk, N - start)
            part = buffer if size == buffer.shape[2] else buffer[:, :, :size].contiguous()
            part.copy_(batch.inputs[:, start:start + size].unsqueeze(1))
            outputs[:, start:start + size] = forward_sequence(
                template, weights, part, batch.lengths[start:start + size].unsqueeze(0))[:, 0]
        return outputs
    outputs, _ = template(batch.inputs.to(dtype).unsqueeze(1), weights=weights)
    return outputs.squeeze(1)

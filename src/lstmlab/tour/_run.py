"""The tour: train an LSTM and a simple RNN on the pronoun corpus, then look inside the LSTM,
over several seeds.

``run_tour(config)`` trains ``config.seeds`` seeds of both models (each seed draws its own
corpus, initial weights and batches), in ``config.workers`` processes, and measures each seed
(``SeedResult``); ``lstmlab.tour._summary`` turns the seeds into sentences with 95 % intervals.
The first seed is also looked at in detail (its trace and models feed the report's figures).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from lstmlab.introspection import LayerTrace
from lstmlab.layers import LSTM, RNN
from lstmlab.tasks._pronouns import VOCAB, PronounConfig, PronounData, generate
from lstmlab.tour._analysis import (
    GateMeasures,
    ModelMeasures,
    gate_measures,
    lstm_trace,
    pronoun_accuracy,
)
from lstmlab.tour._causal import (
    ForgetSplit,
    InterventionMeasures,
    forget_split,
    intervention_measures,
)
from lstmlab.tour._model import LanguageModel, recipe, token_batches
from lstmlab.training import TrainConfig, train

# on_seed(seeds done, seeds in all): the CLI draws its progress bar with it
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class TourConfig:
    """Sizes of the tour. The defaults (5 seeds of both models in 2 processes) finish `make
    demo` in the time the README states, on 2 cores."""

    seed: int = 0  # the first seed; the tour runs seed, seed + 1, ..., seed + seeds - 1
    seeds: int = 5
    workers: int = 2  # processes; 1 runs every seed in this process
    # Distances 5 to ~80 tokens; 70 % of person slots hold a noun of either gender (so the
    # nouns in between never give the subject away), half of them with their own possessive.
    corpus: PronounConfig = PronounConfig(sentences_per_example=2, max_clauses=10,
                                          distractor_prob=0.7, relative_prob=0.5)
    train_examples: int = 3000
    test_examples: int = 400
    embedding_size: int = 32
    hidden_size: int = 64
    training: TrainConfig = field(default_factory=recipe)
    batch_size: int = 32
    gender_units: int = 4  # the top units by correlation with the subject's gender
    control_draws: int = 3  # random unit sets per seed for the intervention control
    dtype: torch.dtype = torch.float32
    lstm: type = LSTM
    rnn: type = RNN
    explorer_examples: int = 4
    smoke: bool = False  # a smoke run: every printed number says it is not meaningful

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError(f"seeds must be >= 2 (an interval needs two), got {self.seeds}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.seeds))

    @classmethod
    def quick(cls, seed: int = 0) -> TourConfig:
        """A few seconds in one process, for tests and a first look: float64 (so its printout
        is the same on every machine; the README shows it), numbers not meaningful."""
        return cls(seed=seed, seeds=3, workers=1,
                   corpus=PronounConfig(sentences_per_example=2, max_clauses=4,
                                        distractor_prob=0.7, relative_prob=0.5),
                   train_examples=200, test_examples=60, embedding_size=8, hidden_size=12,
                   training=recipe(steps=40), batch_size=16, gender_units=3,
                   control_draws=2, dtype=torch.float64, smoke=True)


@dataclass(frozen=True)
class SeedResult:
    """Everything measured on one seed (its own corpus, weights and batches)."""

    seed: int
    test: PronounData
    lstm: ModelMeasures
    rnn: ModelMeasures
    gates: GateMeasures
    interventions: InterventionMeasures
    split: ForgetSplit
    train_seconds: dict[str, float]
    losses: dict[str, list[float]]
    parameters: dict[str, int]
    state_dicts: dict[str, dict[str, torch.Tensor]]


def build_model(config: TourConfig, name: str) -> LanguageModel:
    recurrent = config.lstm if name == "LSTM" else config.rnn
    model = LanguageModel(recurrent, len(VOCAB), config.embedding_size, config.hidden_size)
    return model.to(config.dtype)


def run_seed(config: TourConfig, seed: int) -> SeedResult:
    """Generate seed's corpus, train both models the same way, measure. Deterministic."""
    generator = torch.Generator().manual_seed(seed)
    train_data = generate(config.train_examples, config.corpus, generator=generator)
    test_data = generate(config.test_examples, config.corpus, generator=generator)
    models, seconds, losses = {}, {}, {}
    for name in ("LSTM", "simple RNN"):
        torch.manual_seed(seed)  # same initial embedding and read-out for both
        model = build_model(config, name)
        batches = torch.Generator().manual_seed(seed + 1)  # same batches for both
        start = time.perf_counter()
        seen: list[float] = []  # every step's loss (the loop reports after each step)
        train(model, token_batches(train_data, config.batch_size), config.training,
              generator=batches, progress=lambda report, seen=seen: seen.append(report.loss))
        losses[name] = seen
        seconds[name] = time.perf_counter() - start
        model.eval()
        models[name] = model
    lstm = models["LSTM"]
    layer = lstm_trace(lstm, test_data.tokens, test_data.lengths)
    gates = gate_measures(layer, test_data, top=config.gender_units)
    controls = torch.Generator().manual_seed(seed + 2)
    return SeedResult(
        seed=seed,
        test=test_data,
        lstm=pronoun_accuracy(lstm, test_data),
        rnn=pronoun_accuracy(models["simple RNN"], test_data),
        gates=gates,
        interventions=intervention_measures(lstm, test_data, gates.gender_units,
                                            draws=config.control_draws, generator=controls),
        split=forget_split(lstm, test_data, layer, gates.gender_units),
        train_seconds=seconds,
        losses=losses,
        parameters={k: sum(p.numel() for p in m.recurrent.parameters())
                    for k, m in models.items()},
        state_dicts={k: {n: t.detach().clone() for n, t in m.state_dict().items()}
                     for k, m in models.items()},
    )


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread, restored after: the products are tiny (batch 32, 64 units), so a
    second thread only spins and synchronises (on a busy machine, ten times the CPU time); the
    seeds use the cores as separate processes instead."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _run_seed_in_worker(config: TourConfig, seed: int) -> SeedResult:
    with one_thread():
        return run_seed(config, seed)


@dataclass(frozen=True)
class TourResult:
    """All seeds, and the first seed looked at in detail: its models, test set and the trace of
    its LSTM over the test set (T, N, H), for the report's figures and explorer."""

    config: TourConfig
    seeds: tuple[SeedResult, ...]
    wall_seconds: float
    models: dict[str, LanguageModel]
    trace: LayerTrace

    @property
    def first(self) -> SeedResult:
        return self.seeds[0]

    @property
    def test(self) -> PronounData:
        return self.first.test

    @property
    def gates(self) -> GateMeasures:
        return self.first.gates

    @property
    def lstm(self) -> ModelMeasures:
        return self.first.lstm

    @property
    def rnn(self) -> ModelMeasures:
        return self.first.rnn


def run_tour(config: TourConfig = TourConfig(),
             on_seed: ProgressCallback | None = None) -> TourResult:
    """Every seed of ``config.seed_list``, in ``config.workers`` processes (spawned, so the
    parent's threads and state never leak into them). Deterministic in the seeds."""
    start = time.perf_counter()
    seeds = config.seed_list
    results: dict[int, SeedResult] = {}
    if config.workers == 1:
        for seed in seeds:
            with one_thread():
                results[seed] = run_seed(config, seed)
            if on_seed is not None:
                on_seed(len(results), len(seeds))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(config.workers, len(seeds)), mp_context=context) as pool:
            futures = [pool.submit(_run_seed_in_worker, config, seed) for seed in seeds]
            for future in as_completed(futures):
                one = future.result()
                results[one.seed] = one
                if on_seed is not None:
                    on_seed(len(results), len(seeds))
    ordered = tuple(results[s] for s in seeds)
    models = {}
    for name, state in ordered[0].state_dicts.items():
        model = build_model(config, name)
        model.load_state_dict(state)
        models[name] = model.eval()
    with one_thread():
        layer = lstm_trace(models["LSTM"], ordered[0].test.tokens, ordered[0].test.lengths)
    return TourResult(config, ordered, time.perf_counter() - start, models, layer)

"""The tour: train an LSTM and a simple RNN on the pronoun corpus, then look inside the LSTM.

``run_tour(config)`` returns every measured number (``TourResult``); ``summary(result)`` turns
them into the sentences the CLI prints and the report shows, each carrying a number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from lstmlab.introspection.trace import LayerTrace
from lstmlab.layers import LSTM, RNN
from lstmlab.tasks.pronouns import VOCAB, PronounConfig, PronounData, generate
from lstmlab.tour.analysis import (
    BUCKETS,
    GateMeasures,
    ModelMeasures,
    bucket_label,
    gate_measures,
    lstm_trace,
    pronoun_accuracy,
)
from lstmlab.tour.model import LanguageModel, TrainConfig, train

# on_step(model_name, step, total_steps, loss)
ProgressCallback = Callable[[str, int, int, float], None]


@dataclass(frozen=True)
class TourConfig:
    """Sizes of the tour. The defaults train both models in well under 3 minutes on 2 cores."""

    seed: int = 0
    # Two sentences per example (one subject change or not), distances up to about 50 tokens.
    corpus: PronounConfig = PronounConfig(sentences_per_example=2, max_clauses=8)
    train_examples: int = 3000
    test_examples: int = 400
    embedding_size: int = 32
    hidden_size: int = 64
    training: TrainConfig = field(default_factory=TrainConfig)
    lstm: type = LSTM
    rnn: type = RNN
    explorer_examples: int = 4
    smoke: bool = False  # a smoke run: every printed number says it is not meaningful

    @classmethod
    def quick(cls, seed: int = 0) -> TourConfig:
        """A few seconds of training: for tests and a first look (numbers are not meaningful)."""
        return cls(seed=seed, corpus=PronounConfig(sentences_per_example=2, max_clauses=4),
                   train_examples=200, test_examples=60, embedding_size=8,
                   hidden_size=12, training=TrainConfig(steps=40, batch_size=16), smoke=True)


@dataclass(frozen=True)
class TourResult:
    config: TourConfig
    test: PronounData
    lstm: ModelMeasures
    rnn: ModelMeasures
    gates: GateMeasures
    trace: LayerTrace  # the LSTM over the test set, (T, N, H)
    train_seconds: dict[str, float]
    losses: dict[str, list[float]]
    parameters: dict[str, int]
    models: dict[str, LanguageModel]


def run_tour(config: TourConfig = TourConfig(),
             on_step: ProgressCallback | None = None) -> TourResult:
    """Generate the corpus, train both models the same way, measure. Deterministic in the seed."""
    generator = torch.Generator().manual_seed(config.seed)
    train_data = generate(config.train_examples, config.corpus, generator=generator)
    test_data = generate(config.test_examples, config.corpus, generator=generator)
    models, seconds, losses = {}, {}, {}
    for name, recurrent in (("LSTM", config.lstm), ("simple RNN", config.rnn)):
        torch.manual_seed(config.seed)  # same initial embedding and read-out for both
        model = LanguageModel(recurrent, len(VOCAB), config.embedding_size, config.hidden_size)
        batches = torch.Generator().manual_seed(config.seed + 1)  # same batches for both

        def report(step: int, loss: float, name: str = name) -> None:
            if on_step is not None:
                on_step(name, step, config.training.steps, loss)

        start = time.perf_counter()
        losses[name] = train(model, train_data, config.training, generator=batches,
                             on_step=report)
        seconds[name] = time.perf_counter() - start
        model.eval()
        models[name] = model
    trace = lstm_trace(models["LSTM"], test_data.tokens, test_data.lengths)
    return TourResult(
        config=config,
        test=test_data,
        lstm=pronoun_accuracy(models["LSTM"], test_data),
        rnn=pronoun_accuracy(models["simple RNN"], test_data),
        gates=gate_measures(trace, test_data),
        trace=trace,
        train_seconds=seconds,
        losses=losses,
        parameters={k: sum(p.numel() for p in m.recurrent.parameters())
                    for k, m in models.items()},
        models=models,
    )


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def gradient_ratio(curve: Tensor, lag: int) -> float:
    """||dL/dh|| ``lag`` steps before the prediction, as a fraction of its size at lag 0."""
    return float(curve[lag] / curve[0])


def summary(result: TourResult) -> list[str]:
    """Short sentences, each with a measured number, in the order of the argument."""
    g, cfg = result.gates, result.config
    lag = min(20, len(result.lstm.gradient_by_lag) - 1)
    buckets = "; ".join(
        f"{bucket_label(b)} tokens: {_pct(a)} vs {_pct(r)} (n={n})"
        for b, a, r, n in zip(BUCKETS, result.lstm.bucket_accuracy, result.rnn.bucket_accuracy,
                              result.lstm.bucket_counts, strict=True))
    retention = "; ".join(f"{bucket_label(b)}: {r:.3f}"
                          for b, r in zip(BUCKETS, g.retention_by_bucket, strict=True)
                          if not math.isnan(r))
    units = ", ".join(f"{u} (r={float(g.gender_correlation[u]):+.2f})" for u in g.gender_units)
    forget_sat = result.gates.saturation[1].mean(0)
    return [
        f"Trained an LSTM ({result.parameters['LSTM']} recurrent weights) and a simple RNN "
        f"({result.parameters['simple RNN']}), both with {cfg.hidden_size} hidden units, for "
        f"{cfg.training.steps} steps each: {result.train_seconds['LSTM']:.1f} s and "
        f"{result.train_seconds['simple RNN']:.1f} s.",
        f"Next-pronoun accuracy on {len(result.test.query_gender)} held-out pronouns: "
        f"LSTM {_pct(result.lstm.accuracy)}, simple RNN {_pct(result.rnn.accuracy)}.",
        f"By subject-to-pronoun distance (LSTM vs RNN): {buckets}.",
        f"The cell states that track the subject's gender best are units {units}.",
        f"In those units the forget gate averages f = {g.forget_at_change:.3f} at a subject "
        f"that changes the gender, {g.forget_at_keep:.3f} at one that keeps it and "
        f"{g.forget_between:.3f} between subject and pronoun.",
        "The gate reads the current word: in those units f is lowest at "
        + ", ".join(f"'{w}' ({f:.3f})" for w, f in list(g.forget_by_word.items())[:3])
        + " and highest at "
        + ", ".join(f"'{w}' ({f:.3f})" for w, f in list(g.forget_by_word.items())[-3:]) + ".",
        f"So a subject change discards |(1 - f) * c| = {g.discarded_at_change:.3f} per unit "
        f"and step, against {g.discarded_between:.3f} between subject and pronoun.",
        f"The subject's write survives to the pronoun with retention prod f = {retention} "
        f"(by distance).",
        f"The pronoun's gradient ||dL/dh|| {lag} steps back is "
        f"{gradient_ratio(result.lstm.gradient_by_lag, lag):.3g} times its size at the pronoun "
        f"in the LSTM and {gradient_ratio(result.rnn.gradient_by_lag, lag):.3g} times in the "
        "simple RNN.",
        "From the pronoun back to its subject, ||dL/dh|| keeps this fraction of its size at the "
        "prediction step (LSTM vs RNN, by distance): " + "; ".join(
            f"{bucket_label(b)}: {a:.3g} vs {r:.3g}"
            for b, a, r in zip(BUCKETS, result.lstm.gradient_at_subject,
                               result.rnn.gradient_at_subject, strict=True)
            if not math.isnan(a)) + ".",
        f"Forget gates sit above 0.9 for {float(forget_sat[1]):.1%} of steps and below 0.1 for "
        f"{float(forget_sat[0]):.1%}.",
    ]

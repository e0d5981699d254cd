"""The tour's report folder: index.html, explorer.html and the figures as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import lstmlab.reports._figures as figures
from lstmlab.introspection import discarded, retention_matrix
from lstmlab.reports import (
    ExplorerExample,
    ExplorerModel,
    Report,
    ReportFigure,
    Section,
    write_explorer,
    write_report,
)
from lstmlab.reports._explorer import ROWS
from lstmlab.tasks._pronouns import VOCAB
from lstmlab.tour._analysis import GATE_NAMES
from lstmlab.tour._plots import interval_bars, interval_lines
from lstmlab.tour._run import TourResult
from lstmlab.tour._summary import (
    accuracy_by_distance,
    intervention_drops,
    split_by_word,
    summary,
)

_FIELDS = dict(zip(ROWS, ("input", "forget", "candidate", "output", "cell", "hidden"),
                   strict=True))


def _example_values(result: TourResult, n: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """Words of test example n and its (T, H) arrays per row of ROWS."""
    words = result.test.words(n)
    trace = result.trace
    return words, {row: getattr(trace, name)[: len(words), n].numpy()
                   for row, name in _FIELDS.items()}


def figure_example(result: TourResult) -> int:
    """The shortest held-out example whose subject changes gender: the one the figures show."""
    data = result.test
    shortest, best = None, 0
    for n in range(data.tokens.shape[0]):
        genders = data.query_gender[data.query_example == n]
        changes = bool((genders[1:] != genders[:-1]).any())
        key = (not changes, int(data.lengths[n]))
        if shortest is None or key < shortest:
            shortest, best = key, n
    return best


def example_marks(result: TourResult, n: int) -> dict[str, list[int]]:
    """Positions of the gendered subjects and of their pronouns in test example n."""
    data, rows = result.test, result.test.query_example == n
    return {"subject": sorted(set(data.query_subject[rows].tolist())),
            "pronoun": sorted(set(data.query_pronoun[rows].tolist()))}


def explorer_examples(result: TourResult) -> list[ExplorerExample]:
    count = min(result.config.explorer_examples, result.test.tokens.shape[0])
    first = figure_example(result)
    order = [first, *(n for n in range(count) if n != first)][:count]
    out = []
    for n in order:
        words, values = _example_values(result, n)
        out.append(ExplorerExample(tuple(words), values, marks=example_marks(result, n),
                                   units=tuple(result.gates.gender_units)))
    return out


def explorer_model(result: TourResult) -> ExplorerModel:
    """The trained LSTM and its vocabulary, for the explorer's type-your-own-sentence box."""
    model = result.models["LSTM"]
    return ExplorerModel.from_lstm(model.recurrent, VOCAB, model.embedding.weight)


def write_tour_report(result: TourResult, out: Path) -> dict[str, Path]:
    """Write the report folder; returns {"index": ..., "explorer": ...}."""
    out = Path(out)
    g = result.gates
    units = list(g.gender_units)
    example = figure_example(result)
    words, values = _example_values(result, example)
    chosen = {row: v[:, units] for row, v in values.items()}
    marks = example_marks(result, example)
    top = units[0]
    length = len(words)
    retention = retention_matrix(result.trace, example)[:length, :length, top].numpy()
    thrown = discarded(result.trace)[:length, example][:, units].abs().numpy()
    lag_curves = {"LSTM": result.lstm.gradient_by_lag.numpy(),
                  "simple RNN": result.rnn.gradient_by_lag.numpy()}
    seed = result.first.seed
    seeds = len(result.seeds)
    labels, curves = accuracy_by_distance(result)
    groups, drops = intervention_drops(result)
    words_split, terms = split_by_word(result)
    sections = (
        Section("Agreement", f"Next-pronoun accuracy on held-out sentences, mean over {seeds} "
                "seeds with its 95 % bootstrap interval (band): the agreeing pronoun must get a "
                "higher logit than the other one.", (
                    ReportFigure("accuracy_by_distance", "Accuracy by subject-to-pronoun distance",
                                 interval_lines(labels, curves, "distance (tokens)", "accuracy",
                                                chance=0.5)),)),
        Section("Interventions", "Accuracy drop when the forget gate of the gender units (or "
                "of as many random units, the control) is clamped inside the recurrence: "
                "f = 1 at subject words or across the sentence boundary (accuracy after a "
                "subject change), f = 0 between subject and pronoun (all pronouns). Mean over "
                "seeds, 95 % interval.", (
                    ReportFigure("interventions", "Accuracy drop, gender units vs random units",
                                 interval_bars(groups, drops, "accuracy drop")),)),
        Section("What the forget gate reads", "pre_f = W_f x_t + U_f h_{t-1} + b_f, mean over "
                "the gender units: its change at subject words and at some words, relative to "
                "its mean between subject and pronoun, split into the input term (the word) "
                "and the recurrent term (the context). Mean over seeds, 95 % interval.", (
                    ReportFigure("forget_split", "Change of pre_f: input vs recurrent term",
                                 interval_bars(words_split, terms, "change of pre_f")),)),
        Section("The gender units", "Correlation of each unit's cell state c_t with the gender "
                f"of the subject in force (held-out steps, seed {seed}; each seed has its own "
                "units); red: the units examined below.", (
                    ReportFigure("gender_units", "Correlation of c_t with the subject's gender",
                                 figures.unit_scores(g.gender_correlation.numpy(), units,
                                                     "correlation")),)),
        Section("Gates on an example", "The gender units' gates and states over a held-out "
                f"example with a subject change (seed {seed}, test example {example}; rows: "
                "units).", (
                    ReportFigure("gate_heatmaps", "i, f, g, o, c, h of the gender units",
                                 figures.gate_heatmaps(words, chosen, units, marks=marks)),)),
        Section("The forget gate by word", "f_t = sigmoid(x_t @ W_f.T + h_{t-1} @ U_f.T + "
                f"b_f): the mean forget gate of the gender units at the steps that read each "
                f"word, lowest first (seed {seed}).", (
                    ReportFigure("forget_by_word", "Mean f of the gender units by word read",
                                 figures.grouped_bars(list(g.forget_by_word),
                                                      {"mean f": list(g.forget_by_word.values())},
                                                      "forget gate f")),)),
        Section("Forget events", "What each step throws away, |(1 - f_t) * c_{t-1}|, in the "
                f"gender units (seed {seed}): where they discard, whatever the word.", (
                    ReportFigure("forget_events", "Discarded content per token and unit",
                                 figures.forget_events(words, thrown, units, marks=marks)),)),
        Section("Retention", f"How much of each token's write survives in unit {top} at each "
                f"later token: the product of the forget gates in between (seed {seed}).", (
                    ReportFigure("retention_map", f"Retention map, unit {top}",
                                 figures.retention_map(words, retention, top, marks=marks)),)),
        Section("Saturation", "Per gate, each unit's fraction of held-out steps below 0.1 "
                f"(left saturated) against above 0.9 (right saturated); seed {seed}.", (
                    ReportFigure("saturation", "Gate saturation per unit",
                                 figures.saturation_scatter(g.saturation.numpy(), GATE_NAMES)),)),
        Section("Gradient flow", "Mean norm of dL/dh_{t-k} for the pronoun's loss L at the "
                f"prediction step t, against k, for both models (seed {seed}).", (
                    ReportFigure("gradient_flow", "||dL/dh|| by steps back",
                                 figures.gradient_curves(lag_curves, "mean ||dL/dh||")),)),
    )
    report = Report(
        title="lstmlab tour: how the forget gate decides what is discarded",
        summary=tuple(summary(result)),
        sections=sections,
        links={"explorer.html": "pick a sentence and a unit, hover a token"},
    )
    index = write_report(report, out, smoke=result.config.smoke)
    explorer = write_explorer(explorer_examples(result), out / "explorer.html",
                              title="lstmlab tour: gate explorer", initial_unit=top,
                              model=explorer_model(result), smoke=result.config.smoke)
    return {"index": index, "explorer": explorer}

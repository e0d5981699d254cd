"""What the tour measures on a trained language model (held-out sentences).

Shapes: N examples, T time, Q pronoun queries, H hidden, K buckets. Names follow the
equations of the LSTM: ``c_t = f_t * c_{t-1} + i_t * g_t``; the write at step s is
``i_s * g_s`` and the fraction of it still in the cell at step t is the retention
``prod_{r=s+1..t} f_r``; what step t discards is ``(1 - f_t) * c_{t-1}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmlab.introspection import (
    LayerTrace,
    discarded,
    gradient_flow,
    rank_units,
    retention_matrix,
    saturation,
    trace,
)
from lstmlab.introspection._trace import step_mask
from lstmlab.tasks._pronouns import VOCAB, WORD_TO_ID, PronounData
from lstmlab.tour._model import LanguageModel

# Subject-to-pronoun distance buckets (inclusive bounds, in tokens).
BUCKETS: tuple[tuple[int, int], ...] = ((5, 10), (11, 20), (21, 30), (31, 40), (41, 10_000))
GATE_NAMES = ("input", "forget", "output")  # the sigmoid gates; g is a tanh
SATURATION_LOW, SATURATION_HIGH = 0.1, 0.9  # Karpathy, Johnson & Fei-Fei (2015), sec. 4.3


def bucket_label(bounds: tuple[int, int]) -> str:
    low, high = bounds
    return f"{low}+" if high >= 10_000 else f"{low}-{high}"


@dataclass(frozen=True)
class ModelMeasures:
    """Agreement and gradient flow of one model. ``bucket_accuracy`` (K,) (NaN: empty bucket);
    ``gradient_by_lag`` (L,): mean ||dL/dh_{p-1-k}|| over queries, k = 0..L-1, where L is the
    pronoun loss at the prediction step p-1."""

    accuracy: float
    bucket_accuracy: tuple[float, ...]
    bucket_counts: tuple[int, ...]
    gradient_by_lag: Tensor
    gradient_at_subject: tuple[float, ...]  # (K,) mean ||dL/dh_s|| / ||dL/dh_{p-1}|| by bucket
    attractor_accuracy: float  # on pronouns with a noun of the other gender in between
    clean_accuracy: float  # on pronouns without one


@dataclass(frozen=True)
class GateMeasures:
    """The LSTM's gender units and their gates (means over the ``gender_units``)."""

    gender_correlation: Tensor  # (H,) correlation of c_t with the subject's gender
    gender_units: tuple[int, ...]
    forget_at_change: float  # f at subject words that change the gender
    forget_at_keep: float  # f at subject words that keep it
    forget_between: float  # f strictly between subject and pronoun
    discarded_at_change: float  # |(1 - f_t) * c_{t-1}| at changing subject words
    discarded_between: float
    retention_by_bucket: tuple[float, ...]  # prod f from subject+1 to pronoun-1, (K,)
    forget_by_word: dict[str, float]  # mean f at steps reading each word, lowest first
    saturation: Tensor  # (3, H, 2): i, f, o; fraction of steps below 0.1 / above 0.9 per unit


def pronoun_accuracy(model: LanguageModel, data: PronounData) -> ModelMeasures:
    """Right when the logit of the agreeing pronoun beats the other one at step p - 1."""
    with torch.no_grad():
        logits = model(data.tokens)
    step = logits[data.query_example, data.query_pronoun - 1]
    his, her = WORD_TO_ID["his"], WORD_TO_ID["her"]
    correct = ((step[:, her] > step[:, his]).long() == data.query_gender).double()
    accuracy, counts = [], []
    for low, high in BUCKETS:
        inside = (data.distance >= low) & (data.distance <= high)
        counts.append(int(inside.sum()))
        accuracy.append(float(correct[inside].mean()) if inside.any() else float("nan"))
    curve, at_subject = gradient_by_lag(model, data)
    attracted = data.attracted

    def share(rows: Tensor) -> float:
        return float(correct[rows].mean()) if rows.any() else float("nan")

    return ModelMeasures(float(correct.mean()), tuple(accuracy), tuple(counts), curve,
                         at_subject, share(attracted), share(~attracted))


def gradient_by_lag(model: LanguageModel, data: PronounData,
                    max_lag: int = 40) -> tuple[Tensor, tuple[float, ...]]:
    """Mean ||dL/dh_{p-1-k}|| over the queries, k = 0..max_lag-1 (L = the pronoun's loss at
    its prediction step p - 1), and the mean ratio ||dL/dh_s|| / ||dL/dh_{p-1}|| at the
    subject word s, per distance bucket (NaN: empty bucket)."""
    rows = data.tokens[data.query_example, : int(data.query_pronoun.max())]
    with torch.no_grad():
        x = model.embedding(rows)  # (Q, T, E): one row per query
    steps = data.query_pronoun - 1
    targets = data.tokens[data.query_example, data.query_pronoun]

    def pronoun_loss(output: Tensor, state: object) -> Tensor:  # output (Q, T, H)
        chosen = output[torch.arange(len(steps)), steps]
        return nn.functional.cross_entropy(model.head(chosen), targets, reduction="sum")

    norms = gradient_flow(model.recurrent, x, pronoun_loss)[0].hidden.norm(dim=-1)  # (T, Q)
    curve = torch.full((max_lag,), float("nan"))
    for k in range(max_lag):
        at = steps - k
        ok = at >= 0
        if ok.any():
            curve[k] = norms[at[ok], ok.nonzero().squeeze(1)].mean()
    queries = torch.arange(len(steps))
    at_subject = norms[data.query_subject, queries] / norms[steps, queries]
    by_bucket = []
    for low, high in BUCKETS:
        inside = (data.distance >= low) & (data.distance <= high)
        by_bucket.append(float(at_subject[inside].mean()) if inside.any() else float("nan"))
    return curve, tuple(by_bucket)


def lstm_trace(model: LanguageModel, tokens: Tensor, lengths: Tensor) -> LayerTrace:
    """The trace of the model's LSTM over ``tokens`` (N, T); tensors (T, N, H), zero past each
    example's length."""
    with torch.no_grad():
        return trace(model.recurrent, model.embedding(tokens), lengths=lengths)[0]


def gate_measures(layer: LayerTrace, data: PronounData, top: int = 4) -> GateMeasures:
    """Gender units, their forget gates at subject changes and between, retention, saturation."""
    labelled = step_mask(layer) & (data.subject_gender.T >= 0)  # (T, N)
    ranking = rank_units(layer.cell, data.subject_gender.T.clamp_min(0), mask=labelled)
    correlation = torch.zeros(layer.cell.shape[-1], dtype=torch.float64)
    correlation[ranking.units] = ranking.scores * ranking.signs
    units = [int(u) for u in ranking.units[:top]]
    forget = layer.forget[:, :, units].mean(-1)  # (T, N)
    thrown = discarded(layer)[:, :, units].abs().mean(-1)  # (T, N)

    n, s, p = data.query_example, data.query_subject, data.query_pronoun
    first = torch.ones_like(n, dtype=torch.bool)
    first[1:] = n[1:] != n[:-1]
    changed = ~first & (data.query_gender != torch.roll(data.query_gender, 1))
    kept = ~first & ~changed
    between = torch.zeros_like(labelled)
    kept_share = torch.zeros(len(n))
    for example in n.unique().tolist():
        matrix = retention_matrix(layer, example)[:, :, units].mean(-1)  # (T, T)
        for q in (n == example).nonzero().squeeze(1).tolist():
            between[s[q] + 1 : p[q], example] = True
            kept_share[q] = matrix[s[q], p[q] - 1]  # the subject's write at the prediction step
    by_bucket = []
    for low, high in BUCKETS:
        inside = (data.distance >= low) & (data.distance <= high)
        by_bucket.append(float(kept_share[inside].mean()) if inside.any() else float("nan"))
    # f_t = sigmoid(x_t @ W_f.T + h_{t-1} @ U_f.T + b_f) reads the word x_t: group f by word.
    real = step_mask(layer)
    words = data.tokens.T[real]
    by_word = {VOCAB[w]: float(forget[real][words == w].mean()) for w in words.unique().tolist()}
    by_word = dict(sorted(by_word.items(), key=lambda item: item[1]))
    gates = saturation(layer, low=SATURATION_LOW, high=SATURATION_HIGH)
    return GateMeasures(
        gender_correlation=correlation,
        gender_units=tuple(units),
        forget_at_change=float(forget[s[changed], n[changed]].mean()),
        forget_at_keep=float(forget[s[kept], n[kept]].mean()),
        forget_between=float(forget[between].mean()),
        discarded_at_change=float(thrown[s[changed], n[changed]].mean()),
        discarded_between=float(thrown[between].mean()),
        retention_by_bucket=tuple(by_bucket),
        forget_by_word=by_word,
        saturation=torch.stack([torch.stack([gates[g].left, gates[g].right], dim=-1)
                                for g in GATE_NAMES]),
    )

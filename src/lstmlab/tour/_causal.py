"""Causal evidence on the tour's LSTM: gate interventions and what the forget gate reads.

Interventions (``lstmlab.introspection.patched_run``: the clamp acts inside the recurrence, so
every later step runs on the changed state). For the gender units U (the top units of
``gate_measures``) and, as the control, as many units drawn at random from the others:

- **keep at the subject**: f_t[U] = 1 at every subject word, so the cell cannot discard the old
  subject where the new one arrives; accuracy on pronouns whose subject changed gender.
- **keep across the boundary**: f_t[U] = 1 at every step from the previous pronoun's object to
  the new subject word (the full stop included), in case the net discards before the subject.
- **forget in between**: f_t[U] = 0 at every step strictly between subject and pronoun (the
  cell must drop what it holds); accuracy by subject-to-pronoun distance.

What the forget gate reads (``lstmlab.introspection.gate_terms``): the pre-activation
pre_f = x_t @ W_f.T + h_{t-1} @ U_f.T + b_f of the gender units (mean over the units), and its
change at a step relative to the mean over the steps between subject and pronoun, split into
the change of the input term (the word itself) and of the recurrent term (the context in
h_{t-1}); the bias does not change. Shapes: N examples, T time, Q pronoun queries, H hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.introspection import Clamp, LayerTrace, Trace, gate_terms, patched_run
from lstmlab.introspection._trace import step_mask
from lstmlab.tasks._pronouns import VOCAB, WORD_TO_ID, PronounData
from lstmlab.tour._analysis import BUCKETS
from lstmlab.tour._model import LanguageModel

INTERVENTIONS = ("keep at the subject", "keep across the boundary", "forget in between")


@dataclass(frozen=True)
class InterventionMeasures:
    """Pronoun accuracy of one seed's LSTM, unpatched and with each clamp of ``INTERVENTIONS``
    on the gender ``units`` and on the ``controls`` (random unit sets of the same size; their
    accuracies averaged). ``changed`` (accuracy on pronouns after a subject change) for the two
    keep clamps; ``by_bucket`` (K,) for the forget clamp (NaN: empty bucket)."""

    units: tuple[int, ...]
    controls: tuple[tuple[int, ...], ...]
    changed_base: float
    changed_units: dict[str, float]
    changed_control: dict[str, float]
    bucket_base: tuple[float, ...]
    bucket_units: tuple[float, ...]
    bucket_control: tuple[float, ...]
    all_base: float  # accuracy on every pronoun, unpatched and with the forget clamp
    all_units: float
    all_control: float


@dataclass(frozen=True)
class ForgetSplit:
    """The gender units' forget pre-activation, mean over the units. ``between``: mean
    (input, recurrent, bias) terms at steps between subject and pronoun; ``subject``,
    ``full_stop``: mean change (d input, d recurrent) at subject words / full stops relative to
    ``between``; ``by_word``: the same change at the steps reading each word."""

    between: tuple[float, float, float]
    subject: tuple[float, float]
    full_stop: tuple[float, float]
    by_word: dict[str, tuple[float, float]]


def correct_pronouns(model: LanguageModel, hidden: Tensor, data: PronounData) -> Tensor:
    """(Q,) bool: the agreeing pronoun's logit beats the other one, from ``hidden`` (T, N, H)."""
    step = hidden[data.query_pronoun - 1, data.query_example]  # (Q, H)
    with torch.no_grad():
        logits = model.head(step.to(model.head.weight.dtype))
    his, her = WORD_TO_ID["his"], WORD_TO_ID["her"]
    return (logits[:, her] > logits[:, his]).long() == data.query_gender


def subject_changed(data: PronounData) -> Tensor:
    """(Q,) bool: the query's subject has the other gender than the previous sentence's."""
    n = data.query_example
    same_example = torch.zeros_like(n, dtype=torch.bool)
    same_example[1:] = n[1:] == n[:-1]
    return same_example & (data.query_gender != torch.roll(data.query_gender, 1))


def query_steps(data: PronounData) -> dict[str, Tensor]:
    """(T, N) bool masks: subject words, the boundary (previous pronoun + 1 .. subject) and the
    steps strictly between each subject and its pronoun."""
    shape = data.tokens.T.shape
    masks = {name: torch.zeros(shape, dtype=torch.bool) for name in INTERVENTIONS}
    previous_pronoun = -1
    previous_example = -1
    for n, s, p in zip(data.query_example.tolist(), data.query_subject.tolist(),
                       data.query_pronoun.tolist(), strict=True):
        if n != previous_example:
            previous_pronoun = s - 1  # no earlier sentence: the boundary is the subject alone
        masks["keep at the subject"][s, n] = True
        masks["keep across the boundary"][previous_pronoun + 1 : s + 1, n] = True
        masks["forget in between"][s + 1 : p, n] = True
        previous_example, previous_pronoun = n, p
    return masks


def _by_bucket(correct: Tensor, data: PronounData) -> tuple[float, ...]:
    out = []
    for low, high in BUCKETS:
        inside = (data.distance >= low) & (data.distance <= high)
        out.append(float(correct[inside].double().mean()) if inside.any() else float("nan"))
    return tuple(out)


def intervention_measures(
    model: LanguageModel, data: PronounData, units: tuple[int, ...], *, draws: int,
    generator: torch.Generator,
) -> InterventionMeasures:
    """Every clamp of ``INTERVENTIONS`` on ``units`` and on ``draws`` random unit sets."""
    with torch.no_grad():
        x = model.embedding(data.tokens)  # (N, T, E), the recurrent layer is batch_first
    recurrent = model.recurrent

    def correct(clamp: Clamp | None) -> Tensor:
        run = (patched_run(recurrent, x, lengths=data.lengths) if clamp is None
               else patched_run(recurrent, x, clamp, lengths=data.lengths))
        return correct_pronouns(model, run.output, data)

    others = torch.tensor([u for u in range(model.hidden_size) if u not in units])
    controls = tuple(tuple(sorted(int(u) for u in others[torch.randperm(
        len(others), generator=generator)[: len(units)]])) for _ in range(max(draws, 1)))
    masks = query_steps(data)
    changed = subject_changed(data)
    base = correct(None)
    values = {"keep at the subject": 1.0, "keep across the boundary": 1.0,
              "forget in between": 0.0}
    on_units, on_control = {}, {}
    for name, value in values.items():
        on_units[name] = correct(Clamp("forget", units, value, where=masks[name]))
        on_control[name] = torch.stack([correct(Clamp("forget", c, value, where=masks[name]))
                                        for c in controls]).double()  # (draws, Q)
    keeps = INTERVENTIONS[:2]
    forget = INTERVENTIONS[2]
    return InterventionMeasures(
        units=tuple(units),
        controls=controls,
        changed_base=float(base[changed].double().mean()),
        changed_units={k: float(on_units[k][changed].double().mean()) for k in keeps},
        changed_control={k: float(on_control[k][:, changed].mean()) for k in keeps},
        bucket_base=_by_bucket(base, data),
        bucket_units=_by_bucket(on_units[forget], data),
        bucket_control=tuple(float(torch.tensor(v).mean()) for v in zip(
            *(_by_bucket(row, data) for row in on_control[forget]), strict=True)),
        all_base=float(base.double().mean()),
        all_units=float(on_units[forget].double().mean()),
        all_control=float(on_control[forget].mean()),
    )


def forget_split(model: LanguageModel, data: PronounData, layer: LayerTrace,
                 units: tuple[int, ...]) -> ForgetSplit:
    """The forget pre-activation of ``units`` split into its terms (module docstring);
    ``layer`` is the trace of the model's LSTM over ``data`` (``lstm_trace``)."""
    with torch.no_grad():
        x = model.embedding(data.tokens)

    ((terms,),) = gate_terms(model.recurrent, x, lengths=data.lengths,
                             traced=Trace(((layer,),)))
    chosen = list(units)
    from_input = terms.input[:, :, chosen].mean(-1).double()  # (T, N)
    recurrent = terms.recurrent[:, :, chosen].mean(-1).double()
    bias = float(terms.bias[chosen].mean())
    masks = query_steps(data)
    between = masks["forget in between"]
    base_input, base_recurrent = float(from_input[between].mean()), float(
        recurrent[between].mean())

    def change(where: Tensor) -> tuple[float, float]:
        return (float(from_input[where].mean()) - base_input,
                float(recurrent[where].mean()) - base_recurrent)

    real = step_mask(layer)
    words = data.tokens.T
    by_word = {VOCAB[w]: change(real & (words == w)) for w in words[real].unique().tolist()}
    return ForgetSplit(
        between=(base_input, base_recurrent, bias),
        subject=change(masks["keep at the subject"]),
        full_stop=change(real & (words == WORD_TO_ID["."])),
        by_word=by_word,
    )

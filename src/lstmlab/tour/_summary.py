"""The tour's sentences: every number a mean over seeds with its 95 % interval, and a finding
stated only where its interval supports it.

Means over seeds carry percentile-bootstrap intervals (``lstmlab.stats``); a share of seeds
("the LSTM was ahead in 5 of 5 seeds") carries a Wilson interval. A difference is a finding
when its interval excludes 0; otherwise the sentence says the run does not support it. With 5
seeds a bootstrap interval is rough (it tends to be too narrow); more seeds (``--seeds``) give
better intervals. Gradient ratios span orders of magnitude, so their mean is taken over log10
(a geometric mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from lstmlab.stats import Interval, bootstrap_mean_interval, wilson_interval
from lstmlab.tour._analysis import BUCKETS, bucket_label
from lstmlab.tour._causal import INTERVENTIONS
from lstmlab.tour._run import TourResult

SMOKE = ("SMOKE RUN (--quick): tiny models trained for seconds; the numbers below are not "
         "meaningful, only the shape of the output is.")


def interval(values: Sequence[float]) -> Interval:
    """Mean over seeds and its 95 % bootstrap interval (NaN entries dropped); NaN if fewer than
    two finite values."""
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) < 2:
        return Interval(float("nan"), float("nan"), float("nan"))
    return bootstrap_mean_interval(finite, resamples=10_000, seed=0)


def fmt(value: Interval, digits: int = 3) -> str:
    if math.isnan(value.estimate):
        return "n/a"
    return f"{value.estimate:.{digits}f} [{value.low:.{digits}f}, {value.high:.{digits}f}]"


def pct(value: Interval) -> str:
    if math.isnan(value.estimate):
        return "n/a"
    return (f"{100 * value.estimate:.1f}% [{100 * value.low:.1f}, {100 * value.high:.1f}]")


def signed_pct(value: Interval) -> str:
    if math.isnan(value.estimate):
        return "n/a"
    return (f"{100 * value.estimate:+.1f} points [{100 * value.low:+.1f}, "
            f"{100 * value.high:+.1f}]")


def geometric(values: Sequence[float]) -> str:
    """Geometric mean and interval of positive ratios (bootstrap over log10)."""
    logs = interval([math.log10(v) for v in values if v > 0 and not math.isnan(v)])
    if math.isnan(logs.estimate):
        return "n/a"
    return f"{10 ** logs.estimate:.2g} [{10 ** logs.low:.2g}, {10 ** logs.high:.2g}]"


def seeds_share(flags: Sequence[bool]) -> str:
    w = wilson_interval(sum(flags), len(flags))
    return f"{sum(flags)} of {len(flags)} seeds (Wilson {w.low:.2f}-{w.high:.2f})"


def _column(rows: Sequence[Sequence[float]], k: int) -> list[float]:
    return [row[k] for row in rows]


MIN_PRONOUNS = 5  # a distance bucket is reported when every seed has this many pronouns in it


def usable_buckets(result: TourResult) -> list[int]:
    """Indices of the distance buckets with at least ``MIN_PRONOUNS`` pronouns in every seed."""
    return [k for k in range(len(BUCKETS))
            if all(s.lstm.bucket_counts[k] >= MIN_PRONOUNS for s in result.seeds)]


def accuracy_by_distance(result: TourResult) -> tuple[list[str], dict[str, list[Interval]]]:
    """Bucket labels and, per model, the mean accuracy over seeds [95 %] in each bucket."""
    keep = usable_buckets(result)
    labels = [bucket_label(BUCKETS[k]) for k in keep]
    series = {name: [interval([getattr(s, attr).bucket_accuracy[k] for s in result.seeds])
                     for k in keep]
              for name, attr in (("LSTM", "lstm"), ("simple RNN", "rnn"))}
    return labels, series


def intervention_drops(result: TourResult) -> tuple[list[str], dict[str, list[Interval]]]:
    """Per intervention, the accuracy drop [95 %] with the gender units and with random units
    clamped (after a subject change for the keep clamps, all pronouns for the forget clamp)."""
    iv = [s.interventions for s in result.seeds]
    units, control = [], []
    for name in INTERVENTIONS[:2]:
        units.append(interval([m.changed_base - m.changed_units[name] for m in iv]))
        control.append(interval([m.changed_base - m.changed_control[name] for m in iv]))
    units.append(interval([m.all_base - m.all_units for m in iv]))
    control.append(interval([m.all_base - m.all_control for m in iv]))
    return list(INTERVENTIONS), {"gender units": units, "random units (control)": control}


SPLIT_WORDS = ("he", "she", ".", "and", "the")


def split_by_word(result: TourResult) -> tuple[list[str], dict[str, list[Interval]]]:
    """Per word, the change of the gender units' pre_f through the input and the recurrent
    term [95 %], relative to its mean between subject and pronoun."""
    splits = [s.split for s in result.seeds]
    words = [w for w in SPLIT_WORDS if all(w in sp.by_word for sp in splits)]
    groups = ["subject words", *[f"'{w}'" for w in words]]
    series = {}
    for k, name in enumerate(("input term W_f x_t", "recurrent term U_f h_{t-1}")):
        series[name] = [interval([sp.subject[k] for sp in splits]),
                        *[interval([sp.by_word[w][k] for sp in splits]) for w in words]]
    return groups, series


def summary(result: TourResult) -> list[str]:
    """Sentences in the order of the argument; every number is a mean over seeds [95 %]."""
    cfg, seeds = result.config, result.seeds
    first = seeds[0]
    lines = [SMOKE] if cfg.smoke else []
    lines.append(
        f"{len(seeds)} seeds ({cfg.seed}-{cfg.seed_list[-1]}; each its own corpus, weights and "
        f"batches) of an LSTM ({first.parameters['LSTM']} recurrent weights) and a simple RNN "
        f"({first.parameters['simple RNN']}), {cfg.hidden_size} hidden units each, "
        f"{cfg.training.max_steps} training steps. Every number: mean over seeds "
        "[95% bootstrap interval].")
    lstm_acc = interval([s.lstm.accuracy for s in seeds])
    rnn_acc = interval([s.rnn.accuracy for s in seeds])
    lines.append(f"Next-pronoun accuracy on {len(first.test.query_gender)} held-out pronouns "
                 f"per seed: LSTM {pct(lstm_acc)}, simple RNN {pct(rnn_acc)}.")
    attracted = [interval([getattr(s, m).attractor_accuracy for s in seeds])
                 for m in ("lstm", "rnn")]
    clean = [interval([getattr(s, m).clean_accuracy for s in seeds]) for m in ("lstm", "rnn")]
    share = interval([float(s.test.attracted.double().mean()) for s in seeds])
    lines.append(f"With an attractor (a noun of the other gender) between subject and pronoun "
                 f"({pct(share)} of pronouns): LSTM {pct(attracted[0])}, RNN "
                 f"{pct(attracted[1])}; without one: LSTM {pct(clean[0])}, RNN {pct(clean[1])}.")
    lstm_b = [s.lstm.bucket_accuracy for s in seeds]
    rnn_b = [s.rnn.bucket_accuracy for s in seeds]
    parts, ahead = [], []
    for k in usable_buckets(result):
        bounds = BUCKETS[k]
        a, r = _column(lstm_b, k), _column(rnn_b, k)
        difference = interval([x - y for x, y in zip(a, r, strict=True)])
        parts.append(f"{bucket_label(bounds)}: {pct(interval(a))} vs {pct(interval(r))}")
        ahead.append((bucket_label(bounds), difference,
                      [x > y for x, y in zip(a, r, strict=True) if not math.isnan(x)]))
    lines.append("By subject-to-pronoun distance in tokens (LSTM vs RNN): " + "; ".join(parts)
                 + ".")
    supported = [label for label, d, _ in ahead if d.low > 0]
    far_label, far_difference, far_flags = ahead[-1] if ahead else ("any", Interval(
        math.nan, math.nan, math.nan), [])
    if supported:
        lines.append(
            f"Finding: the LSTM is more accurate than the simple RNN at {', '.join(supported)} "
            f"tokens (interval of the difference above 0); at {far_label} by "
            f"{signed_pct(far_difference)}, ahead in {seeds_share(far_flags)}.")
    else:
        lines.append(
            "Not supported by this run: that the LSTM is more accurate than the simple RNN at "
            f"any distance (at {far_label}: {signed_pct(far_difference)}, an interval that "
            "includes 0).")

    top = cfg.gender_units
    per_seed = "; ".join(f"seed {s.seed}: " + ", ".join(str(u) for u in s.gates.gender_units)
                         for s in seeds)
    best = interval([float(s.gates.gender_correlation.abs().max()) for s in seeds])
    mean_top = interval([float(s.gates.gender_correlation[list(s.gates.gender_units)].abs()
                               .mean()) for s in seeds])
    lines.append(f"Gender units (the {top} cells c_t most correlated with the subject's "
                 f"gender; unit identities differ by seed) {per_seed}. |r| of the best unit "
                 f"{fmt(best, 2)}, mean |r| of the {top}: {fmt(mean_top, 2)}.")
    change = [s.gates.forget_at_change for s in seeds]
    keep = [s.gates.forget_at_keep for s in seeds]
    between = [s.gates.forget_between for s in seeds]
    lines.append(f"In those units the forget gate averages f = {fmt(interval(change))} at a "
                 f"subject that changes the gender, {fmt(interval(keep))} at one that keeps it "
                 f"and {fmt(interval(between))} between subject and pronoun.")
    drop = interval([c - b for c, b in zip(change, between, strict=True)])
    if drop.high < 0:
        lines.append(f"Finding: f is lower at a subject that changes the gender than between "
                     f"subject and pronoun (difference {fmt(drop)}).")
    else:
        lines.append(f"Not supported by this run: that f is lower at a subject that changes the "
                     f"gender than between subject and pronoun (difference {fmt(drop)} "
                     f"{'is above 0' if drop.low > 0 else 'includes 0'}).")
    words = sorted({w for s in seeds for w in s.gates.forget_by_word})
    by_word = {w: interval([s.gates.forget_by_word.get(w, math.nan) for s in seeds])
               for w in words}
    by_word = {w: v for w, v in by_word.items() if not math.isnan(v.estimate)}
    ranked = sorted(by_word, key=lambda w: by_word[w].estimate)
    lines.append("f by the word read (mean over the gender units): lowest at "
                 + ", ".join(f"'{w}' {fmt(by_word[w])}" for w in ranked[:3]) + "; highest at "
                 + ", ".join(f"'{w}' {fmt(by_word[w])}" for w in ranked[-3:]) + ".")

    lines.extend(_intervention_lines(result))
    lines.extend(_split_lines(result))

    keep_buckets = usable_buckets(result)
    lines.append("The subject's write survives to the pronoun with retention prod f = "
                 + "; ".join(f"{bucket_label(BUCKETS[k])}: "
                             f"{fmt(interval([s.gates.retention_by_bucket[k] for s in seeds]))}"
                             for k in keep_buckets) + " (by distance).")
    gradient = []
    for k in keep_buckets:
        bounds = BUCKETS[k]
        a = _column([s.lstm.gradient_at_subject for s in seeds], k)
        r = _column([s.rnn.gradient_at_subject for s in seeds], k)
        gradient.append(f"{bucket_label(bounds)}: {geometric(a)} vs {geometric(r)}")
    lines.append("From the pronoun back to its subject, ||dL/dh|| keeps this fraction of its "
                 "size at the prediction step (geometric mean over seeds, LSTM vs RNN): "
                 + "; ".join(gradient) + ".")
    above = interval([float(s.gates.saturation[1, :, 1].mean()) for s in seeds])
    below = interval([float(s.gates.saturation[1, :, 0].mean()) for s in seeds])
    lines.append(f"Forget gates sit above 0.9 on {pct(above)} of steps and below 0.1 on "
                 f"{pct(below)}.")
    return lines


def _intervention_lines(result: TourResult) -> list[str]:
    seeds = result.seeds
    iv = [s.interventions for s in seeds]
    lines = []
    base = interval([m.changed_base for m in iv])
    for name in INTERVENTIONS[:2]:
        units = [m.changed_base - m.changed_units[name] for m in iv]
        control = [m.changed_base - m.changed_control[name] for m in iv]
        beyond = interval([u - c for u, c in zip(units, control, strict=True)])
        where = "at each subject word" if name == INTERVENTIONS[0] else (
            "from the previous pronoun's object to the new subject word")
        lines.append(
            f"Intervention, f = 1 {where} (the old subject cannot be discarded): accuracy "
            f"after a subject change (unpatched {pct(base)}) drops by "
            f"{signed_pct(interval(units))} with the gender units clamped, by "
            f"{signed_pct(interval(control))} with as many random units clamped.")
        lines.append(_causal_finding(beyond, f"clamping the gender units' forget gate open "
                                     f"{where} hurts agreement after a subject change more "
                                     "than clamping random units"))
    units = [m.all_base - m.all_units for m in iv]
    control = [m.all_base - m.all_control for m in iv]
    parts = []
    for k in usable_buckets(result):
        bounds = BUCKETS[k]
        u = [m.bucket_base[k] - m.bucket_units[k] for m in iv]
        c = [m.bucket_base[k] - m.bucket_control[k] for m in iv]
        parts.append(f"{bucket_label(bounds)}: {signed_pct(interval(u))} vs "
                     f"{signed_pct(interval(c))}")
    lines.append(
        "Intervention, f = 0 at every step between subject and pronoun (forced forgetting): "
        f"accuracy drops by {signed_pct(interval(units))} with the gender units clamped, by "
        f"{signed_pct(interval(control))} with random units; by distance (units vs random): "
        + "; ".join(parts) + ".")
    beyond = interval([u - c for u, c in zip(units, control, strict=True)])
    lines.append(_causal_finding(beyond, "forcing the gender units to forget between subject "
                                 "and pronoun hurts agreement more than forcing random units"))
    return lines


def _causal_finding(beyond: Interval, claim: str) -> str:
    if beyond.low > 0:
        return f"Finding: {claim} (by {signed_pct(beyond)})."
    return (f"Not supported by this run: that {claim} (the difference {signed_pct(beyond)} "
            f"{'is below 0' if beyond.high < 0 else 'includes 0'}).")


def _split_lines(result: TourResult) -> list[str]:
    seeds = result.seeds
    splits = [s.split for s in seeds]
    lines = []
    between = [interval([sp.between[k] for sp in splits]) for k in range(3)]
    lines.append(
        "What the forget gate reads: pre_f = W_f x_t (input) + U_f h_{t-1} (recurrent) + b_f "
        f"(bias), gender units, between subject and pronoun: {fmt(between[0], 2)} + "
        f"{fmt(between[1], 2)} + {fmt(between[2], 2)}.")
    for label, pick in (("subject words", lambda sp: sp.subject),
                        ("full stops", lambda sp: sp.full_stop)):
        d_input = [pick(sp)[0] for sp in splits]
        d_recurrent = [pick(sp)[1] for sp in splits]
        lines.append(
            f"At {label} pre_f changes by {fmt(interval(d_input), 2)} through the input term "
            f"and {fmt(interval(d_recurrent), 2)} through the recurrent term (relative to "
            "between subject and pronoun).")
        larger = interval([abs(a) - abs(b) for a, b in zip(d_input, d_recurrent, strict=True)])
        if larger.low > 0:
            lines.append(f"Finding: at {label} the word itself (input term) moves f more than "
                         f"the context in h_{{t-1}} (|d input| - |d recurrent| = "
                         f"{fmt(larger, 2)}).")
        elif larger.high < 0:
            lines.append(f"Finding: at {label} the context in h_{{t-1}} (recurrent term) moves f "
                         f"more than the word itself (|d input| - |d recurrent| = "
                         f"{fmt(larger, 2)}).")
        else:
            lines.append(f"Not supported by this run: which term moves f more at {label} "
                         f"(|d input| - |d recurrent| = {fmt(larger, 2)} includes 0).")
    words = [w for w in ("he", "she", ".", "and", "the") if all(w in sp.by_word for sp in splits)]
    lines.append("By word (d input / d recurrent): " + "; ".join(
        f"'{w}' {fmt(interval([sp.by_word[w][0] for sp in splits]), 2)} / "
        f"{fmt(interval([sp.by_word[w][1] for sp in splits]), 2)}" for w in words) + ".")
    return lines

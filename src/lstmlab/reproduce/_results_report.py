"""RESULTS.md and results/summary.csv, rendered from the trials committed under ``results/``.

The repository keeps every finished trial of the long runs as text, one CSV per experiment
(``results/trials/<experiment>.csv``; a reading ``4:linear-output`` is the file
``4_linear-output.csv``), and the store keys' descriptions in ``results/trials/configs.csv``.
:func:`export_store` copies a run's ``trials.sqlite`` there (``lstmlab results --export DIR``);
:func:`render` turns the CSVs into RESULTS.md (the prose of ``results/template.md`` around the
generated tables) and ``results/summary.csv``; :func:`write` writes both. ``lstmlab results``
(and ``make results``) is ``write``: the committed RESULTS.md is exactly its output, which
``tests/reproduce/test_results.py`` checks.

One summary row per (experiment, method, store key): trials, successes with the Wilson 95 %
interval of the success rate, the mean number of training sequences of the successful trials
with its seeded bootstrap 95 % interval, the published row it is compared with and a verdict:

    agrees   the published success rate (where given) is within ``RATE_TOLERANCE`` (10 points)
             of ours; where the paper gives no rate but its text says the mean is over all its
             trials (``PublishedRow.all_reached``), our Wilson 95 % interval reaches the share
             of its trials that had reached the criterion within our budget
             (``PublishedRow.reached_by``: 100 % where the budget is past every one of them;
             bounded by the row's mean and its caption's counts otherwise); and the published
             mean (where given) lies inside our 95 % interval;
    differs  otherwise;
    not testable at this budget
             where the paper gives a success rate over trials whose successful ones needed a
             mean of m sequences, and our budget is below m: some of the paper's successes came
             after our budget, and the paper does not say how many came before it (anything
             from none to all but one), so a rate measured within our budget has nothing to be
             held to. Only a rate of ours above the paper's whole rate (our Wilson interval
             wholly above it) still differs;
    no published number  where the paper gives neither.

summary.csv's ``implied_success_low`` and ``implied_success_high`` are those bounds on the
implied rate within our budget (as rates; empty where the row implies none).

The paper gives its means without a spread. ``published_mean_low`` / ``published_mean_high``
stand in for its interval: ours scaled to its mean (its trials assumed to spread about their
mean as ours do about ours; only with at least ``SPREAD_MIN_SUCCESSES`` successes), and
``mean_difference`` says where the two means stand: ``inside ours``, ``outside ours only``
(ours inside that interval of the paper's) or ``outside both``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from lstmlab.errors import UserError
from lstmlab.reproduce._readings import READINGS, split
from lstmlab.stats import bootstrap_mean_interval, sign_test, wilson_interval
from lstmlab.tasks import PublishedRow

RATE_TOLERANCE = 0.10
#: The verdict of a row run to a budget below the mean of the paper's successful trials.
NOT_TESTABLE = "not testable at this budget"
#: Successes needed before our spread stands in for the paper's (``published_mean_interval``):
#: a bootstrap interval of two or three values says little about a distribution's width.
SPREAD_MIN_SUCCESSES = 5
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
TRIALS_DIR = Path("results") / "trials"
TEMPLATE = Path("results") / "template.md"
SUMMARY = Path("results") / "summary.csv"
#: Committed stores of runs that did not finish in one session (``reproduce --out DIR``, each
#: with a README saying how to resume it); their rows are not in RESULTS.md until exported.
STORES = Path("results") / "stores"
RESULTS_MD = Path("RESULTS.md")
CONFIGS = "configs.csv"
#: A stored experiment name: registry name, optional @setting pieces, optional :reading.
_PIECE = r"[0-9A-Za-z_.-]+=[0-9A-Za-z_.-]+"
EXPERIMENT_NAME = rf"[0-9a-z]+(@{_PIECE}(,{_PIECE})*)?(:[0-9a-z-]+)?"
TRIAL_FIELDS = ("experiment", "method", "seed", "config_hash", "success", "sequences",
                "test_error", "wall_time", "code_version", "finished_at", "curve")
SUMMARY_FIELDS = ("experiment", "reading", "method", "config_hash", "budget", "trials",
                  "successes", "success_rate", "success_low", "success_high", "mean_sequences",
                  "mean_low", "mean_high", "published_setting", "published_trials",
                  "published_success", "implied_success_low", "implied_success_high",
                  "published_mean", "published_mean_low", "published_mean_high",
                  "mean_difference", "published_source", "verdict")


@dataclass(frozen=True)
class Trial:
    """One committed trial row."""

    experiment: str
    method: str
    seed: int
    config_hash: str
    success: bool
    sequences: int
    test_error: float
    wall_time: float
    code_version: str
    finished_at: str
    curve: str


@dataclass(frozen=True)
class Summary:
    """One row of results/summary.csv (see the module docstring)."""

    experiment: str
    method: str
    config_hash: str
    budget: int | None
    trials: tuple[Trial, ...]
    published: PublishedRow | None

    @property
    def reading(self) -> str:
        return split(self.experiment)[1] or "paper's text"

    @property
    def successes(self) -> int:
        return sum(t.success for t in self.trials)

    @property
    def rate(self) -> float:
        return self.successes / len(self.trials)

    @property
    def rate_interval(self) -> tuple[float, float]:
        _, low, high = wilson_interval(self.successes, len(self.trials), CONFIDENCE)
        return low, high

    @property
    def done(self) -> list[int]:
        return [t.sequences for t in self.trials if t.success]

    @property
    def mean(self) -> float | None:
        return sum(self.done) / len(self.done) if self.done else None

    @cached_property  # a bootstrap of 10,000 resamples, read by several cells of a row
    def mean_interval(self) -> tuple[float, float] | None:
        if len(self.done) < 2:  # one success has a mean but no interval
            return None
        _, low, high = bootstrap_mean_interval([float(s) for s in self.done], CONFIDENCE,
                                               BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED)
        return low, high

    def within(self, budget: int | None, seeds: set[int] | None = None) -> Summary:
        """These trials as a run of ``seeds`` (None: all) with the smaller ``budget`` would
        have stored them: a success after ``budget`` sequences becomes a failure at
        ``budget``. Exact for ``lstm1997``, whose trial presents the same sequences and
        checks whatever its budget (the budget only ends it)."""
        trials = self.trials if seeds is None else tuple(
            t for t in self.trials if t.seed in seeds)
        if budget is not None and self.budget is not None and budget < self.budget:
            trials = tuple(t if t.success and t.sequences <= budget
                           else replace(t, success=False, sequences=budget) for t in trials)
        else:
            budget = self.budget
        return replace(self, budget=budget, trials=trials)

    @property
    def implied_rate(self) -> tuple[float, float] | None:
        """The share of the paper's trials that had reached the criterion within our budget,
        as bounds, where the published row implies a rate (``PublishedRow.reached_by``)."""
        return implied_rate(self.published, self.budget)

    @property
    def published_mean_interval(self) -> tuple[float, float] | None:
        """A 95 % interval for the paper's mean, which the paper does not give: ours scaled to
        it (the paper's trials assumed to spread about their mean as ours do about ours)."""
        pub = self.published
        if (pub is None or pub.sequences is None or self.mean_interval is None or not self.mean
                or len(self.done) < SPREAD_MIN_SUCCESSES):
            return None
        low, high = self.mean_interval
        return pub.sequences * low / self.mean, pub.sequences * high / self.mean

    @property
    def mean_difference(self) -> str:
        """Where the means of ours and the paper's stand against the two intervals: ``inside
        ours`` (the published mean in our interval), ``outside both`` (it lies outside ours and
        ours outside the paper's, ``published_mean_interval``), ``outside ours only``; empty
        where there are not two means with intervals to compare."""
        theirs = self.published_mean_interval
        if theirs is None or self.mean_interval is None or self.mean is None:
            return ""
        published = self.published.sequences  # type: ignore[union-attr]  # theirs implies it
        if self.mean_interval[0] <= published <= self.mean_interval[1]:
            return "inside ours"
        if theirs[0] <= self.mean <= theirs[1]:
            return "outside ours only"
        return "outside both"

    @property
    def verdict(self) -> str:
        return verdict(self.published, self.successes, len(self.trials), self.mean_interval,
                       self.budget)


def implied_rate(published: PublishedRow | None,
                 budget: int | None) -> tuple[float, float] | None:
    """``published.reached_by(budget)`` as rates over the paper's trials (None where the row
    implies no rate)."""
    reached = None if published is None else published.reached_by(budget)
    if reached is None:
        return None
    assert published is not None and published.trials is not None
    return reached[0] / published.trials, reached[1] / published.trials


def verdict(published: PublishedRow | None, successes: int, trials: int,
            mean_interval: tuple[float, float] | None, budget: int | None = None) -> str:
    """``agrees`` / ``differs`` / ``not testable at this budget`` / ``no published number`` by
    the rule of the module docstring.
    ``budget``: our trials' budget of sequences (None: unbounded, so an implied rate is the
    paper's whole 100 %)."""
    if published is None or (published.success is None and published.sequences is None):
        return "no published number"
    if (published.success and published.sequences is not None and budget is not None
            and budget < published.sequences):
        _, low, _ = wilson_interval(successes, trials, CONFIDENCE)
        return "differs" if low > published.success + 1e-12 else NOT_TESTABLE
    if published.success is not None and abs(successes / trials - published.success) > (
            RATE_TOLERANCE + 1e-12):
        return "differs"
    implied = implied_rate(published, budget)
    if implied is not None:
        _, low, high = wilson_interval(successes, trials, CONFIDENCE)
        if high < implied[0] - 1e-12 or low > implied[1] + 1e-12:  # the intervals are apart
            return "differs"
    if published.sequences is not None and (
            mean_interval is None or not mean_interval[0] <= published.sequences
            <= mean_interval[1]):
        return "differs"
    return "agrees"


def file_name(experiment: str) -> str:
    """The CSV of an experiment's trials: ``"4:linear-output"`` -> ``"4_linear-output.csv"``,
    ``"2c@q=1000,p=1000"`` -> ``"2c_q1000_p1000.csv"`` (a setting's pieces, ``=`` dropped)."""
    if not re.fullmatch(EXPERIMENT_NAME, experiment):
        raise UserError(f"experiment: expected a name like '4', '4:linear-output' or "
                        f"'4@T=1000:linear-output', received {experiment!r}")
    for mark, put in ((":", "_"), ("@", "_"), (",", "_"), ("=", "")):
        experiment = experiment.replace(mark, put)
    return experiment + ".csv"


def _trial(row: dict[str, str]) -> Trial:
    return Trial(row["experiment"], row["method"], int(row["seed"]), row["config_hash"],
                 row["success"] == "1", int(row["sequences"]), float(row["test_error"]),
                 float(row["wall_time"]), row["code_version"], row["finished_at"], row["curve"])


def _row(trial: Trial) -> list[str]:
    return [trial.experiment, trial.method, str(trial.seed), trial.config_hash,
            str(int(trial.success)), str(trial.sequences), repr(trial.test_error),
            repr(trial.wall_time), trial.code_version, trial.finished_at, trial.curve]


#: A trial's learning curve is one CSV field: a trial of millions of sequences (6b's stop at
#: 3,000,000, a point every 500: ~170,000 characters) outgrows the csv module's default limit
#: of 131,072 characters per field.
FIELD_LIMIT = 1 << 28


def load_trials(trials_dir: Path) -> list[Trial]:
    """Every committed trial under ``trials_dir`` (all ``*.csv`` but configs.csv)."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    trials = []
    for path in sorted(Path(trials_dir).glob("*.csv")):
        if path.name == CONFIGS:
            continue
        with path.open(newline="") as handle:
            trials += [_trial(row) for row in csv.DictReader(handle)]
    return trials


def load_configs(trials_dir: Path) -> dict[str, str]:
    """Store key -> the canonical description of its settings."""
    path = Path(trials_dir) / CONFIGS
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["config_hash"]: row["description"] for row in csv.DictReader(handle)}


def _write_csv(path: Path, header: Iterable[str], rows: Iterable[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    path.write_text(buffer.getvalue())


def export_store(store: Path, trials_dir: Path) -> int:
    """Merge every trial of the sqlite ``store`` into the CSVs under ``trials_dir`` (a trial
    already there, same experiment, method, seed and key, is kept); return the rows added."""
    store = Path(store)
    if not store.is_file():
        raise UserError(f"store: expected a trials.sqlite file, received {store}")
    trials_dir = Path(trials_dir)
    trials_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT experiment, method, seed, config_hash, success, sequences,"
                          " test_error, wall_time, code_version, finished_at, curve FROM trials"
                          ).fetchall()
        described = dict(db.execute("SELECT config_hash, description FROM configs"))
    fresh = [Trial(e, m, s, h, bool(ok), n, err, wall, version, at, curve)
             for e, m, s, h, ok, n, err, wall, version, at, curve in rows]
    existing = load_trials(trials_dir)
    known = {(t.experiment, t.method, t.seed, t.config_hash) for t in existing}
    added = [t for t in fresh if (t.experiment, t.method, t.seed, t.config_hash) not in known]
    by_file: dict[str, list[Trial]] = defaultdict(list)
    for trial in existing + added:
        by_file[file_name(trial.experiment)].append(trial)
    for name, trials in by_file.items():
        trials.sort(key=lambda t: (t.experiment, t.method, t.config_hash, t.seed))
        _write_csv(trials_dir / name, TRIAL_FIELDS, (_row(t) for t in trials))
    configs = load_configs(trials_dir)
    used = {t.config_hash for t in existing + added}
    configs.update({key: text for key, text in described.items() if key in used})
    _write_csv(trials_dir / CONFIGS, ("config_hash", "description"),
               ([key, configs[key]] for key in sorted(configs)))
    return len(added)


def budget_of(description: str) -> int | None:
    """The budget of a store key's description (its last element, see
    ``runner.trial_config_hash``), or None when the description is unknown."""
    found = re.search(r", (\d+)\)$", description)
    return int(found.group(1)) if found else None


def _experiment_order() -> list[str]:
    from lstmlab.reproduce._registry import REGISTRY
    from lstmlab.reproduce._settings import settings

    order = []
    for name in REGISTRY:
        for setting in settings(name):
            order.append(setting.command_name)
            order += [f"{setting.command_name}:{reading}" for reading in READINGS.get(name, {})]
    return order


def _published(experiment: str, method: str) -> PublishedRow | None:
    """The published row a measured row sits beside: the experiment's first row of that
    method (the registry puts the compared setting first)."""
    from lstmlab.reproduce._registry import experiment as build

    rows = build(split(experiment)[0]).published
    return next((row for row in rows if row.method == method), None)


def summaries(trials: list[Trial], configs: dict[str, str]) -> list[Summary]:
    """One Summary per (experiment, method, store key), in Table 10's order."""
    groups: dict[tuple[str, str, str], list[Trial]] = defaultdict(list)
    for trial in trials:
        groups[(trial.experiment, trial.method, trial.config_hash)].append(trial)
    order = _experiment_order()

    def key(group: tuple[str, str, str]) -> tuple:
        name = group[0]
        return (order.index(name) if name in order else len(order), name, group[1] != "lstm1997",
                group[1], budget_of(configs.get(group[2], "")) or 0, group[2])

    return [Summary(e, m, h, budget_of(configs.get(h, "")),
                    tuple(sorted(groups[(e, m, h)], key=lambda t: t.seed)), _published(e, m))
            for e, m, h in sorted(groups, key=key)]


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def summary_csv(rows: list[Summary]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_FIELDS)
    for row in rows:
        low, high = row.rate_interval
        mean_low, mean_high = row.mean_interval or (None, None)
        pub = row.published
        implied_low, implied_high = row.implied_rate or (None, None)
        theirs_low, theirs_high = row.published_mean_interval or (None, None)
        writer.writerow([
            split(row.experiment)[0], row.reading, row.method, row.config_hash,
            "" if row.budget is None else row.budget, len(row.trials), row.successes,
            _number(row.rate, 4), _number(low, 4), _number(high, 4), _number(row.mean, 1),
            _number(mean_low, 1), _number(mean_high, 1),
            "" if pub is None else pub.setting,
            "" if pub is None or pub.trials is None else pub.trials,
            "" if pub is None or pub.success is None else pub.success,
            _number(implied_low, 4), _number(implied_high, 4),
            "" if pub is None or pub.sequences is None else f"{pub.sequences:.0f}",
            _number(theirs_low, 1), _number(theirs_high, 1), row.mean_difference,
            "" if pub is None else pub.source, row.verdict])
    return buffer.getvalue()


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _rate_cell(row: Summary) -> str:
    low, high = row.rate_interval
    return (f"{row.successes} of {len(row.trials)} ({100 * row.rate:.0f} %; "
            f"{100 * low:.0f}-{100 * high:.0f} %)")


def _mean_cell(row: Summary) -> str:
    if row.mean is None:
        return "—"
    if row.mean_interval is None:  # one success: a mean, no interval
        return f"{row.mean:,.0f} (one trial, no interval)"
    low, high = row.mean_interval
    return f"{row.mean:,.0f} ({low:,.0f}-{high:,.0f})"


def _published_cell(row: PublishedRow | None, budget: int | None = None) -> str:
    """The published row in words; with our ``budget``, how many of its trials had reached the
    criterion within it, where that is less than all of them."""
    if row is None:
        return "—"
    if row.success is not None:
        rate = f"{100 * row.success:.0f} %"
    elif row.all_reached:
        rate = "rate not given, 100 % implied"
        reached = row.reached_by(budget)
        assert reached is not None and row.trials is not None
        if budget is not None and reached != (row.trials, row.trials):
            low, high = reached
            share = f"{low}" if low == high else f"{low} to {high}"
            rate += f" ({share} of {row.trials} within {budget:,})"
    else:
        rate = "rate not given"
    trials = "" if row.trials is None else f", {row.trials} trials"
    return f"{rate}{trials}, mean {_count(row.sequences)} ({row.source}, {row.setting})"


def _trials_cell(row: Summary) -> str:
    paper = None if row.published is None else row.published.trials
    if paper is None or len(row.trials) >= paper:
        return str(len(row.trials))
    return f"{len(row.trials)} of the paper's {paper} (partial)"


def measured_table(rows: list[Summary]) -> str:
    lines = ["| experiment | reading | method | key | budget | trials | success (Wilson 95 %) | "
             "mean seqs to success (bootstrap 95 %) | [H97] | verdict |",
             "|---|---|---|---|---:|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {split(row.experiment)[0]} | {row.reading} | {row.method} | "
            f"`{row.config_hash[:8]}` | {_count(row.budget)} | {_trials_cell(row)} | "
            f"{_rate_cell(row)} | "
            f"{_mean_cell(row)} | {_published_cell(row.published, row.budget)} | "
            f"**{row.verdict}**{_difference_note(row)} |")
    return "\n".join(lines)


def _difference_note(row: Summary) -> str:
    """After "differs": where the means stand (``Summary.mean_difference``), when the published
    mean is outside our interval."""
    where = row.mean_difference
    if row.verdict != "differs" or where not in ("outside both", "outside ours only"):
        return ""
    return f"; means {where.replace('ours', 'our interval')}"


def trial_lists(rows: list[Summary]) -> str:
    """Every trial in words: seed, sequences, success, test error, code version."""
    out = []
    for row in rows:
        versions = sorted({t.code_version for t in row.trials})
        items = ", ".join(
            f"{t.seed}: {t.sequences:,}{'' if t.success else ' (failed)'}" for t in row.trials)
        wrong = [t.test_error for t in row.trials]
        out.append(
            f"- **{row.experiment}, {row.method}** (key `{row.config_hash}`, code "
            f"{', '.join(versions)}): seed: sequences = {items}. Test sequences wrong after "
            f"training: {100 * min(wrong):.2f}-{100 * max(wrong):.2f} % (mean "
            f"{100 * sum(wrong) / len(wrong):.2f} %); wall time per trial "
            f"{sum(t.wall_time for t in row.trials) / len(row.trials):,.0f} s.")
    return "\n".join(out)


def readings_table(rows: list[Summary]) -> str:
    """Each reading against the paper's-text set-up of the same experiment (lstm1997)."""
    by_name: dict[str, list[Summary]] = defaultdict(list)
    for row in rows:
        if row.method == "lstm1997":
            by_name[row.experiment].append(row)
    lines = ["| reading | rests on | paper's text: success, mean | reading: success, mean | "
             "[H97] | verdict of the reading | kept? |", "|---|---|---|---|---|---|---|"]
    for experiment, readings in READINGS.items():
        for name, reading in readings.items():
            mine = next(iter(by_name.get(f"{experiment}:{name}", [])), None)
            base = _text_row(by_name.get(experiment, []), mine)

            def cells(row: Summary | None) -> str:
                return "not run" if row is None else f"{_rate_cell(row)}, {_mean_cell(row)}"

            shown, shown_mine = base, mine
            if mine is None:
                kept = "not run"
            elif mine.verdict == "agrees":
                kept = "kept: agrees with [H97]"
            elif base is None:
                kept = "differs from [H97]; the paper's-text row has no trials here (see text)"
            else:
                shown, shown_mine = _like_with_like(base, mine)
                kept = _compared(shown, shown_mine)
            lines.append(f"| `{experiment}:{name}`: {reading.change} | {reading.rests_on} | "
                         f"{cells(shown)}{_restricted(base, shown)} | "
                         f"{cells(shown_mine)}{_restricted(mine, shown_mine)} | "
                         f"{_published_cell(_published(experiment, 'lstm1997'))} | "
                         f"{'—' if mine is None else mine.verdict} | {kept} |")
    return "\n".join(lines)


def _text_row(rows: list[Summary], mine: Summary | None) -> Summary | None:
    """The paper's-text row to set a reading against: of the experiment's ``lstm1997`` rows,
    the one sharing most seeds with the reading, then with the largest budget."""
    if not rows:
        return None
    seeds = set() if mine is None else {t.seed for t in mine.trials}
    return max(rows, key=lambda row: (len(seeds & {t.seed for t in row.trials}),
                                      row.budget or 0))


def _like_with_like(base: Summary, mine: Summary) -> tuple[Summary, Summary]:
    """The paper's-text row and the reading's on the seeds both ran, within the smaller of
    their budgets (``Summary.within``)."""
    seeds = {t.seed for t in base.trials} & {t.seed for t in mine.trials}
    budget = min((b for b in (base.budget, mine.budget) if b is not None), default=None)
    return base.within(budget, seeds), mine.within(budget, seeds)


def _restricted(base: Summary | None, shown: Summary | None) -> str:
    """What the paper's-text cell was restricted to, where it was."""
    if base is None or shown is None:
        return ""
    notes = []
    if len(shown.trials) < len(base.trials):
        seeds = sorted(t.seed for t in shown.trials)
        consecutive = bool(seeds) and seeds == list(range(seeds[0], seeds[-1] + 1))
        notes.append(f"seeds {seeds[0]}-{seeds[-1]}" if consecutive
                     else f"the reading's {len(seeds)} seeds")
    if shown.budget != base.budget and shown.budget is not None:
        notes.append(f"within {shown.budget:,}")
    return f" ({', '.join(notes)})" if notes else ""


def _compared(base: Summary, mine: Summary) -> str:
    """The reading against the text on the same seeds and budget (``_like_with_like``):
    "narrows the gap" where a change towards the paper is supported, by more successes (Wilson
    intervals apart, or seed for seed an exact sign test at p < 0.05) or by a mean whose
    interval lies wholly beyond the text's on the paper's side (``_moves_towards_paper``);
    "rejected: widens the gap" where a change away from it is supported the same way;
    "rejected: no change the intervals support" otherwise."""
    if base.successes == mine.successes == 0:
        return ("rejected: neither succeeds within the common budget"
                f" ({base.budget:,})" if base.budget is not None else "rejected")
    if _more_successes(base, mine) or _moves_towards_paper(base, mine):
        return "narrows the gap, does not close it"
    if _more_successes(mine, base) or _moves_towards_paper(mine, base):
        return "rejected: widens the gap"
    return "rejected: no change the intervals support"


def _more_successes(base: Summary, mine: Summary) -> bool:
    """Whether ``mine`` succeeds more often than ``base`` (the same seeds), supported."""
    if mine.rate_interval[0] > base.rate_interval[1]:
        return True
    outcome = {t.seed: t.success for t in base.trials}
    gains = sum(t.success and not outcome[t.seed] for t in mine.trials)
    losses = sum(outcome[t.seed] and not t.success for t in mine.trials)
    return gains > losses and sign_test(gains, losses) < 0.05


def _moves_towards_paper(base: Summary, mine: Summary) -> bool:
    """Whether the reading's mean interval lies wholly beyond the text's, on the side of the
    published mean (below it where the text's row needs more sequences than the paper, above
    it where fewer: Exp. 3's rows)."""
    if mine.mean_interval is None or base.mean_interval is None:
        return False
    published = mine.published.sequences if mine.published is not None else None
    if published is not None and published > base.mean_interval[1]:
        return mine.mean_interval[0] > base.mean_interval[1]
    return mine.mean_interval[1] < base.mean_interval[0]


def _unfinished(stores: Path) -> dict[tuple[str, str], str]:
    """(command name, method) -> the folder under ``stores`` whose ``trials.sqlite`` holds a
    set-up of that run (a run stopped before its end, committed to be resumed)."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(stores.glob("*/trials.sqlite")):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            descriptions = [d for (d,) in db.execute("SELECT description FROM configs")]
        for description in descriptions:
            named = re.match(r"\('([^']+)', ", description)
            methods = re.findall(r"'([a-z0-9_]+)'", description)
            if named and methods:
                for method in methods:
                    found.setdefault((named.group(1), method), path.parent.as_posix())
    return found


def not_run(rows: list[Summary], stores: Path = STORES) -> str:
    """The published rows with no committed trial, each with the command that runs it: the
    setting (``lstmlab.reproduce._settings``) whose compared row it is, for its method (a
    competitor's own setting where it has one); rows no setting compares say so, and rows
    whose run is a committed unfinished store under ``stores`` name it."""
    from lstmlab.reproduce._registry import REGISTRY
    from lstmlab.reproduce._registry import experiment as build
    from lstmlab.reproduce._settings import settings

    measured = {(row.experiment, row.method) for row in rows}
    compared: dict[PublishedRow, str] = {}  # row -> the command name that runs it
    for name in REGISTRY:
        for setting in settings(name):
            if setting.method is not None:  # a competitor's own set-up runs its row
                compared[setting.published] = setting.command_name
                continue
            for published in build(setting.command_name).published:
                if published is _published(setting.command_name, published.method):
                    compared.setdefault(published, setting.command_name)
    unfinished = _unfinished(stores)
    lines, listed = [], set()
    for name in REGISTRY:
        for published in build(name).published:
            if published in listed:
                continue
            listed.add(published)
            runs = compared.get(published)
            if runs is not None and (runs, published.method) in measured:
                continue
            if runs is None:
                why, command = "a competitor set-up the `reproduce` registry does not run yet", "—"
            else:
                why = "no trial committed yet"
                command = f"`lstmlab reproduce {runs} --method {published.method}`"
                folder = unfinished.get((runs, published.method))
                if folder is not None:
                    why = (f"unfinished: its resumable store is `{folder}/`, whose README "
                           "says how to finish it")
            lines.append(f"| {name} | {published.method} | {published.setting} | "
                         f"{_published_cell(published)} | {why} | {command} |")
    head = ["| experiment | method | [H97] setting | [H97] | why not here | command |",
            "|---|---|---|---|---|---|"]
    return "\n".join(head + lines)


def _row_sentence(rows: list[Summary], experiment: str, method: str) -> str:
    """``{{row EXPERIMENT METHOD}}`` in the template: that row in words (all its store keys)."""
    found = [row for row in rows if row.experiment == experiment and row.method == method]
    if not found:
        return f"no committed trial of `{experiment}` ({method})"
    parts = []
    for row in found:
        parts.append(f"{len(row.trials)} trials finished, {_rate_cell(row)} successful, mean "
                     f"{_mean_cell(row)} sequences (key `{row.config_hash[:8]}`, "
                     f"{row.verdict})")
    return "; ".join(parts)


MODERN_DIR = Path("results") / "modern"
#: The modern column's goal: at least this many times fewer sequences.
MODERN_GOAL = 10.0


def _recipe_kind(row: Summary, root: Path) -> str:
    """Which recipe a modern row ran: the swept one of ``results/modern/`` (its store key is
    that recipe's), the default ``ModernSettings``, or other settings."""
    from lstmlab.reproduce._modern import ModernMethod
    from lstmlab.reproduce._recipe import read_recipe, recipe_file
    from lstmlab.reproduce._registry import experiment as build
    from lstmlab.reproduce._runner import trial_config_hash

    if row.budget is None:
        return "settings unknown"
    experiment = build(row.experiment)
    path = recipe_file(root / MODERN_DIR, row.experiment)
    if path.exists():
        name, settings = read_recipe(path)
        swept = ModernMethod(recipes=((name, settings),))
        if trial_config_hash(swept, experiment, row.budget)[0] == row.config_hash:
            return f"swept (`{path.relative_to(root).as_posix()}`)"
    if trial_config_hash(ModernMethod(), experiment, row.budget)[0] == row.config_hash:
        return "default `ModernSettings`"
    return "other settings"


def modern_table(rows: list[Summary], root: Path) -> str:
    """The modern column: each modern row beside [H97]'s LSTM mean, with the ratio
    paper / ours and its interval (the paper's mean over our bootstrap interval; the paper gives
    none), and whether the goal (``MODERN_GOAL`` times fewer) is shown: the ratio's lower end
    at least the goal and no trial failed. Then which experiments have a swept recipe."""
    from lstmlab.reproduce._recipe import recipe_file
    from lstmlab.reproduce._registry import REGISTRY

    lines = ["| experiment | recipe | trials | success (Wilson 95 %) | mean seqs to success "
             "(bootstrap 95 %) | [H97] LSTM mean | ratio [H97] / modern (95 %) | "
             f"{MODERN_GOAL:.0f}x fewer? |", "|---|---|---:|---|---|---:|---|---|"]
    for row in rows:
        if row.method != "modern":
            continue
        paper = _published(row.experiment, "lstm1997")
        paper_mean = None if paper is None else paper.sequences
        ratio, goal = "—", "no published mean"
        if paper_mean is not None and row.mean is not None:
            ratio = f"{paper_mean / row.mean:.1f}"
            interval = row.mean_interval
            if interval is not None:
                low, high = paper_mean / interval[1], paper_mean / interval[0]
                ratio += f" ({low:.1f}-{high:.1f})"
                shown = low >= MODERN_GOAL and row.successes == len(row.trials)
                goal = "**shown**" if shown else "not shown"
            else:
                goal = "not shown (no interval)"
        elif paper_mean is not None:
            goal = "not shown (no success)"
        lines.append(f"| {row.experiment} | {_recipe_kind(row, root)} | {len(row.trials)} | "
                     f"{_rate_cell(row)} | {_mean_cell(row)} | {_count(paper_mean)} | {ratio} "
                     f"| {goal} |")
    swept, unsolved = [], []
    for name in REGISTRY:
        path = recipe_file(root / MODERN_DIR, name)
        if path.exists():
            record = json.loads(path.read_text()).get("sweep", {})
            chosen = next((c for c in record.get("candidates", ())
                           if c.get("index") == record.get("chosen")), None)
            if chosen is not None and chosen.get("successes") == 0:
                unsolved.append(f"{name} (no candidate of {len(record['candidates'])} solved a "
                                f"validation seed within {record['budget']:,} sequences)")
            else:
                swept.append(name)
    others = [name for name in REGISTRY if name not in swept
              and not any(text.startswith(f"{name} ") for text in unsolved)]
    lines += ["", f"Swept recipes (`results/modern/`): {', '.join(swept) or 'none'}."
              + (f" Swept without a solving recipe: {'; '.join(unsolved)}." if unsolved else "")
              + f" Not swept (no modern recipe chosen yet): {', '.join(others) or 'none'}."]
    return "\n".join(lines)


ROW_MARKER = re.compile(r"\{\{row ([0-9A-Za-z@=,.:_-]+) ([0-9a-z_]+)\}\}")

MARKERS = {"{{MEASURED}}": measured_table, "{{READINGS}}": readings_table,
           "{{TRIALS}}": trial_lists, "{{NOT_RUN}}": not_run}


def render(root: Path) -> dict[Path, str]:
    """RESULTS.md and results/summary.csv as text, from ``root``'s committed trials and
    template (paths relative to ``root``)."""
    root = Path(root)
    template = (root / TEMPLATE).read_text()
    rows = summaries(load_trials(root / TRIALS_DIR), load_configs(root / TRIALS_DIR))
    text = template
    for marker, build in MARKERS.items():
        if marker not in template:
            raise UserError(f"{TEMPLATE}: expected the marker {marker}, found none")
        text = text.replace(marker, build(rows))
    if "{{MODERN}}" in text:  # optional: the modern column's section
        text = text.replace("{{MODERN}}", modern_table(rows, root))
    text = ROW_MARKER.sub(lambda found: _row_sentence(rows, found.group(1), found.group(2)),
                          text)
    return {RESULTS_MD: text, SUMMARY: summary_csv(rows)}


def write(root: Path) -> list[Path]:
    """Render and write RESULTS.md and results/summary.csv under ``root``; return the paths."""
    written = []
    for relative, text in render(Path(root)).items():
        path = Path(root) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def curve(trial: Trial) -> list[tuple[int, float]]:
    """A committed trial's learning curve: (sequences seen, mean training error) pairs."""
    return [(int(s), float(e)) for s, e in json.loads(trial.curve)]

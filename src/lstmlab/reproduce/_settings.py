"""Every published lstm1997 setting of [H97] Table 10's experiments, by a command-line name.

The registry (:mod:`lstmlab.reproduce._registry`) runs one set-up per experiment: ``4`` is the
adding problem at T = 100, ``2c`` is q = p = 50. The paper reports more rows per experiment
(Table 3's nine (q, p) pairs, Table 7's T = 500 and 1000, ...); each is a *setting* here, named
after the experiment with ``@`` and the setting's parameters in the paper's terms, and
composable with a reading (:mod:`lstmlab.reproduce._readings`)::

    lstmlab reproduce 2c@q=1000,p=1000        # Table 3, q = p = 1000
    lstmlab reproduce 4@T=1000:linear-output  # Table 7, T = 1000, read with a linear output
    lstmlab reproduce 3a@T=100,N=1,rule=ST1   # Table 4, N = 1, stopped at ST1

The pieces after ``@`` may come in any order (``2c@p=1000,q=1000`` is the same setting). A
setting's trials are stored under its canonical name (``"2c@q=1000,p=1000"``); the registry's own
set-up of each experiment is also a setting here (``4@T=100``), and it stays stored under the
plain name (``"4"``), so the rows measured before settings existed keep their keys.

Each setting is data (:class:`Setting`), built from its task module's own parameters and paired
with the ``PublishedRow`` it reproduces. Trials: that row's count. Budget, by the registry's rule:
the paper's cap where it states one (Experiment 2's 5 million, ``Setup1997.max_sequences``),
else ``BUDGET_FACTOR`` times the published mean, rounded up to 100,000 (the registry's own
set-ups keep their budgets: their trials are stored under them).

Rules: Experiments 3a and 3b stop at ST2 ([H97] Tables 4-5 report the sequences at ST1 and at
ST2 of the same runs); a trial here stops at one rule, so the ST1 column is its own setting
(``rule=ST1``: the task's stopping rules cut to the first). Experiment 5 likewise has
``n_seq=140`` and ``n_seq=13`` (the registry's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from lstmlab.errors import UserError
from lstmlab.reproduce._competitor_settings import competitor_settings
from lstmlab.reproduce._experiment import Experiment
from lstmlab.tasks import PublishedRow, Task

#: A setting the paper gives no cap for may train this many times its published mean.
BUDGET_FACTOR = 6


@dataclass(frozen=True)
class Setting:
    """One published setting of an experiment.

    ``experiment`` is the registry name (``"2c"``); ``name`` the canonical pieces after ``@``
    (``"q=1000,p=1000"``); ``published`` the lstm1997 row it reproduces; ``make_task(seed)`` and
    ``setup`` the task module's task and Table 10 set-up for it; ``budget`` and ``trials`` as in
    :class:`~lstmlab.reproduce._experiment.Experiment`; ``default`` marks the registry's own
    set-up (stored under the plain name); ``eval_batch_size`` replaces the registry's where
    set (2c's one-hot inputs at large q and p, see :func:`eval_batch_2c`). A competitor's
    setting (:mod:`lstmlab.reproduce._competitor_settings`) names the one ``method`` that runs
    it; ``published`` is then that method's row.
    """

    experiment: str
    name: str
    title: str
    published: PublishedRow
    make_task: Callable[[int], Task]
    setup: object
    budget: int
    default: bool = False
    eval_batch_size: int | None = None
    method: str | None = None

    @property
    def command_name(self) -> str:
        """What to type: ``"2c@q=1000,p=1000"``; the plain ``"2c"`` for the registry's own."""
        return self.experiment if self.default else f"{self.experiment}@{self.name}"

    @property
    def trials(self) -> int:
        return self.published.trials or 10


def pieces(name: str) -> frozenset[str]:
    """``"q=1000, p=1000"`` -> ``{"q=1000", "p=1000"}`` (order and spaces do not matter)."""
    return frozenset(piece.strip() for piece in name.split(",") if piece.strip())


def several_times(mean: float) -> int:
    """``BUDGET_FACTOR`` x ``mean``, rounded up to a multiple of 100,000."""
    return int(math.ceil(BUDGET_FACTOR * mean / 100_000)) * 100_000


def _budget(setup: object, row: PublishedRow) -> int:
    cap = getattr(setup, "max_sequences", None)
    if cap:
        return int(cap)
    if row.sequences is None:
        raise ValueError(f"{row.setting}: the paper gives neither a cap nor a mean")
    return several_times(row.sequences)


def _row(rows: tuple[PublishedRow, ...], setting: str) -> PublishedRow:
    found = [r for r in rows if r.method == "lstm1997" and r.setting == setting]
    if len(found) != 1:
        raise ValueError(f"expected one lstm1997 row {setting!r}, found {len(found)}")
    return found[0]


def _setting(experiment: str, name: str, title: str, row: PublishedRow,
             make_task: Callable[[int], Task], setup: object,
             default: bool = False, eval_batch_size: int | None = None) -> Setting:
    return Setting(experiment, name, title, row, make_task, setup, _budget(setup, row), default,
                   eval_batch_size)


#: Elements of one 2c evaluation batch's one-hot inputs at most (steps x batch x (p + 4)).
EVAL_ELEMENTS_2C = 32_000_000


def eval_batch_2c(q: int, p: int) -> int:
    """The largest of 1000, 500, 250, 100, 50, 25 sequences whose one-hot inputs (about
    (q + 100) steps, p + 4 symbols) stay within ``EVAL_ELEMENTS_2C``: at q = p = 1000 a batch of
    1000 is ~1.1e9 elements (int64 from ``one_hot``, then float: ~13 GB), which a shared
    machine cannot hold."""
    per_sequence = (q + 100) * (p + 4)
    return next((size for size in (1000, 500, 250, 100, 50)
                 if size * per_sequence <= EVAL_ELEMENTS_2C), 25)


def _settings_1() -> tuple[Setting, ...]:
    from lstmlab.tasks import _reber as reber

    out = []
    for variant in ("1-5", "1-1", "1-2", "1-3", "1-4"):
        setup = reber.SETUPS[variant]
        out.append(_setting(
            "1", f"row={variant}", f"embedded Reber grammar, Table 10 row {variant}",
            _row(reber.PUBLISHED, variant),
            lambda seed, v=variant: reber.EmbeddedReber(v, data_seed=seed % 3), setup,
            default=variant == "1-5"))
    return tuple(out)


def _settings_2ab(variant: str) -> Callable[[], tuple[Setting, ...]]:
    def build() -> tuple[Setting, ...]:
        from lstmlab.tasks import _long_lags as long_lags

        setup = long_lags.SETUP_2A if variant == "2a" else long_lags.SETUP_2B
        return (_setting(variant, "p=100", f"{variant}, p = 100",
                         _row(long_lags.PUBLISHED, f"{variant} p=100"),
                         lambda seed: long_lags.NoiseFreeLongLag(
                             p=100, random_middle=variant == "2b"), setup, default=True),)

    return build


def _settings_2c() -> tuple[Setting, ...]:
    from lstmlab.tasks import _long_lags as long_lags

    return tuple(
        _setting("2c", f"q={q},p={p}", f"very long time lag, q = {q}, p = {p} (Table 3)",
                 _row(long_lags.PUBLISHED, f"2c q={q} p={p}"),
                 lambda seed, q=q, p=p: long_lags.VeryLongLag(q=q, p=p),
                 long_lags.setup_2c(q, p), default=(q, p) == (50, 50),
                 eval_batch_size=eval_batch_2c(q, p))
        for q, p, _ in long_lags.TABLE_3)


def _first_rule_only(task: Task) -> Task:
    task.stopping = task.stopping[:1]
    return task


def _settings_3(variant: str) -> Callable[[], tuple[Setting, ...]]:
    def build() -> tuple[Setting, ...]:
        from lstmlab.tasks import _two_sequence as two_sequence

        setup = two_sequence.SETUPS[variant]
        out = []
        for row in two_sequence.PUBLISHED:
            if row.method != "lstm1997" or not row.setting.startswith(variant + " "):
                continue
            t_part, n_part = row.setting.split(",")[0].split()[1:]
            T, N = int(t_part[2:]), int(n_part[2:])
            rule = row.setting.split(", ")[1] if ", " in row.setting else None
            name = f"T={T},N={N}" + (",rule=ST1" if rule == "ST1" else "")

            def make(seed: int, T: int = T, N: int = N, first: bool = rule == "ST1") -> Task:
                task = two_sequence.TwoSequence(variant, T=T, N=N)
                return _first_rule_only(task) if first else task

            stopped = f", stopped at {rule}" if rule else ""
            out.append(_setting(variant, name, f"two-sequence problem {variant}, T = {T}, "
                                f"N = {N}{stopped}", row, make, setup,
                                default=(T, N) == (100, 3) and rule != "ST1"))
        return tuple(sorted(out, key=lambda s: not s.default))

    return build


def _settings_4() -> tuple[Setting, ...]:
    from lstmlab.tasks import _adding as adding

    return tuple(
        _setting("4", f"T={T}", f"adding problem, T = {T} (minimal lag {T // 2})",
                 _row(adding.PUBLISHED, f"T={T}"), lambda seed, T=T: adding.Adding(T=T),
                 adding.SETUPS[T], default=T == 100)
        for T in (100, 500, 1000))


def _settings_5() -> tuple[Setting, ...]:
    from lstmlab.tasks import _multiplication as multiplication

    def make(n: int) -> Callable[[int], Task]:
        def task(seed: int) -> Task:
            made = multiplication.Multiplication(T=100)
            made.stopping = tuple(rule for rule in made.stopping if rule.name == f"n_seq={n}")
            return made

        return task

    return tuple(
        _setting("5", f"n_seq={n}", f"multiplication problem, T = 100, stopped at n_seq = {n}",
                 _row(multiplication.PUBLISHED, f"T=100, n_seq={n}"), make(n),
                 multiplication.SETUP, default=n == 13)
        for n in (13, 140))


def _settings_6(variant: str) -> Callable[[], tuple[Setting, ...]]:
    def build() -> tuple[Setting, ...]:
        from lstmlab.tasks import _temporal_order as temporal_order

        return (_setting(variant, "", f"temporal order {variant}",
                         _row(temporal_order.PUBLISHED, variant),
                         lambda seed: temporal_order.TemporalOrder(variant),
                         temporal_order.SETUPS[variant], default=True),)

    return build


#: experiment -> its settings (the registry's own first), built when asked for.
SETTINGS: dict[str, Callable[[], tuple[Setting, ...]]] = {
    "1": _settings_1, "2a": _settings_2ab("2a"), "2b": _settings_2ab("2b"), "2c": _settings_2c,
    "3a": _settings_3("3a"), "3b": _settings_3("3b"), "3c": _settings_3("3c"),
    "4": _settings_4, "5": _settings_5, "6a": _settings_6("6a"), "6b": _settings_6("6b"),
}


def settings(experiment: str) -> tuple[Setting, ...]:
    """The settings of ``experiment`` (a registry name), the registry's own first, the
    competitors' (:mod:`lstmlab.reproduce._competitor_settings`) last."""
    if experiment not in SETTINGS:
        raise UserError(f"experiment: expected one of {', '.join(SETTINGS)}, "
                        f"received {experiment!r}")
    return SETTINGS[experiment]() + tuple(
        Setting(c.experiment, c.name, c.title, c.published, c.make_task, c.setup, c.budget,
                method=c.method) for c in competitor_settings(experiment))


def setting(experiment: str, name: str) -> Setting:
    """The setting of ``experiment`` whose pieces are ``name``'s; UserError naming the known."""
    known = settings(experiment)
    for candidate in known:
        if pieces(candidate.name) == pieces(name):
            return candidate
    listed = ", ".join(f"{experiment}@{s.name}" for s in known if s.name) or "none"
    raise UserError(f"experiment {experiment!r}: expected a setting among ({listed}), "
                    f"received {name!r}")


def apply(base: Experiment, chosen: Setting) -> Experiment:
    """The registry's experiment ``base`` at setting ``chosen`` (``base`` itself for the
    registry's own setting, so its trials keep their store key)."""
    if chosen.default:
        return base
    rows = tuple(sorted(base.published, key=lambda row: row != chosen.published))
    return replace(base, name=chosen.command_name, title=chosen.title,
                   make_task=chosen.make_task, setup=chosen.setup, published=rows,
                   trials=chosen.trials, budget=chosen.budget,
                   eval_batch_size=chosen.eval_batch_size or base.eval_batch_size,
                   method=chosen.method)

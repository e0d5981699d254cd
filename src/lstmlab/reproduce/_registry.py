"""The experiments of [H97], by their command-line names (the methods: ``method_table``).

One set-up per experiment here; the paper's other published settings of each (Table 3's
(q, p) pairs, Table 7's T = 500 and 1000, ...) are ``"<name>@<setting>"``, built in
:mod:`lstmlab.reproduce._settings` from these entries.

Each entry binds a task of ``lstmlab.tasks`` to the paper's protocol: the set-up of the
published row it reproduces (the row measured here sits beside it in the tables), the number of
trials behind that row, and a cap on training sequences per trial. Where the paper states a cap
(5 million for Experiment 2) we use it; where it trains until the stopping rule fires, the cap
is ours and far above the published mean, and the tables say "budget".

``--quick`` uses ``quick_trials`` trials of ``quick_budget`` sequences: a smoke test of the whole
pipeline, not a reproduction.

Seeds: trial ``seed`` of Experiment 1 uses training/test pair ``seed % 3`` ("3 different
randomly generated pairs of training and test sets ... 10 trials each", [H97] §5.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lstmlab.errors import UserError
from lstmlab.reproduce._experiment import Experiment
from lstmlab.tasks import PublishedRow


def _matching_first(rows: tuple[PublishedRow, ...], setting: str) -> tuple[PublishedRow, ...]:
    """The published rows with the one of ``setting`` first, so the measured row pairs with it."""
    return tuple(sorted(rows, key=lambda row: row.setting != setting))


def _experiment_1() -> Experiment:
    from lstmlab.tasks import _reber as reber

    return Experiment(
        name="1", title="embedded Reber grammar, 3 blocks x 2 cells, lr 0.5 (Table 10 row 1-5)",
        make_task=lambda seed: reber.EmbeddedReber("1-5", data_seed=seed % 3),
        setup=reber.SETUPS["1-5"], published=_matching_first(reber.PUBLISHED, "1-5"),
        trials=30, budget=100_000, quick_trials=2, quick_budget=100)


def _experiment_2a() -> Experiment:
    from lstmlab.tasks import _long_lags as long_lags

    rows = tuple(row for row in long_lags.PUBLISHED if row.setting.startswith("2a"))
    return Experiment(
        name="2a", title="noise-free long time lag, p = 100",
        make_task=lambda seed: long_lags.NoiseFreeLongLag(p=100),
        setup=long_lags.SETUP_2A, published=_matching_first(rows, "2a p=100"),
        trials=18, budget=5_000_000, quick_trials=2, quick_budget=100, eval_batch_size=2000)


def _experiment_2b() -> Experiment:
    from lstmlab.tasks import _long_lags as long_lags

    rows = tuple(row for row in long_lags.PUBLISHED if row.setting.startswith("2b"))
    return Experiment(
        name="2b", title="long time lag without local regularities, p = 100",
        make_task=lambda seed: long_lags.NoiseFreeLongLag(p=100, random_middle=True),
        setup=long_lags.SETUP_2B, published=rows,
        trials=18, budget=5_000_000, quick_trials=2, quick_budget=100, eval_batch_size=2000)


def _experiment_2c() -> Experiment:
    from lstmlab.tasks import _long_lags as long_lags

    rows = tuple(row for row in long_lags.PUBLISHED if row.setting.startswith("2c"))
    return Experiment(
        name="2c", title="very long time lag, q = p = 50 (Table 3's first row)",
        make_task=lambda seed: long_lags.VeryLongLag(q=50, p=50),
        setup=long_lags.setup_2c(50, 50), published=_matching_first(rows, "2c q=50 p=50"),
        trials=20, budget=5_000_000, quick_trials=2, quick_budget=100, eval_batch_size=1000)


def _experiment_3(variant: str, table: str, budget: int) -> Callable[[], Experiment]:
    def build() -> Experiment:
        from lstmlab.tasks import _two_sequence as two_sequence

        rows = tuple(r for r in two_sequence.PUBLISHED if r.setting.startswith(variant))
        last_rule = "" if variant == "3c" else ", ST2"
        return Experiment(
            name=variant, title=f"two-sequence problem {variant}, T = 100, N = 3 ({table})",
            make_task=lambda seed: two_sequence.TwoSequence(variant, T=100, N=3),
            setup=two_sequence.SETUPS[variant],
            published=_matching_first(rows, f"{variant} T=100 N=3{last_rule}"),
            trials=10, budget=budget, quick_trials=2, quick_budget=100, eval_batch_size=1000)

    return build


def _experiment_4() -> Experiment:
    from lstmlab.tasks import _adding as adding

    return Experiment(
        name="4", title="adding problem, T = 100 (minimal lag 50)",
        make_task=lambda seed: adding.Adding(T=100), setup=adding.SETUPS[100],
        published=_matching_first(adding.PUBLISHED, "T=100"),
        trials=10, budget=1_000_000, quick_trials=2, quick_budget=100, eval_batch_size=1000)


def _experiment_5() -> Experiment:
    from lstmlab.tasks import _multiplication as multiplication

    return Experiment(
        name="5", title="multiplication problem, T = 100, stopped at n_seq = 13",
        make_task=lambda seed: multiplication.Multiplication(T=100),
        setup=multiplication.SETUP,
        published=_matching_first(multiplication.PUBLISHED, "T=100, n_seq=13"),
        trials=10, budget=5_000_000, quick_trials=2, quick_budget=100, eval_batch_size=1000)


def _experiment_6(variant: str, trials: int, budget: int) -> Callable[[], Experiment]:
    def build() -> Experiment:
        from lstmlab.tasks import _temporal_order as temporal_order

        return Experiment(
            name=variant, title=f"temporal order {variant}",
            make_task=lambda seed: temporal_order.TemporalOrder(variant),
            setup=temporal_order.SETUPS[variant],
            published=tuple(r for r in temporal_order.PUBLISHED if r.setting == variant),
            trials=trials, budget=budget, quick_trials=2, quick_budget=100,
            eval_batch_size=1000)

    return build


#: name -> a function building the Experiment (the task modules load only when asked for).
#: Budgets where [H97] gives none: 4x-10x the published mean, Experiment 1 from its range.
REGISTRY: dict[str, Callable[[], Experiment]] = {
    "1": _experiment_1,
    "2a": _experiment_2a,
    "2b": _experiment_2b,
    "2c": _experiment_2c,
    "3a": _experiment_3("3a", "Table 4", 1_000_000),
    "3b": _experiment_3("3b", "Table 5", 1_000_000),
    "3c": _experiment_3("3c", "Table 6", 3_000_000),
    "4": _experiment_4,
    "5": _experiment_5,
    "6a": _experiment_6("6a", 20, 500_000),
    "6b": _experiment_6("6b", 10, 3_000_000),
}


def experiment(name: str) -> Experiment:
    """The experiment called ``name``: one of ``REGISTRY``, optionally at one of its published
    settings after ``@`` (``lstmlab.reproduce._settings``: ``"2c@q=1000,p=1000"``) and under
    one of its readings of the paper after ``:`` (``lstmlab.reproduce._readings``:
    ``"4@T=1000:linear-output"``). UserError naming the known ones for an unknown name."""
    from lstmlab.reproduce._readings import split, with_reading
    from lstmlab.reproduce._settings import apply, setting

    full, reading = split(name)
    base, at, chosen = full.partition("@")
    if base not in REGISTRY:
        raise UserError(f"experiment: expected one of {', '.join(REGISTRY)} (optionally "
                        f"@SETTING and :READING), received {name!r}")
    built = apply(REGISTRY[base](), setting(base, chosen)) if at else REGISTRY[base]()
    if reading is None:
        return built
    # The reading is the base experiment's; its trials are stored as "<setting>:<reading>".
    read = with_reading(replace(built, name=base), reading)
    return replace(read, name=f"{built.name}:{split(read.name)[1]}")


def experiments(names: tuple[str, ...] | list[str] = ()) -> tuple[Experiment, ...]:
    """The experiments called ``names``, or all of them when none are given."""
    return tuple(experiment(name) for name in (names or tuple(REGISTRY)))

"""The experiments of [H97] and the methods the runner knows, by their command-line names.

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

from collections.abc import Callable, Sequence
from pathlib import Path

from lstmlab.reproduce.experiment import Experiment
from lstmlab.reproduce.lstm1997 import Lstm1997Method
from lstmlab.reproduce.method import Method
from lstmlab.reproduce.modern import ModernMethod
from lstmlab.reproduce.runner import ReproduceConfig
from lstmlab.tasks.published import PublishedRow


def _matching_first(rows: tuple[PublishedRow, ...], setting: str) -> tuple[PublishedRow, ...]:
    """The published rows with the one of ``setting`` first, so the measured row pairs with it."""
    return tuple(sorted(rows, key=lambda row: row.setting != setting))


def _experiment_1() -> Experiment:
    from lstmlab.tasks import reber

    return Experiment(
        name="1", title="embedded Reber grammar, 3 blocks x 2 cells, lr 0.5 (Table 10 row 1-5)",
        make_task=lambda seed: reber.EmbeddedReber("1-5", data_seed=seed % 3),
        setup=reber.SETUPS["1-5"], published=_matching_first(reber.PUBLISHED, "1-5"),
        trials=30, budget=100_000, quick_trials=2, quick_budget=100)


def _experiment_2a() -> Experiment:
    from lstmlab.tasks import long_lags

    rows = tuple(row for row in long_lags.PUBLISHED if row.setting.startswith("2a"))
    return Experiment(
        name="2a", title="noise-free long time lag, p = 100",
        make_task=lambda seed: long_lags.NoiseFreeLongLag(p=100),
        setup=long_lags.SETUP_2A, published=_matching_first(rows, "2a p=100"),
        trials=18, budget=5_000_000, quick_trials=2, quick_budget=100, eval_batch_size=2000)


#: name -> a function building the Experiment (the task modules load only when asked for).
REGISTRY: dict[str, Callable[[], Experiment]] = {
    "1": _experiment_1,
    "2a": _experiment_2a,
}


def experiment(name: str) -> Experiment:
    """The experiment called ``name`` (one of ``REGISTRY``)."""
    if name not in REGISTRY:
        raise ValueError(f"experiment: expected one of {', '.join(REGISTRY)}, received {name!r}")
    return REGISTRY[name]()


def experiments(names: tuple[str, ...] | list[str] = ()) -> tuple[Experiment, ...]:
    """The experiments called ``names``, or all of them when none are given."""
    return tuple(experiment(name) for name in (names or tuple(REGISTRY)))


#: name -> a function building the Method; competitors (RTRL, BPTT, ...) register here too.
METHODS: dict[str, Callable[[], Method]] = {
    "lstm1997": Lstm1997Method,
    "modern": ModernMethod,
}


def method(name: str) -> Method:
    """The method called ``name`` (one of ``METHODS``)."""
    if name not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, received {name!r}")
    return METHODS[name]()


def build_config(
    experiment_names: Sequence[str] = (),
    method_names: Sequence[str] = ("lstm1997",),
    *,
    trials: int | None = None,
    quick: bool = False,
    out: Path | str = Path("reproduce"),
    budget: int | None = None,
) -> ReproduceConfig:
    """The config of ``lstmlab reproduce [EXPERIMENT ...] [--method ...] [--trials N] [--quick]
    [--out DIR]``: names become objects here, at the command-line boundary. No experiment
    names means all of them."""
    return ReproduceConfig(
        experiments=experiments(tuple(experiment_names)),
        methods=tuple(method(name) for name in method_names),
        trials=trials, budget=budget, quick=quick, out=Path(out))

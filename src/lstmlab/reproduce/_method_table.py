"""The one table of methods, by their command-line names: [H97]'s LSTM, a modern LSTM, and the
competitors of [H97] (RTRL, BPTT, Elman, RCC, the chunker, random guessing).

``lstmlab.reproduce``'s ``__init__`` does not import this module: the competitors' methods
(``lstmlab.competitors._methods``) are built on modules of ``lstmlab.reproduce`` (experiments,
criteria, the trial loop), so importing them from the package's ``__init__`` would be an import
cycle. The CLI and ``build_config`` turn names into methods here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from lstmlab.competitors import (
    ChunkerMethod,
    GuessMethod,
    RCCMethod,
    bptt_method,
    elman_method,
    rtrl_method,
)
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._lstm1997 import Lstm1997Method
from lstmlab.reproduce._method import Method
from lstmlab.reproduce._modern import ModernMethod
from lstmlab.reproduce._registry import experiments
from lstmlab.reproduce._runner import ReproduceConfig

#: The competitors of [H97] among ``METHODS``.
COMPETITORS = ("rtrl", "bptt", "elman", "rcc", "chunker", "guess")

#: name -> a function building the Method (the CLI's ``--method``).
METHODS: dict[str, Callable[[], Method]] = {
    "lstm1997": Lstm1997Method,
    "modern": ModernMethod,
    "rtrl": rtrl_method,
    "bptt": bptt_method,
    "elman": elman_method,
    "rcc": RCCMethod,
    "chunker": ChunkerMethod,
    "guess": GuessMethod,
}


def method(name: str) -> Method:
    """The method called ``name`` (one of ``METHODS``)."""
    if name not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, received {name!r}")
    return METHODS[name]()


def default_methods(chosen: Sequence[Experiment]) -> tuple[str, ...]:
    """The methods run when none are named: the competitor's own when every chosen experiment is
    a setting of that competitor (``1@hidden=3,lr=0.05``: rtrl), else ``lstm1997``."""
    named = {experiment.method for experiment in chosen}
    if len(named) == 1 and None not in named:
        return (str(named.pop()),)
    return ("lstm1997",)


def build_config(
    experiment_names: Sequence[str] = (),
    method_names: Sequence[str] | None = None,
    *,
    trials: int | None = None,
    quick: bool = False,
    out: Path | str = Path("reproduce"),
    budget: int | None = None,
) -> ReproduceConfig:
    """The config of ``lstmlab reproduce [EXPERIMENT ...] [--method ...] [--trials N] [--quick]
    [--out DIR]``: names become objects here, at the command-line boundary. No experiment
    names means all of them; no method names, :func:`default_methods`."""
    chosen = experiments(tuple(experiment_names))
    return ReproduceConfig(
        experiments=chosen,
        methods=tuple(method(name) for name in method_names or default_methods(chosen)),
        trials=trials, budget=budget, quick=quick, out=Path(out))

"""Where a whole ``lstmlab reproduce`` run spends its CPU time, part by part (Exp. 1 by default).

The run of ``bench_whole_run.py`` (population 10, float64, one thread), its steady state after
``--warmup`` member-sequences, for ``--sequences`` more; each part is the CPU time
(``time.process_time_ns``) spent inside one function, through a wrapper that adds ~1 µs per
call, printed in µs per population step (10 member-sequences), largest first. Parts nest:
``check`` (a stopping-set check) is inside ``observe_one``, ``_evaluate`` inside ``check``.
A part the code does not have (an older commit) is left out.

``python benchmarks/bench_whole_run_parts.py [EXPERIMENT] [--warmup N] [--sequences N]``
"""

from __future__ import annotations

import argparse
import collections
import functools
import time

import torch

import lstmlab.reproduce._lstm1997 as lstm1997
from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce._criteria import Criterion
from lstmlab.reproduce._registry import experiment
from lstmlab.tasks import _reber
from lstmlab.training._pool import MemberPool

POPULATION = 10
PARTS = [(lstm1997, "online_sequence", "online_sequence"), (lstm1997, "sample_words", "sample"),
         (lstm1997, "verdicts", "verdicts"), (_reber.EmbeddedReber, "errors", "errors"),
         (Criterion, "observe_one", "observe_one"), (Criterion, "check", "check"),
         (lstm1997, "_evaluate", "_evaluate"), (lstm1997, "forward_sequence", "forward_sequence"),
         (lstm1997, "replace", "dataclasses.replace"), (MemberPool, "update", "pool.update")]


class _Stop(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", nargs="?", default="1")
    parser.add_argument("--warmup", type=int, default=4000)
    parser.add_argument("--sequences", type=int, default=8000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    spent: collections.Counter[str] = collections.Counter()
    timing = [False]

    def wrap(owner, name: str, label: str) -> None:
        inner = getattr(owner, name, None)
        if inner is None:
            return

        @functools.wraps(inner)
        def timed(*arguments, **keywords):
            if not timing[0]:
                return inner(*arguments, **keywords)
            start = time.process_time_ns()
            try:
                return inner(*arguments, **keywords)
            finally:
                spent[label] += time.process_time_ns() - start

        setattr(owner, name, timed)

    for owner, name, label in PARTS:
        wrap(owner, name, label)
    mark: list[int] = []

    def progress(presented: int, _best: float) -> None:
        if presented >= args.warmup and not mark:
            mark[:] = [presented, time.process_time_ns()]
            timing[0] = True
        elif mark and presented - mark[0] >= args.sequences:
            timing[0] = False
            steps = (presented - mark[0]) / POPULATION
            total = (time.process_time_ns() - mark[1]) / steps / 1e3
            print(f"experiment {args.experiment}: {total:,.0f} µs per population step in all")
            for label, ns in spent.most_common():
                print(f"  {label}: {ns / steps / 1e3:,.0f}")
            raise _Stop

    method = Lstm1997Method(Lstm1997Settings(population=POPULATION, report_every=10))
    try:
        for _ in method.run_trials(experiment(args.experiment), list(range(POPULATION)), 10**9,
                                   progress):
            raise RuntimeError("a trial stopped while timing; use fewer --sequences")
    except _Stop:
        pass


if __name__ == "__main__":
    main()

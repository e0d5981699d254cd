"""Trials on a Ray cluster: any method's trials spread over Ray workers.

The runner hands a method the seeds still missing from the store. ``OnRay(method)`` sends them
to Ray tasks, ``seeds_per_task`` at a time; each task runs the wrapped method's own
``run_trials`` on its seeds, and every result is yielded to the runner (which commits it at
once) as soon as its task finishes. A method's results depend on the seed alone (the ``Method``
contract), so a run on Ray stores exactly the rows a local run stores, under the same config
hash: the two can even share a store, and a killed Ray run resumes locally or on Ray alike.

``address=None`` starts a Ray instance on this machine with ``num_cpus`` workers (one trial
per CPU); ``"auto"`` or ``"ray://host:10001"`` joins an existing cluster. A local instance is
kept on the loopback interface (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) without token
authentication, and is shut down when the trials are done.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lstmlab.reproduce.experiment import Experiment
from lstmlab.reproduce.method import Method, TrialProgress, TrialResult

_LOCAL_RAY = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # listen and connect on 127.0.0.1 only
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def _run_seeds(method: Method, experiment: Experiment, seeds: Sequence[int],
               budget: int) -> list[TrialResult]:
    """One Ray task: the wrapped method's trials for ``seeds`` (progress is reported by the
    driver as results arrive)."""
    return list(method.run_trials(experiment, seeds, budget, lambda sequences, error: None))


@dataclass(frozen=True)
class OnRay:
    """``method`` with its trials run as Ray tasks; same name and fingerprint as ``method``."""

    method: Method
    address: str | None = None
    num_cpus: int | None = None
    seeds_per_task: int = 1

    def __post_init__(self) -> None:
        if self.seeds_per_task < 1:
            raise ValueError(f"seeds_per_task: expected >= 1, received {self.seeds_per_task}")

    @property
    def name(self) -> str:
        return self.method.name

    def fingerprint(self, experiment: Experiment) -> object:
        return self.method.fingerprint(experiment)

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        for name, value in _LOCAL_RAY.items():
            os.environ.setdefault(name, value)
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, num_cpus=self.num_cpus, include_dashboard=False,
                     log_to_driver=False,
                     _temp_dir=None if self.address else tempfile.mkdtemp(prefix="ray"))
        try:
            task = ray.remote(num_cpus=1)(_run_seeds)
            chunks = [seeds[k:k + self.seeds_per_task]
                      for k in range(0, len(seeds), self.seeds_per_task)]
            pending = [task.remote(self.method, experiment, chunk, budget) for chunk in chunks]
            presented = 0
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for result in ray.get(done[0]):
                    presented += result.sequences
                    progress(presented, float("nan"))
                    yield result
        finally:
            if started_here:
                ray.shutdown()

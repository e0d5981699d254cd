"""Trials on a Ray cluster: any method's trials spread over Ray workers.

The runner hands a method the seeds still missing from the store. ``OnRay(method)`` sends them
to Ray tasks, ``seeds_per_task`` at a time; each task runs the wrapped method's own
``run_trials`` on its seeds, and every result is yielded to the runner (which commits it at
once) as soon as its task finishes. A method's results depend on the seed alone (the ``Method``
contract), so a run on Ray stores exactly the rows a local run stores, under the same config
hash: the two can even share a store, and a killed Ray run resumes locally or on Ray alike. A
method that checkpoints its in-flight trials (``lstm1997``) does so inside the tasks, in the
runner's folder; a finished trial's file is deleted by the driver once the runner has stored
the row, so a kill while a result is on its way from a task loses no trained sequence either.

``address=None`` starts a Ray instance on this machine with ``num_cpus`` workers (one trial
per CPU); ``"auto"`` or ``"ray://host:10001"`` joins an existing cluster. A local instance is
kept on the loopback interface (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) without token
authentication, and is shut down when the trials are done.

An address that cannot be reached fails within seconds with :class:`RayAddressError` naming the
address and the reason (``ray.init`` itself retries an unreachable cluster for ever): the host
must resolve and accept a TCP connection (:func:`check_address`), and ``ray.init`` must return
within ``CONNECT_TIMEOUT_S`` (something that listens but is no Ray cluster, e.g. the client port
10001 given as the cluster's port, would keep it waiting).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lstmlab.errors import UserError
from lstmlab.reproduce._experiment import Experiment
from lstmlab.reproduce._method import Method, TrialProgress, TrialResult

_LOCAL_RAY = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # listen and connect on 127.0.0.1 only
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}

CONNECT_TIMEOUT_S = 25.0  # the whole connection: resolve, TCP, ray.init


class RayAddressError(UserError):
    """A Ray address that is malformed or cannot be reached; the message names the address and
    the reason."""


def check_address(address: str, timeout: float = 10.0) -> None:
    """Raise :class:`RayAddressError` unless ``address`` ('auto', 'HOST:PORT' or
    'ray://HOST:PORT') names a host that resolves and accepts a TCP connection on PORT.
    'auto' is Ray's own look-up of a running cluster and is left to ``ray.init``."""
    if address == "auto":
        return
    where = address.removeprefix("ray://")
    host, _, port_text = where.rpartition(":")
    host = host.strip("[]")  # [::1]:6379
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RayAddressError(f"Ray address {address!r}: expected 'local', 'auto', HOST:PORT "
                              "(the cluster's GCS, e.g. 10.0.0.5:6379) or ray://HOST:PORT")
    port = int(port_text)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise RayAddressError(f"Ray address {address!r}: cannot resolve the host {host!r} "
                              f"({reason})") from error
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or (f"no answer within {timeout:g} s"
                                    if isinstance(error, TimeoutError) else str(error))
        raise RayAddressError(f"Ray address {address!r}: cannot connect to {host} port {port} "
                              f"({reason})") from error


_PROBE = """
import sys
import ray
ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False)
ray.shutdown()
"""


def _connect(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """``ray.init(address)``, given up after what is left of ``timeout`` seconds.

    ray.init waits for ever on an address where no Ray cluster answers, and a thread left
    waiting inside it can abort the process when the interpreter exits (Ray's C++ client throws
    ``std::bad_alloc`` while it is torn down under the thread). So the first ``ray.init`` runs in
    a child process that is killed at the deadline; only an address whose child returned is
    joined here (a cluster that answered, or an error that ray.init raises at once).
    """
    import ray

    started = time.monotonic()
    check_address(address, timeout=timeout)
    left = max(1.0, timeout - (time.monotonic() - started))
    try:
        subprocess.run([sys.executable, "-c", _PROBE, address], capture_output=True,
                       timeout=left, check=False)
    except subprocess.TimeoutExpired as error:  # run() has killed the child
        raise RayAddressError(f"Ray address {address!r}: no Ray cluster answered within "
                              f"{timeout:g} s (something listens there: is it the "
                              "cluster's GCS port, usually 6379?)") from error
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, ValueError) as error:  # no cluster found; a bad address
        raise RayAddressError(f"Ray address {address!r}: {error}") from error


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

    def with_checkpoints(self, directory: Path, config_hash: str, *,
                         nets: Path | None = None) -> OnRay:
        """The wrapped method checkpointing its in-flight trials in ``directory`` from inside
        the Ray tasks (a method that cannot checkpoint: unchanged). Each finished trial's file
        is deleted here, after the runner has stored its row, never in the task. On a cluster
        of several machines ``directory`` must be storage they share for a resumed run to
        find every checkpoint (a trial without one starts afresh: slower, never wrong), and
        ``nets`` (where each finished trial's network is written, as the method does it) for
        the nets to end up in one folder."""
        resumable = getattr(self.method, "with_checkpoints", None)
        if resumable is None:
            return self
        kept = {} if nets is None else {"nets": nets}
        return replace(self, method=resumable(directory, config_hash, keep_finished=True,
                                              **kept))

    def run_trials(self, experiment: Experiment, seeds: Sequence[int], budget: int,
                   progress: TrialProgress) -> Iterator[TrialResult]:
        for name, value in _LOCAL_RAY.items():
            os.environ.setdefault(name, value)
        import ray

        started_here = not ray.is_initialized()
        if started_here and self.address is not None:
            _connect(self.address)
        elif started_here:
            ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False,
                     _temp_dir=tempfile.mkdtemp(prefix="ray"))
        try:
            discard = getattr(self.method, "discard_checkpoint", None)
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
                    if discard is not None:  # the runner has stored the row by now
                        discard(experiment.name, result.seed)
        finally:
            if started_here:
                ray.shutdown()

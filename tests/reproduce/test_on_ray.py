"""A method's trials on a local Ray instance store exactly what a local run stores; an
address that cannot be reached fails within seconds, naming the address and the reason."""

import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import torch

from cli_cases import assert_user_error
from lstmlab.competitors import GuessMethod
from lstmlab.errors import UserError
from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings, ReproduceConfig, TrialStore, run
from lstmlab.reproduce._member_checkpoint import CheckpointEvery
from lstmlab.reproduce._on_ray import OnRay, RayAddressError
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._runner import CHECKPOINT_DIR, NETS_DIR, STORE_NAME, trial_config_hash

pytest.importorskip("ray")


def test_trials_on_ray_equal_local_trials_and_share_the_config_hash(tmp_path):
    exp = experiment("3a")
    local = run(ReproduceConfig((exp,), (GuessMethod(),), trials=3, budget=40,
                                out=tmp_path / "local", write_tables=False))
    on_ray = OnRay(GuessMethod(), num_cpus=2)
    remote = run(ReproduceConfig((exp,), (on_ray,), trials=3, budget=40,
                                 out=tmp_path / "ray", write_tables=False))

    def rows(results):
        return sorted((r.seed, r.success, r.sequences, r.test_error)
                      for r in results.experiments[0].methods[0].results)

    assert rows(remote) == rows(local)
    assert len(rows(local)) == 3
    assert trial_config_hash(on_ray, exp, 40) == trial_config_hash(GuessMethod(), exp, 40)


def test_seeds_per_task_must_be_positive():
    with pytest.raises(ValueError, match="seeds_per_task"):
        OnRay(GuessMethod(), seeds_per_task=0)


def _unused_port() -> int:
    with socket.socket() as probe:  # the OS hands out a free port; closed, nobody listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1:{port}", "cannot connect to 127.0.0.1 port {port} (Connection refused)"),
    ("ray://127.0.0.1:{port}", "cannot connect to 127.0.0.1 port {port} (Connection refused)"),
    # .invalid never resolves (RFC 6761): no address outside this machine is contacted.
    ("no-such-host.invalid:6379", "cannot resolve the host 'no-such-host.invalid'"),
    ("bogus-address", "expected 'local', 'auto', HOST:PORT"),
    ("127.0.0.1:99999", "expected 'local', 'auto', HOST:PORT"),
])
def test_an_unreachable_address_fails_within_seconds_naming_it_and_why(address, reason,
                                                                       tmp_path):
    port = _unused_port()
    address, reason = address.format(port=port), reason.format(port=port)
    config = ReproduceConfig((experiment("3a"),), (OnRay(GuessMethod(), address=address),),
                             trials=1, budget=5, out=tmp_path, write_tables=False)
    started = time.monotonic()
    with pytest.raises(RayAddressError) as refused:
        run(config)
    assert time.monotonic() - started < 30
    assert str(refused.value).startswith(f"Ray address {address!r}: {reason}")
    assert isinstance(refused.value, UserError)


def test_reproduce_with_an_unreachable_ray_is_one_line_before_any_work(tmp_path):
    port = _unused_port()
    assert_user_error(["reproduce", "3a", "--method", "guess", "--trials", "1", "--ray",
                       f"127.0.0.1:{port}", "--out", tmp_path],
                      f"Ray address '127.0.0.1:{port}'", "Connection refused")
    assert not (tmp_path / "trials.sqlite").exists()


LISTENER_THAT_IS_NOT_RAY = """
import socket, sys, threading, time
from lstmlab.reproduce import _on_ray as on_ray

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
threading.Thread(target=lambda: [server.accept() for _ in iter(int, 1)], daemon=True).start()
address = f"127.0.0.1:{server.getsockname()[1]}"
started = time.monotonic()
try:
    on_ray._connect(address, timeout=4.0)
except on_ray.RayAddressError as error:
    print(round(time.monotonic() - started), error)
    sys.exit(0)
sys.exit(f"expected RayAddressError, connected to {address}")
"""


def test_an_address_where_something_else_listens_is_given_up_in_time():
    """ray.init waits for ever on a port that accepts connections but is no Ray cluster; the
    wait is bounded (here lowered to 4 s), and the process still exits at once afterwards."""
    started = time.monotonic()
    child = subprocess.run([sys.executable, "-c", LISTENER_THAT_IS_NOT_RAY],
                           capture_output=True, text=True, timeout=120, env=os.environ)
    assert child.returncode == 0, child.stdout + child.stderr
    seconds, message = child.stdout.strip().splitlines()[-1].split(" ", 1)
    assert 3 <= int(seconds) <= 6
    assert "no Ray cluster answered within 4 s" in message
    assert time.monotonic() - started < 60


JOIN_BY_ADDRESS = """
import sys, tempfile
from pathlib import Path
from lstmlab.competitors._methods import GuessMethod
from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings, ReproduceConfig, TrialStore, run
from lstmlab.reproduce._member_checkpoint import CheckpointEvery
from lstmlab.reproduce._on_ray import OnRay
from lstmlab.reproduce._registry import experiment
results = run(ReproduceConfig((experiment("3a"),), (OnRay(GuessMethod(), address=sys.argv[1]),),
                              trials=3, budget=40, out=Path(sys.argv[2]), write_tables=False))
for r in results.experiments[0].methods[0].results:
    print(r.seed, r.success, r.sequences, r.test_error)
"""


@pytest.mark.slow
def test_joining_a_running_cluster_by_address_stores_the_local_rows(tmp_path):
    """The path of `--ray HOST:PORT`: a second process joins a cluster started here (loopback)
    by its address, through the bounded connection, and stores what a local run stores."""
    import ray

    local = run(ReproduceConfig((experiment("3a"),), (GuessMethod(),), trials=3, budget=40,
                                out=tmp_path / "local", write_tables=False))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _temp_dir=tempfile.mkdtemp(prefix="ray"))
    try:
        address = ray.get_runtime_context().gcs_address
        child = subprocess.run([sys.executable, "-c", JOIN_BY_ADDRESS, address,
                                str(tmp_path / "joined")], capture_output=True, text=True,
                               timeout=300, env=os.environ)
    finally:
        ray.shutdown()
    assert child.returncode == 0, child.stderr[-3000:]
    expected = [f"{r.seed} {r.success} {r.sequences} {r.test_error}"
                for r in local.experiments[0].methods[0].results]
    assert child.stdout.strip().splitlines() == expected


class _Interrupted(Exception):
    pass


def _lstm1997(steps: int, population: int = 1) -> Lstm1997Method:
    return Lstm1997Method(Lstm1997Settings(population=population, curve_every=25, report_every=10,
                                           checkpoint=CheckpointEvery(seconds=None, steps=steps)))


def _stored(out):
    with TrialStore(out / STORE_NAME) as store:
        rows = store._connection.execute(
            "SELECT seed, success, sequences, test_error, curve FROM trials").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_lstm1997_on_ray_checkpoints_its_trials_and_an_interrupted_run_resumes_them(tmp_path):
    """Reference: the same trials run locally, never interrupted. On Ray the tasks save their
    members every 30 sequences; the run is interrupted as the first result reaches the driver,
    before any row is stored, so the finished trials must still have their files (deleted only
    after the row is stored). The resumed run must give the reference's rows exactly while
    presenting only the sequences after the checkpoints; a whole run on Ray leaves no file."""
    exp, budget = experiment("1"), 260
    reference = tmp_path / "reference"
    run(ReproduceConfig((exp,), (_lstm1997(30),), trials=2, budget=budget, out=reference,
                        write_tables=False, keep_nets=True))
    expected = _stored(reference)

    def interrupt(update) -> None:
        if update.trials_done == 0 and update.sequences_seen > 0:  # a result has arrived
            raise _Interrupted

    out = tmp_path / "interrupted"
    with pytest.raises(_Interrupted):
        run(ReproduceConfig((exp,), (OnRay(_lstm1997(30), num_cpus=2),), trials=2,
                            budget=budget, out=out, write_tables=False), interrupt)
    assert _stored(out) == {}
    saved = {payload["seed"]: payload["criterion"]["sequences"] for payload in (
        torch.load(path, weights_only=True) for path in (out / CHECKPOINT_DIR).glob("*.pt"))}
    assert sorted(saved) == [0, 1], "every trial's file is kept until its row is stored"
    assert all(0 < n < expected[seed][1] for seed, n in saved.items())

    presented = []
    run(ReproduceConfig((exp,), (_lstm1997(30),), trials=2, budget=budget, out=out,
                        write_tables=False), lambda update: presented.append(update.sequences_seen))
    assert _stored(out) == expected
    assert presented[-1] == sum(expected[seed][1] - n for seed, n in saved.items()), \
        "the resumed trials continue from the checkpoints the Ray tasks wrote"
    assert not list((out / CHECKPOINT_DIR).glob("*.pt"))

    whole = tmp_path / "whole"  # both seeds in one task: one population of two
    run(ReproduceConfig((exp,), (OnRay(_lstm1997(30, 2), num_cpus=2, seeds_per_task=2),),
                        trials=2, budget=budget, out=whole, write_tables=False, keep_nets=True))
    assert _stored(whole) == expected
    assert not list((whole / CHECKPOINT_DIR).glob("*.pt")), "stored trials leave no file"
    assert _nets(whole) == _nets(reference), "--keep-nets on Ray: the local run's nets"
    assert sorted(_nets(whole)) == [0, 1]


def _nets(out) -> dict[int, tuple]:
    """Each kept net's (sequences, weights as nested lists) by seed."""
    def flat(value):
        return ({k: flat(v) for k, v in value.items()} if isinstance(value, dict)
                else value.tolist())
    return {p["seed"]: (p["criterion"]["sequences"], flat(p["weights"])) for p in (
        torch.load(path, weights_only=True) for path in (out / NETS_DIR).glob("*.pt"))}

"""A run killed with SIGKILL and started again, and two runs sharing one store.

Both end with exactly the rows of one uninterrupted run: no trial lost, none duplicated, the
file intact (SQLite's own ``integrity_check``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reproduce_fakes import main as run_fakes

from lstmlab.reproduce import TrialStore
from lstmlab.reproduce._runner import STORE_NAME

SCRIPT = Path(__file__).with_name("reproduce_fakes.py")
TRIALS = 16  # two fake experiments of 8 trials


def _rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / STORE_NAME) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return connection.execute(
            "SELECT experiment, method, seed, config_hash, success, sequences, test_error, curve"
            " FROM trials ORDER BY experiment, method, seed"
        ).fetchall()


def _count(out: Path) -> int:
    if not (out / STORE_NAME).exists():
        return 0
    with TrialStore(out / STORE_NAME) as store:
        return store.count()


def _start(out: Path, delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), str(out), str(delay)])


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    reference = tmp_path / "reference"
    run_fakes(str(reference), 0.0)

    interrupted = tmp_path / "interrupted"
    child = _start(interrupted, delay=0.2)
    deadline = time.monotonic() + 60
    while _count(interrupted) < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    stored_at_kill = _count(interrupted)
    assert 3 <= stored_at_kill < TRIALS, "the kill must land mid-run"

    resumed = _start(interrupted, delay=0.0)
    assert resumed.wait(timeout=60) == 0
    rows = _rows(interrupted)
    assert len(rows) == TRIALS
    assert rows == _rows(reference)


def test_two_runs_on_one_store_neither_corrupt_nor_duplicate(tmp_path):
    reference = tmp_path / "reference"
    run_fakes(str(reference), 0.0)
    shared = tmp_path / "shared"
    first, second = _start(shared, 0.01), _start(shared, 0.01)
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    assert _rows(shared) == _rows(reference)


HAMMER = textwrap.dedent(
    """
    import sys
    from lstmlab.reproduce import TrialResult, TrialStore
    path, order = sys.argv[1], sys.argv[2]
    seeds = range(150) if order == "up" else range(149, -1, -1)
    with TrialStore(path) as store:
        for seed in seeds:
            store.add("4", "fake", seed, "h", TrialResult(seed, True, seed, 0.0, 0.0), "v")
    """
)


def test_two_processes_hammering_the_same_rows(tmp_path):
    path = tmp_path / "hammer.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", HAMMER, str(path), order])
        for order in ("up", "down")
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        seeds = [seed for (seed,) in connection.execute("SELECT seed FROM trials ORDER BY seed")]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert seeds == list(range(150))

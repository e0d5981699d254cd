"""A store killed again and again never looks damaged and never loses a finished trial.

The damage check on open must not mistake what ``kill -9`` leaves behind (a write-ahead log with
committed trials, a half-written trial that was never committed) for damage: after each kill,
at a random moment within a trial or a commit, the store passes SQLite's ``quick_check`` and
holds every trial finished so far; the resumed run ends with the uninterrupted run's rows.
Slow (four process starts, about a minute on a shared machine): the default run has the
single-kill case of the same code in ``test_resume.py``, whose reopening runs the same check.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from reproduce_fakes import main as run_fakes
from test_resume import TRIALS, _count, _rows, _start

from lstmlab.reproduce._runner import STORE_NAME
from lstmlab.reproduce._store import check_store


@pytest.mark.slow
def test_repeated_kills_at_random_moments_leave_a_sound_store(tmp_path):
    reference = tmp_path / "reference"
    run_fakes(str(reference), 0.0)
    out = tmp_path / "killed"
    moments = random.Random(0)
    for _ in range(3):
        stored = _count(out)
        child = _start(out, delay=0.2)
        deadline = time.monotonic() + 60
        while _count(out) == stored and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        time.sleep(moments.uniform(0.0, 0.2))  # somewhere within the next trial or its commit
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        after = check_store(out / STORE_NAME)  # quick_check: no false alarm after a kill
        assert stored < after < TRIALS, "each kill must land mid-run, after a new trial"
    resumed = _start(out, delay=0.0)
    assert resumed.wait(timeout=60) == 0
    assert _rows(out) == _rows(reference)

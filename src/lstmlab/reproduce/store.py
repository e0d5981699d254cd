"""The trial store: every finished trial committed at once to an embedded SQLite file.

Why this is safe to kill and to share:

- Each trial is one short ``INSERT OR IGNORE`` in its own transaction, committed before the next
  trial starts, so ``kill -9`` at any moment loses at most the trials still running.
- ``UNIQUE(experiment, method, seed, config_hash)`` makes a trial's row the same whoever writes it
  first: a resumed run, or a second process working on the same file, adds no duplicate.
- Write-ahead logging (``journal_mode=WAL``) lets readers and one writer work at the same time,
  and the busy timeout makes a second writer wait for the lock instead of failing.
  ``synchronous=NORMAL`` in WAL mode keeps every commit across a crash of the process (not
  across a power cut of the machine, which costs at most the last trials).
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from lstmlab.reproduce.method import TrialResult

_BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    method TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    success INTEGER NOT NULL,
    sequences INTEGER NOT NULL,
    test_error REAL NOT NULL,
    wall_time REAL NOT NULL,
    curve TEXT NOT NULL,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    UNIQUE (experiment, method, seed, config_hash)
);
CREATE TABLE IF NOT EXISTS configs (
    config_hash TEXT PRIMARY KEY,
    description TEXT NOT NULL
);
"""


class TrialStore:
    """An SQLite file of finished trials. Open one per process; it is not shared across threads.

    >>> store = TrialStore(":memory:")
    >>> store.add("4", "fake", 0, "abc", TrialResult(0, True, 10, 0.0, 0.1), "v")
    True
    >>> store.finished_seeds("4", "fake", "abc")
    {0}
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write below opens its own.
        self._connection = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        self._connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._retry(lambda: self._connection.execute("PRAGMA journal_mode = WAL"))
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._retry(lambda: self._connection.executescript(_SCHEMA))

    @staticmethod
    def _retry(action, attempts: int = 50) -> None:
        # Switching to WAL and creating tables take a short exclusive lock that another process
        # opening the same new file may hold; the busy handler does not cover every such case.
        for attempt in range(attempts):
            try:
                action()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def describe_config(self, config_hash: str, description: str) -> None:
        """Record what a config hash stands for (kept for whoever reads the file later)."""
        with self._connection:
            self._connection.execute(
                "INSERT OR IGNORE INTO configs (config_hash, description) VALUES (?, ?)",
                (config_hash, description),
            )

    def add(
        self,
        experiment: str,
        method: str,
        seed: int,
        config_hash: str,
        result: TrialResult,
        code_version: str,
    ) -> bool:
        """Commit one finished trial; returns False when that trial was already stored."""
        if result.seed != seed:
            raise ValueError(f"seed: expected the result's seed {result.seed}, received {seed}")
        row = (
            experiment,
            method,
            seed,
            config_hash,
            int(result.success),
            int(result.sequences),
            float(result.test_error),
            float(result.wall_time),
            json.dumps([[int(s), float(e)] for s, e in result.curve]),
            code_version,
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = self._connection.execute(
                "INSERT OR IGNORE INTO trials (experiment, method, seed, config_hash, success,"
                " sequences, test_error, wall_time, curve, code_version, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self._connection.execute("COMMIT")
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1

    def finished_seeds(self, experiment: str, method: str, config_hash: str) -> set[int]:
        rows = self._connection.execute(
            "SELECT seed FROM trials WHERE experiment = ? AND method = ? AND config_hash = ?",
            (experiment, method, config_hash),
        )
        return {seed for (seed,) in rows}

    def results(
        self, experiment: str, method: str, config_hash: str, seeds: set[int] | None = None
    ) -> list[TrialResult]:
        """Stored results of one (experiment, method, config), ordered by seed."""
        rows = self._connection.execute(
            "SELECT seed, success, sequences, test_error, wall_time, curve FROM trials"
            " WHERE experiment = ? AND method = ? AND config_hash = ? ORDER BY seed",
            (experiment, method, config_hash),
        )
        results = [
            TrialResult(
                seed=seed,
                success=bool(success),
                sequences=sequences,
                test_error=test_error,
                wall_time=wall_time,
                curve=tuple((int(s), float(e)) for s, e in json.loads(curve)),
            )
            for seed, success, sequences, test_error, wall_time, curve in rows
        ]
        if seeds is not None:
            results = [result for result in results if result.seed in seeds]
        return results

    def count(self) -> int:
        return self._connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

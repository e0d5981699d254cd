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

Why a damaged file is never written to: opening a store that exists runs SQLite's
``PRAGMA quick_check`` on a read-only connection first (a damaged page, a truncated file, a
garbage header, a file that is no database), and refuses it with :class:`StoreError`, which names
the command that copies the readable rows into a new store (``lstmlab store salvage``, see
:mod:`lstmlab.reproduce.salvage`). Any SQLite error later (the file damaged while open, the disk
full, a read-only file) also becomes a :class:`StoreError` naming the file and the reason.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from lstmlab.errors import UserError
from lstmlab.reproduce._method import TrialResult

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

# The columns of ``trials``; an existing table must have them all to be a trial store.
TRIAL_COLUMNS = ("experiment", "method", "seed", "config_hash", "success", "sequences",
                 "test_error", "wall_time", "curve", "code_version", "finished_at")


class StoreError(UserError):
    """A trial store that cannot be used: damaged, not a trial store, unreadable or unwritable.
    The message names the file, the reason and, for a damaged file, the salvage command."""


def salvage_command(path: str | Path) -> str:
    """The command that copies the readable rows of the damaged store ``path`` into a new one."""
    path = Path(path)
    return f"lstmlab store salvage {path} {path.with_name(path.stem + '-salvaged.sqlite')}"


def damaged(path: str | Path, detail: str) -> StoreError:
    return StoreError(
        f"{path}: the trial store is damaged ({detail}); lstmlab writes nothing into it. Copy its"
        f" readable rows into a new store with `{salvage_command(path)}`, then use that"
        " store in its place"
    )


def _is_damage(error: sqlite3.Error) -> bool:
    name = getattr(error, "sqlite_errorname", "")  # Python >= 3.11
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return any(text in str(error) for text in ("malformed", "not a database"))


@contextmanager
def store_errors(path: str | Path) -> Iterator[None]:
    """SQLite's failures as :class:`StoreError` naming ``path``: a damaged file with the salvage
    command, anything else (cannot open, read-only, disk full, locked too long) with SQLite's
    reason. Programming errors (wrong SQL, a violated constraint) stay what they are: bugs."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError):
        raise
    except sqlite3.Error as error:
        if _is_damage(error):
            raise damaged(path, str(error)) from error
        raise StoreError(f"{path}: cannot use the trial store ({error})") from error


def check_store(path: str | Path, thorough: bool = False) -> int:
    """The number of trials in the store ``path``; :class:`StoreError` unless it is an intact
    SQLite file whose ``trials`` table (if any) has the store's columns.

    ``PRAGMA quick_check`` reads every page and checks its structure; ``thorough`` runs
    ``integrity_check`` instead (also every index against its table: slower). The check reads
    through a read-only connection, so it never writes to the file (a read-write connection
    would copy a write-ahead log into the file when it closes).
    """
    if not Path(path).is_file():
        found = "a folder" if Path(path).is_dir() else "nothing"
        raise StoreError(f"{path}: expected a trial store (an SQLite file), found {found}")
    pragma = "integrity_check" if thorough else "quick_check"
    with store_errors(path):
        uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            findings = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
            if findings != ["ok"]:
                more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
                raise damaged(path, f"{pragma}: {findings[0]!s}{more}".replace("\n", " "))
            tables = [name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            if tables and "trials" not in tables:
                raise StoreError(
                    f"{path}: expected a trial store, but it is an SQLite file with other tables"
                    f" ({', '.join(tables[:5])}); lstmlab does not write into it")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(trials)")}
            missing = [name for name in TRIAL_COLUMNS if name not in columns]
            if columns and missing:
                raise StoreError(
                    f"{path}: expected a trial store, but its table 'trials' lacks the columns"
                    f" {', '.join(missing)} (an SQLite file of something else?)")
            if not columns:
                return 0
            return connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        finally:
            connection.close()


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
            if Path(self.path).is_file() and Path(self.path).stat().st_size > 0:
                check_store(self.path)  # before the first write: a damaged file stays as is
        with store_errors(self.path):
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
        with store_errors(self.path), self._connection:
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
        with store_errors(self.path):
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
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise
        return cursor.rowcount == 1

    def finished_seeds(self, experiment: str, method: str, config_hash: str) -> set[int]:
        with store_errors(self.path):
            rows = self._connection.execute(
                "SELECT seed FROM trials WHERE experiment = ? AND method = ? AND config_hash = ?",
                (experiment, method, config_hash),
            ).fetchall()
        return {seed for (seed,) in rows}

    def results(
        self, experiment: str, method: str, config_hash: str, seeds: set[int] | None = None
    ) -> list[TrialResult]:
        """Stored results of one (experiment, method, config), ordered by seed."""
        with store_errors(self.path):
            rows = self._connection.execute(
                "SELECT seed, success, sequences, test_error, wall_time, curve FROM trials"
                " WHERE experiment = ? AND method = ? AND config_hash = ? ORDER BY seed",
                (experiment, method, config_hash),
            ).fetchall()
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

    def add_rows(self, trials: list[tuple], configs: list[tuple[str, str]]) -> int:
        """Copy rows read from another store (``trials`` in :data:`TRIAL_COLUMNS` order, configs
        as (config_hash, description)) in one transaction; returns how many trials were new."""
        columns = ", ".join(TRIAL_COLUMNS)
        marks = ", ".join("?" * len(TRIAL_COLUMNS))
        with store_errors(self.path), self._connection:
            self._connection.execute("BEGIN IMMEDIATE")
            before = self.count()
            self._connection.executemany(
                "INSERT OR IGNORE INTO configs (config_hash, description) VALUES (?, ?)", configs)
            self._connection.executemany(
                f"INSERT OR IGNORE INTO trials ({columns}) VALUES ({marks})", trials)
            return self.count() - before

    def count(self) -> int:
        with store_errors(self.path):
            return self._connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

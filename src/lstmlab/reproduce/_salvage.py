"""Salvage a damaged trial store: copy every row SQLite can still read into a new store.

A damaged page makes SQLite stop any scan that reaches it, so one query cannot read "everything
else". The rows are found three ways, each stopping at its first damaged page: a table scan from
the first row forwards, one from the last row backwards, and a scan of each index (an index entry
holds its row's id, and an index lives on pages of its own). Then every id from 1 to the largest
one found is read on its own (``WHERE rowid = ?`` walks the tree from its root, so a damaged leaf
costs only its own rows). The store never deletes a row and SQLite gives a new row the largest
id + 1, so every id in that range was a row: an id that cannot be read, or whose values are not
a trial's (wrong types, a curve that is not JSON), counts as lost. The count is exact when the
last row is readable; when it is not (a truncated file), rows past the largest readable id leave
no trace, and the report says the count is a lower bound.

The damaged file itself is never opened for writing: the scans run on a copy (with its
write-ahead log, which holds the last committed trials until SQLite copies them into the file).
A truncated copy is padded with zero pages to the size its header states, since SQLite refuses
to read even the schema of a file shorter than that.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstmlab.reproduce._store import TRIAL_COLUMNS, StoreError, TrialStore, check_store

# Ids probed one by one at most; past this the largest id found is itself damage.
_MAX_PROBED_IDS = 10_000_000


@dataclass(frozen=True)
class SalvageReport:
    """What ``salvage`` copied: trials and config descriptions saved and lost."""

    source: Path
    target: Path
    saved: int
    lost: int
    configs_saved: int
    configs_lost: int
    lost_is_exact: bool  # False: rows past the largest readable id may be lost too


def salvage(source: str | Path, target: str | Path) -> SalvageReport:
    """Copy every readable trial (and config description) of ``source`` into the new store
    ``target``; ``source`` is left as it was. Raises :class:`StoreError` when ``target`` exists
    or when not one row of ``source`` can be read."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        found = "a folder" if source.is_dir() else "nothing"
        raise StoreError(f"{source}: expected a trial store (an SQLite file), found {found}")
    if target.exists() or target.is_symlink():
        raise StoreError(f"{target}: expected the name of a new file (salvage never writes "
                         "into an existing file)")
    with tempfile.TemporaryDirectory(prefix="lstmlab-salvage-") as scratch:
        copy = Path(scratch) / source.name
        shutil.copyfile(source, copy)
        wal = source.with_name(source.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        _pad_to_stated_size(copy)
        connection = sqlite3.connect(copy, isolation_level=None)
        try:
            trials, lost, exact, reason = _readable_rows(connection, "trials", TRIAL_COLUMNS,
                                                         _is_trial)
            configs, configs_lost, _, _ = _readable_rows(
                connection, "configs", ("config_hash", "description"),
                lambda row: all(isinstance(value, str) for value in row))
        finally:
            connection.close()
    if not trials and not configs and reason is not None:
        raise StoreError(f"{source}: not one row could be read ({reason}); nothing was saved")
    target.parent.mkdir(parents=True, exist_ok=True)
    with TrialStore(target) as store:
        saved = store.add_rows(trials, configs)
    check_store(target, thorough=True)
    return SalvageReport(source, target, saved, lost, len(configs), configs_lost, exact)


def _pad_to_stated_size(path: Path) -> None:
    """Zero pages up to the page count in the header of ``path``, if that count is valid (its
    'version-valid-for' equals the change counter) and the file is shorter."""
    with path.open("r+b") as file:
        header = file.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return
        page_size = struct.unpack(">H", header[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        pages, counter, valid_for = (struct.unpack(">I", header[k:k + 4])[0]
                                     for k in (28, 24, 92))
        size = file.seek(0, 2)
        if counter == valid_for and size < pages * page_size:
            file.truncate(pages * page_size)


def _readable_rows(connection: sqlite3.Connection, table: str, columns: Sequence[str],
                   valid: Callable[[tuple], bool]) -> tuple[list[tuple], int, bool, str | None]:
    """(the readable, valid rows of ``table`` in id order, how many ids were lost, whether the
    largest id is known (the count is exact), the first error met or None)."""
    ids: set[int] = set()
    errors: list[sqlite3.Error] = []
    scans = [f"SELECT rowid FROM {table} NOT INDEXED ORDER BY rowid",
             f"SELECT rowid FROM {table} NOT INDEXED ORDER BY rowid DESC"]
    try:
        indexes = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))]
    except sqlite3.DatabaseError as error:
        return [], 0, False, str(error)
    scans += [f'SELECT rowid FROM {table} INDEXED BY "{name}"' for name in indexes]
    # The largest id is known if the backward scan read its first row or an index scan ended.
    exact = False
    for number, scan in enumerate(scans):
        found = 0
        try:
            for (rowid,) in connection.execute(scan):
                ids.add(rowid)
                found += 1
            exact = True  # a scan that ended saw the last row
        except sqlite3.DatabaseError as error:  # the scan's first damaged page; keep its ids
            errors.append(error)
            exact = exact or (number == 1 and found > 0)
    if not ids:
        return [], 0, exact, str(errors[0]) if errors else None
    largest = max(ids)
    candidates = range(1, largest + 1) if largest <= _MAX_PROBED_IDS else sorted(ids)
    select = f"SELECT {', '.join(columns)} FROM {table} NOT INDEXED WHERE rowid = ?"
    rows, lost = [], 0
    for rowid in candidates:
        try:
            row = connection.execute(select, (rowid,)).fetchone()
        except sqlite3.DatabaseError as error:
            errors.append(error)
            row = None
        if row is not None and valid(row):
            rows.append(row)
        else:
            lost += 1
    return rows, lost, exact, str(errors[0]) if errors else None


def _is_trial(row: tuple) -> bool:
    values = dict(zip(TRIAL_COLUMNS, row, strict=True))
    if not all(isinstance(values[name], str) for name in
               ("experiment", "method", "config_hash", "code_version", "finished_at")):
        return False
    if not all(isinstance(values[name], int) for name in ("seed", "sequences", "success")):
        return False
    if values["success"] not in (0, 1) or not all(
            isinstance(values[name], (int, float)) for name in ("test_error", "wall_time")):
        return False
    try:
        curve = json.loads(values["curve"])
        return isinstance(curve, list) and all(
            isinstance(point, list) and len(point) == 2
            and all(isinstance(value, (int, float)) for value in point) for point in curve)
    except (TypeError, ValueError):
        return False

"""Damaged trial stores for the tests, made by editing the SQLite file format directly.

Each kind of damage is checked against SQLite itself (``PRAGMA quick_check`` on a plain
connection) so a test never passes on a "damage" that SQLite would not notice.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import numpy as np

from lstmlab.reproduce import TrialResult, TrialStore

ROWS = 240


def trial(seed: int) -> TrialResult:
    # A 20-point curve makes a row ~500 bytes: a few rows per 4 KiB page, so the table spans
    # dozens of leaf pages and a damaged one in the middle leaves rows on both sides.
    curve = tuple((10 * k, 1.0 / (k + seed + 1)) for k in range(20))
    return TrialResult(seed, seed % 3 == 0, 100 + seed, 0.01 * seed, 0.5, curve)


def make_store(path: Path, rows: int = ROWS) -> list[tuple]:
    """A store of ``rows`` trials, closed (its log copied into the file); returns its rows."""
    with TrialStore(path) as store:
        store.describe_config("h1", "the one config")
        for seed in range(rows):
            store.add("2a", "fake", seed, "h1", trial(seed), "v1")
    assert not path.with_name(path.name + "-wal").exists()
    return all_rows(path)


def all_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT experiment, method, seed, config_hash, success, sequences, test_error,"
            " wall_time, curve, code_version, finished_at FROM trials ORDER BY seed").fetchall()
    connection.close()
    return rows


def sqlite_finds_damage(path: Path) -> bool:
    """SQLite's own verdict, independent of lstmlab: does quick_check fail on ``path``?"""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA quick_check").fetchall() != [("ok",)]
    except sqlite3.DatabaseError:
        return True
    finally:
        connection.close()


def _page_size(data: bytes) -> int:
    size = struct.unpack(">H", data[16:18])[0]
    return 65536 if size == 1 else size


def trials_leaf_pages(path: Path) -> list[int]:
    """Page numbers of the leaves of the ``trials`` table, in row order, read from the file
    format: the table's root is an interior page (type 5) whose cells point at the leaves."""
    data = path.read_bytes()
    size = _page_size(data)
    with sqlite3.connect(path) as connection:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'trials'").fetchone()
    connection.close()
    page = data[(root - 1) * size: root * size]
    assert page[0] == 5, "the trials table should be deep enough to have an interior root"
    cells = struct.unpack(">H", page[3:5])[0]
    pointers = [struct.unpack(">H", page[12 + 2 * k: 14 + 2 * k])[0] for k in range(cells)]
    children = [struct.unpack(">I", page[p: p + 4])[0] for p in pointers]
    children.append(struct.unpack(">I", page[8:12])[0])  # the right-most child
    assert all(data[(child - 1) * size] == 13 for child in children), "expected leaves only"
    return children


def cells_on_page(path: Path, page_number: int) -> int:
    data = path.read_bytes()
    size = _page_size(data)
    return struct.unpack(">H", data[(page_number - 1) * size + 3:(page_number - 1) * size + 5])[0]


def overwrite_page(path: Path, page_number: int, seed: int = 0) -> None:
    data = bytearray(path.read_bytes())
    size = _page_size(data)
    garbage = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    data[(page_number - 1) * size: page_number * size] = garbage
    path.write_bytes(bytes(data))


def damage(path: Path, kind: str) -> None:
    """Damage the store ``path`` in one of the ways the issue found (and one more)."""
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage header":
        path.write_bytes(b"\xde\xad\xbe\xef" * 25 + data[100:])
    elif kind == "random bytes":
        path.write_bytes(np.random.default_rng(1).integers(0, 256, len(data),
                                                           dtype=np.uint8).tobytes())
    elif kind == "text file":
        path.write_text("experiment,method,seed\n2a,fake,0\n" * 50)
    elif kind == "garbage page":
        leaves = trials_leaf_pages(path)
        overwrite_page(path, leaves[len(leaves) // 2])
    else:
        raise ValueError(f"kind: unknown damage {kind!r}")
    assert sqlite_finds_damage(path), f"SQLite does not see the {kind} as damage"


KINDS = ("truncated", "garbage header", "random bytes", "text file", "garbage page")

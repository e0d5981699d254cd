"""Damaged trial stores: refused on open without a byte written, checked and salvaged.

Every damage is first confirmed by SQLite itself (``store_damage.damage`` asserts that a plain
``PRAGMA quick_check`` fails), and the salvage is held to numbers read from the file format:
the rows lost are exactly the cells of the overwritten page.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pytest
from store_damage import (
    KINDS,
    ROWS,
    all_rows,
    cells_on_page,
    damage,
    make_store,
    overwrite_page,
    trial,
    trials_leaf_pages,
)

from cli_cases import assert_user_error, run_cli
from lstmlab.reproduce import TrialStore, salvage
from lstmlab.reproduce._store import StoreError, check_store


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_nothing_logged(store) -> None:
    """No write waits in the write-ahead log either (SQLite may leave an empty one)."""
    wal = store.with_name(store.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "trials.sqlite"
    return path, make_store(path)


@pytest.fixture
def store(reference, tmp_path):
    """A fresh copy of the reference store in its own folder, as `reproduce --out` uses it."""
    path = tmp_path / "run" / "trials.sqlite"
    path.parent.mkdir()
    shutil.copy(reference[0], path)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_store_is_refused_on_open_and_left_as_it_was(kind, store):
    damage(store, kind)
    before = _digest(store)
    with pytest.raises(StoreError, match="damaged") as refused:
        TrialStore(store)
    message = str(refused.value)
    assert str(store) in message and "lstmlab store salvage" in message
    assert "\n" not in message
    assert _digest(store) == before
    _assert_nothing_logged(store)


@pytest.mark.parametrize("kind", KINDS)
def test_reproduce_on_a_damaged_store_exits_2_with_the_salvage_command(kind, store):
    damage(store, kind)
    before = _digest(store)
    assert_user_error(["reproduce", "6a", "--method", "guess", "--trials", "1", "--budget", "5",
                       "--out", store.parent], str(store), "damaged",
                      f"lstmlab store salvage {store} ")
    assert _digest(store) == before
    _assert_nothing_logged(store)
    assert {path.name for path in store.parent.iterdir()} <= {
        "trials.sqlite", "trials.sqlite-wal", "trials.sqlite-shm"}


def test_store_check_on_intact_and_damaged_stores(store):
    result = run_cli(["store", "check", store])
    assert result.exit_code == 0, result.output
    assert f"{ROWS} trials" in result.stdout and "intact" in result.stdout
    damage(store, "garbage page")
    assert_user_error(["store", "check", store], str(store), "damaged", "store salvage")


def test_salvage_saves_every_row_but_those_on_the_damaged_page(reference, store, tmp_path):
    _, rows = reference
    leaves = trials_leaf_pages(store)
    page = leaves[len(leaves) // 2]
    on_page = cells_on_page(store, page)
    assert 0 < on_page < ROWS
    overwrite_page(store, page)
    before = _digest(store)
    new = tmp_path / "salvaged.sqlite"
    result = run_cli(["store", "salvage", store, new])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"saved {ROWS - on_page} trials, lost {on_page}" in text
    assert _digest(store) == before
    saved = all_rows(new)
    assert len(saved) == ROWS - on_page
    assert set(saved) <= set(rows)  # every saved row exactly as it was written
    # The lost rows are one run of consecutive seeds: the ones that lived on that page.
    lost = sorted(set(row[2] for row in rows) - set(row[2] for row in saved))
    assert lost == list(range(lost[0], lost[0] + on_page))
    assert check_store(new, thorough=True) == ROWS - on_page
    with TrialStore(new) as store_again:  # the salvaged store takes the lost trials again
        assert store_again.add("2a", "fake", lost[0], "h1", trial(lost[0]), "v1")
        assert store_again.count() == ROWS - on_page + 1


def test_salvage_keeps_rows_still_in_the_write_ahead_log(tmp_path):
    """A run killed before SQLite copied its log into the file: the log's rows are saved too."""
    path = tmp_path / "trials.sqlite"
    store = TrialStore(path)
    for seed in range(5):
        store.add("2a", "fake", seed, "h1", trial(seed), "v1")
    # Keep the log: a copy of the file and its log, as a killed process leaves them.
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copy(path, killed / "trials.sqlite")
    shutil.copy(path.with_name("trials.sqlite-wal"), killed / "trials.sqlite-wal")
    store.close()
    before = _digest(killed / "trials.sqlite")
    assert check_store(killed / "trials.sqlite", thorough=True) == 5  # read-only: log kept
    assert _digest(killed / "trials.sqlite") == before
    report = salvage(killed / "trials.sqlite", tmp_path / "new.sqlite")
    assert (report.saved, report.lost, report.lost_is_exact) == (5, 0, True)
    assert all_rows(tmp_path / "new.sqlite") == all_rows(path)


@pytest.mark.parametrize("kind", ["random bytes", "text file", "garbage header"])
def test_salvage_of_a_file_with_nothing_readable_says_so(kind, store, tmp_path):
    damage(store, kind)
    assert_user_error(["store", "salvage", store, tmp_path / "new.sqlite"], str(store),
                      "not one row could be read")
    assert not (tmp_path / "new.sqlite").exists()


def test_salvage_of_a_truncated_store_saves_the_rows_before_the_cut(reference, store,
                                                                   tmp_path):
    _, rows = reference
    damage(store, "truncated")
    result = run_cli(["store", "salvage", store, tmp_path / "new.sqlite"])
    assert result.exit_code == 0, result.output
    saved = all_rows(tmp_path / "new.sqlite")
    assert set(saved) <= set(rows) and ROWS // 4 < len(saved) < ROWS
    # The rows past the cut leave no trace: the count of lost rows is only a lower bound.
    assert f"saved {len(saved)} trials, lost at least" in " ".join(result.stdout.split())


def test_a_sqlite_file_of_something_else_is_not_written_to(tmp_path):
    path = tmp_path / "trials.sqlite"
    for schema, refusal in (("CREATE TABLE songs (title TEXT)", "other tables .songs."),
                            ("CREATE TABLE trials (experiment TEXT, seed INTEGER)",
                             "lacks the columns method, config_hash")):
        path.unlink(missing_ok=True)
        with sqlite3.connect(path) as connection:
            connection.execute(schema)
        connection.close()
        before = _digest(path)
        with pytest.raises(StoreError, match=refusal):
            TrialStore(path)
        assert _digest(path) == before


def test_a_store_that_is_a_folder_is_one_line(tmp_path):
    (tmp_path / "out" / "trials.sqlite").mkdir(parents=True)
    assert_user_error(["reproduce", "6a", "--method", "guess", "--trials", "1", "--budget", "5",
                       "--out", tmp_path / "out"], "trials.sqlite", "cannot use the trial store")


def test_damage_that_appears_while_the_store_is_open_stops_the_next_write(store):
    with TrialStore(store) as open_store:
        with sqlite3.connect(store) as connection:
            (root,) = connection.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'trials'").fetchone()
        connection.close()
        overwrite_page(store, root)
        with pytest.raises(StoreError, match="damaged.*lstmlab store salvage"):
            open_store.add("2a", "fake", ROWS, "h1", trial(ROWS), "v1")

"""The CLI's one error path: a user's error is one line and exit code 2, before any work; a bug
says so, with its traceback, exit code 1; ``--debug`` adds the traceback to a user's error."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lstmlab.reports
import lstmlab.reproduce
import lstmlab.tour
from cli_cases import (
    assert_one_error_line,
    assert_user_error,
    open_folder,
    run_cli,
    without_root,
)


@pytest.fixture
def no_work(monkeypatch):
    """Every command's work replaced by a failure: a case that reaches it is not refused early
    (the CLI reports the AssertionError as a bug, exit code 1, and the test fails)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command started working before checking its arguments")

    for module, name in ((lstmlab.tour, "run_tour"), (lstmlab.reproduce, "run"),
                         (lstmlab.reports, "inspect_model")):
        monkeypatch.setattr(module, name, refuse)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "lstm.pt"
    torch.save(torch.nn.LSTM(5, 4).state_dict(), path)
    return path


def _commands(model: Path) -> dict[str, list[str]]:
    """One valid invocation of each command that writes into --out."""
    return {
        "reproduce": ["reproduce", "6a", "--method", "guess", "--trials", "1", "--budget", "5"],
        "inspect": ["inspect", str(model), "--text", "a b a"],
        "tour": ["tour", "--quick"],
    }


@pytest.mark.parametrize("command", ["reproduce", "inspect", "tour"])
def test_out_that_is_no_folder_is_refused_before_any_work(command, model, tmp_path, no_work):
    args = _commands(model)[command]
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    assert_user_error([*args, "--out", a_file], "--out", f"{a_file} is a file")
    assert_user_error([*args, "--out", a_file / "report"], "--out",
                      f"{a_file / 'report'} lies below {a_file}, which is a file")
    assert_user_error([*args, "--out", "/dev/null"], "--out", "/dev/null is a device")
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    assert_user_error([*args, "--out", link], "--out", "is a broken link")
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["reproduce", "inspect", "tour"])
def test_out_in_a_folder_we_may_not_write_is_refused_before_any_work(command, model, no_work):
    """A folder without write permission, met for real (as 'nobody' when the tests run as root):
    the CLI tries to write there rather than reading the bits, so it is right for root too."""
    with open_folder() as base:
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        args = _commands(model)[command]
        (base / "a-file").write_text("")
        assert_user_error([*args, "--out", base / "a-file"], "--out")  # imports, as root
        with without_root():
            for out in (locked, locked / "report"):
                assert_user_error([*args, "--out", out], "--out", f"cannot write into {out}",
                                  "Permission denied")
        assert list(locked.iterdir()) == []


def test_a_store_we_may_not_write_is_one_line():
    """trials.sqlite read-only in a folder we may write: SQLite's refusal, named, one line."""
    from lstmlab.reproduce import TrialResult, TrialStore

    with open_folder() as base:
        base.chmod(0o777)
        with TrialStore(base / "trials.sqlite") as store:
            store.add("6a", "guess", 0, "h", TrialResult(0, True, 1, 0.0, 0.0), "v")
        (base / "trials.sqlite").chmod(0o444)
        args = ["reproduce", "6a", "--method", "guess", "--trials", "1", "--budget", "5"]
        (base / "damaged").mkdir()
        (base / "damaged" / "trials.sqlite").write_text("not a store")
        assert_user_error([*args, "--out", base / "damaged"], "damaged")  # imports, as root
        with without_root():
            assert_user_error([*args, "--out", base], f"{base / 'trials.sqlite'}", "readonly")


@pytest.mark.parametrize(("args", "fragments"), [
    (["reproduce", "1", "--trials", str(10**30)], ["--trials", "100000"]),
    (["reproduce", "1", "--trials", "0"], ["--trials"]),
    (["reproduce", "1", "--trials", "-1"], ["--trials"]),
    (["reproduce", "1", "--trials", "many"], ["--trials"]),
    (["reproduce", "1", "--budget", "0"], ["--budget"]),
    (["reproduce", "1", "--budget", str(10**30)], ["--budget"]),
    (["reproduce", "9"], ["experiment", "'9'"]),
    (["reproduce", "1", "--method", "nope"], ["--method", "nope"]),
    (["reproduce", "1", "--method", "guess", "--ray", "bogus-address"],
     ["Ray address 'bogus-address'", "HOST:PORT"]),
    (["reproduce", "1", "--seeds-per-task", "5"], ["--seeds-per-task", "--ray"]),
    (["reproduce", "1", "--ray", "local", "--seeds-per-task", "0"], ["--seeds-per-task"]),
    (["reproduce", "1", "--method", "guess", "--keep-nets"], ["--keep-nets", "lstm1997", "guess"]),
    (["tour", "--seed", str(2**64)], ["--seed", str(2**32 - 1)]),
    (["tour", "--seed", "-1"], ["--seed"]),
    (["inspect"], ["Missing argument 'model'"]),
    (["nope"], ["No such command 'nope'"]),
    (["--bogus", "version"], ["No such option: --bogus"]),
    (["store"], ["Missing command", "`lstmlab store --help`"]),
    (["store", "check"], ["Missing argument 'path'"]),
])
def test_bad_command_lines_are_one_line(args, fragments, tmp_path, no_work):
    args = [*args, "--out", tmp_path / "out"] if args[0] in ("reproduce", "tour") else args
    assert_user_error(args, *fragments)


def test_store_commands_name_the_missing_or_wrong_file(tmp_path):
    assert_user_error(["store", "check", tmp_path / "none.sqlite"], "none.sqlite", "found nothing")
    assert_user_error(["store", "check", tmp_path], "found a folder")
    (tmp_path / "taken.sqlite").write_text("")
    (tmp_path / "old.sqlite").write_text("")
    assert_user_error(["store", "salvage", tmp_path / "old.sqlite", tmp_path / "taken.sqlite"],
                      "taken.sqlite", "new file")


def test_the_os_refusing_a_users_path_midway_is_one_line(monkeypatch, tmp_path):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/run/results.md")

    monkeypatch.setattr(lstmlab.reproduce, "run", refused)
    assert_user_error(["reproduce", "1", "--method", "guess", "--out", tmp_path],
                      "/data/run/results.md: Permission denied")


def test_a_bug_shows_its_traceback_and_says_it_is_a_bug(monkeypatch, tmp_path):
    def crash(*args, **kwargs):
        raise RuntimeError("an invariant broke")

    monkeypatch.setattr(lstmlab.reproduce, "run", crash)
    result = run_cli(["reproduce", "1", "--method", "guess", "--out", tmp_path])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "an invariant broke" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: internal error, a bug in lstmlab")
    assert "RuntimeError: an invariant broke" in last


def test_debug_adds_the_traceback_to_a_users_error(tmp_path):
    plain = run_cli(["reproduce", "9", "--out", tmp_path])
    for args, env in ((["--debug", "reproduce", "9", "--out", tmp_path], {}),
                      (["reproduce", "9", "--out", tmp_path], {"LSTMLAB_DEBUG": "1"})):
        debug = run_cli(args, env)
        assert debug.exit_code == 2
        assert "Traceback" in debug.stderr and "registry.py" in debug.stderr
        assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lstmlab.reproduce, "run", interrupted)
    result = run_cli(["reproduce", "1", "--method", "guess", "--out", tmp_path])
    assert result.exit_code == 130 and result.stderr.strip() == "error: interrupted"


def test_the_installed_entry_point_prints_one_line_and_exits_2(tmp_path):
    """The real process (not typer's test runner): stderr, exit status, no traceback."""
    child = subprocess.run([sys.executable, "-m", "lstmlab.cli", "tour", "--seed", str(2**64),
                            "--out", str(tmp_path)], capture_output=True, text=True,
                           timeout=120, env=os.environ)
    assert_one_error_line(child.stderr, child.stdout + child.stderr, child.returncode, "--seed")


def test_ray_missing_is_one_line(monkeypatch, tmp_path, no_work):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert_user_error(["reproduce", "1", "--method", "guess", "--ray", "local", "--out",
                       tmp_path], "--ray", "pip install 'lstmlab[ray]'")

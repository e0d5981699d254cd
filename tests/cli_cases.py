"""The CLI's one error path as a reusable check, for every test of a user-facing failure.

    from cli_cases import assert_user_error
    assert_user_error(["inspect", str(path), "--text", "a b"], "not an LSTM")

``tests/`` is on ``sys.path`` (pytest puts the folder of ``tests/conftest.py`` there), so tests in
any sub-folder can import this module. A user's error must look the same from every command:
exit code 2, exactly one line on stderr that starts with ``error: `` and contains each given
fragment, and no traceback anywhere in the output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from lstmlab.cli import app


def run_cli(args: Sequence[object], env: Mapping[str, str] | None = None):
    """``lstmlab ARGS`` in this process; returns typer's Result (output, stderr, exit_code)."""
    return CliRunner().invoke(app, [str(arg) for arg in args], env=dict(env or {}),
                              prog_name="lstmlab")


def assert_one_error_line(stderr: str, output: str, exit_code: int, *fragments: str) -> str:
    """The checks of :func:`assert_user_error` on an already finished run (e.g. a subprocess)."""
    assert exit_code == 2, f"exit code {exit_code}, expected 2; output:\n{output}"
    assert "Traceback" not in output, output
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    (line,) = lines
    assert line.startswith("error: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def assert_user_error(args: Sequence[object], *fragments: str,
                      env: Mapping[str, str] | None = None) -> str:
    """Run ``lstmlab ARGS`` and assert the user-error contract; returns the error line."""
    result = run_cli(args, env)
    return assert_one_error_line(result.stderr, result.output, result.exit_code, *fragments)


@contextmanager
def without_root() -> Iterator[None]:
    """Root ignores permission bits, and these tests may run as root: then the effective user
    becomes 'nobody' for the block (the real user stays root, so it can switch back). Files the
    block needs must be in a folder 'nobody' may enter (see :func:`open_folder`), and so must
    every module it imports: when Python lives in root's home, 'nobody' cannot import from its
    standard library, so run the same command once before the block to import what it needs."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@contextmanager
def open_folder() -> Iterator[Path]:
    """A temporary folder every user may enter (pytest's tmp_path is private to its owner)."""
    base = Path(tempfile.mkdtemp(prefix="lstmlab-cli-"))
    try:
        base.chmod(0o755)
        yield base
    finally:
        for folder, _, _ in os.walk(base):
            os.chmod(folder, 0o755)
        shutil.rmtree(base)

"""What the repository cites must be reachable, and no path of a particular machine may appear.

- A docstring or comment of the package that names a file of this repository (``lstmlab/...``,
  ``src/...``, ``tests/...``, ``benchmarks/...``, or a module of its own package in double
  backticks, ``fused.py``) names one that exists; papers are cited by title, never by a
  private notes file or an issue thread.
- No committed text file names a path of the machine it was written on (home, temporary and
  working folders, the system's program folders); the two allowed: a ``#!`` line's
  ``env``, and the Makefile's line that says where Debian installs chromium.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lstmlab"

# A repository path: lstmlab/x/y.py, src/lstmlab/..., tests/..., benchmarks/... (.py, .c, .h).
REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:src/)?lstmlab|tests|benchmarks)/([\w./-]*\w\.(?:py|c|h))\b")
# Sources a reader cannot reach: private notes, an issue tracker's threads.
UNREACHABLE = re.compile(r"(?i)\b(?:paper|project's|team's|shared|secondary|cpu-performance) "
                         r"notes\b|\bnotes §|\bissue #\d+|\bthe issue\b")
# A bare module name in double backticks: ``workspace.py``.
BARE_MODULE = re.compile(r"``(\w+\.py)``")
# The folders of one machine, spelled in parts so that this file does not match itself.
MACHINE = re.compile("(?<![\\w.~-])/(?:" + "|".join(
    ("wo" + "rk", "t" + "mp", "ho" + "me", "o" + "pt", "u" + "sr", "ro" + "ot", "Us" + "ers"))
    + ")/")
_USR = "/" + "usr"
ALLOWED_MACHINE = (re.compile(rf"^#!{_USR}/bin/env \w+$"),
                   re.compile(rf"^CHROMIUM := {_USR}/lib/chromium/chromium$"))


def _text_of_docs(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal and comment of a Python file."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            found.append((token.start[0], token.string))
    return found


def _exists(cited: str, here: Path) -> bool:
    roots = (ROOT, ROOT / "src", here.parent, PACKAGE)
    return any((root / cited).exists() for root in roots)


def missing_citations(path: Path, here: Path | None = None) -> list[str]:
    """``line: name`` of each repository file that ``path``'s strings and comments cite but that
    does not exist; relative names are looked up as though the file lay at ``here``."""
    here = path if here is None else here
    problems = []
    for line, text in _text_of_docs(path):
        cited = [prefix + "/" + rest for prefix, rest in REPO_PATH.findall(text)]
        cited += BARE_MODULE.findall(text)
        problems += [f"{line}: {name}" for name in cited if not _exists(name, here)]
        problems += [f"{line}: {match}" for match in UNREACHABLE.findall(text)]
    return problems


def committed_text_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.SubprocessError) as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"git ls-files failed in CI: {error}")
        pytest.skip(f"not a git checkout ({error})")
    files = []
    for name in filter(None, listed):
        path = ROOT / name
        if path.is_file() and not path.is_symlink() and b"\0" not in path.read_bytes()[:8192]:
            files.append(path)
    return files


def machine_paths(path: Path) -> list[str]:
    """``line: text`` of each line of ``path`` that names a machine's folder."""
    lines = path.read_text(errors="replace").splitlines()
    return [f"{number}: {line.strip()[:120]}" for number, line in enumerate(lines, 1)
            if MACHINE.search(line) and not any(a.match(line.strip()) for a in ALLOWED_MACHINE)]


def test_every_file_the_package_cites_exists():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 100
    found = [f"{path.relative_to(ROOT)}:{problem}" for path in files
             for problem in missing_citations(path)]
    assert found == []


def test_no_committed_file_names_a_path_of_this_machine():
    files = committed_text_files()
    assert len(files) > 100
    found = [f"{path.relative_to(ROOT)}:{problem}" for path in files
             for problem in machine_paths(path)]
    assert found == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    """Each check, shown a file with the defect, reports it."""
    module = PACKAGE / "cells" / "lstm.py"  # a real place, for the relative lookups
    cited = tmp_path / "cited.py"
    cited.write_text('"""See ``lstmlab/layers/nowhere.py`` and ``gone.py`` and '
                     '``lstmlab/cells/lstm.py``."""\n# src/lstmlab/native.py is real\n'
                     '# as the paper notes §1.2 say\n')
    assert missing_citations(cited, module) == [
        "1: lstmlab/layers/nowhere.py", "1: gone.py", "3: paper notes"]
    machine = tmp_path / "notes.md"
    machine.write_text("ran in " + "/" + "work/wt/x\nfine: /dev/null\n"
                       "#!" + _USR + "/bin/env bash\n")
    assert machine_paths(machine) == ["1: ran in " + "/" + "work/wt/x"]

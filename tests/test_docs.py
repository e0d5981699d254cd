"""The theory guide's contract: every test and command it names exists, every claim is backed."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "theory.md"
TEST_REF = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")
COMMAND_REF = re.compile(r"`lstmlab (\w+)")


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("path,function", sorted(set(TEST_REF.findall(_guide()))))
def test_named_test_exists(path, function):
    source = ROOT / path
    assert source.is_file(), f"docs/theory.md names {path}, which does not exist"
    if function:
        assert re.search(rf"^\s*def {function}\(", source.read_text(), re.MULTILINE), (
            f"docs/theory.md names {path}::{function}, which is not defined there"
        )


def test_named_commands_exist():
    from typer.main import get_command

    from lstmlab.cli import app

    commands = set(get_command(app).commands)
    named = set(COMMAND_REF.findall(_guide()))
    assert named, "the guide names no lstmlab command"
    assert named <= commands, f"the guide names commands that do not exist: {named - commands}"


def test_every_claim_is_in_the_table():
    text = _guide()
    claims = set(re.findall(r"\*\*(C\d+)\.\*\*", text))
    table = text.split("## 6.", 1)[1].split("## 7.", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (C\d+) \|(.*)\|$", table, re.M)}
    assert claims, "no numbered claims found"
    assert claims == set(rows), f"claims without a table row: {claims - set(rows)}"
    for claim, cell in rows.items():
        assert TEST_REF.search(cell) or COMMAND_REF.search(cell), f"{claim} names no check"


def test_readme_links_the_guide():
    assert "docs/theory.md" in (ROOT / "README.md").read_text(encoding="utf-8")

"""The output-folder check that the CLI's --out and inspect_model share (the CLI's own path,
permissions as another user included, is tests/test_cli_errors.py)."""

from pathlib import Path

import pytest

from lstmlab.errors import UserError
from lstmlab.folders import folder_to_write


def test_a_folder_or_a_new_one_below_a_folder_is_accepted_and_nothing_is_created(tmp_path):
    assert folder_to_write(tmp_path) == tmp_path
    assert folder_to_write(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert list(tmp_path.iterdir()) == []


def test_what_is_not_a_folder_is_named(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    for path, message in ((a_file, f"{a_file} is a file"),
                          (a_file / "report", f"{a_file / 'report'} lies below {a_file}, which "
                                              "is a file"),
                          (Path("/dev/null"), "/dev/null is a device"),
                          (link, f"{link} is a broken link")):
        with pytest.raises(UserError) as error:
            folder_to_write(path, "out")
        assert str(error.value) == f"out: expected a folder to write into, but {message}"
    assert a_file.read_text() == "x"

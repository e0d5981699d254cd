"""The folder a command writes into (``--out``), checked before any work.

A wrong output folder should fail at once, not after minutes of training or tracing, and
without leaving anything behind. Writability is tried, not deduced from permission bits (which
root ignores): a temporary file is created in the folder, or in the nearest existing folder
above it, and removed at once. Nothing else is created.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lstmlab.errors import UserError


def _kind(path: Path) -> str:
    if path.is_symlink() and not path.exists():
        return "a broken link"
    if path.is_file():
        return "a file"
    if path.is_char_device() or path.is_block_device():
        return "a device"
    return "not a folder"


def folder_to_write(path: Path, name: str | None = None) -> Path:
    """``path`` if it is a folder we can write into or can create, else a ``UserError`` that
    says why (prefixed with the argument's ``name`` when given)."""
    prefix = f"{name}: " if name else ""
    if os.path.lexists(path) and not path.is_dir():
        raise UserError(f"{prefix}expected a folder to write into, but {path} is {_kind(path)}")
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{prefix}expected a folder to write into, but {path} lies below "
                        f"{existing}, which is {_kind(existing)}")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        where = "" if existing == path else f" ({existing}, where it would be created)"
        raise UserError(f"{prefix}cannot write into {path}{where}: "
                        f"{error.strerror or error}") from error
    return path

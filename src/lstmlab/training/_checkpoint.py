"""Checkpoints that are never half-written, and read back without unpickling code.

``save_checkpoint`` writes to ``<path>.tmp``, flushes it to disk and renames it over ``path``
(``os.replace`` is atomic on POSIX), so a run killed at any instant leaves either the previous
checkpoint or the new one, never a torn file. ``load_checkpoint`` always uses
``torch.load(weights_only=True)``: a checkpoint holds tensors, numbers, strings and containers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (temp file, fsync, os.replace)."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The payload saved at ``path`` (``weights_only=True``)."""
    return torch.load(Path(path), weights_only=True)

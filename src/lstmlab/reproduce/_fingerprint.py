"""Stable identities for settings and code: the store's ``config_hash`` and ``code_version``.

A config holds classes and functions, whose ``repr`` carries a memory address that changes from
one process to the next. :func:`canonical` writes such objects by their import path instead, so
the same settings give the same text, and the same hash, in every process and on every machine.

Modules inside lstmlab are spelled without their leading underscore
(``lstmlab.competitors._rcc.RCCConfig`` as ``lstmlab.competitors.rcc.RCCConfig``): the keys of
the trials already run were written when those modules were public, and a module going private
changes no setting. The squashing functions (``lstmlab.cells.Squash``) are written as the store
keys of the trials already run spell them, from before they had one type: a set-up's
(``Setup1997.g``, ``h``) by the function of ``lstmlab.tasks.setup`` it held, its
``output_unit`` by the string it held, and a network's (``Network1997Config.g``, ``h``,
``output_squash``) as the two-field ``Squash`` of the module then called
``lstmlab.cells.lstm1997``. So those keys, and the stored trials under them, hold.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import subprocess
from pathlib import Path

import torch

from lstmlab.cells import Squash
from lstmlab.cells._squash import SQUASHES


def canonical(value: object) -> str:
    """Text that names ``value`` exactly and stays the same across processes.

    >>> canonical((1, 0.5, "a", None))
    "(1, 0.5, 'a', None)"
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A field added after trials were stored says so (metadata "key_omits_default") and
        # is written only when it differs from its default, so the earlier keys hold.
        fields = ", ".join(
            f"{field.name}={_field(value, field.name)}"
            for field in dataclasses.fields(value)
            if field.compare and not (field.metadata.get("key_omits_default")
                                      and getattr(value, field.name) == field.default)
        )
        return f"{_path(type(value))}({fields})"
    if isinstance(value, enum.Enum):
        return f"{_path(type(value))}.{value.name}"
    if isinstance(value, functools.partial):
        return (
            f"partial({canonical(value.func)}, {canonical(value.args)},"
            f" {canonical(dict(value.keywords))})"
        )
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return _path(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(canonical(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        items = sorted((canonical(k), canonical(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, frozenset | set):
        return "{" + ", ".join(sorted(canonical(item) for item in value)) + "}"
    text = repr(value)
    if " at 0x" in text:
        raise ValueError(
            f"value: expected something with a stable repr (a dataclass, number, string, class or"
            f" function), received {type(value).__name__} whose repr holds an address: {text}"
        )
    return text


def _network_squash(fn: str, derivative: str) -> str:
    return f"lstmlab.cells.lstm1997.Squash(fn={fn}, derivative={derivative})"


_AS_SET_UP = {name: f"lstmlab.tasks.setup.{name}" for name in SQUASHES}
_AS_OUTPUT_UNIT = {"logistic": "'logistic'", "identity": "'linear'"}
_AS_NETWORK = {
    "logistic": _network_squash(f"{torch.sigmoid.__module__}.{torch.sigmoid.__qualname__}",
                                "lstmlab.cells.lstm1997._sigmoid_derivative"),
    "h1": _network_squash("lstmlab.cells.lstm1997._h", "lstmlab.cells.lstm1997._h_derivative"),
    "g2": _network_squash("lstmlab.cells.lstm1997._g", "lstmlab.cells.lstm1997._g_derivative"),
    "identity": _network_squash("lstmlab.cells.lstm1997._identity",
                                f"{torch.ones_like.__module__}.{torch.ones_like.__qualname__}"),
}
#: (holder's import path, field) -> the earlier spelling of each of [H97]'s squashes there.
_EARLIER_SPELLINGS = {
    ("lstmlab.tasks.setup.Setup1997", "g"): _AS_SET_UP,
    ("lstmlab.tasks.setup.Setup1997", "h"): _AS_SET_UP,
    ("lstmlab.tasks.setup.Setup1997", "output_unit"): _AS_OUTPUT_UNIT,
    ("lstmlab.training.network1997.Network1997Config", "g"): _AS_NETWORK,
    ("lstmlab.training.network1997.Network1997Config", "h"): _AS_NETWORK,
    ("lstmlab.training.network1997.Network1997Config", "output_squash"): _AS_NETWORK,
}


def _field(holder: object, name: str) -> str:
    """``canonical`` of the field ``name`` of the dataclass ``holder``."""
    value = getattr(holder, name)
    if isinstance(value, Squash) and SQUASHES.get(value.name) == value:
        spelling = _EARLIER_SPELLINGS.get((_path(type(holder)), name), {}).get(value.name)
        if spelling is not None:
            return spelling
    return canonical(value)


def _path(obj: object) -> str:
    module = getattr(obj, "__module__", None) or "?"
    if module.startswith("lstmlab."):  # lstmlab.x._y -> lstmlab.x.y (module docstring)
        module = ".".join(part.removeprefix("_") for part in module.split("."))
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def config_hash(*parts: object) -> str:
    """A short hash of the canonical text of ``parts`` (16 hex digits)."""
    return hashlib.sha256(canonical(parts).encode()).hexdigest()[:16]


@functools.cache
def code_version() -> str:
    """The package version plus the git commit of the checkout, when there is one.

    A ``+dirty`` suffix says the working tree differed from that commit.
    """
    from lstmlab import __version__

    root = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" + ("+dirty" if dirty else "")

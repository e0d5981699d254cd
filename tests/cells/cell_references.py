"""The reference implementations the new cells are tested against, imported or the test fails.

``xlstm`` (NX-AI's xLSTM, PyPI, the dev extra) is the reference for sLSTM and mLSTM. On a
user's machine without it those tests skip with the reason; in CI (``CI`` set) they fail, since a
skipped reference test proves nothing.
"""

import importlib
import os

import pytest


def require(module: str):
    """``module`` imported; a failure in CI, a skip (with the reason) elsewhere."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed (pip install -e .[dev])")

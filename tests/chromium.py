"""Where the browser tests find Chromium, and their rule when it is missing: fail in CI, skip on
a user's machine (with the reason). A browser test that skips in CI proves nothing.

``LSTMLAB_CHROMIUM`` names a binary; otherwise the ``chromium`` on the PATH (Debian's package,
which ``make browser`` installs; Playwright's own download cannot work offline).
"""

from __future__ import annotations

import os
import shutil

import pytest


def chromium_path() -> str | None:
    candidates = (os.environ.get("LSTMLAB_CHROMIUM"), shutil.which("chromium"))
    return next((p for p in candidates if p and os.path.exists(p)), None)


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI=true, so the browser tests must run (make browser)",
                    pytrace=False)
    pytest.skip(reason)

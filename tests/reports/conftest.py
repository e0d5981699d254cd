"""A headless Chromium page (Debian's binary driven by Playwright), skipped cleanly without it."""

from __future__ import annotations

import io
import os
import shutil

import pytest


def chromium_path() -> str | None:
    candidates = (os.environ.get("LSTMLAB_CHROMIUM"), "/usr/lib/chromium/chromium",
                  shutil.which("chromium"))
    return next((p for p in candidates if p and os.path.exists(p)), None)


# Module scope: Playwright's sync API allows one running instance per thread, and
# tests/test_tour.py starts its own for its module.
@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian chromium not installed (make browser, or apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.errors, page.requests = errors, requests
    yield page
    context.close()


def non_white_pixels(png: bytes) -> int:
    """Pixels of a PNG screenshot that are not (near) white."""
    import matplotlib.pyplot as plt

    image = plt.imread(io.BytesIO(png), format="png")[..., :3]
    return int((image < 0.95).any(axis=-1).sum())


@pytest.fixture
def count_non_white():
    return non_white_pixels


"""A headless Chromium page (Debian's binary driven by Playwright).

Without chromium or playwright the browser tests skip on a user's machine (with the reason) and
FAIL in CI (``CI=true``): a browser test that skips there proves nothing.

Every page records its uncaught errors (``page.errors``), its requests (``page.requests``) and
its Content-Security-Policy violations (``page.csp_violations``, from the document's
``securitypolicyviolation`` events and from Chromium's console messages).
"""

from __future__ import annotations

import io

import pytest

from chromium import chromium_path, missing


# Module scope: Playwright's sync API allows one running instance per thread, and
# tests/test_tour.py starts its own for its module.
@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        missing("Debian chromium not installed (make browser, or apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


# Runs before the page's own code; Playwright's init scripts are not subject to the page's CSP.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  e => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(_RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.errors, page.requests, page.console = errors, requests, console

    def csp_violations() -> list[str]:
        events = page.evaluate("window.__cspViolations")
        return events + [m for m in console if "Content Security Policy" in m]

    page.csp_violations = csp_violations
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

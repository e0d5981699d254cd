"""Safe self-contained pages: every string escaped for its context, and a Content-Security-Policy.

Whatever a user puts into a report (a sentence, a file name, a title) must never change the
page's code. Three contexts, three escapes:

- HTML text and quoted attribute values: ``text(s)`` (``& < > " '`` as entities);
- JSON inside ``<script type="application/json">`` (read with ``JSON.parse``): ``script_json``
  writes ASCII-only JSON in which ``<``, ``>`` and ``&`` are ``\\u003c``, ``\\u003e``,
  ``\\u0026`` (so ``</script>`` and ``<!--`` cannot occur) and U+2028/U+2029 are ``\\u2028``/
  ``\\u2029`` (``ensure_ascii``), and which refuses NaN and infinities (``JSON.parse`` would);
- the page's own CSS and JavaScript are constants of this package, never built from input.

``document`` assembles a page whose ``<meta http-equiv="Content-Security-Policy">`` (the first
element of ``<head>``) is ``default-src 'none'``, allows images only as ``data:`` URIs, and
allows exactly the page's own inline ``<style>`` and ``<script>`` by their SHA-256 hashes: an
injected script or style would not run even if an escape were missing. Hashes rather than a
nonce keep the output deterministic (same input, same bytes).

Strings with lone surrogates (text decoded with ``surrogateescape``) cannot be written as UTF-8:
``text`` replaces each with "?"; ``script_json`` keeps them as ``\\udcXX`` escapes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json

SMOKE_BANNER = ("Smoke run (--quick): a few seconds of training on a tiny configuration. "
                "The numbers below test the pipeline; they say nothing about LSTMs.")

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}

# The banner's look, shared by every page that can carry one.
BANNER_STYLE = """
.banner { background: #fff3cd; border: 2px solid #d39e00; color: #5c4400; padding: 0.6em 1em;
          font-weight: bold; margin: 0 0 1em 0; }
"""


def text(value: object) -> str:
    """``str(value)`` escaped for HTML text and for a quoted attribute value."""
    string = str(value).encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    return html.escape(string, quote=True)


def script_json(value: object) -> str:
    """JSON of ``value`` that is safe as the content of a ``<script>`` element (see above)."""
    try:
        encoded = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except ValueError as error:
        raise ValueError(f"page data: {error} (non-finite numbers cannot be shown)") from error
    for char, escape in _JSON_ESCAPES.items():
        encoded = encoded.replace(char, escape)
    return encoded


def _sha256(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(style: str, script: str | None) -> str:
    """``default-src 'none'``; only this style and script (by hash); images as ``data:`` only."""
    policy = ["default-src 'none'", "img-src data:", f"style-src {_sha256(style)}",
              "base-uri 'none'", "form-action 'none'"]
    if script is not None:
        policy.insert(2, f"script-src {_sha256(script)}")
    return "; ".join(policy)


def banner(message: str) -> str:
    """A visible warning at the top of a page (e.g. ``SMOKE_BANNER``); empty when no message."""
    return f'<p class="banner" id="banner" role="alert">{text(message)}</p>' if message else ""


def document(title: str, body: str, *, style: str, script: str | None = None,
             data: object = None) -> str:
    """A whole page. ``body`` must already be escaped HTML; ``style`` and ``script`` are the
    page's own constants; ``data`` (any JSON value) is embedded as ``<script id="data"
    type="application/json">`` for the script to ``JSON.parse``."""
    policy = content_security_policy(style, script)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{text(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)}</title><style>{style}</style></head><body>",
        body,
    ]
    if data is not None:
        parts.append(f'<script id="data" type="application/json">{script_json(data)}</script>')
    if script is not None:
        parts.append(f"<script>{script}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)

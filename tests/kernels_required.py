"""The kernel tests' rule for a missing C kernel: fail in CI, skip on a user's machine.

A kernel test that skips proves nothing, so where the kernels must exist (``CI=true``, or
``LSTMLAB_REQUIRE_KERNELS=1``, which ``.ci/run`` sets) a kernel that did not build fails the
module at collection; elsewhere (a user without a C compiler) the module is skipped, with the
reason.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import pytest

from lstmlab.native import BuildOptions


def required() -> bool:
    """Whether this run must have the kernels: ``CI=true`` or ``LSTMLAB_REQUIRE_KERNELS``."""
    return (os.environ.get("CI", "").lower() == "true"
            or BuildOptions.from_environment().require)


def kernels_or_skip(library: object, source: str) -> None:
    """Skip the calling test module when ``library`` is None, or fail it where kernels are
    ``required``."""
    if library is not None:
        return
    message = f"the C kernels of {source} did not build (no C compiler?)"
    if required():
        pytest.fail(message + " and this run requires them (CI or LSTMLAB_REQUIRE_KERNELS)",
                    pytrace=False)
    pytest.skip(message, allow_module_level=True)


def needs_kernels(load: Callable[[], object], source: str) -> Callable:
    """A test decorator: the test runs when ``load()`` returns the kernels; else it is skipped,
    or fails where kernels are ``required``."""

    def decorate(test: Callable) -> Callable:
        @functools.wraps(test)
        def checked(*args, **kwargs):
            kernels_or_skip(load(), source)
            return test(*args, **kwargs)

        return checked

    return decorate

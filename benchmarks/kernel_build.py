"""The C kernels' build for a stretch of a benchmark: the portable default or -march=native.

``lstmlab.native`` reads ``LSTMLAB_NATIVE_ARCH`` when it loads a kernel, so setting it around a
row times that build; the benchmarks that compare the two builds in one run share this.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def kernel_build(native_arch: bool) -> Iterator[None]:
    """The kernels lstmlab loads while inside: the portable default, or -march=native."""
    previous = os.environ.get("LSTMLAB_NATIVE_ARCH")
    os.environ["LSTMLAB_NATIVE_ARCH"] = "1" if native_arch else "0"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["LSTMLAB_NATIVE_ARCH"]
        else:
            os.environ["LSTMLAB_NATIVE_ARCH"] = previous

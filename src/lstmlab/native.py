"""Small C kernels, compiled on first use and cached per machine.

A few inner loops of lstmlab are too fine-grained for torch: a step of a tiny network costs a
few hundred flops and dozens of operator dispatches. Those loops are written in C next to the
Python they replace (``lstmlab.layers.fused_kernels``, ``lstmlab.training.online1997_kernel``)
and built here with the system C compiler (``cc``, or ``$CC``) into ``$LSTMLAB_CACHE`` (default
``$XDG_CACHE_HOME/lstmlab``, i.e. ``~/.cache/lstmlab``), named by a hash of the source, the
flags and the CPU, and written atomically, so concurrent first uses are safe; a build takes well
under a second. ``-march=native`` plus glibc's vector math library (libmvec: exp and tanh over 8
or 16 lanes) make the loops vectorize without ``-ffast-math``, so IEEE semantics (infinities,
NaN) are kept. ``build_library`` returns None when no compiler or libmvec is there; every caller
then falls back to its readable torch path, which the tests compare the kernels against.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

FLAGS = ("-O3", "-march=native", "-fno-math-errno", "-shared", "-fPIC")
LIBS = ("-lmvec", "-lm")

#: ctypes argument types, for the signatures.
POINTER, LONG, DOUBLE = ctypes.c_void_p, ctypes.c_long, ctypes.c_double


def _cpu_tag() -> str:
    """What ``-march=native`` depends on: the CPU model and flags (Linux), else the platform."""
    try:
        text = Path("/proc/cpuinfo").read_text()
        lines = [line for line in text.splitlines() if line.startswith(("model name", "flags"))]
        return "\n".join(sorted(set(lines)))
    except OSError:
        return platform.platform()


def cache_dir() -> Path:
    """``$LSTMLAB_CACHE`` if set and not empty, else ``$XDG_CACHE_HOME/lstmlab`` (by default
    ``~/.cache/lstmlab``); absolute (a bare file name would send ``dlopen`` searching the
    library path instead)."""
    given = os.environ.get("LSTMLAB_CACHE")
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return (Path(given) if given else Path(cache_home) / "lstmlab").resolve()


def build_library(stem: str, source: str,
                  signatures: Mapping[str, Sequence[type]]) -> ctypes.CDLL | None:
    """``source`` compiled into ``<cache>/<stem>_<hash>.so`` (once), loaded, with the argument
    types of ``signatures`` (function name -> ctypes types; every function returns void); None
    if there is no compiler, the build fails, or a function is missing."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None or platform.system() != "Linux":
        logger.info("no C compiler (or not Linux): lstmlab's %s kernels are unavailable", stem)
        return None
    key = hashlib.sha256("\0".join([source, compiler, *FLAGS, *LIBS, _cpu_tag()]).encode())
    target = cache_dir() / f"{stem}_{key.hexdigest()[:16]}.so"
    try:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
                source_file = Path(scratch) / f"{stem}.c"
                source_file.write_text(source)
                built = Path(scratch) / target.name
                subprocess.run([compiler, *FLAGS, str(source_file), "-o", str(built), *LIBS],
                               check=True, capture_output=True, timeout=120)
                os.replace(built, target)  # atomic: a concurrent build wins or loses whole
        library = ctypes.CDLL(str(target))
        for name, arguments in signatures.items():
            function = getattr(library, name)
            function.argtypes, function.restype = list(arguments), None
    except (OSError, AttributeError, subprocess.SubprocessError) as error:
        logger.info("building lstmlab's %s kernels failed (%s); using the readable path",
                    stem, error)
        return None
    return library

"""lstmlab's C kernels: one builder, and bindings that check every argument.

A few inner loops are too fine-grained for torch: a step of a tiny network costs a few hundred
flops and dozens of operator dispatches. Those loops are C source files shipped inside the
package, ``lstmlab/_native/*.c`` beside one shared header (``lstmlab_native.h``); each has a
readable torch path that is its reference in the tests.

Building. :func:`load` compiles one ``.c`` file with the system C compiler (``$CC``, else
``cc`` or ``gcc``) into ``$LSTMLAB_CACHE`` (default ``$XDG_CACHE_HOME/lstmlab``, i.e.
``~/.cache/lstmlab``), under a name that hashes every file of ``_native/``, the compiler and the
flags (and the CPU, for ``-march=native``); it is written to a temporary name and renamed, so
concurrent first uses are safe, and later uses load the cached file. A build takes about a
second. We keep this plain ``cc`` call rather than ``torch.utils.cpp_extension`` or numba: the
kernels need neither Python's nor torch's headers (a ``cpp_extension`` build compiles torch's
C++ headers, tens of seconds per build, and needs a C++ toolchain with Python headers), numba
would add a large dependency (llvmlite) and a JIT whose code we cannot read; here the build is
one command a reader can rerun by hand (:func:`compile_command`) and debug with gdb.

Numerics. By default the flags are portable: ``-O3 -ffp-contract=off`` without
``-march=native`` (:data:`PORTABLE`), so the compiler neither contracts ``a * b + c`` into FMAs
nor uses instructions of this particular CPU; a result then depends only on the source and on
the C library's ``exp`` and ``tanh``: glibc's vector math library (libmvec) in its variant for
the baseline instruction set (on x86-64 the SSE one, the same algorithm on every CPU with
SSE4.1), which lets the loops vectorize (5x the speed of scalar libm calls at B = 32, H = 128;
plain libm where libmvec is missing). ``LSTMLAB_NATIVE_ARCH=1`` (or, calling :func:`load`
directly, ``BuildOptions(native_arch=True)``) opts into ``-march=native`` with FP contraction,
whose wider vectors also pick other libmvec variants: faster (BENCHMARKS.md), but the numbers
then differ between CPUs in the last bits, so :func:`numerics_tag` becomes part of every stored
trial's config hash (``lstmlab.reproduce._runner.trial_config_hash``).

Falling back. Without a compiler, on a system other than Linux, or when a build fails,
:func:`load` returns None and the callers run their readable torch paths, after one logged
warning saying how much slower that is. ``LSTMLAB_REQUIRE_KERNELS=1`` (CI sets it) turns that
fallback into a :class:`KernelBuildError` carrying the compiler's message.

Bindings. Every function Python may call is marked ``LSTMLAB_EXPORT`` in the C source, and its
parameter list is its binding: array parameters carry their length, e.g. ``real h[B * H]``.
:func:`load` reads these prototypes, so the argument types are never counted by hand, and each
call (:class:`Kernel`) checks every tensor's dtype, device, contiguity and length before its
address is passed: a wrong argument raises TypeError or ValueError instead of crashing.
"""

from __future__ import annotations

import ast
import ctypes
import dataclasses
import functools
import hashlib
import logging
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

logger = logging.getLogger(__name__)

#: Where the C sources live (package data).
SOURCE_DIR = Path(__file__).resolve().parent / "_native"

#: Flags of every build; ``-std=gnu11`` for the array parameters with lengths.
COMMON = ("-std=gnu11", "-O3", "-fno-math-errno", "-shared", "-fPIC")
#: The default: no FMA contraction, no instruction beyond the architecture's baseline.
PORTABLE = ("-ffp-contract=off",)
#: The opt-in (``LSTMLAB_NATIVE_ARCH=1``): this CPU's instructions, FP contraction (which the
#: C sees as ``LSTMLAB_FP_CONTRACT``: online1997.c's sparse steps are exact only without it).
NATIVE_ARCH = ("-march=native", "-ffp-contract=fast", "-DLSTMLAB_FP_CONTRACT")
#: glibc's vector math library (libmvec) for exp and tanh in vectorized loops.
VECTOR_MATH = ("-DLSTMLAB_VECTOR_MATH",)

REQUIRE_VARIABLE = "LSTMLAB_REQUIRE_KERNELS"
ARCH_VARIABLE = "LSTMLAB_NATIVE_ARCH"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class BuildOptions:
    """How the kernels are compiled and what happens when they cannot be.

    ``native_arch``: ``-march=native`` with FP contraction (faster; numbers differ between
    CPUs). ``require``: a failed build raises :class:`KernelBuildError` instead of falling back
    to the readable path. ``vector_math``: exp and tanh from glibc's libmvec, whose variant for
    the baseline instruction set (SSE on x86-64) the portable build calls; where libmvec is
    missing (another C library), :func:`build` retries without it.
    """

    native_arch: bool = False
    require: bool = False
    vector_math: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> BuildOptions:
        """``LSTMLAB_NATIVE_ARCH`` and ``LSTMLAB_REQUIRE_KERNELS`` (1/true/yes/on) of
        ``environ`` (default ``os.environ``), read at each call."""
        environ = os.environ if environ is None else environ
        return cls(native_arch=_flag(environ.get(ARCH_VARIABLE)),
                   require=_flag(environ.get(REQUIRE_VARIABLE)))

    @property
    def flags(self) -> tuple[str, ...]:
        return (COMMON + (NATIVE_ARCH if self.native_arch else PORTABLE)
                + (VECTOR_MATH if self.vector_math else ()))

    @property
    def libraries(self) -> tuple[str, ...]:
        return ("-lmvec", "-lm") if self.vector_math else ("-lm",)


class KernelBuildError(RuntimeError):
    """The kernels could not be built while ``LSTMLAB_REQUIRE_KERNELS`` asked for them."""


def numerics_tag(options: BuildOptions | None = None) -> str | None:
    """What a stored result must record about the kernels' numerics: None for the portable
    build (the default), else ``-march=native`` and the CPU it was built for."""
    options = BuildOptions.from_environment() if options is None else options
    if not options.native_arch:
        return None
    return "-march=native cpu=" + hashlib.sha256(_cpu_tag().encode()).hexdigest()[:12]


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


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def compile_command(source: Path, target: Path, options: BuildOptions) -> list[str]:
    """The command that builds ``source`` into the shared library ``target``."""
    return [_compiler() or "cc", *options.flags, f"-I{source.parent}", str(source), "-o",
            str(target), *options.libraries]


# --- prototypes -------------------------------------------------------------------------------

_EXPORT = re.compile(r"LSTMLAB_EXPORT\s+void\s+(?:NAME\(\s*(\w+)\s*\)|(\w+))\s*\(")
_PARAMETER = re.compile(
    r"^(?:const\s+)?(long|double|real|unsigned\s+char)\s+(\w+)\s*(?:\[(.*)\])?$", re.S)
_QUALIFIERS = re.compile(r"\b(restrict|static|const|LSTMLAB_NULLABLE)\b")
_SCALARS = {"long": ctypes.c_long, "double": ctypes.c_double}
_ARRAY_DTYPES = {"double": torch.float64, "unsigned char": torch.uint8,
                 "long": torch.int64 if ctypes.sizeof(ctypes.c_long) == 8 else torch.int32}
#: ``real`` per variant suffix: cells.c compiles its template for both.
REAL = {"_f": torch.float32, "_d": torch.float64}


@dataclass(frozen=True)
class Parameter:
    """One C parameter: a scalar (``long``/``double``) or an array with a length."""

    name: str
    ctype: str  # "long", "double", "real", "unsigned char"
    length: str | None = None  # the C length expression; None for a scalar
    nullable: bool = False


def _split_parameters(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [" ".join(part.split()) for part in parts]


def prototypes(source: str) -> dict[str, tuple[Parameter, ...]]:
    """The ``LSTMLAB_EXPORT`` functions of a C source and their parameters, in order
    (``NAME(f)`` templates under the bare name ``f``)."""
    found = {}
    for match in _EXPORT.finditer(source):
        name = match.group(1) or match.group(2)
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        parameters = []
        for text in _split_parameters(source[match.end():end - 1]):
            parsed = _PARAMETER.match(text)
            if parsed is None:
                raise ValueError(f"{name}: cannot bind the parameter {text!r}")
            ctype, pname, length = parsed.groups()
            ctype = " ".join(ctype.split())
            nullable = length is not None and "LSTMLAB_NULLABLE" in length
            if length is not None:
                length = " ".join(_QUALIFIERS.sub(" ", length).split())
                if not length:
                    raise ValueError(f"{name}: the array {pname} needs a length")
            elif ctype not in _SCALARS:
                raise ValueError(f"{name}: {pname} must be a long, a double or an array")
            parameters.append(Parameter(pname, ctype, length, nullable))
        found[name] = tuple(parameters)
    return found


def _length_code(expression: str, known: set[str], where: str) -> Callable[[dict], int]:
    """A C length (+ - * and parentheses over integers and the ``long`` names ``known``),
    checked once and compiled into a function of the dict of sizes."""
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        allowed = (isinstance(node, ast.Expression | ast.BinOp | ast.Add | ast.Sub | ast.Mult
                              | ast.Load)
                   or isinstance(node, ast.Constant) and type(node.value) is int
                   or isinstance(node, ast.Name) and node.id in known)
        if not allowed:
            raise ValueError(f"{where}: cannot evaluate the length {expression!r}")

    class Lookup(ast.NodeTransformer):  # B -> sizes["B"]
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.Subscript(ast.Name("sizes", ast.Load()), ast.Constant(node.id), ast.Load())

    body = Lookup().visit(tree).body
    function = ast.Expression(ast.Lambda(ast.arguments(
        posonlyargs=[], args=[ast.arg("sizes")], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body))
    return eval(compile(ast.fix_missing_locations(function), where, "eval"), {"__builtins__": {}})


class Kernel:
    """A C function with its parameters; calling it checks every argument, then calls.

    Scalars: ``long`` takes an int (or bool), ``double`` a real number. Arrays: a contiguous
    CPU tensor of the parameter's dtype with exactly its length in elements (its shape is
    free), or None where the C source says ``LSTMLAB_NULLABLE``.
    """

    def __init__(self, function, name: str, parameters: tuple[Parameter, ...],
                 real: torch.dtype | None) -> None:
        self.name, self.parameters, self._function = name, parameters, function
        longs: set[str] = set()
        self._checks = []  # per parameter: (kind, name, dtype, compiled length, nullable)
        self._lengths: dict[tuple, list] = {}  # the longs' values -> _array_lengths
        for p in parameters:
            if p.length is None:
                self._checks.append((p.ctype, p.name, None, None, False))
                if p.ctype == "long":
                    longs.add(p.name)
                continue
            dtype = real if p.ctype == "real" else _ARRAY_DTYPES.get(p.ctype)
            if dtype is None:
                raise ValueError(f"{name}: the array {p.name} has an unsupported type")
            code = _length_code(p.length, set(longs), f"{name}: {p.name}")
            self._checks.append(("array", p.name, dtype, code, p.nullable))
        function.argtypes = [_SCALARS[p.ctype] if p.length is None else ctypes.c_void_p
                             for p in parameters]
        function.restype = None

    def lengths(self, *arguments: object) -> dict[str, int]:
        """Every array's length in elements for these leading scalar arguments (arrays among
        them may be anything)."""
        sizes = {name: int(a) for (kind, name, *_), a in zip(self._checks, arguments,
                                                           strict=False) if kind == "long"}
        return {name: code(sizes)
                for kind, name, _, code, _ in self._checks if kind == "array"}

    def empty(self, parameter: str, *arguments: object, dtype: torch.dtype) -> Tensor:
        """A fresh tensor of ``parameter``'s length (e.g. a scratch buffer)."""
        return torch.empty(self.lengths(*arguments)[parameter], dtype=dtype)

    def __call__(self, *arguments: object) -> None:
        if len(arguments) != len(self._checks):
            raise TypeError(f"{self.name}: expected {len(self._checks)} arguments "
                            f"({', '.join(p.name for p in self.parameters)}), "
                            f"received {len(arguments)}")
        # Every array's length from the longs (a length names only longs before it, which
        # _length_code checked), computed once per distinct set of sizes: a tiny network's
        # step is a few microseconds, so the binding's per-call Python must be small too.
        longs = tuple(a for (kind, *_), a in zip(self._checks, arguments, strict=True)
                      if kind == "long")
        exact = all(type(a) is int for a in longs)  # 1.0 == 1: only ints share entries
        lengths = self._lengths.get(longs) if exact else None
        if lengths is None:
            lengths = self._array_lengths(arguments)
            if exact:
                if len(self._lengths) >= 4096:  # sizes vary with T: keep the table bounded
                    self._lengths.clear()
                self._lengths[longs] = lengths
        values: list[object] = []
        for (kind, name, dtype, _, nullable), argument, length in zip(
                self._checks, arguments, lengths, strict=True):
            if kind == "array":
                if argument is None:
                    if not nullable:
                        raise TypeError(f"{self.name}: argument {name} must be a tensor, "
                                        "received None")
                    values.append(None)
                elif (type(argument) is Tensor or isinstance(argument, Tensor)) \
                        and argument.dtype is dtype and argument.is_cpu \
                        and argument.is_contiguous() and argument.numel() == length:
                    values.append(argument.data_ptr())
                else:
                    self._refuse(name, dtype, length, argument)
            elif kind == "long":
                values.append(length)
            else:
                if isinstance(argument, Tensor) or not isinstance(argument, int | float):
                    raise TypeError(f"{self.name}: argument {name} must be a float, received "
                                    f"{type(argument).__name__}")
                values.append(float(argument))
        self._function(*values)

    def _array_lengths(self, arguments: tuple) -> list:
        """Per parameter: an array's length in elements, or the scalar's checked value."""
        sizes: dict[str, int] = {}
        out: list = []
        for (kind, name, _, code, _), argument in zip(self._checks, arguments, strict=True):
            if kind == "array":
                out.append(code(sizes))
            elif kind == "long":
                if isinstance(argument, float | Tensor) or not hasattr(argument, "__index__"):
                    raise TypeError(f"{self.name}: argument {name} must be an int, received "
                                    f"{type(argument).__name__}")
                out.append(sizes.setdefault(name, int(argument)))
            else:
                out.append(None)
        return out

    def _refuse(self, name: str, dtype: torch.dtype, expected: int, argument: object) -> None:
        """Raise the error that says what is wrong with the array argument ``name``."""
        where = f"{self.name}: argument {name}"
        if not isinstance(argument, Tensor):
            raise TypeError(f"{where} must be a tensor, received {type(argument).__name__}")
        if argument.dtype != dtype:
            raise TypeError(f"{where} must be {dtype}, received {argument.dtype}")
        if not argument.is_cpu:
            raise ValueError(f"{where} must be on the CPU, received {argument.device}")
        if not argument.is_contiguous():
            raise ValueError(f"{where} must be contiguous")
        length = next(p.length for p in self.parameters if p.name == name)
        raise ValueError(f"{where} must hold {length} = {expected} elements, received "
                         f"{argument.numel()} (shape {tuple(argument.shape)})")


class Library:
    """A built ``.c`` file: its kernels by name (``kernel(name)`` or, for a template compiled
    per real type, ``kernel(name, dtype)``)."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self._cdll = ctypes.CDLL(str(path))
        self._prototypes = prototypes(source)
        self._kernels: dict[str, Kernel] = {}
        self.templated = "NAME(" in source

    def names(self) -> tuple[str, ...]:
        return tuple(self._prototypes)

    def kernel(self, name: str, dtype: torch.dtype | None = None) -> Kernel:
        """The function ``name`` (for ``dtype``'s variant when the source is a template)."""
        if name not in self._prototypes:
            raise ValueError(f"name: expected one of {sorted(self._prototypes)}, received "
                             f"{name!r}")
        if self.templated:
            suffixes = {dtype: suffix for suffix, dtype in REAL.items()}
            if dtype not in suffixes:
                raise TypeError(f"dtype: expected one of {list(suffixes)}, received {dtype}")
            symbol, real = name + suffixes[dtype], dtype
        else:
            symbol, real = name, None
        if symbol not in self._kernels:
            self._kernels[symbol] = Kernel(getattr(self._cdll, symbol), symbol,
                                           self._prototypes[name], real)
        return self._kernels[symbol]


def _fingerprint(source: Path, options: BuildOptions, compiler: str) -> str:
    """What the built file depends on: every file of the source's folder, compiler, flags."""
    digest = hashlib.sha256()
    for path in sorted(source.parent.glob("*.[ch]")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update("\0".join([source.name, compiler, *options.flags, *options.libraries]).encode())
    if options.native_arch:
        digest.update(_cpu_tag().encode())
    return digest.hexdigest()[:16]


def build(source: Path, options: BuildOptions) -> Path:
    """``source`` compiled into the cache (once); the shared library's path. Raises
    :class:`KernelBuildError` when there is no compiler, not Linux, or the compiler fails."""
    compiler = _compiler()
    if compiler is None:
        raise KernelBuildError("no C compiler (set CC, or install cc/gcc)")
    if platform.system() != "Linux":
        raise KernelBuildError(f"the kernels are built on Linux only, not {platform.system()}")
    target = cache_dir() / f"lstmlab_{source.stem}_{_fingerprint(source, options, compiler)}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        built = Path(scratch) / target.name
        try:
            subprocess.run(compile_command(source, built, options), check=True,
                           capture_output=True, text=True, timeout=300)
        except subprocess.CalledProcessError as error:
            if options.vector_math and "mvec" in error.stderr:  # no libmvec: plain libm
                return build(source, dataclasses.replace(options, vector_math=False))
            first = next((line for line in error.stderr.splitlines() if "error" in line),
                         f"exit status {error.returncode}")
            raise KernelBuildError(f"{source.name} did not compile ({first.strip()}); the "
                                   f"compiler said:\n{error.stderr}") from error
        except (OSError, subprocess.SubprocessError) as error:
            raise KernelBuildError(f"{source.name}: the compiler could not run: {error}") from error
        os.replace(built, target)  # atomic: a concurrent build wins or loses whole
    return target


def load(source: str | Path, slower: str, options: BuildOptions | None = None
         ) -> Library | None:
    """The kernels of ``source`` (a file name in ``lstmlab/_native``, or a path), built on
    first use; None when they cannot be built (logged once per source, with ``slower``: how
    much slower the readable path is), unless ``options.require``, which raises
    :class:`KernelBuildError` instead. ``options``: by default
    :meth:`BuildOptions.from_environment`."""
    if options is None:  # the environment's options, looked up by the variables' values
        key = (source, slower, os.environ.get(ARCH_VARIABLE), os.environ.get(REQUIRE_VARIABLE))
        found = _LOADED.get(key, _LOADED)
        if found is not _LOADED:
            return found
        options = BuildOptions.from_environment()
        library = _load(_source_path(source), slower, options)
        _LOADED[key] = library
        return library
    return _load(_source_path(source), slower, options)


#: load()'s answers with the options of the environment: a kernel call looks its library up
#: every time, and reading the options costs more than the call of a tiny network's step.
_LOADED: dict[tuple, Library | None] = {}


@functools.lru_cache(maxsize=64)
def _source_path(source: str | Path) -> Path:
    """``SOURCE_DIR / source`` (kept: a kernel call looks its library up every time)."""
    return Path(SOURCE_DIR / source)


def _expanded(source: Path, seen: frozenset[Path] = frozenset()) -> str:
    """The text of ``source`` with the local headers it includes written in (once each),
    where the prototypes of a template are."""
    if source in seen:
        return ""
    seen = seen | {source}
    return re.sub(r'^#\s*include "([^"]+)"$',
                  lambda match: _expanded(source.parent / match.group(1), seen),
                  source.read_text(), flags=re.M)


@functools.cache
def _load(source: Path, slower: str, options: BuildOptions) -> Library | None:
    try:
        text = _expanded(source)
        return Library(build(source, options), text)
    except (KernelBuildError, OSError, AttributeError, ValueError) as error:
        if options.require:
            if isinstance(error, KernelBuildError):
                raise
            raise KernelBuildError(f"{source.name}: {error}") from error
        logger.warning("lstmlab could not build its C kernels (%s): the readable torch path "
                       "runs instead, %s. Set %s=1 to make this an error.",
                       str(error).splitlines()[0], slower, REQUIRE_VARIABLE)
        return None


def forget_loaded() -> None:
    """Forget every library loaded in this process (tests use it with a fresh cache)."""
    _load.cache_clear()
    _LOADED.clear()

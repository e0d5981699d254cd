"""lstmlab.native: the builder (portable flags, cache, a broken source fails loudly where
kernels are required) and the bindings (every argument checked before a pointer crosses)."""

from __future__ import annotations

import logging
import shutil

import pytest
import torch

from kernels_required import needs_kernels
from lstmlab import native
from lstmlab.native import BuildOptions, KernelBuildError


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty kernel cache; the process forgets what it loaded, before and after."""
    monkeypatch.setenv("LSTMLAB_CACHE", str(tmp_path / "cache"))
    native.forget_loaded()
    yield tmp_path / "cache"
    native.forget_loaded()


def broken_copy(folder, source: str = "online1997.c"):
    """A copy of the kernel sources with one semicolon removed from ``source``."""
    copy = folder / "broken"
    shutil.copytree(native.SOURCE_DIR, copy)
    path = copy / source
    text = path.read_text()
    statement = "memset(work, 0, sizeof(double) * B * per_b);"
    assert statement in text
    path.write_text(text.replace(statement, statement[:-1], 1))
    return path


def load_online1997(options=None):
    return native.load("online1997.c", "slower", options)


def test_options_come_from_the_environment() -> None:
    assert BuildOptions.from_environment({}) == BuildOptions(native_arch=False, require=False)
    options = BuildOptions.from_environment({"LSTMLAB_NATIVE_ARCH": "1",
                                             "LSTMLAB_REQUIRE_KERNELS": "true"})
    assert options == BuildOptions(native_arch=True, require=True)


def test_portable_by_default() -> None:
    """No FMA contraction and no CPU-specific instructions unless the user opts in; the
    opt-in's flags and CPU are what numerics_tag (part of every stored config hash) records."""
    portable, opted = BuildOptions(), BuildOptions(native_arch=True)
    assert "-ffp-contract=off" in portable.flags
    assert not any(flag.startswith("-march") for flag in portable.flags)
    assert "-march=native" in opted.flags
    assert native.numerics_tag(portable) is None
    assert native.numerics_tag(opted).startswith("-march=native cpu=")


@needs_kernels(load_online1997, "online1997.c")
def test_without_libmvec_the_build_uses_plain_libm(fresh_cache, tmp_path, monkeypatch) -> None:
    """A C library without libmvec (musl, older glibc elsewhere): the link fails, and the
    builder retries without the vector math declarations."""
    compiler = native.compile_command(native.SOURCE_DIR / "cells.c", tmp_path / "x.so",
                                      BuildOptions())[0]
    fake = tmp_path / "cc-without-libmvec"
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -lmvec ] && "
                    "{ echo 'ld: cannot find -lmvec' >&2; exit 1; }; done\n"
                    f"exec {compiler} \"$@\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CC", str(fake))
    library = native.load("cells.c", "slower", BuildOptions(require=True))
    assert library is not None
    assert b"libmvec" not in library.path.read_bytes()  # no NEEDED entry for it
    monkeypatch.setenv("CC", compiler)
    native.forget_loaded()
    with_libmvec = native.load("cells.c", "slower", BuildOptions(require=True))
    assert b"libmvec" in with_libmvec.path.read_bytes()


@needs_kernels(load_online1997, "online1997.c")
def test_a_broken_source_fails_loudly_when_required(fresh_cache, tmp_path) -> None:
    """The same builder on a copy of online1997.c without one semicolon: with
    LSTMLAB_REQUIRE_KERNELS an error carrying the compiler's message, not a silent fallback."""
    broken = broken_copy(tmp_path)
    with pytest.raises(KernelBuildError, match=r"online1997\.c did not compile(.|\n)*error"):
        native.load(broken, "slower", BuildOptions(require=True))


@needs_kernels(load_online1997, "online1997.c")
def test_a_broken_source_falls_back_with_one_warning(fresh_cache, tmp_path, caplog) -> None:
    broken = broken_copy(tmp_path)
    cached = set(fresh_cache.glob("*.so"))
    with caplog.at_level(logging.WARNING, logger="lstmlab.native"):
        assert native.load(broken, "7x slower", BuildOptions()) is None
        assert native.load(broken, "7x slower", BuildOptions()) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "did not compile" in warnings[0] and "7x slower" in warnings[0]
    assert native.REQUIRE_VARIABLE in warnings[0]
    assert set(fresh_cache.glob("*")) == cached  # nothing half-built left in the cache


def test_the_environment_switch_requires_the_kernels(fresh_cache, tmp_path, monkeypatch) -> None:
    """LSTMLAB_REQUIRE_KERNELS=1 (what .ci/run sets) makes a missing compiler an error."""
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv(native.REQUIRE_VARIABLE, "1")
    with pytest.raises(KernelBuildError, match="could not run"):
        load_online1997()
    monkeypatch.setenv(native.REQUIRE_VARIABLE, "0")
    assert load_online1997() is None


def test_prototypes_are_read_from_the_source() -> None:
    source = """
    LSTMLAB_EXPORT void NAME(f)(long B, long H, const real x[restrict B * (H + 1)],
        double a, real y[LSTMLAB_NULLABLE 2 * H], const unsigned char m[B]) {}
    static void helper(long n) {}
    LSTMLAB_EXPORT void g(long n, double v[n]) {}
    """
    found = native.prototypes(source)
    assert list(found) == ["f", "g"]
    assert [(p.name, p.ctype, p.length, p.nullable) for p in found["f"]] == [
        ("B", "long", None, False), ("H", "long", None, False),
        ("x", "real", "B * (H + 1)", False), ("a", "double", None, False),
        ("y", "real", "2 * H", True), ("m", "unsigned char", "B", False)]
    with pytest.raises(ValueError, match=r"h: cannot bind the parameter .double \*p."):
        native.prototypes("LSTMLAB_EXPORT void h(long n, double *p) {}")


@needs_kernels(lambda: native.load("cells.c", "slower"), "cells.c")
def test_every_argument_is_checked_before_the_call() -> None:
    """A wrong dtype, device, layout, length or count raises; nothing reaches C."""
    kernel = native.load("cells.c", "slower").kernel("peephole_forward", torch.float64)
    B, H = 2, 3

    def arguments(**changes):
        sizes = {"xg": B * 4 * H, "rec": B * 4 * H, "c_prev": B * H, "p": 3 * H, "c": B * H,
                 "h": B * H}
        tensors = {name: torch.zeros(n, dtype=torch.float64) for name, n in sizes.items()}
        tensors.update(changes)
        return (B, H, *tensors.values())

    kernel(*arguments(c_prev=torch.ones(B, H, dtype=torch.float64)))  # any shape, right length
    with pytest.raises(ValueError, match=r"argument h must hold B \* H = 6 elements, received 7"):
        kernel(*arguments(h=torch.zeros(7, dtype=torch.float64)))
    with pytest.raises(TypeError, match=r"argument xg must be torch.float64, received "
                                        r"torch.float32"):
        kernel(*arguments(xg=torch.zeros(B * 4 * H)))
    with pytest.raises(ValueError, match="argument rec must be contiguous"):
        kernel(*arguments(rec=torch.zeros(4 * H, B, dtype=torch.float64).T))
    with pytest.raises(TypeError, match="argument p must be a tensor, received None"):
        kernel(*arguments(p=None))
    with pytest.raises(TypeError, match="argument B must be an int, received float"):
        kernel(2.0, *arguments()[1:])
    with pytest.raises(TypeError, match="expected 8 arguments"):
        kernel(*arguments()[:-1])
    with pytest.raises(ValueError, match="name: expected one of"):
        native.load("cells.c", "slower").kernel("no_such_kernel", torch.float64)


@needs_kernels(lambda: native.load("cells.c", "slower"), "cells.c")
def test_a_kernel_computes_after_the_checks() -> None:
    """peephole_forward on one unit against its equations written here."""
    kernel = native.load("cells.c", "slower").kernel("peephole_forward", torch.float64)
    generator = torch.Generator().manual_seed(0)
    xg, rec = (torch.randn(4, generator=generator, dtype=torch.float64) for _ in range(2))
    c_prev, p = (torch.randn(n, generator=generator, dtype=torch.float64) for n in (1, 3))
    c, h = torch.empty(1, dtype=torch.float64), torch.empty(1, dtype=torch.float64)
    pre = xg + rec
    i = torch.sigmoid(pre[0] + p[0] * c_prev[0])
    f = torch.sigmoid(pre[1] + p[1] * c_prev[0])
    expected_c = f * c_prev[0] + i * torch.tanh(pre[2])
    expected_h = torch.sigmoid(pre[3] + p[2] * expected_c) * torch.tanh(expected_c)
    kernel(1, 1, xg, rec, c_prev, p, c, h)
    torch.testing.assert_close(c[0], expected_c, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(h[0], expected_h, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(xg[:2], torch.stack([i, f]), rtol=1e-14, atol=1e-14)


@needs_kernels(lambda: native.load("cells.c", "slower"), "cells.c")
def test_the_opt_in_build_is_a_different_library(fresh_cache) -> None:
    portable = native.load("cells.c", "slower", BuildOptions())
    opted = native.load("cells.c", "slower", BuildOptions(native_arch=True))
    assert opted is not None and portable.path != opted.path


def test_the_c_lives_in_c_files() -> None:
    """No C source in Python strings: every kernel is a .c/.h file of lstmlab/_native, and
    every .c there builds into a library with at least one exported function."""
    package = native.SOURCE_DIR.parent
    offenders = [str(path.relative_to(package)) for path in package.rglob("*.py")
                 if "#" + "include" in path.read_text()]
    assert offenders == []
    sources = sorted(path.name for path in native.SOURCE_DIR.glob("*.c"))
    assert sources == ["cells.c", "chunker.c", "fully_recurrent.c", "online1997.c"]
    for name in sources:
        assert native.prototypes(native._expanded(native.SOURCE_DIR / name)), name

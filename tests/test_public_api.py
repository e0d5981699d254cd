"""The public API's rule (README, "What is inside"): every ``__init__.py`` only re-exports, its
``__all__`` lists exactly what it imports, and the modules inside a package are private
(``_name.py``), so ``__all__`` is the whole public surface. Read from the source with ``ast``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import lstmlab

PACKAGE = Path(lstmlab.__file__).resolve().parent
PACKAGES = sorted(path.parent for path in PACKAGE.rglob("__init__.py"))


def package_name(folder: Path) -> str:
    return ".".join(folder.relative_to(PACKAGE.parent).parts)


def init_problems(source: str) -> list[str]:
    """What in an ``__init__.py`` is more than a docstring, re-exports and ``__all__`` (plus the
    top level's ``__version__``); and names imported but not in ``__all__`` or the reverse."""
    tree = ast.parse(source)
    problems, imported, listed = [], set(), None
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom):
            if node.module != "__future__":
                imported.update(alias.asname or alias.name for alias in node.names)
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "__all__":
                listed = [ast.literal_eval(element) for element in node.value.elts]
                continue
            if name == "__version__" and isinstance(node.value, ast.Constant):
                continue
        problems.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0]}")
    if listed is None:
        return [*problems, "no __all__"] if imported else problems
    if len(listed) != len(set(listed)):
        problems.append("__all__ lists a name twice")
    problems += [f"imported, not in __all__: {name}" for name in sorted(imported - set(listed)
                                                                        - {"__version__"})]
    problems += [f"in __all__, not imported: {name}" for name in sorted(set(listed) - imported
                                                                       - {"__version__"})]
    return problems


@pytest.mark.parametrize("folder", PACKAGES, ids=package_name)
def test_init_only_re_exports_what_all_lists(folder: Path) -> None:
    assert init_problems((folder / "__init__.py").read_text()) == []
    module = importlib.import_module(package_name(folder))
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), name


@pytest.mark.parametrize("folder", [f for f in PACKAGES if f != PACKAGE], ids=package_name)
def test_modules_inside_a_package_are_private(folder: Path) -> None:
    assert sorted(str(path.relative_to(PACKAGE)) for path in folder.glob("[!_]*.py")) == []


def test_training_exports_at_most_fifteen_names() -> None:
    """Issue 18: the package that exported 47 names (vmap_forward, member, ...) shows a user
    the loop, its algorithms, optimizers and losses, and the lockstep population."""
    import lstmlab.training

    assert len(lstmlab.training.__all__) <= 15


def test_the_check_finds_logic_and_unlisted_names() -> None:
    source = '''"""doc"""
from a import b, c
from d import e as f

def load(path):
    return b(path)

__all__ = ["b", "f", "g"]
'''
    assert init_problems(source) == ["line 5: def load(path):",
                                     "imported, not in __all__: c",
                                     "in __all__, not imported: g"]

"""No import cycles inside lstmlab: a walk over every module's imports (``ast``, imports inside
functions included) that fails on the first strongly connected component it finds.

An edge ``a -> b`` is what importing ``a`` makes Python execute or read: ``import b`` (the
module ``b``); ``from b import name`` (``b`` itself, i.e. a package's ``__init__``, whose
namespace is read, even when it is ``a``'s own package, plus the submodule ``b.name`` when
there is one); and the packages above ``b`` (``lstmlab.x.y`` runs ``lstmlab/x/__init__.py``
first), except those above ``a`` itself, which have started by the time ``a`` is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lstmlab

PACKAGE = Path(lstmlab.__file__).resolve().parent


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Every module of the package under ``root`` -> the package's modules it imports."""
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from . import x, from ..a import b
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                targets.add(source)
                targets.update(f"{source}.{alias.name}" for alias in node.names
                               if f"{source}.{alias.name}" in modules)
        edges = set()
        for target in targets:
            while target and target not in modules:  # lstmlab.a.b.Name -> lstmlab.a.b
                target = target.rpartition(".")[0]
            edges.add(target)
            parts = target.split(".")
            edges.update(package for package in (".".join(parts[:n]) for n in range(1, len(parts)))
                         if not name.startswith(package + "."))  # the packages above it
        graph[name] = {edge for edge in edges if edge and edge != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50  # the walk saw the package
    assert "lstmlab.layers._unroll" in graph["lstmlab.layers._compiled"]
    assert cycles(graph) == []


def test_the_walk_finds_a_cycle_through_a_package_init(tmp_path) -> None:
    """A package whose ``__init__`` imports a module that reads the package's namespace back
    (the shape the package had before), a cycle through an import inside a function, and one
    through the ``__init__`` of a package that is imported on the way to one of its modules."""
    package = tmp_path / "lstmlab"
    (package / "layers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "layers" / "__init__.py").write_text("from lstmlab.layers.fast import run\n")
    (package / "layers" / "fast.py").write_text("from lstmlab.layers import kernels\n")
    (package / "layers" / "kernels.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text("from lstmlab.a import f\n")
    (package / "reproduce").mkdir()
    (package / "reproduce" / "__init__.py").write_text("from lstmlab.reproduce import table\n")
    (package / "reproduce" / "table.py").write_text("import lstmlab.competitors\n")
    (package / "reproduce" / "criteria.py").write_text("")
    (package / "competitors.py").write_text("from lstmlab.reproduce._criteria import x\n")
    assert sorted(cycles(import_graph(package))) == [
        ["lstmlab.a", "lstmlab.b"], ["lstmlab.competitors", "lstmlab.reproduce",
                                     "lstmlab.reproduce.table"],
        ["lstmlab.layers", "lstmlab.layers.fast"]]

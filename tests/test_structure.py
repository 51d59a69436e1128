"""The shape of `engine/`, stated as facts and checked by reading the source with `ast`.

- No import cycles between modules of `engine/`. Every import counts, at the top of a
  module or inside a function (or under `if TYPE_CHECKING:`): a cycle hidden in a
  function still ties the two modules together. `from engine import x`, where `x` is a
  submodule, is an import of that submodule; importing `engine.a.b` is not counted as
  an import of the package `engine.a` (every module would otherwise depend on
  `engine/__init__.py`, which imports the public API).
- No module of `engine/` is longer than 800 lines.
- A package's `__init__.py` is a face: it imports and lists names, and defines none.
- No private name (`_name`, not `__dunder__`) defined in one module is imported by
  another, in `engine/`, `bench/` or `tests/`: `from engine.x import _name` and
  `from .x import _name` are allowed only inside `engine.x` itself. Importing a module
  is never such an import, private modules (`engine/_host.py`) included: their
  underscore keeps them out of the public API, not out of the package's other modules.
  A test may import the privates of the modules it tests: `tests/test_<name>.py` tests
  each module of `engine/` that has `<name>`, or the first word of `<name>` (up to
  the first underscore), as a part of its dotted name (leading underscores ignored):
  `test_host.py` may use `engine._host`'s privates, `test_jobs.py` those of every
  module in `engine.jobs`, `test_text_render.py` those of `engine.text.*`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONGEST = 800


@dataclass(frozen=True)
class Import:
    """One imported name: `from <module> import <name>` (name None for `import <module>`)."""

    importer: str  # dotted name of the importing module (or a file path outside engine/)
    module: str  # the module imported from, relative imports resolved
    name: str | None
    line: int


def module_name(path: Path) -> str:
    """`engine/jobs/run.py` → `engine.jobs.run`; a package's `__init__.py` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / "engine").rglob("*.py"))}


def imports_of(path: Path) -> list[Import]:
    """Every import in the file at `path`, wherever it stands, with relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found += [Import(name, module, alias.name, node.lineno) for alias in node.names]
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules of `engine/` it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imp in imports_of(path):
            submodule = f"{imp.module}.{imp.name}" if imp.name else None
            if submodule in modules:
                edges.add(submodule)
            elif imp.module in modules:
                edges.add(imp.module)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
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
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def one_path(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """One closed path through a cycle's first module, to show how the cycle runs."""
    inside = set(members)
    start = members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & inside):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return members


def test_engine_has_no_import_cycles():
    graph = import_graph(engine_modules())
    found = cycles(graph)
    assert not found, "import cycles in engine/:\n" + "\n".join(
        f"  {', '.join(c)}  (e.g. {' -> '.join(one_path(graph, c))})" for c in found
    )


def test_no_engine_module_is_longer_than_800_lines():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in engine_modules().items()}
    long = {name: n for name, n in lengths.items() if n > LONGEST}
    assert not long, f"modules over {LONGEST} lines: " + ", ".join(f"{k} ({v} lines)" for k, v in sorted(long.items()))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_tested_by(test_file: Path, module: str) -> bool:
    """Whether `module` is one that `test_file` tests (the rule in this file's docstring)."""
    stem = test_file.stem
    if test_file.parent != ROOT / "tests" or not stem.startswith("test_"):
        return False
    name = stem.removeprefix("test_")
    parts = [part.lstrip("_") for part in module.split(".")[1:]]
    return name in parts or name.split("_")[0] in parts


def private_imports() -> list[str]:
    """`file:line: from module import _name` for each private import the rules do not allow."""
    modules = engine_modules()
    files = [*modules.values(), *sorted((ROOT / "bench").rglob("*.py")), *sorted((ROOT / "tests").rglob("*.py"))]
    wrong = []
    for path in files:
        in_engine = path.is_relative_to(ROOT / "engine")
        for imp in imports_of(path):
            if not (imp.module == "engine" or imp.module.startswith("engine.")):
                continue
            if imp.name is None or f"{imp.module}.{imp.name}" in modules or not is_private(imp.name):
                continue  # a module, or a public name
            if in_engine and imp.importer == imp.module:
                continue
            if is_tested_by(path, imp.module):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{imp.line}: from {imp.module} import {imp.name}")
    return wrong


def test_no_private_names_are_imported_across_modules():
    wrong = private_imports()
    assert not wrong, "private names imported from another module (make them public, or move them):\n" + "\n".join(
        f"  {line}" for line in wrong
    )


def test_package_inits_are_faces():
    """A package's `__init__.py` imports and lists names; what they do lives in modules."""
    held = []
    for name, path in engine_modules().items():
        if path.name != "__init__.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                held.append(f"{name}: {node.name} (line {node.lineno})")
    assert not held, "package __init__ files that hold code, not only imports:\n" + "\n".join(f"  {h}" for h in held)

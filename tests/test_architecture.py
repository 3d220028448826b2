"""Structure rules read from the source (AST only: nothing under test is imported).

1. No import cycles among the modules of scribe/ and finetune/. Every `import` and `from ... import` counts,
   those inside functions too: a lazy import still ties the two modules together, it only hides the cycle.
   How an import becomes an edge of the graph:
   - `import a.b.c` depends on the module a.b.c;
   - `from a.b import name` depends on the submodule a.b.name when there is one, and on the package a.b itself
     when its `__init__` binds `name` (defines, assigns or imports it): the value then comes out of the package's
     namespace, which is what the package's `__init__` made of it (scribe.store binds `backup` to a function,
     shadowing the submodule of that name);
   - the parent packages that Python initialises before a submodule are not edges. So a package `__init__` that
     only re-exports its submodules' names, while the submodules import their siblings directly
     (`from .audit import append`), is fine; a submodule that imports from its own package's `__init__`, which
     imports it back, is a cycle.
   Fold a cycle by moving the shared piece into the module that owns it, or into a small new module with one job.

2. No module in scribe/ or finetune/ over MAX_LINES lines (the project's rule is about 400: past that, a module
   is doing more than one thing). ALLOWED_LONG names the only exceptions, each with its reason.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scribe", "finetune")
MAX_LINES = 450
# module path -> why it may stay over MAX_LINES for now (empty: every module is under the limit)
ALLOWED_LONG: dict[str, str] = {}


def _modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package __init__)."""
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _absolute(module: str | None, level: int, importer: str, is_pkg: bool) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _bound_names(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level (and in top-level if/try blocks): what `from pkg import x` can find."""
    names: set[str] = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            stack += node.body + node.orelse + getattr(node, "finalbody", [])
            for h in getattr(node, "handlers", []):
                stack += h.body
    return names


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    mods = _modules(root, packages)
    trees = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, (path, _) in mods.items()}
    bound = {name: _bound_names(trees[name]) for name, (_, is_pkg) in mods.items() if is_pkg}
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, tree in trees.items():
        is_pkg = mods[name][1]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in mods)
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(node.module, node.level, name, is_pkg)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:
                        graph[name].add(sub)
                    if target in mods and (sub not in mods or a.name in bound.get(target, ())):
                        graph[name].add(target)
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    report = ["; ".join(f"{m} -> {', '.join(sorted(graph[m] & set(comp)))}" for m in comp) for comp in found]
    assert not found, "import cycles (module -> the modules of its cycle it imports):\n" + "\n".join(report)


def _tree(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return import_graph(root, ("pkg",))


def test_scanner_rules(tmp_path):
    """The rules of the docstring, on small trees: re-exports are fine, importing back through the package or
    through a lazy import is a cycle."""
    reexport = _tree(tmp_path / "ok", {"pkg/__init__.py": "from .a import f\n",
                                       "pkg/a.py": "from .b import g\nfrom . import c\ndef f(): return g()\n",
                                       "pkg/b.py": "def g(): return 1\n", "pkg/c.py": ""})
    assert cycles(reexport) == []
    through_init = _tree(tmp_path / "init", {"pkg/__init__.py": "from .a import f\nHELPER = 1\n",
                                             "pkg/a.py": "from . import HELPER\ndef f(): return HELPER\n"})
    assert cycles(through_init) == [["pkg", "pkg.a"]]
    # a sibling module taken by a name the package's __init__ binds (what scribe.store's submodules used to do)
    bound_sibling = _tree(tmp_path / "bound", {"pkg/__init__.py": "from . import audit, records\n",
                                               "pkg/audit.py": "", "pkg/records.py": "from . import audit\n"})
    assert cycles(bound_sibling) == [["pkg", "pkg.records"]]
    lazy = _tree(tmp_path / "lazy", {"pkg/__init__.py": "", "pkg/a.py": "from .b import g\n",
                                     "pkg/b.py": "def g():\n    from .a import x\n    return x\n"})
    assert cycles(lazy) == [["pkg.a", "pkg.b"]]


def test_module_size():
    over = {}
    for path, _ in _modules().values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and str(path.relative_to(ROOT)) not in ALLOWED_LONG:
            over[str(path.relative_to(ROOT))] = n
    assert not over, f"modules over {MAX_LINES} lines (split by concern): " + ", ".join(
        f"{p} ({n})" for p, n in sorted(over.items(), key=lambda x: -x[1]))
    stale = [p for p in ALLOWED_LONG if not (ROOT / p).exists()
             or len((ROOT / p).read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
    assert not stale, f"ALLOWED_LONG entries no longer needed: {stale}"

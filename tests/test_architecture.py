"""The layering docs/architecture.md promises, enforced on every import (function-local ones included).

    estatewatch/           wiring, CLI, bench: may import everything (simulators only from commands/ and bench/)
    api/                   HTTP and the console: domain packages, common, store
    ingest/ vision/ alerts/  domain: common and store, never each other, never api or estatewatch
    simulators/            stand-ins for hardware: common and the domain packages' public types, never estatewatch
    common/ store/         the bottom: nothing of ours

No module of ours may take part in an import cycle either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "store", "ingest", "vision", "alerts", "api", "simulators", "estatewatch")
DOMAIN = {"ingest", "vision", "alerts"}
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "store": set(),
    "ingest": {"common", "store"},
    "vision": {"common", "store"},
    "alerts": {"common", "store"},
    "api": {"common", "store", *DOMAIN},
    "simulators": {"common", *DOMAIN},
    "estatewatch": set(PACKAGES),
}
# the CLI's simulate/bench/eval commands and the benchmarks drive simulators on purpose
MAY_IMPORT_SIMULATORS = ("estatewatch/commands/", "estatewatch/bench/")


@dataclass(frozen=True)
class Violation:
    """One import that breaks the layering."""

    module: str
    imported: str
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> list[tuple[str, int]]:
    """Every module of ours a file imports, anywhere in the file, with the line of the import."""
    own = module_name(root, path)
    package_parts = own.split(".") if path.name == "__init__.py" else own.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from pkg import module` imports the module pkg.module when there is one
            found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
    return [(name, line) for name, line in found if name.split(".")[0] in PACKAGES]


def source_files(root: Path) -> Iterable[Path]:
    for package in PACKAGES:
        yield from sorted((root / package).rglob("*.py"))


def layer_violations(root: Path) -> list[Violation]:
    """Imports that point up, sideways between domain packages, or into simulators from service code."""
    out: list[Violation] = []
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        layer = rel.split("/")[0]
        own = module_name(root, path)
        seen: set[tuple[str, int]] = set()
        for name, line in imports_of(root, path):
            target = name.split(".")[0]
            if target == layer or (target, line) in seen:
                continue
            seen.add((target, line))
            if _forbidden(layer, rel, target):
                out.append(Violation(own, name, line))
    return out


def _forbidden(layer: str, rel: str, target: str) -> bool:
    """Whether a file at ``rel`` in ``layer`` may not import the top-level package ``target``."""
    if target == "simulators" and layer == "estatewatch" and not rel.startswith(MAY_IMPORT_SIMULATORS):
        return True
    return target not in ALLOWED[layer]


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan); a module importing itself is not counted."""
    modules = {module_name(root, p): p for p in source_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {t for t, _ in imports_of(root, path) if t in modules and t != name}
    return _Tarjan(graph).cycles()


class _Tarjan:
    """Tarjan's strongly connected components over an import graph, visiting modules in name order."""

    def __init__(self, graph: dict[str, set[str]]) -> None:
        self.graph = graph
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.groups: list[list[str]] = []

    def cycles(self) -> list[list[str]]:
        for v in sorted(self.graph):
            if v not in self.index:
                self.visit(v)
        return self.groups

    def visit(self, v: str) -> None:
        index, low = self.index, self.low
        index[v] = low[v] = len(index)
        self.stack.append(v)
        self.on_stack.add(v)
        for w in sorted(self.graph[v]):
            if w not in index:
                self.visit(w)
                low[v] = min(low[v], low[w])
            elif w in self.on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            self._close(v)

    def _close(self, v: str) -> None:
        """Pop the component rooted at ``v``; keep it when it holds more than one module."""
        group: list[str] = []
        while True:
            w = self.stack.pop()
            self.on_stack.discard(w)
            group.append(w)
            if w == v:
                break
        if len(group) > 1:
            self.groups.append(sorted(group))


def test_every_import_follows_the_layers() -> None:
    assert layer_violations(ROOT) == []


def test_no_import_cycles() -> None:
    assert import_cycles(ROOT) == []


def test_service_code_never_imports_simulators() -> None:
    offenders = [v for v in layer_violations(ROOT) if v.imported.startswith("simulators")]
    assert offenders == []
    # and the rule itself holds: only the CLI's tooling may
    for path in source_files(ROOT):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("simulators/", *MAY_IMPORT_SIMULATORS)):
            continue
        assert not any(n.startswith("simulators") for n, _ in imports_of(ROOT, path)), rel


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text('"""Package."""\n')
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("rel", "text", "imported"),
    [
        ("ingest/service.py", "from estatewatch.runtime import serve\n", "estatewatch.runtime"),
        ("vision/service.py", "def f() -> None:\n    from alerts.intake import raise_alert\n", "alerts.intake"),
        ("store/db.py", "import common.settings\n", "common.settings"),
        ("common/mqtt.py", "from ingest import batch\n", "ingest"),
        ("api/app.py", "from simulators.sensors import make_fleet\n", "simulators.sensors"),
        ("estatewatch/runtime.py", "from simulators import residents\n", "simulators"),
    ],
)
def test_a_deliberate_back_import_is_caught(tmp_path: Path, rel: str, text: str, imported: str) -> None:
    root = _tree(tmp_path, {rel: text})
    found = layer_violations(root)
    assert [v.imported for v in found][:1] == [imported]
    assert found[0].module == module_name(root, root / rel)


def test_the_tooling_may_drive_simulators(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"estatewatch/bench/x.py": "from simulators.sensors import make_fleet\n"})
    assert layer_violations(root) == []


def test_a_cycle_is_caught_even_through_a_function_local_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "alerts/a.py": "from alerts.b import thing\n",
        "alerts/b.py": "def thing() -> None:\n    from alerts import c\n",
        "alerts/c.py": "from .a import x\n",
    })
    assert import_cycles(root) == [["alerts.a", "alerts.b", "alerts.c"]]

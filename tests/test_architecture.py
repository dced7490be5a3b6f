"""The layering the README promises: simulators are never imported by the service, and data flows one way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the CLI's simulate/bench/eval commands and the benchmarks drive simulators on purpose
TOOLING = ("estatewatch/commands", "estatewatch/bench")


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(TOOLING):
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[rel] = names
    return found


def test_service_code_never_imports_simulators() -> None:
    offenders = [
        rel for package in ("ingest", "vision", "alerts", "api", "store", "estatewatch")
        for rel, names in _imports(package).items() if "simulators" in names
    ]
    assert offenders == []


def test_data_flows_one_way() -> None:
    upstream_of = {"ingest": {"vision", "alerts", "api"}, "store": {"ingest", "vision", "alerts", "api"},
                   "vision": {"api"}, "alerts": {"api", "vision"}}
    offenders = [
        (rel, sorted(names & forbidden))
        for package, forbidden in upstream_of.items()
        for rel, names in _imports(package).items() if names & forbidden
    ]
    assert offenders == []

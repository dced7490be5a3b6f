"""Edges the architecture keeps in one place each: SQL in store/, paho in the MQTT edge, topic strings in common/topics.

Each check reads the source (calls and string literals), so a claim in docs/architecture.md cannot drift from the code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ("common", "ingest", "vision", "alerts", "api", "estatewatch")
# statements that only SQL text starts with; matched at the start of a string literal
SQL_START = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WITH \w+ AS|COPY |LISTEN |NOTIFY )")
TOPIC_LITERAL = re.compile(r"estate/\{")


def _sources(*packages: str) -> list[Path]:
    return [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]


def _strings(path: Path) -> list[tuple[str, int]]:
    """String literals of a file, with f-strings flattened to their constant parts (placeholders as ``{``)."""
    out: list[tuple[str, int]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    for node in ast.walk(tree):
        if id(node) in parts:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{"
                           for v in node.values)
            out.append((text, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.value, node.lineno))
    return out


def _docstring_lines(path: Path) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines.add(first.lineno)
    return lines


def test_sql_lives_in_store() -> None:
    offenders = []
    for path in _sources(*SERVICE):
        if path.relative_to(ROOT).as_posix().startswith("estatewatch/bench/"):
            continue  # benchmarks count and delete their own rows to check a run; the service never runs them
        docs = _docstring_lines(path)
        offenders += [f"{path.relative_to(ROOT)}:{line}" for text, line in _strings(path)
                      if SQL_START.match(text) and line not in docs]
    assert offenders == []


def test_only_the_mqtt_edge_imports_paho() -> None:
    # the sensor simulator stands in for devices and builds raw device clients (last wills, malformed packets);
    # the ingest bench's baseline is a bare paho subscriber, the cost floor that ingest is measured against
    allowed = {"common/mqtt.py", "simulators/sensor_fleet.py", "estatewatch/bench/ingest_parts.py"}
    offenders = []
    for path in _sources(*SERVICE, "store", "simulators"):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "paho" for n in names) and rel not in allowed:
                offenders.append(rel)
    assert offenders == []


def test_topic_strings_are_built_in_one_place() -> None:
    offenders = []
    for path in _sources(*SERVICE, "store", "simulators"):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "common/topics.py":
            continue
        docs = _docstring_lines(path)
        offenders += [f"{rel}:{line}" for text, line in _strings(path)
                      if TOPIC_LITERAL.search(text) and line not in docs and not text.lstrip().startswith(("#", "``"))
                      and "/" in text.split("estate/", 1)[1]]
    assert offenders == []


def test_the_checks_see_what_they_forbid(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Doc: SELECT 1."""\nq = f"SELECT {1} FROM t"\nt = f"estate/{1}/alerts"\n')
    found = _strings(sample)
    docs = _docstring_lines(sample)
    assert [line for text, line in found if SQL_START.match(text) and line not in docs] == [2]
    assert [line for text, line in found if TOPIC_LITERAL.search(text)] == [3]

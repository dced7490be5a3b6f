"""Holds the console's JavaScript to the OpenAPI document: every field a module reads from server data must be in
the schema of the response it came from.

A module declares nothing itself; the test names, per module, which variables hold which response (a
:class:`Binding`: an operation plus a path into its schema, such as ``alerts[]`` for the items of the ``alerts``
array). Every ``name.field.field`` chain on a bound name is then resolved in the schema, and so are reads of
variables the module fills from an API call or a loop over bound data, which must themselves be bound, so a new
consumer cannot slip past unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

# what JavaScript lets one call on an array or a primitive: not fields, so not looked up in a schema
ARRAY_MEMBERS = frozenset({"length", "map", "filter", "some", "every", "forEach", "includes", "join", "slice", "find",
                           "findIndex", "sort", "at", "flatMap", "indexOf", "concat", "reduce"})
_COMMENT = re.compile(r"/\*.*?\*/|(?:^|(?<=\s))//[^\n]*", re.S)
_CALL = re.compile(r"\b(get|post|patch|put)\(\s*[`\"](/api/v1/[^`\"?]*)")
_EVENT_SOURCE = re.compile(r"new EventSource\(\s*[`\"](/api/v1/[^`\"?]*)")
_ASSIGNED = re.compile(r"\b(?:const|let)\s+(\w+)\s*=\s*await\s+(?:api\.[\w.]+|get|post|patch|put)\(")
_PARAM = r"\(?\s*(\w+)\s*\)?\s*=>"


@dataclass(frozen=True)
class Binding:
    """A variable's data: the response of ``method path`` (as ``media`` type), then ``at``, a dotted path into it
    where ``[]`` steps into array items.
    """

    method: str
    path: str
    at: str = ""
    media: str = "application/json"


@dataclass(frozen=True)
class Problem:
    """One read the schema does not have, or a consumer that is not bound."""

    module: str
    what: str

    def __str__(self) -> str:
        return f"{self.module}: {self.what}"


def strip_comments(source: str) -> str:
    """The source without comments (a ``//`` right after a colon, as in a URL, is not a comment)."""
    return _COMMENT.sub("", source)


def api_calls(source: str) -> set[tuple[str, str]]:
    """The (method, path) pairs the module requests, with each ``${...}`` placeholder written ``{}``."""
    found = {(m[1].upper(), m[2]) for m in _CALL.finditer(source)}
    found |= {("GET", m[1]) for m in _EVENT_SOURCE.finditer(source)}
    return {(method, re.sub(r"\$\{[^}]*\}", "{}", path)) for method, path in found}


def document_paths(document: Schema) -> dict[str, set[str]]:
    """The document's paths with parameters written ``{}``, each with its methods."""
    out: dict[str, set[str]] = {}
    for path, ops in document["paths"].items():
        out.setdefault(re.sub(r"\{[^}]*\}", "{}", path), set()).update(m.upper() for m in ops)
    return out


class SchemaWalker:
    """Resolves field chains in one OpenAPI document."""

    def __init__(self, document: Schema, free_form: Mapping[str, str]) -> None:
        """``free_form`` maps ``Component.property`` of open JSON objects to why reading any key of them is fine."""
        self.document = document
        self.free_form = free_form

    def deref(self, schema: Schema) -> tuple[Schema, str | None]:
        """The schema behind a ``$ref`` and its component name (None when it was inline)."""
        ref = schema.get("$ref")
        if ref is None:
            return schema, None
        name = str(ref).rsplit("/", 1)[-1]
        return self.document["components"]["schemas"][name], name

    def response(self, binding: Binding) -> tuple[Schema, str]:
        """The schema at ``binding`` and where it is (``Component.field``); raises ``KeyError`` naming what is
        missing.
        """
        ops = self.document["paths"].get(binding.path)
        if ops is None or binding.method.lower() not in ops:
            raise KeyError(f"{binding.method} {binding.path} is not in the document")
        responses = ops[binding.method.lower()]["responses"]
        ok = next((r for code, r in responses.items() if str(code).startswith("2")), None)
        content = (ok or {}).get("content", {}).get(binding.media)
        if content is None:
            raise KeyError(f"{binding.method} {binding.path} declares no {binding.media} response")
        schema: Schema = content["schema"]
        steps = [s for s in binding.at.split(".") if s] if binding.at else []
        if binding.media == "text/event-stream":
            if not steps or steps[0] not in content.get("x-events", {}):
                raise KeyError(f"{binding.method} {binding.path}: name one of its events first")
            schema, steps = content["x-events"][steps[0]], steps[1:]
        where = f"{binding.method} {binding.path}"
        for step in steps:
            schema, where = self.step(schema, step, where)
        return schema, where

    def step(self, schema: Schema, step: str, where: str) -> tuple[Schema, str]:
        """Follow one step of a binding path: ``name``, ``name[]`` (its items) or ``name{}`` (a map's values)."""
        if step.endswith("{}"):
            schema, where = self.step(schema, step[:-2], where)
            values = self.deref(self._non_null(schema))[0].get("additionalProperties")
            if not isinstance(values, dict) or not values or self._is_json_value(values):
                raise KeyError(f"{step!r} is not a typed map")
            return values, where
        name, items = (step[:-2], True) if step.endswith("[]") else (step, False)
        if name:
            found, owner = self._field(schema, name, None)
            if found is None:
                raise KeyError(f"no field {name!r} on the way to the bound data")
            schema, where = found, f"{owner}.{name}"
        if items:
            schema, _ = self.deref(self._non_null(schema))
            if schema.get("type") != "array":
                raise KeyError(f"{step!r} is not an array")
            schema = schema["items"]
        return schema, where

    def _non_null(self, schema: Schema) -> Schema:
        options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
        return options[0] if len(options) == 1 else schema

    def _field(self, schema: Schema, name: str, owner: str | None) -> tuple[Schema | None, str | None]:
        """The schema of field ``name`` (None when absent) and the component that declares it."""
        schema, component = self.deref(self._non_null(schema))
        owner = component or owner
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            found = self._field(option, name, owner)
            if found[0] is not None:
                return found
        props = schema.get("properties", {})
        if name in props:
            return props[name], owner
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra and not self._is_json_value(extra):
            return extra, owner  # a typed map: any key, values of one schema
        return None, owner

    def _is_json_value(self, schema: Schema) -> bool:
        return schema.get("$ref", "").endswith("/JsonValue") or schema == {}

    def check(self, schema: Schema, chain: list[str], where: str) -> str | None:
        """None when every field of ``chain`` is in the schema, else what is wrong; ``where`` names the start."""
        owner: str | None = None
        walked: list[str] = []
        for name in chain:
            resolved, component = self.deref(self._non_null(schema))
            owner = component or owner
            kind = resolved.get("type")
            if kind == "array":
                return None if name in ARRAY_MEMBERS else f"{'.'.join(walked) or 'it'} is an array: no .{name}"
            if kind in {"string", "number", "integer", "boolean"}:
                return None  # a method of the value (toFixed, startsWith, ...)
            if self._open(resolved):
                key = f"{owner}.{walked[-1]}" if owner and walked else where
                return None if key in self.free_form else f"{'.'.join(walked) or 'it'} is a free-form object ({key})"
            found, owner = self._field(resolved, name, owner)
            if found is None:
                return f"no field {name!r} in {owner or 'the schema'}" + (f" at {'.'.join(walked)}" if walked else "")
            walked.append(name)
            schema = found
        return None

    def _open(self, schema: Schema) -> bool:
        extra = schema.get("additionalProperties")
        return not schema.get("properties") and not schema.get("anyOf") and (
            extra is True or (isinstance(extra, dict) and self._is_json_value(extra)))


def reads(source: str, name: str) -> Iterator[list[str]]:
    """Every field chain read on ``name``: ``name.a?.b`` gives ``["a", "b"]``."""
    for match in re.finditer(rf"(?<![\w.$]){re.escape(name)}((?:\??\.[A-Za-z_$][\w$]*)+)", source):
        yield [part for part in re.split(r"\??\.", match[1]) if part]


def unbound_consumers(source: str, bound: Iterable[str]) -> Iterator[str]:
    """Names that receive server data without being bound: results of API calls and loops over bound data."""
    names = set(bound)
    for match in _ASSIGNED.finditer(source):
        if match[1] not in names:
            yield f"{match[1]} holds an API answer but is not bound"
    chain = r"(?<![\w.$])(" + "|".join(map(re.escape, sorted(names))) + r")((?:\??\.\w+)*)" if names else None
    if chain is None:
        return
    loop = re.compile(rf"for\s*\(\s*const\s+(\w+)\s+of\s+{chain}\s*\)")
    callback = re.compile(rf"{chain}\.(?:map|filter|some|every|forEach|find|flatMap)\(\s*{_PARAM}")
    for match in loop.finditer(source):
        if match[1] not in names:
            yield f"{match[1]} walks over {match[2]}{match[3]} but is not bound"
    for match in callback.finditer(source):
        if match[3] not in names:
            yield f"{match[3]} walks over {match[1]}{match[2]} but is not bound"


def check_module(module: str, source: str, bindings: Mapping[str, list[Binding]],
                 walker: SchemaWalker) -> list[Problem]:
    """Every problem of one module: unknown fields, and consumers of server data that are not bound."""
    code = strip_comments(source)
    problems = [Problem(module, what) for what in unbound_consumers(code, bindings)]
    for name, targets in bindings.items():
        for binding in targets:
            try:
                schema, where = walker.response(binding)
            except KeyError as exc:
                problems.append(Problem(module, f"{name}: {exc.args[0]}"))
                continue
            for chain in reads(code, name):
                wrong = walker.check(schema, chain, where)
                if wrong is not None:
                    problems.append(Problem(module, f"{name}.{'.'.join(chain)} ({binding.method} {binding.path}"
                                                    f"{' ' + binding.at if binding.at else ''}): {wrong}"))
    return list(dict.fromkeys(problems))  # one line per distinct problem, in the order found

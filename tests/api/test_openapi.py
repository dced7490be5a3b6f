"""The OpenAPI document describes every answer: each route's success response is a named model (or a list or
union of them), or a declared non-JSON media type (images, video, MJPEG, event streams, metrics, HTML); only
bodiless answers (204, redirects) have no content.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from api.app import create_app
from common.settings import Settings

Schema = dict[str, Any]


def _app_document() -> tuple[list[APIRoute], Schema]:
    app = create_app(Settings(database_url="postgresql://127.0.0.1:1/unused", mqtt_url="mqtt://127.0.0.1:1",
                              site="s"))
    return [r for r in app.routes if isinstance(r, APIRoute)], app.openapi()


def _named(schema: Schema) -> bool:
    """A schema that names its shape: a component, a list of them, or a union of them."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _named(schema.get("items", {}))
    options: list[Schema] = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(options) and all(_named(o) or o.get("type") == "null" for o in options)


def undescribed(document: Schema) -> list[str]:
    """``METHOD path`` of every operation whose success answer the document does not describe."""
    missing = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            code, answer = next((c, r) for c, r in op["responses"].items() if str(c)[0] in "23")
            if code == "204" or str(code).startswith("3"):
                continue
            content: dict[str, Schema] = answer.get("content", {})
            json_body = content.get("application/json")
            others = [m for m in content if m != "application/json"]
            named = json_body is not None and _named(json_body.get("schema", {}))
            if not named and (json_body is not None or not others):
                missing.append(f"{method.upper()} {path}")
    return sorted(missing)


def test_every_route_is_in_the_document() -> None:
    routes, document = _app_document()
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    hidden = [f"{m} {r.path}" for r in routes for m in sorted(r.methods or ())
              if (m.lower(), r.path) not in documented]
    assert not hidden, f"routes left out of the OpenAPI document: {hidden}"


def test_every_answer_has_a_model_or_a_media_type() -> None:
    _, document = _app_document()
    assert undescribed(document) == []


@pytest.mark.parametrize(("answer", "described"), [
    ({"content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}, False),
    ({"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}, False),
    ({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/X"}}}}, True),
    ({"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}, True),
    ({"description": "no content"}, False),
])
def test_the_check_tells_a_bare_dict_from_a_model(answer: Schema, described: bool) -> None:
    document = {"paths": {"/x": {"get": {"responses": {"200": answer}}}}}
    assert (undescribed(document) == []) is described

"""OpenAPI descriptions of the responses that are not JSON: images, video, MJPEG, event streams, metrics, HTML."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

OpenApiResponses = dict[int | str, dict[str, Any]]
"""FastAPI's type for ``responses=``: free-form OpenAPI objects (hence ``Any``)."""

_BINARY = {"type": "string", "format": "binary"}
COMPONENTS = "#/components/schemas/"


def binary(description: str, *media_types: str, status: int = 200) -> OpenApiResponses:
    """A success response whose body is a file of one of ``media_types``."""
    return {status: {"description": description, "content": {m: {"schema": _BINARY} for m in media_types}}}


def text(description: str, media_type: str, status: int = 200) -> OpenApiResponses:
    """A success response whose body is text of ``media_type``."""
    return {status: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` body (Server-Sent Events), so the OpenAPI document names the right media type."""

    media_type = "text/event-stream"


def event_stream(description: str, events: Mapping[str, type[BaseModel]]) -> OpenApiResponses:
    """A Server-Sent Events response; ``x-events`` names the schema of each event's JSON ``data``.

    The body itself is text; :func:`add_event_schemas` puts the event schemas into the document's components.
    """
    refs = {name: {"$ref": f"{COMPONENTS}{model.__name__}"} for name, model in events.items()}
    return {200: {"description": description,
                  "content": {"text/event-stream": {"schema": {"type": "string"}, "x-events": refs}}}}


def add_event_schemas(document: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Add the JSON schemas of event payload models to an OpenAPI document's components."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template=COMPONENTS + "{model}", mode="serialization")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema

"""Schemathesis over the live OpenAPI document, against the real app on real HTTP (PostgreSQL, Mosquitto): no
request, valid or deliberately invalid, makes the API answer 500.

The budget is bounded and the run deterministic: two examples per operation in each of the two generation modes
(an operation whose inputs are all plain strings has no invalid request, so only valid ones), derandomized, so a
failure found once is found again; about 20-30 s in all (``EXAMPLES`` below). Calls carry the admin token, so the
fuzzing reaches the handlers instead of stopping at authentication. The alert stream is left out: a valid call
never ends by design (its malformed-input path is covered in test_api_limits.py and the role matrix).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok

from common.settings import Settings
from tests.api.live_server import live_server
from tests.helpers import ADMIN_TOKEN

# The budget: two valid and two invalid examples per operation (about 90 operations, some 330 requests), each
# request with a 10 s deadline: about 8 s of CPU in this process (server included), 20-30 s of wall time on the
# 2-core test machine (more when it is loaded). docs/security.md, "Fuzzing", has the measurements.
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}
_PLAIN_STRING = {"type": "string"}
_NOTES = ("title", "description", "example", "examples")
SKIP = {("GET", "/api/v1/stream/alerts")}
STATUS = re.compile(r"[1-5][0-9][0-9]")


def _tolerated(operation: APIOperation[Any, Any, Any, Any]) -> set[int]:
    """Server-side codes that are answers, not faults: 503 (a dependency down, a feature this process does not
    run) and any other the operation declares. A 500 is never tolerated."""
    responses = operation.definition.raw.get("responses", {})
    return ({int(code) for code in responses if STATUS.fullmatch(str(code))} | {503}) - {500}


def _can_be_invalid(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    """Whether an invalid request exists: a body, or a parameter narrower than any string. An operation whose only
    inputs are plain strings (``/static/{path}``) has none, and proving it costs hypothesis some 10 s each.
    """
    raw = operation.definition.raw
    if raw.get("requestBody"):
        return True
    for param in raw.get("parameters", []):
        schema = {k: v for k, v in param.get("schema", {}).items() if k not in _NOTES}
        if schema != _PLAIN_STRING:
            return True
    return False


def _fuzz(operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, base: str, failures: list[str]) -> None:
    tolerated = _tolerated(operation)

    @settings(max_examples=EXAMPLES[mode], derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case: Case[Any] = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        if response.status_code >= 500 and response.status_code not in tolerated:
            failures.append(f"{response.status_code} {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # an operation with nothing to get wrong (no parameters, no body) has no invalid request to send


def test_no_request_makes_the_api_answer_500(settings: Settings) -> None:
    with live_server(settings.model_copy(update={"login_max_failures_address": 10_000})) as base:
        document = httpx.get(f"{base}/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(document)
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            operations += 1
            _fuzz(operation, GenerationMode.POSITIVE, base, failures)
            if _can_be_invalid(operation):
                _fuzz(operation, GenerationMode.NEGATIVE, base, failures)
    assert operations >= 50  # the document really was walked
    assert failures == [], "\n".join(failures)

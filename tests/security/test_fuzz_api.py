"""Schemathesis over the live OpenAPI document, against the real app on real HTTP (PostgreSQL, Mosquitto): no
request, valid or deliberately invalid, makes the API answer 500.

The budget is bounded and the run deterministic: a fixed number of examples per operation in each of the two
generation modes, derandomized, so a failure found once is found again. Calls carry the admin token, so the
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

EXAMPLES_PER_MODE = 3  # the budget: about 65 operations x 2 modes x 3 examples, some 400 requests
SKIP = {("GET", "/api/v1/stream/alerts")}
STATUS = re.compile(r"[1-5][0-9][0-9]")


def _tolerated(operation: APIOperation[Any, Any, Any, Any]) -> set[int]:
    """Server-side codes that are answers, not faults: 503 (a dependency down, a feature this process does not
    run) and any other the operation declares. A 500 is never tolerated."""
    responses = operation.definition.raw.get("responses", {})
    return ({int(code) for code in responses if STATUS.fullmatch(str(code))} | {503}) - {500}


def _fuzz(operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, base: str, failures: list[str]) -> None:
    tolerated = _tolerated(operation)

    @settings(max_examples=EXAMPLES_PER_MODE, derandomize=True, deadline=None, database=None,
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
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, base, failures)
    assert operations >= 50  # the document really was walked
    assert failures == [], "\n".join(failures)

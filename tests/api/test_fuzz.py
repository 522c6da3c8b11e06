"""Schema-driven fuzzing (schemathesis) of the real server: no 5xx, every answer as declared.

Each operation of `/openapi.json` gets a bounded number of generated requests,
valid ones (positive) and ones that break the schema (negative), sent to the
real server over HTTP; every answer must be a status the document declares for
that operation, with the declared content type and body schema. Event streams
(`GET /subscribe/...`) never end, so they are left out: their bad parameters are
tested in `test_subscribe_e2e.py`, with the GET routes' errors they share.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketcache.commands.service_process import ServiceProcess

pytestmark = pytest.mark.e2e

STREAMS = "/subscribe/"  # event streams: an answer that never ends cannot be fuzzed
EXAMPLES = 30  # per operation and mode: bounded, so `make test` stays quick
UPSTREAM_CODES = {"exchange_unavailable", "upstream_timeout", "bad_response", "rate_limited"}


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    with ServiceProcess(("--offline",), env={"LOG_LEVEL": "warning"}) as process:
        yield process


@pytest.fixture(scope="module")
def operations(service: ServiceProcess) -> list[Any]:
    document = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if not op.path.startswith(STREAMS)]


def test_every_operation_is_fuzzed(operations: list[Any]) -> None:
    labels = {op.label for op in operations}
    assert {"POST /price", "POST /cvd", "GET /health", "HEAD /health"} <= labels


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_answers_as_declared(
    operations: list[Any], service: ServiceProcess, mode: GenerationMode
) -> None:
    fuzzed = [op.label for op in operations if _fuzz(op, service.url, mode)]
    assert len(fuzzed) >= 10, fuzzed


def _fuzz(operation: Any, base_url: str, mode: GenerationMode) -> bool:
    """Fuzz one operation; False when it has nothing to break (negative mode only)."""
    has_input = bool(list(operation.iter_parameters())) or bool(operation.body)
    if mode is GenerationMode.NEGATIVE and not has_input:
        return False  # nothing to break
    strategy = operation.as_strategy(generation_mode=mode)
    sent: list[int] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=30)
        sent.append(response.status_code)
        if response.status_code >= 500:  # only an unavailable exchange; never our fault
            assert response.status_code == 503, (operation.label, response.text)
            assert response.json()["error"]["code"] in UPSTREAM_CODES, response.text
        checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
        case.validate_response(response, checks=checks)

    try:
        run()
    except Unsatisfiable:
        # only text in a path or a query string, which no request can make invalid
        assert mode is GenerationMode.NEGATIVE, operation.label
        return False
    assert sent, f"{operation.label}: no request was sent"
    return True

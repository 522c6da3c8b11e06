"""`/openapi.json` is a valid document that describes every body, parameter and error."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from marketcache.endpoints import MARKET_ENDPOINTS
from tests.api.conftest import Harness


@pytest.fixture
async def document(harness: Harness) -> dict[str, Any]:
    response = await harness.client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_the_document_validates(document: dict[str, Any]) -> None:
    validate(document)


async def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), ids
    assert {"health", "health_head"} <= set(ids)


@pytest.mark.parametrize("endpoint", MARKET_ENDPOINTS, ids=lambda e: e.name)
async def test_each_market_body_is_declared_with_its_ranges(
    document: dict[str, Any], endpoint: Any
) -> None:
    operation = document["paths"][endpoint.path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == set(endpoint.params.model_fields)
    assert schema["required"] == ["symbol"]
    for name, field in endpoint.params.model_fields.items():
        if name != "symbol":
            assert schema["properties"][name]["default"] == field.default
    assert {"400", "404", "413", "422", "429", "503"} <= set(operation["responses"])
    error = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/ErrorResponse")


async def test_ranges_are_in_the_document(document: dict[str, Any]) -> None:
    spike = document["paths"]["/volume_spike"]["post"]["requestBody"]["content"]
    props = spike["application/json"]["schema"]["properties"]
    assert (props["lookback"]["minimum"], props["lookback"]["maximum"]) == (5, 500)
    assert (props["threshold"]["exclusiveMinimum"], props["threshold"]["maximum"]) == (0, 100)


async def test_hours_is_a_declared_query_parameter(document: dict[str, Any]) -> None:
    (param,) = document["paths"]["/cache/performance"]["get"]["parameters"]
    assert (param["name"], param["in"]) == ("hours", "query")
    assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, 168)


async def test_admin_bodies_are_declared(document: dict[str, Any]) -> None:
    warm = document["paths"]["/cache/warm"]["post"]["requestBody"]["content"]
    assert "symbols" in warm["application/json"]["schema"]["properties"]
    invalidate = document["paths"]["/cache/invalidate"]["post"]["requestBody"]["content"]
    assert {"symbol", "prefix"} <= set(invalidate["application/json"]["schema"]["properties"])


@pytest.mark.parametrize("endpoint", MARKET_ENDPOINTS, ids=lambda e: e.name)
async def test_each_event_stream_is_declared(document: dict[str, Any], endpoint: Any) -> None:
    operation = document["paths"][f"/subscribe/{endpoint.name}"]["get"]
    assert operation["operationId"] == f"subscribe_{endpoint.name}"
    names = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
    assert names == list(endpoint.params.model_fields)
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {"400", "404", "422", "429", "503"} <= set(operation["responses"])
    assert "volume_spike_started" in operation["description"]

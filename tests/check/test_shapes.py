"""The shape checker and the market/error answer checks."""

from __future__ import annotations

from typing import Any

from marketcache.check import shapes
from marketcache.check.client import Reply

PRICE_DATA: dict[str, Any] = {
    "symbol": "BTC/USDT",
    "last": 1.0,
    "bid": None,
    "ask": 2,
    "open": 1,
    "high": 1,
    "low": 1,
    "change": 0,
    "change_percent": 0,
    "base_volume": 1,
    "quote_volume": 1,
    "timestamp": 1700000000000,
    "datetime": "2023-11-14T22:13:20.000Z",
}


def market_reply(
    data: dict[str, Any], *, header: str | None = "hit", cache: str = "hit", status: int = 200
) -> Reply:
    body = {"success": True, "data": data, "meta": {"cache": cache, "age_ms": 3, "source": "e"}}
    headers = {"X-Cache": header} if header else {}
    return Reply("POST", "/price", status, 1.0, body=body, headers=headers)


def test_valid_answer_has_no_problem() -> None:
    assert shapes.market_problems(market_reply(PRICE_DATA), shapes.PRICE) == []


def test_missing_and_ill_typed_members_are_named() -> None:
    data = {**PRICE_DATA, "last": "1.0"}
    del data["timestamp"]
    found = shapes.market_problems(market_reply(data), shapes.PRICE)
    assert any(p.startswith("data.last: unexpected") for p in found)
    assert "data.timestamp: missing" in found


def test_bool_is_not_a_number() -> None:
    assert not shapes.number(True)
    assert shapes.problems({"a": True}, {"a": shapes.number}) == ["a: unexpected True"]


def test_nested_shapes_report_paths() -> None:
    found = shapes.problems(
        {"cache_stats": {"hits": 1}},
        {"cache_stats": {"hits": shapes.integer, "misses": shapes.integer}},
    )
    assert found == ["cache_stats.misses: missing"]
    assert shapes.problems([], {"a": shapes.integer}) == ["body: expected an object, got list"]


def test_x_cache_header_must_repeat_meta() -> None:
    missing = shapes.market_problems(market_reply(PRICE_DATA, header=None), shapes.PRICE)
    assert missing == ["X-Cache header: missing"]
    differs = shapes.market_problems(market_reply(PRICE_DATA, header="miss"), shapes.PRICE)
    assert differs
    assert "differs" in differs[0]


def test_unknown_cache_mode_is_a_problem() -> None:
    found = shapes.market_problems(
        market_reply(PRICE_DATA, cache="maybe", header="maybe"), shapes.PRICE
    )
    assert found == ["meta.cache: unexpected 'maybe'"]


def test_non_200_and_no_answer() -> None:
    assert shapes.market_problems(
        Reply("POST", "/x", None, 1.0, failure="timeout"), shapes.PRICE
    ) == ["POST /x → timeout"]
    bad = Reply("POST", "/x", 500, 1.0, text="boom")
    assert shapes.market_problems(bad, shapes.PRICE)[0].startswith("POST /x → 500")


def test_error_envelope_checks_status_and_code() -> None:
    body = {"success": False, "error": {"code": "unknown_symbol", "message": "no"}}
    assert (
        shapes.error_problems(Reply("POST", "/p", 404, 1.0, body=body), 404, "unknown_symbol") == []
    )
    wrong_code = shapes.error_problems(Reply("POST", "/p", 404, 1.0, body=body), 404, "other")
    assert wrong_code == ["error.code 'unknown_symbol', expected 'other'"]
    wrong_status = shapes.error_problems(
        Reply("POST", "/p", 500, 1.0, body=body), 404, "unknown_symbol"
    )
    assert wrong_status == ["POST /p → 500, expected 404"]
    not_envelope = shapes.error_problems(Reply("POST", "/p", 404, 1.0, body=None), 404, "x")
    assert not_envelope == ["body: expected an object, got NoneType"]

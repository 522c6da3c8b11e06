"""Every REST URL of an exchange re-pointed at another host, paths kept."""

from __future__ import annotations

import pytest

from marketcache.errors import InvalidParameter
from marketcache.sources.urls import check_base_url, rewrite_url, rewrite_urls

TREE = {
    "public": "https://api.binance.com/api/v3",
    "sapi": "https://api.binance.com/sapi/v1",
    "fapiPublic": "https://fapi.binance.com/fapi/v1",
    "nested": {
        "rest": "https://api.{hostname}/v5",
        "list": ["https://a.example.com/x?y=1", "wss://stream.binance.com:9443/ws"],
    },
    "weight": 5,
}


def test_every_http_url_moves_to_the_new_host_keeping_its_path() -> None:
    out = rewrite_urls(TREE, "http://127.0.0.1:9123")
    assert out["public"] == "http://127.0.0.1:9123/api/v3"
    assert out["sapi"] == "http://127.0.0.1:9123/sapi/v1"
    assert out["fapiPublic"] == "http://127.0.0.1:9123/fapi/v1"
    assert out["nested"]["rest"] == "http://127.0.0.1:9123/v5"
    assert out["nested"]["list"][0] == "http://127.0.0.1:9123/x?y=1"


def test_non_http_values_are_left_alone_and_the_input_is_not_mutated() -> None:
    out = rewrite_urls(TREE, "http://127.0.0.1:9123/")
    assert out["nested"]["list"][1] == "wss://stream.binance.com:9443/ws"
    assert out["weight"] == 5
    assert TREE["public"] == "https://api.binance.com/api/v3"


def test_a_path_on_the_base_url_prefixes_every_path() -> None:
    assert (
        rewrite_url("https://api.binance.com/api/v3", "https://proxy.local/binance/")
        == "https://proxy.local/binance/api/v3"
    )


def test_a_single_url_string_tree() -> None:
    assert rewrite_urls("https://api.kraken.com", "http://localhost:1") == "http://localhost:1"


@pytest.mark.parametrize("bad", ["127.0.0.1:9000", "ftp://host/x", "http://", ""])
def test_a_base_url_that_is_not_http_is_rejected(bad: str) -> None:
    with pytest.raises(InvalidParameter):
        check_base_url(bad)


def test_websocket_urls_follow_the_rest_host_with_their_paths() -> None:
    from marketcache.sources.urls import rewrite_ws_urls

    tree = {"spot": "wss://stream.binance.com:9443/ws", "rest": "https://api.binance.com/x"}
    assert rewrite_ws_urls(tree, "http://127.0.0.1:9000") == {
        "spot": "ws://127.0.0.1:9000/ws",
        "rest": "https://api.binance.com/x",
    }
    assert rewrite_ws_urls(["wss://a.example/ws"], "https://proxy.example/p") == [
        "wss://proxy.example/p/ws"
    ]

"""The table of known requests: what the bytes decide, bounded."""

from __future__ import annotations

from typing import Any

from marketcache.commands.known_requests import MAX_BYTES, Known, KnownRequests


def parsed_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/price",
        "raw_path": b"/price",
        "query_string": b"",
        "http_version": "1.1",
        "headers": [(b"host", b"t"), (b"content-length", b"2")],
        "client": ("10.0.0.1", 5000),
        "extensions": {"stamp": 1.0},
    }


def test_a_known_request_keeps_only_what_its_bytes_decide() -> None:
    known = Known.of(parsed_scope(), b"{}", True)
    base = {"type": "http", "client": ("10.0.0.2", 6000)}
    scope = known.scope(base, {"s": 1}, {"stamp": 2.0})
    assert scope["client"] == ("10.0.0.2", 6000)  # the connection's, not the first one's
    assert scope["extensions"] == {"stamp": 2.0}
    assert scope["state"] == {"s": 1}
    for field in ("method", "path", "raw_path", "query_string", "http_version", "headers"):
        assert scope[field] == parsed_scope()[field]
    assert known.body == b"{}"
    assert known.keep_alive


def test_each_scope_has_its_own_header_list() -> None:
    known = Known.of(parsed_scope(), b"", True)
    first = known.scope({}, {}, {})
    first["headers"].append((b"x", b"y"))
    assert known.scope({}, {}, {})["headers"] == parsed_scope()["headers"]


def test_the_table_is_bounded() -> None:
    table = KnownRequests(most=2)
    known = Known.of(parsed_scope(), b"", True)
    table.add(b"a", known)
    table.add(b"b", known)
    assert len(table) == 2
    table.add(b"c", known)  # full: it starts again
    assert len(table) == 1
    assert table.get(b"c") is known
    assert table.get(b"a") is None


def test_a_long_request_is_not_kept() -> None:
    table = KnownRequests()
    table.add(b"x" * (MAX_BYTES + 1), Known.of(parsed_scope(), b"", True))
    assert len(table) == 0

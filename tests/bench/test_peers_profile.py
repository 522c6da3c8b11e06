"""py-spy's collapsed stacks grouped by layer: each sample to its innermost known layer."""

from __future__ import annotations

from marketcache.bench.peers import profile

ROOT = "_run_module_as_main (<frozen runpy>:198);Runner.run (asyncio/runners.py:118)"
CYCLE = f"{ROOT};RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:422)"
OBSERVE = (
    f"{CYCLE};FastAPI.__call__ (fastapi/applications.py:1224)"
    ";ObserveRequests.__call__ (marketcache/api/observe.py:61)"
)
LINES = [
    f"{ROOT} 10",  # the event loop's own C code
    f"{CYCLE} 5",
    f"{OBSERVE};ObserveRequests._observe (marketcache/api/observe.py:78) 3",
    f"{OBSERVE};Logger.info (logging/__init__.py:1489);_splitext (<frozen genericpath>:138) 7",
    f"{OBSERVE};Monitor.record (monitor.py:125);bin_of (histogram.py:31) 2",
    f"{OBSERVE};BodyLimit.__call__ (marketcache/api/body.py:64)"
    ";HitFastPath.__call__ (marketcache/api/fastpath.py:139)"
    ";Answer.body (marketcache/answer.py:65) 4",
    f"{CYCLE};FastAPI.__call__ (fastapi/applications.py:1222)"
    ";get_tracer_provider (trace/__init__.py:569);_Environ.__getitem__ (<frozen os>:676) 6",
    f"{ROOT};Cache._refresh (marketcache/cache/upkeep.py:40);fetch (ccxt/base/exchange.py:1) 1",
    "_bootstrap (threading.py:1002);Condition.wait (threading.py:327) 9",
]


def test_samples_go_to_their_innermost_layer() -> None:
    counts, total, other_threads = profile.shares(profile.parse_collapsed(LINES))
    assert other_threads == 9
    assert total == sum(counts.values()) == 38
    by_name = {name.split(" (")[0]: n for name, n in counts.items() if n}
    assert by_name == {
        "event loop between callbacks": 10,
        "uvicorn HTTP protocol": 5,
        "observer": 3,
        "request log line": 7,
        "metrics": 2,
        "answer framing": 4,
        "FastAPI/Starlette around our middlewares": 6,
        "background tasks": 1,  # cache/ frames, but outside any request
    }


def test_a_frame_is_split_into_function_and_file() -> None:
    assert profile.file_of("Logger.info (logging/__init__.py:1489)") == "logging/__init__.py"
    assert profile.file_of("<module> (marketcache/__main__.py:5)") == "marketcache/__main__.py"
    assert profile.file_of("weird") == "weird"

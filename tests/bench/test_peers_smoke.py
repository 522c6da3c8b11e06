"""`marketcache bench --peers --smoke` end to end: the report exists and its numbers agree."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson
import pytest

from marketcache.bench.peers.contenders import ENDPOINTS, NAMES
from marketcache.bench.peers.report import OURS, RATIOS
from marketcache.bench.peers.slowloris import KINDS
from marketcache.cli import main

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One smoke run for the module: its JSON report and its PNG."""
    out = tmp_path_factory.mktemp("peers")
    json_path, png_path = out / "peers.json", out / "peers.png"
    code = main(["bench", "--peers", "--smoke", "--json", str(json_path), "--png", str(png_path)])
    assert code == 0
    return orjson.loads(json_path.read_bytes()), png_path


def test_the_report_and_the_plot_are_written(smoke: tuple[dict[str, Any], Path]) -> None:
    report, png = smoke
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["command"].startswith("marketcache bench --peers ")
    assert report["png"] == str(png)
    assert set(report["contenders"]) == set(NAMES)
    assert report["tools"]["wrk"].startswith("wrk ")
    assert report["tools"]["fastapi-cache2 venv"]["fastapi-cache2"] != "missing"


def test_every_cell_ran_every_round(smoke: tuple[dict[str, Any], Path]) -> None:
    report = smoke[0]
    settings = report["settings"]
    cells = {(c["endpoint"], c["connections"], c["contender"]) for c in report["cells"]}
    expected = {(e, n, c) for e in ENDPOINTS for n in settings["connections"] for c in NAMES}
    assert cells == expected
    per_round = len(expected)
    assert len(report["runs"]) == settings["rounds"] * per_round
    # a 1-second run on a loaded machine may complete nothing: no count is required here
    assert any(run["requests"] > 0 for run in report["runs"])
    for run in report["runs"]:
        assert run["status_errors"] == 0  # every answer of a warmed cache is a 2xx
        assert run["rps"] == pytest.approx(run["requests"] / run["elapsed_s"])
        if run["requests"]:
            assert run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
            per_request = 1e6 * run["cpu_s"] / run["requests"]
            assert run["cpu_us_per_request"] == pytest.approx(per_request)
        else:
            assert run["cpu_us_per_request"] is None  # NaN is written as null
    for name in NAMES:  # each contender's own processes did the work of its answers
        assert sum(r["cpu_s"] for r in report["runs"] if r["contender"] == name) > 0


def test_cells_are_medians_of_their_runs(smoke: tuple[dict[str, Any], Path]) -> None:
    report = smoke[0]
    for cell in report["cells"]:
        mine = [
            r
            for r in report["runs"]
            if (r["endpoint"], r["connections"], r["contender"])
            == (cell["endpoint"], cell["connections"], cell["contender"])
        ]
        assert cell["rounds"] == len(mine) == report["settings"]["rounds"]
        assert cell["rps"] == pytest.approx(statistics.median(r["rps"] for r in mine))
        assert cell["p99_ms"] == pytest.approx(statistics.median(r["p99_ms"] for r in mine))
        assert cell["requests"] == sum(r["requests"] for r in mine)
        if all(r["requests"] for r in mine):
            cpu = statistics.median(r["cpu_us_per_request"] for r in mine)
            assert cell["cpu_us_per_request"] == pytest.approx(cpu)


def test_ratios_are_quotients_of_the_cells(smoke: tuple[dict[str, Any], Path]) -> None:
    report = smoke[0]
    rps = {(c["endpoint"], c["connections"], c["contender"]): c["rps"] for c in report["cells"]}
    cpu = {
        (c["endpoint"], c["connections"], c["contender"]): c["cpu_us_per_request"]
        for c in report["cells"]
    }
    assert len(report["ratios"]) == len(ENDPOINTS) * len(report["settings"]["connections"])
    for row in report["ratios"]:
        where = (row["endpoint"], row["connections"])
        for name, peer in RATIOS.items():
            assert row[name] == _quotient(rps[(*where, OURS)], rps[(*where, peer)])
            assert row[f"{name}_by_cpu"] == _quotient(cpu[(*where, peer)], cpu[(*where, OURS)])


def _quotient(a: float | None, b: float | None) -> Any:
    """What the report writes for a / b: null (NaN) without a usable denominator."""
    if a is None or not b:
        return None
    return pytest.approx(a / b)


def test_every_contender_serves_the_same_bytes(smoke: tuple[dict[str, Any], Path]) -> None:
    contenders = smoke[0]["contenders"]
    for endpoint in ENDPOINTS:
        sizes = [c["answer_bytes"][endpoint] for c in contenders.values()]
        # the numbers of the data move with the emulator's clock: a few digits either way
        assert max(sizes) - min(sizes) <= 0.02 * max(sizes)
    assert contenders["fastapi-cache2"]["method"] == "GET"
    assert {c["method"] for n, c in contenders.items() if n != "fastapi-cache2"} == {"POST"}


def test_overload_and_slowloris_add_up(smoke: tuple[dict[str, Any], Path]) -> None:
    report = smoke[0]
    settings = report["settings"]
    assert set(report["overload"]) == set(NAMES)
    for run in report["overload"].values():
        assert run["connections"] == settings["overload_connections"]
        assert run["rps"] == pytest.approx(run["requests"] / run["elapsed_s"])
        assert run["errors"] >= run["timeouts"] >= 0
    recorded = report["overload"][OURS]["recorded_by_the_service"]
    if report["overload"][OURS]["requests"]:
        assert 0 < recorded["p50_ms_at_most"] <= recorded["p99_ms_at_most"]
    assert set(report["slowloris"]) == set(NAMES)
    for probe in report["slowloris"].values():
        for kind, wanted in zip(
            KINDS, (settings["slow_headers"], settings["slow_body"]), strict=True
        ):
            k = probe[kind]
            assert k["connections"] == wanted
            assert (
                k["refused"] + k["closed_by_server"] + k["answered"] + k["still_open_at_end"]
                == wanted
            )
            if k["closed_by_server"] + k["answered"]:
                assert k["cut_after_s"]["min"] <= k["cut_after_s"]["max"] <= k["held_s"] + 1
        assert "ok" in probe["request_meanwhile"]


def test_goals_follow_from_the_values(smoke: tuple[dict[str, Any], Path]) -> None:
    for goal in smoke[0]["goals"]:
        if goal["value"] is None:  # a ratio without a denominator (NaN) meets nothing
            assert goal["met"] is False
            continue
        op, bound = goal["target"].split()[:2]
        value, limit = float(goal["value"]), float(bound)
        expected = {">=": value >= limit, "<=": value <= limit, "==": value == limit}[op]
        assert goal["met"] is expected, goal

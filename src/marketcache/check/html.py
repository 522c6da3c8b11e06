"""The deployment suite's report as one self-contained HTML file, beside its JSON.

The verdict (score, grades, critical failures), a plot of the latencies measured
(cold against warm per market endpoint, and the bursts, with the 200 ms target),
every test with its measured value, target and result, and the rubric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketcache.check.rubric import WARM_P95_TARGET_MS
from marketcache.dashboard.page import document, escape, figure_png, png_img, styled, table

STATUS_CLASS = {"pass": "good", "fail": "bad", "error": "bad", "n/a": "dim"}


def latencies(tests: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"endpoints": {path: {"cold": p, "warm": p}}, "bursts": [(clients, p)]}` of p50/p95s."""
    endpoints: dict[str, dict[str, dict[str, float]]] = {}
    bursts: list[tuple[int, dict[str, float]]] = []
    for test in tests:
        data = test.get("data") or {}
        for phase in ("cold", "warm"):
            summary = data.get(phase)
            if isinstance(summary, dict) and summary.get("p95") is not None:
                path = test["name"].rsplit(" ", 1)[-1]
                endpoints.setdefault(path, {})[phase] = summary
        summary = data.get("latency")
        if "clients" in data and isinstance(summary, dict) and summary.get("p95") is not None:
            bursts.append((int(data["clients"]), summary))
    return {"endpoints": endpoints, "bursts": sorted(bursts, key=lambda b: b[0])}


def plot(found: dict[str, Any]) -> bytes | None:
    """Cold and warm p50/p95 per endpoint, and p95 per burst size; None with nothing measured."""
    endpoints, bursts = found["endpoints"], found["bursts"]
    if not endpoints and not bursts:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_endpoint, by_burst) = plt.subplots(1, 2, figsize=(13, 4.8))
    paths = sorted(endpoints)
    width = 0.2
    bars = (
        ("cold", "p50", "#f2a3a3"),
        ("cold", "p95", "#c62828"),
        ("warm", "p50", "#a9bff0"),
        ("warm", "p95", "#2f5bd3"),
    )
    for offset, (phase, stat, color) in enumerate(bars):
        xs = [i + (offset - 1.5) * width for i in range(len(paths))]
        values = [endpoints[p].get(phase, {}).get(stat) or 0.0 for p in paths]
        by_endpoint.bar(xs, values, width, color=color, label=f"{phase} {stat}")
    by_endpoint.set_xticks(range(len(paths)), paths, fontsize=8)
    by_endpoint.set_yscale("log")
    by_endpoint.set_ylabel("ms (log scale)")
    by_endpoint.set_title("latency per endpoint: cold against warm")
    by_endpoint.axhline(
        WARM_P95_TARGET_MS, color="grey", linestyle="--", linewidth=1, label="warm p95 target"
    )
    by_endpoint.legend(fontsize=8, loc="upper right")
    by_endpoint.grid(True, axis="y", which="both", alpha=0.3)
    if bursts:
        clients = [str(c) for c, _ in bursts]
        for stat, color in (("p50", "#a9bff0"), ("p95", "#2f5bd3"), ("p99", "#7b3fc4")):
            by_burst.plot(clients, [s.get(stat) for _, s in bursts], "o-", color=color, label=stat)
    by_burst.axhline(
        WARM_P95_TARGET_MS, color="#c62828", linestyle="--", linewidth=1, label="p95 target"
    )
    by_burst.set_xlabel("concurrent clients")
    by_burst.set_ylabel("ms")
    by_burst.set_ylim(bottom=0)
    by_burst.set_title("bursts")
    by_burst.legend(fontsize=8)
    by_burst.grid(True, alpha=0.3)
    figure.tight_layout()
    return figure_png(figure)


def render(report: dict[str, Any]) -> str:
    """The page for a report as `Report.to_json` makes it."""
    service = report.get("service") or {}
    passed = report.get("passed")
    score = report.get("score")
    verdict = styled("PASS: ready for cutover", "good") if passed else styled("FAIL", "bad")
    sections = [
        f"<p>{escape(report.get('url'))} · service {escape(service.get('service'))} "
        f"{escape(service.get('version'))} · mode {escape(report.get('mode'))} · "
        f"cold samples: {escape(report.get('cold_mode'))} · started "
        f"{escape(report.get('started_at'))} · took {escape(report.get('duration_s'))} s</p>",
        f"<p><strong>{verdict.html}</strong> · score "
        f"{escape('-' if score is None else f'{score:.1f} %')} · performance grade "
        f"{escape(report.get('performance_grade'))} · reliability grade "
        f"{escape(report.get('reliability_grade'))} · "
        + escape(", ".join(f"{n} {k}" for k, n in (report.get("counts") or {}).items()))
        + "</p>",
    ]
    critical = report.get("critical_failures") or []
    sections.append(
        "<p>Critical failures: "
        + (styled(", ".join(critical), "bad").html if critical else "none")
        + "</p>"
    )
    png = plot(latencies(report.get("tests") or []))
    if png is not None:
        sections.append("<h2>Latency</h2>")
        sections.append(png_img(png, "cold and warm latency per endpoint, and the bursts"))
    sections.append("<h2>Every test</h2>")
    rows = []
    for index, test in enumerate(report.get("tests") or [], 1):
        status = str(test.get("status"))
        label = status.upper() + (
            " CRITICAL" if test.get("critical") and status in ("fail", "error") else ""
        )
        rows.append(
            (
                index,
                test.get("category"),
                test.get("name"),
                test.get("measured"),
                test.get("target"),
                styled(label, STATUS_CLASS.get(status, "")),
                test.get("details"),
            )
        )
    sections.append(
        table(
            ("#", "category", "test", "measured", "target", "status", "details"), rows, numeric=(0,)
        )
    )
    sections.append("<h2>Rubric</h2>")
    sections.append(f"<pre>{escape(report.get('rubric'))}</pre>")
    return document("marketcache deployment test suite", sections)


def write_html(path: Path, report: dict[str, Any]) -> Path:
    """Write the page for `report` (see `Report.to_json`); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path

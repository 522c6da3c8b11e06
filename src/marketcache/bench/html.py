"""The A/B report as one self-contained HTML file, beside its JSON: tables and the plot inside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketcache.bench.report import _fmt, _rows
from marketcache.dashboard.page import document, escape, png_img, styled, table

RUN_KEYS = ("created_at", "layout_note", "settings", "workload", "machine", "notes")


def render(report: dict[str, Any], png: bytes | None) -> str:
    """The page: what was run, both sides and their ratios, the targets, the plot."""
    settings = report["settings"]
    title = (
        f"marketcache bench: {settings['users']} users, {settings['duration_s']:g} s per side, "
        f"{report['layout']}, exchange latency {settings['latency_ms']:g}"
        f"±{settings['jitter_ms']:g} ms"
    )
    sections = []
    command = report.get("command")
    if command:
        sections.append(f"<p><code>$ {escape(command)}</code></p>")
    sections.append("<h2>Uncached against cached</h2>")
    sections.append(
        table(
            ("metric", "uncached", "cached", "cached vs uncached"),
            _rows(report),
            numeric=(1, 2, 3),
        )
    )
    sections.append("<h2>Deployment checklist targets</h2>")
    sections.append(
        table(
            ("criterion", "target", "measured", "met"),
            (
                (
                    item["name"],
                    item["target"],
                    f"{_fmt(item['measured'])} {item['unit']}".strip(),
                    styled("yes", "good") if item["met"] else styled("NO", "bad"),
                )
                for item in report["targets"]
            ),
            numeric=(2,),
        )
    )
    if png is not None:
        sections.append("<h2>Latency and upstream requests</h2>")
        sections.append(png_img(png, "latency distributions and upstream requests per second"))
    run = {key: report[key] for key in RUN_KEYS if key in report}
    sections.append("<h2>The run</h2>")
    sections.append(table(("what", "value"), _flat(run).items()))
    return document(title, sections)


def _flat(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as `a.b` keys."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = f"{value:.4g}" if isinstance(value, float) else value
    return out


def write_html(path: Path, report: dict[str, Any], png_path: Path | None) -> Path:
    """Write the page (the PNG at `png_path` embedded when it exists); returns `path`."""
    png = png_path.read_bytes() if png_path is not None and png_path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report, png), encoding="utf-8")
    return path

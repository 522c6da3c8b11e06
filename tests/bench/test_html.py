"""The A/B report's HTML page: self-contained, with the tables and the plot inside."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from marketcache.bench.html import write_html
from marketcache.bench.plot import write_png
from tests.bench.test_report import report

PNG = b"\x89PNG\r\n\x1a\n"


def embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_the_page_holds_tables_and_plot(tmp_path: Path) -> None:
    built = report()
    built["command"] = "marketcache bench --smoke <&>"
    png = write_png(tmp_path / "ab.png", built, {"uncached": [], "cached": []})
    page = write_html(tmp_path / "ab.html", built, png).read_text()
    assert page.startswith("<!doctype html>")
    for text in ("uncached", "latency p95 (ms)", "hit rate", "&lt; 400 MB", "upstream requests"):
        assert text in page, text
    assert "marketcache bench --smoke &lt;&amp;&gt;" in page
    assert [p[:8] for p in embedded_pngs(page)] == [PNG]
    assert embedded_pngs(page)[0] == png.read_bytes()
    # met targets say yes, missed ones NO
    assert page.count(">yes<") + page.count(">NO<") == len(built["targets"])


def test_the_page_loads_nothing(tmp_path: Path) -> None:
    built = report()
    png = write_png(tmp_path / "ab.png", built, {"uncached": [], "cached": []})
    page = write_html(tmp_path / "ab.html", built, png).read_text()
    assert "<script" not in page
    assert "<link" not in page
    assert re.findall(r'(?:src|href)="([^"]*)"', page) == [
        f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"
    ]


def test_without_a_plot_the_page_still_has_its_tables(tmp_path: Path) -> None:
    page = write_html(tmp_path / "ab.html", report(), tmp_path / "missing.png").read_text()
    assert embedded_pngs(page) == []
    assert "deployment checklist targets".lower() in page.lower()

"""Self-contained HTML documents for sharing a run (`marketcache bench`, `marketcache check`).

One file that opens anywhere, offline: styles inline, plots embedded as base64 PNG,
system fonts, no script and no link to anything.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1d2330; margin: 0 auto; padding: 16px; max-width: 1200px; font-size: 15px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6ec;
  vertical-align: top; }
th { color: #667085; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
img { max-width: 100%; height: auto; }
.good { color: #1a7f37; font-weight: 600; } .bad { color: #c62828; font-weight: 600; }
.dim { color: #667085; } code, pre { font-size: 0.85rem; white-space: pre-wrap; }
"""


@dataclass(frozen=True, slots=True)
class Raw:
    """HTML made here, put in as it is (everything else is escaped)."""

    html: str


def escape(value: Any) -> str:
    """Text for HTML (None as a dash; `Raw` as it is)."""
    if isinstance(value, Raw):
        return value.html
    return "–" if value is None else html.escape(str(value))


def styled(text: Any, css: str) -> Raw:
    """`text` in a span of class `css`."""
    return Raw(f'<span class="{html.escape(css)}">{escape(text)}</span>')


def document(title: str, sections: Iterable[str]) -> str:
    """A whole page: `<head>` with the inline style, then the sections."""
    body = "\n".join(sections)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def png_img(png: bytes, alt: str) -> str:
    """An `<img>` carrying the PNG itself."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def figure_png(figure: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[int] = (),
) -> str:
    """A table; columns whose index is in `numeric` are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(v)}</td>' if i in numeric else f"<td>{escape(v)}</td>"
            for i, v in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div>"
    )

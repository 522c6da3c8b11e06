"""CACHE_IMPLEMENTATION_GUIDE.md's settings table is every setting of config.py, no more."""

from __future__ import annotations

import re
from pathlib import Path

from marketcache.config import Settings

GUIDE = Path(__file__).resolve().parents[2] / "CACHE_IMPLEMENTATION_GUIDE.md"


def guide_settings() -> set[str]:
    """The names in the `### Every setting` table's setting column."""
    text = GUIDE.read_text()
    table = text.split("### Every setting", 1)[1].split("\n### ", 1)[0]
    names: set[str] = set()
    for row in table.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`"):
            names.update(re.findall(r"`([A-Z0-9_]+)`", cells[1]))
    return names


def test_the_guide_lists_every_setting_and_only_those() -> None:
    declared = {name.upper() for name in Settings.model_fields}
    listed = guide_settings()
    assert declared - listed == set(), "settings the guide does not list"
    assert listed - declared == set(), "settings the guide lists that do not exist"

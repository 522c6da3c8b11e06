"""The process's memory limit: the container's cgroup limit when there is one, else a setting.

cgroup v2 writes the limit in `memory.max` ("max" when there is none); cgroup v1
in `memory/memory.limit_in_bytes`, where "no limit" is a huge number (about
2^63 rounded to a page). Anything of 2^60 bytes or more is read as no limit.
Without a readable limit, `MEMORY_LIMIT_MB` (default 512, the checklist's
figure) is the limit. The files are small: they are read at every report, so
a limit changed at run time is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CGROUP_ROOT = Path("/sys/fs/cgroup")
V2_FILE = "memory.max"
V1_FILE = "memory/memory.limit_in_bytes"
NO_LIMIT_BYTES = 1 << 60  # at or above: the kernel's way of saying "unlimited"
MB = 1024 * 1024

LimitSource = Literal["cgroup", "setting"]


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    """A memory limit in bytes and where it came from."""

    bytes: int
    source: LimitSource

    @property
    def mb(self) -> float:
        """The limit in MiB."""
        return self.bytes / MB


def parse_limit(text: str) -> int | None:
    """The limit in a cgroup file's text, or None for "max", a huge value or junk."""
    value = text.strip()
    if value == "max":
        return None
    try:
        limit = int(value)
    except ValueError:
        return None
    return limit if 0 < limit < NO_LIMIT_BYTES else None


def cgroup_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The cgroup's memory limit in bytes (v2 first, then v1), or None when there is none."""
    for name in (V2_FILE, V1_FILE):
        try:
            text = (root / name).read_text()
        except OSError:
            continue
        return parse_limit(text)
    return None


class MemoryLimitReader:
    """Reads the limit each time it is called: the cgroup's, else `setting_mb`."""

    def __init__(self, setting_mb: float, root: Path | None = None) -> None:
        if setting_mb <= 0:
            raise ValueError("the memory limit setting must be > 0")
        self.setting_bytes = int(setting_mb * MB)
        self.root = root if root is not None else CGROUP_ROOT

    def __call__(self) -> MemoryLimit:
        """The limit that applies now."""
        found = cgroup_limit(self.root)
        if found is not None:
            return MemoryLimit(found, "cgroup")
        return MemoryLimit(self.setting_bytes, "setting")

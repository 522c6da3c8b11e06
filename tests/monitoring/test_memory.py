"""The memory limit: the cgroup's (v2, then v1) when there is one, else the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketcache.monitoring.memory import (
    MB,
    MemoryLimit,
    MemoryLimitReader,
    cgroup_limit,
    parse_limit,
)

V1_UNLIMITED = "9223372036854771712\n"  # what cgroup v1 writes when there is no limit


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("536870912\n", 536870912),
        ("max\n", None),
        (V1_UNLIMITED, None),
        (str(1 << 60), None),
        ("0", None),
        ("junk", None),
        ("", None),
    ],
)
def test_parse_limit(text: str, expected: int | None) -> None:
    assert parse_limit(text) == expected


def test_cgroup_v2_limit(tmp_path: Path) -> None:
    write(tmp_path, "memory.max", "268435456\n")
    assert cgroup_limit(tmp_path) == 256 * MB
    assert MemoryLimitReader(512, tmp_path)() == MemoryLimit(256 * MB, "cgroup")


def test_cgroup_v2_without_a_limit_falls_back_to_the_setting(tmp_path: Path) -> None:
    write(tmp_path, "memory.max", "max\n")
    assert cgroup_limit(tmp_path) is None
    assert MemoryLimitReader(512, tmp_path)() == MemoryLimit(512 * MB, "setting")


def test_cgroup_v1_limit(tmp_path: Path) -> None:
    write(tmp_path, "memory/memory.limit_in_bytes", "1073741824\n")
    limit = MemoryLimitReader(512, tmp_path)()
    assert limit == MemoryLimit(1024 * MB, "cgroup")
    assert limit.mb == 1024.0


def test_cgroup_v1_unlimited_falls_back_to_the_setting(tmp_path: Path) -> None:
    write(tmp_path, "memory/memory.limit_in_bytes", V1_UNLIMITED)
    assert MemoryLimitReader(300, tmp_path)() == MemoryLimit(300 * MB, "setting")


def test_no_cgroup_files_falls_back_to_the_setting(tmp_path: Path) -> None:
    assert MemoryLimitReader(512, tmp_path / "absent")() == MemoryLimit(512 * MB, "setting")


def test_a_limit_set_at_run_time_is_seen(tmp_path: Path) -> None:
    reader = MemoryLimitReader(512, tmp_path)
    assert reader().source == "setting"
    write(tmp_path, "memory.max", str(400 * MB))
    assert reader() == MemoryLimit(400 * MB, "cgroup")


def test_the_setting_must_be_positive() -> None:
    with pytest.raises(ValueError, match="> 0"):
        MemoryLimitReader(0)

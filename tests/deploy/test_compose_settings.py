"""docker-compose takes every setting from `.env`, with the defaults `.env.example` lists.

Runs in plain `make test` (no Docker needed).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / "docker-compose.offline.yml"]
# set per service or by the offline override rather than from .env
PER_SERVICE = {"HOST", "PORT", "NO_CACHE", "REDIS_URL", "EXCHANGE_URL", "TRUSTED_PROXIES"}
# read by docker-compose itself, not interpolated
COMPOSE_OWN = {"COMPOSE_PROJECT_NAME", "COMPOSE_FILE"}


def example_settings() -> dict[str, str]:
    """NAME -> default of every line of .env.example; a commented-out one is unset ("")."""
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(#?)\s*([A-Z][A-Z0-9_]+)=(\S*)", line)
        if match:
            found[match.group(2)] = "" if match.group(1) else match.group(3)
    return found


def interpolated() -> dict[str, str]:
    """NAME -> default of every ${NAME:-default} in the compose files."""
    found: dict[str, str] = {}
    for path in COMPOSE_FILES:
        for name, default in re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", path.read_text()):
            found[name] = default
    return found


def service_section() -> set[str]:
    """The settings .env.example lists for the service itself (before the compose part)."""
    text = (ROOT / ".env.example").read_text().split("# --- docker-compose")[0]
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_service_setting_reaches_both_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("market-data", "market-data-cached"):
        environment = set(compose["services"][service]["environment"])
        missing = service_section() - PER_SERVICE - environment
        assert not missing, (service, missing)


def test_every_compose_variable_is_in_env_example_with_its_default() -> None:
    listed = example_settings()
    for name, default in interpolated().items():
        assert name in listed, f"{name} is not in .env.example"
        assert listed[name] == default, (name, listed[name], default)


def test_the_stack_settings_are_all_used() -> None:
    text = (ROOT / ".env.example").read_text().split("# --- docker-compose")[1]
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    unused = names - COMPOSE_OWN - set(interpolated())
    assert not unused, unused


def test_the_two_services_share_one_image_and_the_cached_one_has_its_limits() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["market-data"]["image"] == services["market-data-cached"]["image"]
    cached = services["market-data-cached"]
    assert cached["container_name"] == "crypto-market-data-cached"
    assert cached["mem_limit"] == "${CACHED_MEM_LIMIT:-512m}"
    assert cached["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "--no-cache" in services["market-data"]["command"]
    offline = yaml.safe_load((ROOT / "docker-compose.offline.yml").read_text())["services"]
    assert all("healthcheck" in s for s in services.values())
    assert "healthcheck" in offline["exchange"]

"""tests/deploy runs only under `make test-deploy` (it needs the Docker stack it sets up)."""

from __future__ import annotations

import os

# Plain `make test` / `pytest` collects everything else and skips this folder entirely.
collect_ignore_glob = [] if os.environ.get("MARKETCACHE_TEST_DEPLOY") == "1" else ["test_*.py"]

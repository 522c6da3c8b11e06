"""The deployment checklist's figures that more than one part of the package uses."""

from __future__ import annotations

WARM_P95_TARGET_MS = 200.0  # "Response Time: < 200ms for 95% of cached requests"

"""The answer bytes every contender serves, one file per endpoint in PEERS_PAYLOAD_DIR.

Standard library only: the fastapi-cache2 app imports it from its own venv.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PEERS_PAYLOAD_DIR"


def file_of(directory: Path, path: str) -> Path:
    """The file holding the answer of `path` (`/price` -> `price.json`)."""
    return directory / f"{path.strip('/')}.json"


def write(directory: Path, answers: dict[str, bytes]) -> None:
    """Store each endpoint's answer bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    for path, body in answers.items():
        file_of(directory, path).write_bytes(body)


def load() -> dict[str, bytes]:
    """Every endpoint's answer bytes from the directory named by PEERS_PAYLOAD_DIR."""
    directory = Path(os.environ[ENV])
    return {f"/{file.stem}": file.read_bytes() for file in sorted(directory.glob("*.json"))}

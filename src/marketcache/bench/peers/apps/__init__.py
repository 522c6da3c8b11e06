"""The peers' apps: a raw ASGI ceiling and FastAPI + fastapi-cache2 (run in its own venv)."""

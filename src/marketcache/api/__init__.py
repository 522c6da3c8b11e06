"""The HTTP API: FastAPI app, routes, request schemas, error responses."""

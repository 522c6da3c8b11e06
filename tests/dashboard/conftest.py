"""The in-process app harness of the API tests, for the dashboard's routes."""

from tests.api.conftest import harness, make_harness

__all__ = ["harness", "make_harness"]

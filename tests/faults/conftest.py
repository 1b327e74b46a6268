"""The fault tests' shared fixture: real gunicorn servers, stopped after each test."""

from tests.faults.gunicorn import start_server  # noqa: F401  (a fixture, found by name)

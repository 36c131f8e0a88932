"""Fixtures for tests against local emulators (all bound to 127.0.0.1, started and stopped here)."""

from moto_server import moto_endpoint  # noqa: F401 - re-exported as a fixture

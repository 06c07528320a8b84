"""Fixtures of the cloudos_health integration tests (see health_helpers.py)."""

from tests.integration.health.health_helpers import alertmanager, blackhole, fixtures, prometheus  # noqa: F401  pylint: disable=unused-import

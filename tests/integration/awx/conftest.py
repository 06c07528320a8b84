"""Fixtures of the AWX tests (tests/integration/awx/runner_helpers.py)."""

from tests.integration.awx.runner_helpers import alertmanager, awx_fleet, installed  # noqa: F401  pylint: disable=unused-import

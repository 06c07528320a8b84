"""Fixtures of the weekly maintenance playbook tests (see maint_helpers.py)."""

from tests.integration.maintenance.maint_helpers import fleet, maintenance_fleet  # noqa: F401  pylint: disable=unused-import

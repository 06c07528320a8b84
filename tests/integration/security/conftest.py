"""Fixtures of the security check integration tests: a real Alertmanager on 127.0.0.1."""

from __future__ import annotations

from tests.integration.alertmanager.am_helpers import alertmanager  # noqa: F401  pylint: disable=unused-import

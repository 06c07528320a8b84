"""Fixtures of the Alertmanager integration tests: a real Alertmanager and nginx on 127.0.0.1.

The fixtures and helpers live in ``am_helpers.py`` (importable by the test modules too).
"""

from __future__ import annotations

from tests.integration.alertmanager.am_helpers import alertmanager, pki, proxy  # noqa: F401  pylint: disable=unused-import

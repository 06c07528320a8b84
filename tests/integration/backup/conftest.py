"""Fixtures of the backup integration tests (they live in ``bk_helpers.py``)."""

from __future__ import annotations

from tests.integration.backup.bk_helpers import engine, tmpfs  # noqa: F401  pylint: disable=unused-import

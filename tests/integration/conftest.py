"""Integration tests: shared helpers live in tests/integration/lib.py (import them from there)."""

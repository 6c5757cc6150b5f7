"""Integration tests: real services; fixtures live in tests/conftest.py and tests/services.py."""

"""Bybit v5 adapters."""

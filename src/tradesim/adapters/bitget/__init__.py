"""Bitget v2 adapters."""

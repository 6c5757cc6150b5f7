"""Bitget v2: the public WebSocket feed (`feed`, `parse`)."""

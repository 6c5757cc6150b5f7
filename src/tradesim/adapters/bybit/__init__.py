"""Bybit v5: the public WebSocket feed (`feed`, `parse`)."""

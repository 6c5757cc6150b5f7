"""Bybit v5: the public WebSocket feed (`feed`, `parse`) and the kline history client (`rest`)."""

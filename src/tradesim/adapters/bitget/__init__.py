"""Bitget v2: the public WebSocket feed (`feed`, `parse`) and the candle history client (`rest`)."""

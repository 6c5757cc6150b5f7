"""The WebSocket: Bybit-shaped pushes of tickers and of each user's order, execution, position
and wallet events and refused commands."""

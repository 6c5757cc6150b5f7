"""What every exchange WebSocket feed shares: the connection loop, backoff, counters, ordering.

A venue package (`adapters/bybit`, `adapters/bitget`) supplies a `Dialect`: the frames to
send (subscriptions, pings) and a pure-ish decoder from received frames to domain events.
`WebSocketFeed` owns the I/O: connect, subscribe, heartbeat, detect a silent connection,
reconnect with backoff, and mark the symbols stale while prices are not flowing.
"""

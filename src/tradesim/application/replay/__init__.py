"""Bar Replay: sessions that play stored candles through a matching engine of their own.

- `cache.BarCache`: days of bars in memory, shared by every session of a process.
- `timeline.Timeline`: one symbol's stored bars in time order, across days and gaps.
- `active.ActiveReplay`: one loaded session (engine, replay clock, position), persisted as it plays.
- `runner.ReplayRunner`: owns many sessions in a process (`serve`, or a worker), paces them, leases them.
- `service.ReplayService`: what the api calls (create, get, control), with typed errors.
- `routing.ReplayCommandRouter`: sends a queued order command to its session when its account is a replay's.
"""

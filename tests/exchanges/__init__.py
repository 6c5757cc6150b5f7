"""Protocol-faithful Bybit v5 and Bitget v2 public WebSocket servers on loopback, for tests and benchmarks.

They speak the venues' wire formats (../shared/protocols/): acks and pongs in the exact
shapes, snapshots on subscribe then deltas, the venues' limits (Bybit spot: 10 args per
request; Bitget: 10 messages per second, a ping at least every so often, a forced daily
disconnect), and they can misbehave on demand: disconnect, stall silently, send garbage.
"""

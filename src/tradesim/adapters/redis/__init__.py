"""Redis adapters: the price bus (pub/sub, `price_bus` + `market_codec`), account events (pub/sub),
the order queue (Streams) and partition leases."""

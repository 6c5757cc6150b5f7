"""Redis adapters: pub/sub for prices and account events, Streams for the order queue, leases."""

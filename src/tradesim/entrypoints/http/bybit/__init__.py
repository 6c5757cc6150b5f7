"""The Bybit v5-compatible api: `/v5/...` REST and the `/v5/private` and `/v5/public/{linear,spot}`
sockets on the api's own port, so that a bot written for Bybit (pybit, ccxt, raw HTTP) trades a
tradesim account by changing only its base URL and keys. `setup.register` takes it into the app.

A translation layer: each view reads Bybit's parameters, calls the same use cases as `/api/v1`
(one order path, one set of rules) and answers Bybit's envelope and records.
"""

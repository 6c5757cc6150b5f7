"""Ports: the interfaces (typing.Protocol) between the application and the outside world.

Every port has an in-memory adapter in `tradesim.adapters.memory` and a contract test suite
(`tests/contract/`) that each of its adapters must pass.
"""

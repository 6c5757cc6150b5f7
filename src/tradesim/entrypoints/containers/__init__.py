"""Dependency-injector containers, one per role; `tradesim.entrypoints.container` composes them."""

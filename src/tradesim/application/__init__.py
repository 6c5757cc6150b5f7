"""Use cases: what the api and the worker do, written against ports only."""

"""In-memory adapters of every port: for unit tests, the library, and `serve` where it fits."""

"""The `tradesim` command line."""

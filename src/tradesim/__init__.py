"""tradesim: a trading simulator whose domain core is usable on its own."""

__version__ = "0.1.0"

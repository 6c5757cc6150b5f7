"""The strategies tradesim ships, one folder each in Jesse's layout (``NAME/__init__.py`` with ``class NAME``).

They are loaded from their folders by `tradesim.adapters.jesse.catalogue`, like an operator's own.
"""

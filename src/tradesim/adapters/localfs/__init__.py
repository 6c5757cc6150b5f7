"""Object storage in a local folder (`file://` URLs): the embedded default of `tradesim serve`."""

"""URL converters: a path id that is not shaped like an id never reaches a handler (it is a 404)."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

ID_PATTERN = r"[A-Za-z0-9_.:\-]{1,64}"


class IdConverter(BaseConverter):
    regex = ID_PATTERN


class SymbolConverter(BaseConverter):
    regex = r"[A-Z0-9]{2,20}"

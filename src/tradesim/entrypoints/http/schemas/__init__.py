"""Wire formats: attrs classes validated and documented by quart-schema (msgspec backend).

Field names are the JSON names (camelCase, as Bybit v5 spells them): these classes are the wire
format and nothing else, so they carry no aliasing layer. Domain classes never go on the wire;
`presenters.py` turns them into these.
"""

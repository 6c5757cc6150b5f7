"""JSON for domain commands and events crossing a process boundary (queue, event bus).

One cattrs converter with explicit hooks: decimals travel as strings (never floats), enums as
their wire values, unions carry a ``type`` tag, and a typed error travels as its class name,
code and message so the receiver gets the same error class back.

Events without an error in them are read back by msgspec (`msgspec.convert` to the event's attrs
class, once the tag named it): the same objects from the same plain values, in one C call where
cattrs' generated code calls a Python hook per decimal and enum (an api process reads an event
per fill it pushes).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, get_args, get_type_hints

import cattrs
import msgspec
from cattrs.strategies import configure_tagged_union

from tradesim.domain import errors as domain_errors
from tradesim.domain.commands import Command
from tradesim.domain.events import EngineEvent
from tradesim.domain.numbers import to_decimal
from tradesim.ports import errors as port_errors


def _error_classes() -> dict[str, type[domain_errors.TradesimError]]:
    found: dict[str, type[domain_errors.TradesimError]] = {}
    for module in (domain_errors, port_errors):
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, domain_errors.TradesimError):
                found[name] = value
    return found


_ERRORS = _error_classes()


def _is_error(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, domain_errors.TradesimError)


def _holds_error(event_class: type) -> bool:
    return any(_is_error(hint) for hint in get_type_hints(event_class).values())


def _unstructure_error(error: domain_errors.TradesimError) -> dict[str, str]:
    return {"class": type(error).__name__, "code": error.code, "message": error.message}


def _structure_error(data: dict[str, str], _: type) -> domain_errors.TradesimError:
    cls = _ERRORS.get(data.get("class", ""), domain_errors.TradesimError)
    return cls(data.get("message", ""))


def make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, lambda value, _: to_decimal(value))
    converter.register_unstructure_hook_func(_is_error, _unstructure_error)
    converter.register_structure_hook_func(_is_error, _structure_error)
    configure_tagged_union(Command, converter, tag_name="type")
    configure_tagged_union(EngineEvent, converter, tag_name="type")
    return converter


class Codec:
    """Bytes in and out; build one per adapter (the converter is not shared global state).

    cattrs turns objects into plain values and back; msgspec writes and reads the JSON text, in
    one C call each (every event and command between processes crosses here).
    """

    def __init__(self) -> None:
        self._converter = make_converter()
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()
        self._event_classes: dict[str, type[EngineEvent]] = {cls.__name__: cls for cls in get_args(EngineEvent)}
        #: The events msgspec reads (its own types all through); those with an error go through cattrs.
        self._plain_events = frozenset(cls for cls in get_args(EngineEvent) if not _holds_error(cls))

    def encode_command(self, command: Command) -> bytes:
        return self._dumps(self._converter.unstructure(command, Command))

    def decode_command(self, data: bytes | str) -> Command:
        return self._converter.structure(self._decoder.decode(data), Command)  # type: ignore[arg-type]

    def encode_events(self, events: list[EngineEvent]) -> bytes:
        return self._dumps([self._converter.unstructure(e, EngineEvent) for e in events])

    def decode_events(
        self, data: bytes | str, keep: Callable[[type[EngineEvent]], bool] | None = None
    ) -> list[EngineEvent]:
        """The events of `data`; with `keep`, only those of the kinds it accepts, the others left
        unbuilt (building an event's objects costs far more than reading its JSON)."""
        events: list[EngineEvent] = []
        for item in self._decoder.decode(data):
            cls = self._event_class(item)
            if keep is not None and not keep(cls):
                continue
            if cls in self._plain_events:  # the tag is a key no attrs field has: msgspec leaves it
                events.append(msgspec.convert(item, cls))
            else:
                events.append(self._converter.structure(item, EngineEvent))  # type: ignore[arg-type]
        return events

    def _event_class(self, item: Any) -> type[EngineEvent]:
        try:
            return self._event_classes[item["type"]]
        except (TypeError, KeyError):
            raise ValueError(f"not an engine event: {str(item)[:100]}") from None

    def _dumps(self, value: Any) -> bytes:
        return self._encoder.encode(value)

"""The captured exchange messages under ../shared/data, enumerated one by one with where they came from.

Every file under `bybit-samples/` and `bitget-samples/` is listed (see SOURCES.md there):
WebSocket messages the exchange sent (`received`), requests a client sent (`request`, in
the docs examples), and REST responses (`rest`, which the history client reads, not the
feed). Messages that arrive together (a JSON-lines capture, a docs example's ack and push)
form one group, in capture order, so a test can feed them through one connection's state.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

#: Dated and perpetual inverse contracts (BTCUSD, BTCUSDU23, XRPUSD): quoted in USD, margined in coin.
INVERSE_SYMBOL = re.compile(r"^[A-Z]+USD([FGHJKMNQUVXZ]\d\d)?$")
#: SOURCES.md: all_v5_messages.jsonl holds 15 derivatives messages, then 6 spot messages.
BYBIT_JSONL_DERIVATIVES = 15


@attrs.frozen
class Sample:
    source: str  # path under shared/data, with #line or :key
    message: Any
    role: str  # received | request | rest
    category: str | None = None  # Bybit: the connection it came from (linear, spot, inverse, option, private)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _bybit_category(message: dict[str, Any], default: str) -> str:
    topic = message.get("topic", "")
    symbol = topic.rsplit(".", 1)[-1] if topic else ""
    return "inverse" if default != "spot" and INVERSE_SYMBOL.match(symbol) else default


def bybit_groups(root: Path) -> Iterator[list[Sample]]:
    """Every message under `root` (= shared/data/bybit-samples)."""
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            continue
        rel = str(path.relative_to(root.parent))
        name = path.name
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    lines = archive.read(member).decode().splitlines()
                    yield [Sample(f"{rel}/{member}#{n}", json.loads(line), "received", "linear")
                           for n, line in enumerate(lines, 1)]  # fmt: skip
        elif name == "all_v5_messages.jsonl":
            group = []
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                message = json.loads(line)
                default = "linear" if n <= BYBIT_JSONL_DERIVATIVES else "spot"
                group.append(Sample(f"{rel}#{n}", message, "received", _bybit_category(message, default)))
            yield group
        elif name.startswith("rest_"):
            yield [Sample(rel, _load(path), "rest")]
        elif name == "ws_control_messages_from_docs.json":
            yield list(_bybit_controls(rel, _load(path)))
        elif "docs-examples" in rel:
            data = _load(path)
            category = "spot" if "_spot_" in name else "linear"
            group = [Sample(f"{rel}:request", r, "request", category) for r in data["request"]]
            group += [Sample(f"{rel}:ack", a, "received", category) for a in data["ack"]]
            group.append(Sample(f"{rel}:push", data["push"], "received", category))
            yield group
        else:  # a single captured message; the file name says which connection it came from
            prefix = name.split("_", 1)[0]
            category = prefix if prefix in ("linear", "inverse", "spot") else "linear"
            yield [Sample(rel, _load(path), "received", category)]


def _bybit_controls(rel: str, data: dict[str, Any]) -> Iterator[Sample]:
    for key, message in data.items():
        if key.startswith("_"):
            continue
        source = f"{rel}:{key}"
        if key.endswith("_request"):
            yield Sample(source, message, "request", "linear")
        elif "spot" in key:
            yield Sample(source, message, "received", "spot")
        elif "option" in key:
            yield Sample(source, message, "received", "option")
        elif "private" in key or key.startswith("auth"):
            yield Sample(source, message, "received", "private")
        else:
            yield Sample(source, message, "received", "linear")


def bitget_groups(root: Path) -> Iterator[list[Sample]]:
    """Every message under `root` (= shared/data/bitget-samples)."""
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            continue
        rel = str(path.relative_to(root.parent))
        name = path.name
        if name == "all_messages.jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            yield [Sample(f"{rel}#{n}", json.loads(line)["msg"], "received") for n, line in enumerate(lines, 1)]
        elif name.startswith("rest_"):
            yield [Sample(rel, _load(path), "rest")]
        elif "docs-examples" in rel:
            data = _load(path)
            group = [Sample(f"{rel}:request", r, "request") for r in data["request"]]
            group += [Sample(f"{rel}:ack", a, "received") for a in data["ack"]]
            group.append(Sample(f"{rel}:push", data["push"], "received"))
            yield group
        else:
            yield [Sample(rel, _load(path), "received")]


def bybit_message(shared: Path, name: str) -> dict[str, Any]:
    """One captured Bybit message by file name (under real-ws-tardis/)."""
    return _load(shared / "bybit-samples" / "real-ws-tardis" / name)  # type: ignore[no-any-return]


def bitget_message(shared: Path, name: str) -> dict[str, Any]:
    return _load(shared / "bitget-samples" / "real-ws-tardis" / name)  # type: ignore[no-any-return]


def docs_push(shared: Path, venue: str, name: str) -> dict[str, Any]:
    """The `push` of a docs example (`venue` is bybit or bitget)."""
    return _load(shared / f"{venue}-samples" / "docs-examples" / name)["push"]  # type: ignore[no-any-return]

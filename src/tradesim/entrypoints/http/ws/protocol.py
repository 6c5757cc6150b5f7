"""The client side of the socket: Bybit v5's `op` messages, parsed and answered."""

from __future__ import annotations

from typing import Any

import msgspec

from tradesim.entrypoints.http.json_depth import JsonTooDeep, check_depth
from tradesim.entrypoints.http.ws.hub import PRIVATE_TOPICS, V5_PRIVATE_TOPICS, encode
from tradesim.entrypoints.http.ws.replay_feed import replay_id_of
from tradesim.entrypoints.http.ws.strategy_run_feed import run_id_of

MAX_TOPICS = 50


class Op(msgspec.Struct, forbid_unknown_fields=False):
    op: str
    args: list[Any] = msgspec.field(default_factory=list)
    req_id: str | None = None


_decoder = msgspec.json.Decoder(Op)


def parse(message: str | bytes) -> Op | str:
    """The op, or why the message is not one."""
    try:
        check_depth(message)
        return _decoder.decode(message)
    except JsonTooDeep as error:
        return f"not a valid op message ({error})"
    except msgspec.DecodeError as error:
        return f'not a valid op message ({error}); send {{"op": "subscribe", "args": [...]}}'


def reply(op: str, conn_id: str, *, success: bool = True, ret_msg: str = "", req_id: str | None = None) -> str:
    """Bybit's answer to an op."""
    message: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn_id, "op": op}
    if req_id is not None:
        message["req_id"] = req_id
    return encode(message)


def invalid_topics(topics: list[Any], symbols: tuple[str, ...]) -> list[str]:
    """The topics of `topics` this socket does not offer (whose owners' topics, `replay.{replayId}` and
    `strategy-run.{runId}`, are checked later)."""
    wanted = {f"tickers.{s}" for s in symbols} | (PRIVATE_TOPICS - V5_PRIVATE_TOPICS)
    return [str(t) for t in topics if not isinstance(t, str) or (t not in wanted and not _owned(t))]


def _owned(topic: str) -> bool:
    return replay_id_of(topic) is not None or run_id_of(topic) is not None

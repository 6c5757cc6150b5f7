"""Liveness and readiness."""

from __future__ import annotations

import attrs


@attrs.frozen
class Alive:
    status: str = "ok"


@attrs.frozen
class Readiness:
    """`checks` maps each dependency to ``ok``, ``not configured`` or what went wrong."""

    status: str
    checks: dict[str, str]

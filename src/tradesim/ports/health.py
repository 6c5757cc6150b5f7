"""Readiness: can this process reach the services it depends on right now."""

from __future__ import annotations

from typing import Protocol


class HealthCheck(Protocol):
    """One dependency (`name`: ``database``, ``redis``...) answering a cheap round trip."""

    name: str

    async def check(self) -> None:
        """Returns when the dependency answers.

        Raises:
            DependencyUnavailable: it is down, refused or timed out.
        """
        ...

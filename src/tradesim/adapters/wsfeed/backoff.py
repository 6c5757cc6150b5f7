"""Reconnect delays: exponential, capped, with jitter so that many clients do not retry in step."""

from __future__ import annotations

import random


class Backoff:
    """`next_delay()` grows initial, 2x, 4x... up to `cap`; each delay is drawn from [d/2, d].

    "Equal jitter" keeps a floor under the delay (a flapping server is never hammered) while
    still spreading clients apart. `reset()` starts again from the initial delay; the first
    delay after a reset is drawn from [0, initial] so that a routine disconnect (Bitget closes
    every connection once a day) costs well under a second.
    """

    def __init__(self, initial: float, cap: float, *, rng: random.Random | None = None) -> None:
        if initial <= 0 or cap < initial:
            raise ValueError(f"backoff needs 0 < initial <= cap, got initial={initial} cap={cap}")
        self._initial = initial
        self._cap = cap
        self._rng = rng or random.Random()
        self._attempt = 0
        self._fresh = True

    @property
    def attempt(self) -> int:
        return self._attempt

    def reset(self) -> None:
        self._attempt = 0
        self._fresh = True

    def next_delay(self) -> float:
        if self._fresh:
            self._fresh = False
            return self._rng.uniform(0, self._initial)
        ceiling = min(self._cap, self._initial * 2**self._attempt)
        self._attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

"""Settling the heap keeps start-up objects out of later collections without leaking garbage."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart

from tradesim.entrypoints.heap import settle_heap, settled_while_serving


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_what_was_alive_when_settled_is_kept_out_of_later_collections() -> None:
    node = _Node()
    alive = weakref.ref(node)
    settle_heap()
    del node
    gc.collect()
    assert alive() is not None  # frozen: no collection visits it, so it stays until the next settle


def test_settling_again_frees_what_an_earlier_settle_kept_and_is_garbage_now() -> None:
    """A worker's engine from before a take-over must not stay in memory for ever."""
    node = _Node()
    alive = weakref.ref(node)
    settle_heap()
    del node
    settle_heap()
    assert alive() is None


async def test_an_app_settles_its_heap_once_it_has_started() -> None:
    app = Quart(__name__)
    started: list[int] = []

    @app.while_serving
    async def starting() -> AsyncIterator[None]:
        started.append(gc.get_freeze_count())  # the app's own start-up runs first
        yield

    app.while_serving(settled_while_serving)
    gc.unfreeze()
    async with app.test_app():
        assert started == [0]
        assert gc.get_freeze_count() > 0

"""Settling the heap keeps start-up objects out of later collections without leaking garbage."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart

from tradesim.entrypoints.heap import GcPauses, settle_heap, settled_while_serving


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


def test_gc_pauses_are_counted_per_generation_while_installed() -> None:
    pauses = GcPauses(buckets=(10.0,))  # one bucket that holds any pause of a test
    pauses.install()
    try:
        gc.collect(1)
        gc.collect(2)
        gc.collect(2)
    finally:
        pauses.uninstall()
    gc.collect(2)
    by_generation = {generation: (cumulative, seconds) for generation, cumulative, seconds in pauses.snapshot()}
    assert by_generation[1][0][-1] >= 1
    assert by_generation[2][0] == [2, 2], "two full collections while installed, none counted after"
    assert by_generation[2][1] > 0
    assert gc.callbacks.count(pauses) == 0


def test_a_pause_lands_in_the_first_bucket_that_holds_it() -> None:
    pauses = GcPauses(buckets=(0.001, 0.01))
    pauses("start", {"generation": 0})
    pauses._started -= 0.005  # as if the collection had begun 5 ms ago
    pauses("stop", {"generation": 0})
    [(_, young, seconds), *_] = pauses.snapshot()
    assert young == [0, 1, 1]
    assert 0.005 <= seconds < 0.1

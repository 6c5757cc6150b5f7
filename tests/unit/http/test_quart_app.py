"""The api's Quart: no cookie session per request, and `ensure_async` asked once per function."""

from __future__ import annotations

import functools

import pytest

from tests.unit.http.conftest import Api
from tradesim.entrypoints.http import quart_app
from tradesim.entrypoints.http.quart_app import NoSessions, TradesimQuart


async def test_requests_get_one_shared_null_session_and_no_cookie(api: Api) -> None:
    assert isinstance(api.app.session_interface, NoSessions)
    first = await api.app.session_interface.open_session(api.app, None)  # type: ignore[arg-type]
    second = await api.app.session_interface.open_session(api.app, None)  # type: ignore[arg-type]
    assert first is second
    assert api.app.session_interface.is_null_session(first)
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


async def test_ensure_async_is_remembered_per_function_and_still_runs_sync_ones() -> None:
    app = TradesimQuart("test")

    def sync() -> int:
        return 5

    async def coroutine() -> int:
        return 6

    assert app.ensure_async(coroutine) is coroutine
    wrapped = app.ensure_async(sync)
    assert app.ensure_async(sync) is wrapped
    assert await wrapped() == 5

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> int:
            return 7

    assert await app.ensure_async(Unhashable())() == 7
    assert await app.ensure_async(functools.partial(sync))() == 5


async def test_functions_made_per_request_are_not_remembered_without_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quart_app, "REMEMBERED_FUNCTIONS", 3)
    app = TradesimQuart("test")
    made = [functools.partial(int, str(n)) for n in range(10)]
    assert [await app.ensure_async(f)() for f in made] == list(range(10))
    assert len(app._async_of) == 3

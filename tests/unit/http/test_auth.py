"""Registration, login, token rotation and revocation; what a bad token gets."""

from __future__ import annotations

import jwt
import pytest
from quart import Quart

from tests.unit.http.conftest import SECRET, Api, api_container
from tradesim.adapters.memory.clock import FixedClock
from tradesim.entrypoints.http.app import ApiOptions, create_app, routes_wired


async def _status(api: Api, path: str, body: dict[str, str]) -> int:
    return (await api.client.post(path, json=body)).status_code


async def test_register_then_login_gives_a_working_pair_of_tokens(api: Api) -> None:
    user = await api.register("Trader@Example.com")
    assert user["email"] == "trader@example.com"
    assert "password" not in str(user).lower()
    tokens = await api.login("trader@example.com")
    assert tokens["expiresIn"] == 900
    assert tokens["tokenType"] == "Bearer"
    response = await api.client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {tokens['accessToken']}"})
    assert response.status_code == 200


async def test_duplicate_email_is_a_409_and_bad_input_a_400(api: Api) -> None:
    await api.register("a@example.com")
    response = await api.client.post("/api/v1/auth/register", json={"email": "A@example.com", "password": "12345678"})
    assert response.status_code == 409
    assert (await response.get_json())["error"]["code"] == "DUPLICATE_EMAIL"
    assert await _status(api, "/api/v1/auth/register", {"email": "nope", "password": "12345678"}) == 400
    assert await _status(api, "/api/v1/auth/register", {"email": "b@example.com", "password": "short"}) == 400


async def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    await api.register("a@example.com")
    wrong = await api.client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "wrong password"})
    unknown = await api.client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert await wrong.get_json() == await unknown.get_json()


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(api: Api) -> None:
    await api.register("a@example.com")
    first = await api.login("a@example.com")
    rotated = await api.client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert rotated.status_code == 200
    second = await rotated.get_json()
    assert second["refreshToken"] != first["refreshToken"]
    # The first refresh token was used already: presenting it again revokes the family...
    reuse = await api.client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reuse.status_code == 401
    assert "already used" in (await reuse.get_json())["error"]["message"]
    # ...so the legitimate latest token is dead too.
    assert await _status(api, "/api/v1/auth/refresh", {"refreshToken": second["refreshToken"]}) == 401
    # Another login is its own family and still works.
    other = await api.login("a@example.com")
    assert await _status(api, "/api/v1/auth/refresh", {"refreshToken": other["refreshToken"]}) == 200


async def test_logout_revokes_the_refresh_token(api: Api) -> None:
    await api.register("a@example.com")
    tokens = await api.login("a@example.com")
    assert await _status(api, "/api/v1/auth/logout", {"refreshToken": tokens["refreshToken"]}) == 204
    assert await _status(api, "/api/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}) == 401


async def test_an_access_token_is_not_a_refresh_token_and_vice_versa(api: Api) -> None:
    await api.register("a@example.com")
    tokens = await api.login("a@example.com")
    assert await _status(api, "/api/v1/auth/refresh", {"refreshToken": tokens["accessToken"]}) == 401
    response = await api.client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {tokens['refreshToken']}"})
    assert response.status_code == 401


def _tampered(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "someone-else"
    forged = jwt.encode(claims, "not-the-secret-" + "y" * 40, algorithm="HS256")
    return ".".join([header, forged.split(".")[1], signature])


@pytest.mark.parametrize("kind", ["missing", "not bearer", "garbage", "tampered", "other key", "none alg", "expired"])
async def test_bad_access_tokens_get_401_in_the_error_shape(api: Api, kind: str) -> None:
    await api.register("a@example.com")
    token = (await api.login("a@example.com"))["accessToken"]
    claims = jwt.decode(token, options={"verify_signature": False})
    headers = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {token}"},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "tampered": {"Authorization": f"Bearer {_tampered(token)}"},
        "other key": {"Authorization": f"Bearer {jwt.encode(claims, 'z' * 48, algorithm='HS256')}"},
        "none alg": {"Authorization": f"Bearer {jwt.encode(claims, None, algorithm='none')}"},
        "expired": {"Authorization": f"Bearer {token}"},
    }[kind]
    if kind == "expired":
        api.clock.advance(15 * 60 * 1000)
    response = await api.client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 401
    body = await response.get_json()
    assert set(body["error"]) == {"code", "message"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_token_used_before_is_still_refused_once_it_expires(api: Api) -> None:
    await api.register("a@example.com")
    headers = {"Authorization": f"Bearer {(await api.login('a@example.com'))['accessToken']}"}
    assert (await api.client.get("/api/v1/accounts", headers=headers)).status_code == 200
    api.clock.advance(15 * 60 * 1000)
    response = await api.client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert "expired" in (await response.get_json())["error"]["message"]


async def test_login_is_rate_limited_per_email_and_per_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    container = api_container(tmp_path, clock=FixedClock(1_700_000_000_000))
    with routes_wired(container):
        app = create_app(container, ApiOptions())
        await _login_is_limited(app)


async def _login_is_limited(app: Quart) -> None:
    async with app.test_app() as test_app:
        client = test_app.test_client()
        body = {"email": "victim@example.com", "password": "guess guess"}
        statuses = [(await client.post("/api/v1/auth/login", json=body)).status_code for _ in range(6)]
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        limited = await client.post("/api/v1/auth/login", json=body)
        assert (await limited.get_json())["error"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["Retry-After"]) > 0
        # Other emails from the same address still get through until the address limit (20 a minute,
        # the 7 attempts above included).
        others = [
            (await client.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x" * 8}))
            for i in range(14)
        ]
        assert [r.status_code for r in others] == [401] * 13 + [429]


def test_the_secret_is_long_enough() -> None:
    assert len(SECRET) >= 32

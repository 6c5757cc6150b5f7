"""/api/v1/api-keys: create (the secret once), list (never the secret), revoke; only the owner's accounts."""

from __future__ import annotations

from tests.unit.http.conftest import Api


async def test_a_key_is_created_for_an_own_account_with_its_secret_shown_once(api: Api) -> None:
    headers = await api.user("alice@example.com")
    account = await api.account(headers)
    response = await api.client.post(
        "/api/v1/api-keys", json={"accountId": account["accountId"], "label": "bot", "readOnly": True}, headers=headers
    )
    assert response.status_code == 201
    created = await response.get_json()
    assert len(created["apiKey"]) == 18
    assert len(created["apiSecret"]) == 36
    assert created["accountId"] == account["accountId"]
    assert (created["label"], created["readOnly"]) == ("bot", True)

    listed = await (await api.client.get("/api/v1/api-keys", headers=headers)).get_json()
    assert [k["apiKeyId"] for k in listed["list"]] == [created["apiKeyId"]]
    assert "apiSecret" not in listed["list"][0]
    assert created["apiSecret"] not in str(listed)
    # Stored sealed: nothing in the store holds the secret in clear.
    stored = api.container.persistence.memory_database().tables.api_keys[created["apiKeyId"]]
    assert created["apiSecret"] not in repr(stored)
    assert created["apiSecret"] not in stored.sealed_secret


async def test_another_users_account_gets_no_key_and_another_user_cannot_see_or_revoke_one(api: Api) -> None:
    alice = await api.user("alice@example.com")
    bob = await api.user("bob@example.com")
    account = await api.account(alice)
    refused = await api.client.post("/api/v1/api-keys", json={"accountId": account["accountId"]}, headers=bob)
    assert refused.status_code == 404
    created = await (
        await api.client.post("/api/v1/api-keys", json={"accountId": account["accountId"]}, headers=alice)
    ).get_json()
    assert (await (await api.client.get("/api/v1/api-keys", headers=bob)).get_json())["list"] == []
    assert (await api.client.delete(f"/api/v1/api-keys/{created['apiKeyId']}", headers=bob)).status_code == 404


async def test_a_revoked_key_is_no_longer_listed_and_cannot_be_revoked_again(api: Api) -> None:
    headers = await api.user("alice@example.com")
    account = await api.account(headers)
    created = await (
        await api.client.post("/api/v1/api-keys", json={"accountId": account["accountId"]}, headers=headers)
    ).get_json()
    revoked = await api.client.delete(f"/api/v1/api-keys/{created['apiKeyId']}", headers=headers)
    assert revoked.status_code == 200
    assert (await revoked.get_json())["apiKey"] == created["apiKey"]
    assert (await (await api.client.get("/api/v1/api-keys", headers=headers)).get_json())["list"] == []
    again = await api.client.delete(f"/api/v1/api-keys/{created['apiKeyId']}", headers=headers)
    assert again.status_code == 404


async def test_a_label_too_long_is_refused_naming_the_field(api: Api) -> None:
    headers = await api.user("alice@example.com")
    account = await api.account(headers)
    response = await api.client.post(
        "/api/v1/api-keys", json={"accountId": account["accountId"], "label": "x" * 65}, headers=headers
    )
    assert response.status_code == 400
    assert "label" in (await response.get_json())["error"]["message"]

"""Strategy deployments on the api: start, read, list and stop one's own; every bad input a named 4xx
that records nothing; someone else's account or deployment a 404."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.http.conftest import Api
from tradesim.domain.strategy_specs import Hyperparameter, StrategySpec

URL = "/api/v1/strategy-deployments"
#: What a worker would have published (the api checks deployments against it, never loading Jesse).
SPECS = [
    StrategySpec(
        "SmaCross", "builtin", (Hyperparameter("fast", "int", 2, 100, 10), Hyperparameter("slow", "int", 5, 400, 30))
    ),
    StrategySpec("DonchianBreakout", "builtin", (Hyperparameter("period", "int", 5, 200, 20),)),
    StrategySpec("Broken", "dir", error="SyntaxError: invalid syntax (line 3)"),
]


@pytest.fixture(autouse=True)
async def published(api: Api) -> None:
    await api.container.strategies.board().publish(SPECS)


async def deploy(api: Api, headers: dict[str, str], **fields: Any) -> Any:
    return await api.client.post(URL, json=fields, headers=headers)


def body(account_id: str, **more: Any) -> dict[str, Any]:
    return {"strategy": "SmaCross", "accountId": account_id, "symbol": "BTCUSDT", "timeframe": "5m", **more}


async def test_a_deployment_starts_running_is_listed_read_and_stopped_by_its_owner(api: Api) -> None:
    alice = await api.user("alice@example.com")
    account = await api.account(alice)
    response = await deploy(api, alice, **body(account["accountId"], hyperparameters={"fast": "5", "slow": 40}))
    assert response.status_code == 201, await response.get_data()
    created = await response.get_json()
    assert created["status"] == "running"
    assert created["hyperparameters"] == {"fast": 5, "slow": 40}
    assert (created["lastDecisionTime"], created["error"]) == (None, None)
    one = await (await api.client.get(f"{URL}/{created['deploymentId']}", headers=alice)).get_json()
    assert one == created
    listed = await (await api.client.get(URL, headers=alice)).get_json()
    assert [d["deploymentId"] for d in listed["list"]] == [created["deploymentId"]]

    stopped = await api.client.post(f"{URL}/{created['deploymentId']}/stop", headers=alice)
    assert stopped.status_code == 200
    assert (await stopped.get_json())["status"] == "stopped"
    again = await api.client.post(f"{URL}/{created['deploymentId']}/stop", headers=alice)
    assert (again.status_code, (await again.get_json())["status"]) == (200, "stopped")
    # Stopped: the symbol of the account is free for another deployment.
    assert (await deploy(api, alice, **body(account["accountId"]))).status_code == 201


@pytest.mark.parametrize(
    ("fields", "status", "code", "words"),
    [
        ({"strategy": "NoSuch"}, 422, "UNKNOWN_STRATEGY", "unknown strategy 'NoSuch'"),
        ({"strategy": "Broken"}, 400, "BROKEN_STRATEGY", "strategy Broken cannot run: SyntaxError"),
        ({"timeframe": "2m"}, 400, "UNKNOWN_TIMEFRAME", "unknown timeframe '2m'"),
        ({"hyperparameters": {"fast": 1000}}, 400, "BAD_HYPERPARAMETER", "fast of SmaCross must be between 2 and 100"),
        ({"hyperparameters": {"fast": "quick"}}, 400, "BAD_HYPERPARAMETER", "must be an integer"),
        ({"hyperparameters": {"nope": 1}}, 400, "BAD_HYPERPARAMETER", "has no hyperparameter 'nope'"),
        ({"symbol": "NOPEUSDT"}, 422, "UNKNOWN_SYMBOL", "NOPEUSDT"),
        ({"accountId": "not-an-account"}, 404, "NOT_FOUND", "not-an-account"),
    ],
)
async def test_bad_input_is_a_named_4xx_and_records_nothing(
    api: Api, fields: dict[str, Any], status: int, code: str, words: str
) -> None:
    alice = await api.user("alice@example.com")
    account = await api.account(alice)
    response = await deploy(api, alice, **{**body(account["accountId"]), **fields})
    assert response.status_code == status, await response.get_data()
    error = (await response.get_json())["error"]
    assert error["code"] == code
    assert words in error["message"]
    assert (await (await api.client.get(URL, headers=alice)).get_json())["list"] == []


async def test_a_missing_field_is_a_400(api: Api) -> None:
    alice = await api.user("alice@example.com")
    account = await api.account(alice)
    fields = body(account["accountId"])
    del fields["timeframe"]
    response = await deploy(api, alice, **fields)
    assert response.status_code == 400


async def test_a_second_running_deployment_on_the_same_account_and_symbol_is_a_409(api: Api) -> None:
    alice = await api.user("alice@example.com")
    account = await api.account(alice)
    assert (await deploy(api, alice, **body(account["accountId"]))).status_code == 201
    response = await deploy(api, alice, **body(account["accountId"], strategy="DonchianBreakout"))
    assert response.status_code == 409
    assert (await response.get_json())["error"]["code"] == "DEPLOYMENT_EXISTS"
    assert (await deploy(api, alice, **body(account["accountId"], symbol="ETHUSDT"))).status_code == 201


async def test_someone_elses_account_and_deployment_are_404(api: Api) -> None:
    alice = await api.user("alice@example.com")
    bob = await api.user("bob@example.com")
    alices = await api.account(alice)
    assert (await deploy(api, bob, **body(alices["accountId"]))).status_code == 404
    created = await (await deploy(api, alice, **body(alices["accountId"]))).get_json()
    for response in (
        await api.client.get(f"{URL}/{created['deploymentId']}", headers=bob),
        await api.client.post(f"{URL}/{created['deploymentId']}/stop", headers=bob),
    ):
        assert response.status_code == 404
    assert (await (await api.client.get(URL, headers=bob)).get_json())["list"] == []
    still = await (await api.client.get(f"{URL}/{created['deploymentId']}", headers=alice)).get_json()
    assert still["status"] == "running"


async def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = (await (await api.client.get("/openapi.json")).get_json())["paths"]
    found = {path: sorted(methods) for path, methods in paths.items() if path.startswith(URL)}
    assert found == {
        URL: ["get", "post"],
        URL + "/{deployment_id}": ["get"],
        URL + "/{deployment_id}/stop": ["post"],
    }

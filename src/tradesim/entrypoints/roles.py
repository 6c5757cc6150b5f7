"""What each kind of tradesim process needs, in one place per role.

A role names the secrets it demands in production (exactly those it uses: infra/cdk injects the
same per task), whether it cannot run without Redis in production, whether it keeps a heartbeat
file for its health check, and how the container is configured for it. `Settings.from_env`
checks the environment against a role; `runner.run_role` starts a process as one.

A new command that runs as an existing role uses that role; one that needs different secrets or
container options adds a `Role` to `ROLES`.
"""

from __future__ import annotations

from typing import Literal

import attrs

#: Every secret the service knows; each is injected at run time (Secrets Manager in production).
SECRETS = ("JWT_SECRET", "DB_PASSWORD", "BYBIT_API_KEY", "REDIS_AUTH_TOKEN")

#: A server allocates many short-lived objects per request, few of them in cycles: collect the
#: young generation less often than CPython's default (700).
SERVER_GC = (10_000, 20, 20)
#: The streamer allocates short-lived, acyclic objects for every message (dicts, Decimals,
#: events) that reference counting frees at once; the collector's frequent young-generation
#: passes find nothing to collect and cost about 6% of throughput (bench/streamer.py).
STREAMER_GC = (100_000, 50, 100)


@attrs.frozen
class ContainerOptions:
    """How the container is built for a process; given to `build_container` before it builds anything.

    replay_dispatch: where the api sends replay controls. "inbox" (`tradesim api`): through the
    `ReplayInbox` to whichever worker's runner holds the session; the answer is the session as the
    control leaves it. "runner" (`tradesim serve`, which runs the replay runner in-process): to this
    process's runner at once; the answer is the session after the control (a step's bar played).
    replay_owner: the name this process's replay runner holds its leases under; None for host and
    pid (a restarted worker waits for its old leases to lapse), a fixed name for the one process
    that owns every session (`serve` takes its sessions back at once after a restart).
    feed: where the streamer's prices come from: "live" (the exchanges, TRADESIM_FEEDS) or
    "replay" (stored history played as a live feed, `serve --feed replay`).
    replay_from, replay_speed: with feed "replay": the first day to play (ISO date, None for the
    first stored) and bars per second (a decimal string).
    history_source: the exchange candle history is fetched from ("bybit" or "bitget").
    """

    replay_dispatch: Literal["inbox", "runner"] = "inbox"
    replay_owner: str | None = None
    feed: Literal["live", "replay"] = "live"
    replay_from: str | None = None
    replay_speed: str = "1"
    history_source: str = "bybit"


@attrs.frozen
class Role:
    name: str
    #: Demanded in production (the process refuses to start without them).
    secrets: tuple[str, ...]
    #: Refuses to start in production without TRADESIM_REDIS_URL (the in-process bus serves one process).
    needs_redis: bool
    #: Signs or checks tokens: in development a JWT secret is generated under the data dir.
    signs_tokens: bool = False
    #: Brings the embedded SQLite database to the head revision on start (PostgreSQL is migrated by
    #: `tradesim db upgrade` alone).
    migrates_sqlite: bool = True
    #: Writes `heartbeat_path(...)` every few seconds while it runs, for a health check to read (the
    #: roles that serve no HTTP).
    heartbeat: bool = False
    gc_threshold: tuple[int, int, int] = SERVER_GC
    container: ContainerOptions = ContainerOptions()


ROLES = {
    role.name: role
    for role in (
        Role("api", ("JWT_SECRET", "DB_PASSWORD"), needs_redis=True, signs_tokens=True),
        Role("worker", ("DB_PASSWORD",), needs_redis=True, heartbeat=True),
        Role("streamer", ("DB_PASSWORD",), needs_redis=True, heartbeat=True, gc_threshold=STREAMER_GC),
        Role("sync", ("DB_PASSWORD",), needs_redis=False),
        Role("migrate", ("DB_PASSWORD",), needs_redis=False, migrates_sqlite=False),
        # `tradesim strategies ...` reads only the object store (and the strategy folders).
        Role("strategies", (), needs_redis=False, migrates_sqlite=False),
        Role(
            "serve",
            ("JWT_SECRET", "DB_PASSWORD"),
            needs_redis=True,
            signs_tokens=True,
            container=ContainerOptions(replay_dispatch="runner", replay_owner="serve"),
        ),
    )
}


def role_named(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise ValueError(f"unknown process role {name!r}; known: {', '.join(ROLES)}") from None

"""The services the integration suite relies on are reachable and isolated per session."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import redis.asyncio as redis


async def test_session_database_is_fresh_and_writable(postgres_url: str) -> None:
    connection = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = await connection.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
        await connection.execute("create table probe (id int primary key)")
        await connection.execute("insert into probe values (1)")
        assert await connection.fetchval("select count(*) from probe") == 1
    finally:
        await connection.close()


async def test_redis_answers(redis_url: str, redis_namespace: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        await client.set(f"{redis_namespace}probe", "1", ex=5)
        assert await client.get(f"{redis_namespace}probe") == b"1"
    finally:
        await client.aclose()

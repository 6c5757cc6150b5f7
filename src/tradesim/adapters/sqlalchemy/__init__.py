"""SQLAlchemy 2 (asyncio, Core) adapters of the repository ports and the unit of work, for
PostgreSQL (asyncpg) and SQLite (aiosqlite).

- `database.Database`: the engine for a URL, with timeouts and pool settings; one per process.
- `unit_of_work.SqlAlchemyUnitOfWork(database)`: satisfies `tradesim.ports.unit_of_work.UnitOfWork`.
- `migrate.upgrade_to_head(url)`: apply the Alembic migrations in `migrations/` (shipped inside
  the package, so an installed wheel migrates without the source tree).
- One module per table family (`users`, `accounts`, `orders`, `positions`, `market`, `journal`,
  `replays`, `pending_commands`)
  holds its `Table`s and the repositories over them; `mapping.RecordMap` translates rows to the
  domain's attrs records, `types.ExactDecimal` keeps decimals exact, `errors` turns outages and
  timeouts into `DependencyUnavailable`.

To add a table and its repository: declare the `Table` on `metadata.metadata` in a new family
module (columns named like the record's fields, decimals as `ExactDecimal`, times as
`BigInteger` epoch ms), write the repository over a `Transaction` (use `tx.insert(...)` for ON
CONFLICT, never commit), attach it in `SqlAlchemyUnitOfWork.__aenter__`, import the module in
`tables.py`, and add a migration (`alembic -x url=sqlite+aiosqlite:///var/dev.sqlite3 revision
--autogenerate -m "..."`, then read and trim it). `test_the_migrated_schema_matches_the_adapters_tables` fails until
the migration and the declaration agree.
"""

"""The one `MetaData` every table of the schema is declared on.

The tables here describe the schema for building queries (and for the check that the
migrations and these declarations agree); the schema itself is created only by the Alembic
migrations in `migrations/`, never by `create_all`.
"""

from __future__ import annotations

from sqlalchemy import MetaData

#: Constraint names are fixed so that migrations can name what they create and drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

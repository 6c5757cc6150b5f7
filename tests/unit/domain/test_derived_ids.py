"""Derived ids are version-5 UUIDs of their parts, so ids stored before stay the ids of the same records."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tradesim.domain.executions import ID_NAMESPACE, derived_id

parts = st.lists(st.one_of(st.text(), st.integers(), st.decimals(allow_nan=False, allow_infinity=False)), max_size=4)


@given(parts)
def test_a_derived_id_is_the_uuid5_of_its_parts_joined_by_colons(values: list[object]) -> None:
    assert derived_id(*values) == str(uuid.uuid5(ID_NAMESPACE, ":".join(str(v) for v in values)))


def test_an_execution_id_is_the_same_on_every_run() -> None:
    assert derived_id("exec", "o-1", Decimal("0.010")) == str(uuid.uuid5(ID_NAMESPACE, "exec:o-1:0.010"))

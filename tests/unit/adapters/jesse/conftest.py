"""Jesse's tests: skipped (with the reason) when the `jesse` extra is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("jesse", reason="the jesse extra is not installed (uv sync --extra jesse)")

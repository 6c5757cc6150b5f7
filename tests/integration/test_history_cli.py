"""`tradesim history` end to end: settings from the environment, a fake Bybit over HTTP, a local folder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.candles import walk
from tests.support.fake_exchange import FakeBybit, serving
from tradesim.domain.bars import day_start_ms
from tradesim.entrypoints.cli.main import main

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
BEFORE = YESTERDAY - timedelta(days=1)
EARLIER = YESTERDAY - timedelta(days=2)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeBybit, Path]]:
    candles = walk("BTCUSDT", day_start_ms(BEFORE), 2 * 1440) + walk(
        "ETHUSDT", day_start_ms(YESTERDAY), 1440, price="2000.00", tick="0.01"
    )
    with serving(FakeBybit(candles, server_time=day_start_ms(YESTERDAY) + 2 * 86_400_000)) as fake:
        assert isinstance(fake, FakeBybit)
        monkeypatch.setenv("TRADESIM_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("TRADESIM_OBJECT_STORE_URL", (tmp_path / "objects").as_uri())
        monkeypatch.setenv("TRADESIM_BYBIT_REST_URL", fake.url)
        monkeypatch.setenv("TRADESIM_SYMBOLS", "BTCUSDT,ETHUSDT")
        yield fake, tmp_path / "objects"


def test_backfill_shows_progress_stores_files_and_reports_the_gap(
    env: tuple[FakeBybit, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, objects = env
    argv = ["history", "backfill", "--symbol", "btcusdt", "--start", str(EARLIER), "--end", str(YESTERDAY)]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert "3 day(s): 2 stored, 1 missing" in out
    assert f"GAP     BTCUSDT {EARLIER}: the exchange returned no candles for the whole day" in out
    assert "3/3" in err  # the progress bar
    assert (objects / "data" / "BTCUSDT" / f"{YESTERDAY:%Y}" / f"{YESTERDAY:%m}" / f"{YESTERDAY:%d}.parquet").is_file()
    requests = len(fake.requests)
    # Again: the index (in the SQLite file) and the files agree, so nothing is fetched but the empty day.
    assert main(argv) == 3
    out, _ = capsys.readouterr()
    assert "3 day(s): 2 skipped, 1 missing" in out  # the index is in the SQLite file now
    assert len(fake.requests) == requests + 1


def test_sync_defaults_to_yesterday_for_every_configured_symbol(
    env: tuple[FakeBybit, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "sync"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == ["2 day(s): 2 stored"]
    assert {r.params["symbol"] for r in env[0].requests} == {"BTCUSDT", "ETHUSDT"}


def test_bad_dates_and_days_not_over_are_refused(
    env: tuple[FakeBybit, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "sync", "--date", "2024-13-01"]) == 2
    assert "--date must be a date as YYYY-MM-DD" in capsys.readouterr().err
    today = datetime.now(UTC).date()
    assert main(["history", "sync", "--date", str(today)]) == 2
    assert "has not ended yet" in capsys.readouterr().err
    assert main(["history", "backfill", "--symbol", "BTCUSDT", "--start", "2024-02-02", "--end", "2024-02-01"]) == 2
    assert "before start" in capsys.readouterr().err
    assert env[0].requests == []

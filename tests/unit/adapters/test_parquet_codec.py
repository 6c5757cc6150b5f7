"""The Parquet day file: exact decimal128 columns, INT64 storage with delta encoding, and the replay read path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from tradesim.adapters.parquet.codec import decode_bars, decode_candles, encode_candles, row_count
from tradesim.domain.bars import day_start_ms
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle

DAY = date(2024, 3, 1)
START = day_start_ms(DAY)


def candle(minute: int, **fields: object) -> Candle:
    values: dict[str, object] = {
        "symbol": "BTCUSDT",
        "open_time": START + minute * 60_000,
        "open": Decimal("61000.1"),
        "high": Decimal("61010"),
        "low": Decimal("60990.25"),
        "close": Decimal("61000.5"),
        "volume": Decimal("1.234"),
        "turnover": Decimal("75275.1234"),
    }
    return Candle(**(values | fields))  # type: ignore[arg-type]


def test_schema_is_typed_decimals_stored_as_delta_encoded_int64() -> None:
    data = encode_candles("BTCUSDT", DAY, [candle(1), candle(0)], min_price_scale=2)
    reader = pq.ParquetFile(pa.BufferReader(data))
    schema = reader.schema_arrow
    assert schema.field("open").type == pa.decimal128(18, 2)
    assert schema.field("volume").type == pa.decimal128(18, 3)
    assert schema.field("turnover").type == pa.decimal128(18, 4)
    assert schema.metadata[b"tradesim.category"] == b"linear"
    column = reader.metadata.row_group(0).column(1)
    assert column.physical_type == "INT64"
    assert "DELTA_BINARY_PACKED" in column.encodings
    assert column.compression == "UNCOMPRESSED"
    assert row_count(data) == 2


def test_values_come_back_exactly_at_the_files_scale() -> None:
    candles = [candle(0), candle(1, close=Decimal("61000.125"), turnover=None), candle(2, volume=Decimal("0"))]
    read = decode_candles(encode_candles("BTCUSDT", DAY, candles, min_price_scale=2), "BTCUSDT")
    assert read == candles  # Decimal equality: 61000.1 == 61000.100
    assert [str(c.open) for c in read] == ["61000.100"] * 3  # the largest scale of the day (3) wins
    assert read[1].turnover is None


def test_bars_are_integer_columns_over_the_file_buffers() -> None:
    candles = [candle(m, close=Decimal(61000 + m)) for m in range(5)]
    bars = decode_bars(encode_candles("BTCUSDT", DAY, candles, min_price_scale=2), "BTCUSDT", DAY)
    assert isinstance(bars.close, memoryview)
    assert list(bars.close) == [6_100_000 + 100 * m for m in range(5)]
    assert (bars.price_scale, bars.volume_scale, bars.category) == (2, 3, Category.LINEAR)
    assert bars.candles() == [Candle(**{**_fields(c), "turnover": None}) for c in candles]  # type: ignore[arg-type]


def test_a_value_beyond_int64_falls_back_to_wide_decimals_and_stays_exact() -> None:
    huge = Decimal("123456789012345.123456")  # 21 digits at scale 6
    candles = [candle(0, volume=huge), candle(1)]
    data = encode_candles("BTCUSDT", DAY, candles)
    assert pq.ParquetFile(pa.BufferReader(data)).schema_arrow.field("volume").type == pa.decimal128(38, 6)
    assert decode_candles(data, "BTCUSDT")[0].volume == huge
    bars = decode_bars(data, "BTCUSDT", DAY)
    assert bars.candle(0).volume == huge


def test_spot_days_keep_their_category() -> None:
    data = encode_candles("BTCUSDT", DAY, [candle(0, category=Category.SPOT)])
    assert decode_candles(data, "BTCUSDT")[0].category is Category.SPOT
    assert decode_bars(data, "BTCUSDT", DAY).category is Category.SPOT


def _fields(c: Candle) -> dict[str, object]:
    return {f: getattr(c, f) for f in Candle.__slots__ if not f.startswith("__")}

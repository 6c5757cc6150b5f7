"""Parquet: the file format of candle history, shared by every object store."""

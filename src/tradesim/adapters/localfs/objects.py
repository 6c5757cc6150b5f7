"""Objects as files under a root folder, replaced atomically (temporary file, fsync, rename)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from tradesim.domain.errors import InvalidInput


def folder_of(url: str) -> Path:
    """The folder a ``file:///path`` URL names."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise InvalidInput(f"not a local folder URL: {url!r} (expected file:///absolute/path)")
    return Path(unquote(parts.path))


class LocalObjects:
    """Keys are relative POSIX paths; anything that could leave the root ('..', absolute) is refused.

    Metadata is not kept (a folder has nowhere to put it): `head` answers an empty dict, and
    the candle store hashes a day's bytes when asked to describe it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
            raise InvalidInput(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()

    def put(self, key: str, data: bytes, content_type: str = "", metadata: Mapping[str, str] | None = None) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _fsync_dir(target.parent)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def head(self, key: str) -> dict[str, str] | None:
        return {} if self.path(key).is_file() else None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

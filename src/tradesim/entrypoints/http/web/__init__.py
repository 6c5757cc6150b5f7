"""The browser client and the OpenAPI pages, served from package data (no CDN, no build step).

`/` is the trader's screen (`static/index.html` and its ES modules under `/web/`); `/docs` and
`/redocs` are Swagger UI and ReDoc over `/openapi.json`, from vendored copies. Files are gzipped
once, on first request, when the browser accepts it: the first load of the client (chart library
included) is what a user waits for.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from pathlib import Path

import attrs
from quart import Blueprint, Response, request
from quart_schema import hide
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

STATIC = Path(__file__).parent / "static"

bp = Blueprint("web", __name__)

#: Types the platform's mimetypes table may lack or get wrong (`.mjs` is often missing).
TYPES = {
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
#: Compressing an image or a tiny file gains nothing.
COMPRESSIBLE = (".mjs", ".js", ".css", ".html", ".svg", ".txt", ".json")
#: No file name (LICENSE, NOTICE) has an extension: served as text.
DEFAULT_TYPE = "text/plain; charset=utf-8"


@attrs.frozen
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


@functools.cache
def _load(name: str) -> Asset:
    path_text = safe_join(str(STATIC), name)
    if path_text is None:
        raise NotFound()
    path = Path(path_text)
    if not path.is_file():
        raise NotFound()
    body = path.read_bytes()
    suffix = path.suffix.lower()
    content_type = TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or DEFAULT_TYPE
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE and len(body) > 1024 else None
    return Asset(body, gzipped, content_type, hashlib.sha256(body).hexdigest()[:32])


def _send(name: str) -> Response:
    asset = _load(name)
    etag = f'"{asset.etag}"'
    # Revalidate every time (a cheap 304): an upgraded package must never run with stale modules.
    headers = {
        "Cache-Control": "no-cache",
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(b"", status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, content_type=asset.content_type, headers=headers)


@bp.get("/")
@hide
async def index() -> Response:
    """The trader's screen."""
    return _send("index.html")


@bp.get("/docs")
@hide
async def swagger_ui() -> Response:
    return _send("docs.html")


@bp.get("/redocs")
@hide
async def redoc_ui() -> Response:
    return _send("redocs.html")


@bp.get("/web/<path:name>")
@hide
async def asset(name: str) -> Response:
    return _send(name)

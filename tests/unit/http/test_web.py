"""The web client's files as the api serves them: from package data, gzipped, revalidated, nothing from a CDN."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from tests.unit.http.conftest import Api
from tradesim.entrypoints.http.web import STATIC

#: Anything a page would load from elsewhere: a script, a style sheet, an image, a module import.
EXTERNAL_LOAD = re.compile(
    r"""src=["']https?://|<link[^>]*href=["']https?://|import[^;]*from\s*["']https?://|url\(["']?https?://"""
)


def _referenced(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)="(/web/[^"]+)\"""", html)


async def test_the_client_is_served_at_the_root_with_its_modules(api: Api) -> None:
    response = await api.client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    html = (await response.get_data()).decode()
    assert '<script type="module" src="/web/js/app.js"></script>' in html
    for path in _referenced(html):
        asset = await api.client.get(path)
        assert asset.status_code == 200, path


async def test_every_module_imports_only_files_that_exist() -> None:
    for module in (STATIC / "js").glob("*.js"):
        for target in re.findall(r"""from\s+"(\.[^"]+)\"""", module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports missing {target}"


async def test_modules_are_javascript_and_gzipped_when_the_browser_accepts_it(api: Api) -> None:
    path = "/web/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs"
    plain = await api.client.get(path)
    assert plain.content_type == "text/javascript; charset=utf-8"
    assert "Content-Encoding" not in plain.headers
    body = await plain.get_data()
    packed = await api.client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    compressed = await packed.get_data()
    assert gzip.decompress(compressed) == body
    assert len(compressed) < len(body) / 2


async def test_an_unchanged_file_is_answered_304(api: Api) -> None:
    first = await api.client.get("/web/app.css")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = await api.client.get("/web/app.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert await again.get_data() == b""


async def test_nothing_outside_the_static_folder_is_served(api: Api) -> None:
    for path in ("/web/../__init__.py", "/web/%2e%2e/__init__.py", "/web/js/nothing.js", "/web/"):
        response = await api.client.get(path)
        assert response.status_code == 404, path


async def test_the_api_docs_pages_load_only_vendored_assets(api: Api) -> None:
    for page in ("/docs", "/redocs"):
        response = await api.client.get(page)
        assert response.status_code == 200
        html = (await response.get_data()).decode()
        assert not EXTERNAL_LOAD.search(html), page
        assert "<script>" not in html, f"{page} has an inline script (the Content-Security-Policy forbids them)"
        for path in _referenced(html):
            assert (await api.client.get(path)).status_code == 200, path


def test_no_page_or_module_of_ours_loads_from_elsewhere_or_runs_inline_script() -> None:
    ours = [p for p in STATIC.rglob("*") if p.suffix in (".html", ".js", ".css") and "vendor" not in p.parts]
    assert ours
    for path in ours:
        text = path.read_text()
        assert not EXTERNAL_LOAD.search(text), path
        assert not re.search(r"<script>|\son[a-z]+=\"|eval\(|new Function\(", text), path


def test_the_chart_library_ships_with_its_license_and_notice() -> None:
    folder = STATIC / "vendor" / "lightweight-charts"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "TradingView" in (folder / "NOTICE").read_text()
    index = (STATIC / "index.html").read_text()
    assert "https://www.tradingview.com/" in index  # the attribution the NOTICE asks for
    assert Path(folder / "lightweight-charts.standalone.production.mjs").stat().st_size > 100_000

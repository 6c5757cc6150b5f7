"""The standing abuse suite against a real `tradesim api` process (hypercorn on loopback): what only a
real server shows, memory under a streamed upload and the event loop during a scrape. Bounds are
conditions with generous margins, never timings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

METRICS_TOKEN = "scrape-token"
#: Far beyond the 5 MiB upload cap; a server that buffers it grows by as much.
STREAMED = 192 * 2**20
#: What the server may grow by while refusing it: the cap and its working memory, with room to spare.
RSS_MARGIN = 48 * 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ApiProcess:
    base: str
    port: int
    metrics_port: int
    pid: int

    def peak_rss(self) -> int:
        """The process's peak resident memory so far (VmHWM), in bytes."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


@pytest.fixture(scope="module")
def api_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    tmp_path: Path = tmp_path_factory.mktemp("abuse")
    port, metrics_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "TRADESIM_DATA_DIR": str(tmp_path),
        "TRADESIM_HTTP_PORT": str(port),
        "TRADESIM_HTTP_HOST": "127.0.0.1",
        "TRADESIM_METRICS_PORT": str(metrics_port),
        "TRADESIM_METRICS_TOKEN": METRICS_TOKEN,
        "ENVIRONMENT": "development",
    }
    for name in ("TRADESIM_DATABASE_URL", "TRADESIM_REDIS_URL", "JWT_SECRET"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("tradesim api did not answer /healthz within 60 s")
        yield ApiProcess(base, port, metrics_port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _headers(base: str, email: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.post("/api/v1/auth/register", json={"email": email, "password": "password1"})
        tokens = client.post("/api/v1/auth/login", json={"email": email, "password": "password1"}).json()
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def _stream_chunked(port: int, path: str, headers: dict[str, str], total: int, *, head: bytes = b"") -> bytes:
    """POST `head` then `total` bytes with chunked framing (no Content-Length); the server's answer, once it
    stops reading."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer: list[bytes] = []

    def read() -> None:
        try:
            while data := connection.recv(65536):
                answer.append(data)
        except OSError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    chunk = b"x" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    try:
        if head:
            connection.sendall(b"%x\r\n" % len(head) + head + b"\r\n")
        for _ in range(total // len(chunk)):
            connection.sendall(frame)
        connection.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading: what we want
    reader.join(30)
    connection.close()
    return b"".join(answer)


def test_a_streamed_oversize_upload_is_refused_without_buffering_it(api_process: ApiProcess) -> None:
    # H2: a chunked upload skipped the 5 MiB cap and was buffered whole.
    headers = _headers(api_process.base, "upload@example.com")
    entry = httpx.post(f"{api_process.base}/api/v1/journal", json={"title": "t"}, headers=headers, timeout=30).json()
    before = api_process.peak_rss()
    answer = _stream_chunked(
        api_process.port,
        f"/api/v1/journal/{entry['entryId']}/attachments",
        {**headers, "Content-Type": "multipart/form-data; boundary=b"},
        STREAMED,
        # One file part that never ends: the parser streams it to the upload's file.
        head=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n',
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    grown = api_process.peak_rss() - before
    assert grown < RSS_MARGIN, f"peak RSS grew by {grown >> 20} MiB"


def test_healthz_answers_while_metrics_are_scraped_after_a_flood(api_process: ApiProcess) -> None:
    # H1: made-up methods grew /metrics until a scrape held the event loop for seconds.
    with httpx.Client(base_url=api_process.base, timeout=30) as client:
        for n in range(300):
            client.request(f"M{n:05d}", "/healthz")
        assert client.get("/metrics").status_code == 404, "only on the metrics port"
    metrics = f"http://127.0.0.1:{api_process.metrics_port}/metrics"
    assert httpx.get(metrics, timeout=30).status_code == 401
    scraped: list[httpx.Response] = []
    scraper = threading.Thread(
        target=lambda: scraped.append(
            httpx.get(metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
        )
    )
    scraper.start()
    assert httpx.get(f"{api_process.base}/healthz", timeout=30).status_code == 200
    scraper.join(30)
    text = scraped[0].text
    assert scraped[0].status_code == 200
    assert 'method="M0' not in text
    assert len(text) < 64 * 1024, "the exposition stays small whatever methods were sent"

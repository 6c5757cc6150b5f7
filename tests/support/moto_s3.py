"""S3 on loopback: moto's threaded server, and stores pointed at a fresh bucket on it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import attrs

from tradesim.adapters.s3.objects import S3Location, S3Objects

ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # moto accepts any credentials
REGION = "us-east-1"


@attrs.frozen
class MotoS3:
    endpoint_url: str

    def location(self, bucket: str, prefix: str = "") -> S3Location:
        return S3Location(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=self.endpoint_url,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
        )

    def fresh_bucket(self, prefix: str = "tradesim") -> S3Objects:
        """Objects in a bucket of their own (created here), so tests never see each other's keys."""
        objects = S3Objects(self.location(f"test-{uuid.uuid4().hex[:16]}", prefix))
        objects.client.create_bucket(Bucket=objects.location.bucket)
        return objects


@contextmanager
def moto_server() -> Iterator[MotoS3]:
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request of the server thread; keep test output readable.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoS3(f"http://{host}:{port}")
    finally:
        server.stop()

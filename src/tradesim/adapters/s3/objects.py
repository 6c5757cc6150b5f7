"""Objects in an S3 bucket under a prefix.

Writes, metadata and presigned URLs go through boto3; reads through pyarrow's S3 filesystem,
whose C++ client fetches an object without holding the GIL, so many days download at once.
A `put` is a single PutObject, which S3 makes visible atomically (old or new object, never
part of one). Every failure to reach the endpoint surfaces as `DependencyUnavailable`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import boto3
import botocore.config
import botocore.exceptions
import pyarrow.fs as pafs

from tradesim.domain.errors import InvalidInput
from tradesim.ports.errors import DependencyUnavailable


@attrs.frozen
class S3Location:
    """Where the objects live. Credentials left None come from the standard AWS chain (task role)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = attrs.field(default=None, repr=False)
    secret_key: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None, **credentials: str | None) -> S3Location:
        """``s3://bucket`` or ``s3://bucket/some/prefix``."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidInput(f"not an S3 URL: {url!r} (expected s3://bucket/prefix)")
        return cls(bucket=parts.netloc, prefix=parts.path.strip("/"), endpoint_url=endpoint_url, **credentials)

    def key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise InvalidInput(f"invalid object key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key


def make_client(location: S3Location) -> Any:
    config = botocore.config.Config(
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        # Custom endpoints (moto, MinIO) rarely resolve virtual-host bucket names.
        s3={"addressing_style": "path"} if location.endpoint_url else None,
    )
    return boto3.client(
        "s3",
        endpoint_url=location.endpoint_url,
        region_name=location.region,
        aws_access_key_id=location.access_key,
        aws_secret_access_key=location.secret_key,
        config=config,
    )


def make_filesystem(location: S3Location, region: str) -> pafs.S3FileSystem:
    endpoint: dict[str, Any] = {}
    if location.endpoint_url:
        parts = urlsplit(location.endpoint_url)
        endpoint = {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
    return pafs.S3FileSystem(
        access_key=location.access_key,
        secret_key=location.secret_key,
        region=region,
        connect_timeout=5,
        request_timeout=30,
        **endpoint,
    )


class S3Objects:
    def __init__(
        self, location: S3Location, *, client: Any = None, filesystem: pafs.S3FileSystem | None = None
    ) -> None:
        self.location = location
        self.client = client if client is not None else make_client(location)
        region = location.region or self.client.meta.region_name or "us-east-1"
        self._fs = filesystem if filesystem is not None else make_filesystem(location, region)

    def uri(self, key: str) -> str:
        return f"s3://{self.location.bucket}/{self.location.key(key)}"

    def put(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        with _unavailable("write to"):
            self.client.put_object(
                Bucket=self.location.bucket,
                Key=self.location.key(key),
                Body=data,
                ContentType=content_type or "application/octet-stream",
                Metadata=dict(metadata),
            )

    def get(self, key: str) -> bytes | None:
        path = f"{self.location.bucket}/{self.location.key(key)}"
        try:
            with self._fs.open_input_stream(path) as stream:
                return bytes(stream.readall())
        except FileNotFoundError:
            return None
        except OSError as error:
            raise DependencyUnavailable(f"cannot read s3://{path}: {error}") from error

    def head(self, key: str) -> dict[str, str] | None:
        try:
            with _unavailable("read"):
                answer = self.client.head_object(Bucket=self.location.bucket, Key=self.location.key(key))
        except _Missing:
            return None
        return dict(answer.get("Metadata", {}))

    def delete(self, key: str) -> None:
        with _unavailable("delete from"):
            self.client.delete_object(Bucket=self.location.bucket, Key=self.location.key(key))

    def presign(self, key: str, expires_s: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.location.bucket, "Key": self.location.key(key)}, ExpiresIn=expires_s
        )
        return url


class _Missing(Exception):
    pass


@contextlib.contextmanager
def _unavailable(verb: str) -> Iterator[None]:
    """botocore's errors as ours: a 404 becomes `_Missing`, anything else `DependencyUnavailable`."""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise _Missing() from error
        raise DependencyUnavailable(f"S3 refused to {verb} the bucket: {code} {error}") from error
    except botocore.exceptions.BotoCoreError as error:
        raise DependencyUnavailable(f"cannot {verb} S3: {error}") from error

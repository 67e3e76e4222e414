"""The file store's second home: a bucket on S3-compatible object storage (COOP_STORAGE_URL).

Uploads are still written and hashed in the local staging folder (so the SHA-256 is known before
anything is published, and `coop tick` can finish a publication a killed process left), then
streamed from that file to the object `<sha[:2]>/<sha>` — never held in memory — and the staged
file removed. The object carries its SHA-256 in its metadata, and its size is checked after the
upload. Downloads stream the object through the site, ranges included (an audio clip seeks),
so the site's headers and Content-Security-Policy still apply to what it serves.

    COOP_STORAGE_URL=s3://ACCESS_KEY:SECRET@s3.example.org/coop-files          (HTTPS)
    COOP_STORAGE_URL=s3+http://ACCESS_KEY:SECRET@127.0.0.1:8333/coop-files     (plain HTTP)

Without credentials in the URL, boto3's usual chain (AWS_ACCESS_KEY_ID, instance roles) applies.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Response, request, stream_with_context
from werkzeug.http import parse_range_header

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Location:
    endpoint: str
    bucket: str
    access_key: str | None
    secret_key: str | None
    region: str


def parse_storage_url(url: str) -> Location:
    """Read s3://key:secret@host[:port]/bucket[?region=…]; raise ValueError with what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "s3+http", "s3+https"):
        raise ValueError("COOP_STORAGE_URL must start with s3:// or s3+http://")
    bucket = parts.path.strip("/")
    if not parts.hostname or not bucket or "/" in bucket:
        raise ValueError("COOP_STORAGE_URL needs a host and one bucket: s3://host/bucket")
    scheme = "http" if parts.scheme == "s3+http" else "https"
    port = f":{parts.port}" if parts.port else ""
    region = parse_qs(parts.query).get("region", ["us-east-1"])[0]
    return Location(
        endpoint=f"{scheme}://{parts.hostname}{port}",
        bucket=bucket,
        access_key=unquote(parts.username) if parts.username else None,
        secret_key=unquote(parts.password) if parts.password else None,
        region=region,
    )


def _key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


class ObjectStore:
    def __init__(self, url: str):
        self.location = parse_storage_url(url)
        self.client = boto3.client(
            "s3",
            endpoint_url=self.location.endpoint,
            aws_access_key_id=self.location.access_key,
            aws_secret_access_key=self.location.secret_key,
            region_name=self.location.region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=60),
        )

    @property
    def bucket(self) -> str:
        return self.location.bucket

    def size(self, sha256: str) -> int | None:
        """The stored object's size, or None when there is none."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=_key(sha256))["ContentLength"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def publish(self, staged: Path, sha256: str) -> None:
        """Stream a staged file to its object (multipart when large), check it, drop the file."""
        expected = staged.stat().st_size
        if self.size(sha256) != expected:
            self.client.upload_file(
                str(staged), self.bucket, _key(sha256), ExtraArgs={"Metadata": {"sha256": sha256}}
            )
            if self.size(sha256) != expected:
                raise OSError(f"object {sha256} has the wrong size after upload")
        staged.unlink(missing_ok=True)

    def blobs(self) -> Iterator[tuple[str, int]]:
        """Every stored object as (sha256, size)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                yield name, item["Size"]

    def read(self, sha256: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=_key(sha256))["Body"].read()

    def response(self, sha256: str, mimetype: str, headers: dict[str, str]) -> Response:
        """Stream the object, or the one byte range asked for (206), with the given headers."""
        size = self.size(sha256)
        if size is None:
            raise FileNotFoundError(sha256)
        wanted = parse_range_header(request.headers.get("Range"))
        span = wanted.range_for_length(size) if wanted is not None else None
        arguments = {"Bucket": self.bucket, "Key": _key(sha256)}
        if span is not None:
            arguments["Range"] = f"bytes={span[0]}-{span[1] - 1}"
        body = self.client.get_object(**arguments)["Body"]

        def chunks():
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        response = Response(stream_with_context(chunks()), mimetype=mimetype, headers=headers)
        response.headers["Accept-Ranges"] = "bytes"
        if span is not None:
            response.status_code = 206
            response.headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{size}"
            response.headers["Content-Length"] = str(span[1] - span[0])
        else:
            response.headers["Content-Length"] = str(size)
        return response

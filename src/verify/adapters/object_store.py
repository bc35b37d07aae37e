"""Evidence files in an S3-compatible object store, for a team (SPEC 12).

``VERIFY_FILES=s3://BUCKET[/PREFIX]`` with ``VERIFY_S3_ENDPOINT`` (any server
that speaks S3: SeaweedFS, MinIO, Ceph, AWS itself) and the usual AWS
credentials, read by boto3 from the environment or ``~/.aws``. Objects are
named by SHA-256 alone: no file name, incident or person ever reaches the
bucket's listing.

A file is read twice: once to learn its hash (so bytes already stored are
never sent again), then to send it in parts. Nothing is visible under the hash
until the last part is in and the second reading hashed the same; an upload cut
off midway is aborted and leaves no object.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

from verify.adapters.file_store import CHUNK, ContentStore, FileDamaged, StoredFile, Tally
from verify.domain.errors import InvalidInput, Refused

PART = 8 * 1024 * 1024
"""Bytes sent in one part of an upload (the protocol asks at least 5 MiB but for the last)."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class FileStoreUnavailable(Refused):
    """The object store cannot be reached or used now (exit 1)."""


def parse_s3_address(address: str) -> tuple[str, str]:
    """``s3://BUCKET[/PREFIX]`` as (bucket, prefix); InvalidInput with one sentence if not."""
    rest = address.strip()[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InvalidInput(
            f"VERIFY_FILES={address.strip()!r} names no bucket: write s3://BUCKET or "
            "s3://BUCKET/PREFIX, the bucket 3 to 63 lowercase letters, digits, dots or hyphens")
    return bucket, prefix.strip("/")


class S3FileStore(ContentStore):
    """Evidence files as objects ``PREFIX/ab/cdef…`` in one bucket, under their SHA-256."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint: str | None = None,
                 key: str | None = None) -> None:
        super().__init__(key)
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint or None
        self._client: Any = None

    @property
    def label(self) -> str:
        """The store as a person names it (never with a credential)."""
        place = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        return place + (f" at {self.endpoint}" if self.endpoint else "")

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            session = boto3.session.Session()
            self._client = session.client(
                "s3", endpoint_url=self.endpoint,
                region_name=session.region_name or "us-east-1",
                config=Config(
                    # Path-style addresses work with every S3-compatible server.
                    s3={"addressing_style": "path"},
                    # Integrity is ours (SHA-256 of every file); newer boto3's default
                    # checksums are not understood by every server.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    connect_timeout=5, read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"}))
        return self._client

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}/{sha256[:2]}/{sha256[2:]}".lstrip("/")

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """Turn what the client raises into one sentence (never a credential or a traceback)."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        try:
            yield
        except ClientError as error:
            raise self._refusal(error) from None
        except NoCredentialsError:
            raise Refused("no credentials for the object store: set AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY") from None
        except EndpointConnectionError:
            raise FileStoreUnavailable(
                f"the object store {self.label} cannot be reached; check VERIFY_S3_ENDPOINT "
                "and that the server is running") from None
        except BotoCoreError as error:
            raise FileStoreUnavailable(
                f"the object store {self.label} failed: {type(error).__name__}") from None

    def _refusal(self, error: Any) -> Refused:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in {"NoSuchBucket"} or (code == "404" and status == 404):
            return Refused(f"the bucket {self.bucket} does not exist on the object store; "
                           "initialising the store (init) creates it")
        if code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return Refused(f"the object store refused access to the bucket {self.bucket}; check "
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        return FileStoreUnavailable(f"the object store {self.label} answered {code or status}")

    def _holds(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._talking():
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    self.client.head_bucket(Bucket=self.bucket)  # a missing bucket says so
                    return False
                raise
        return True

    def prepare(self) -> str | None:
        """Create the bucket when it is missing."""
        from botocore.exceptions import ClientError

        with self._talking():
            try:
                self.client.head_bucket(Bucket=self.bucket)
                return None
            except ClientError as error:
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                    raise
            region = self.client.meta.region_name
            where = ({} if region in (None, "us-east-1")
                     else {"CreateBucketConfiguration": {"LocationConstraint": region}})
            self.client.create_bucket(Bucket=self.bucket, **where)
        return f"created the bucket {self.bucket} for evidence files"

    def put(self, stream: IO[bytes]) -> StoredFile:
        """Store the bytes read from ``stream``; returns their SHA-256, size and head."""
        with _seekable(stream) as source:
            start = source.tell()
            first = Tally()
            while chunk := source.read(CHUNK):
                first.count(chunk)
            stored = first.stored()
            key = self._key(stored.sha256)
            if self._holds(key):
                return stored  # the same bytes are stored already
            source.seek(start)
            second = Tally()

            def unchanged() -> None:
                if second.stored() != stored:
                    raise Refused("the file changed while it was being stored; nothing was "
                                  "kept: add it again once it is complete")

            self._send(key, self.sealed(source, second), unchanged)
        return stored

    def _send(self, key: str, blocks: Iterator[bytes], before_commit: Callable[[], None]) -> None:
        """Send the stored form in parts; ``before_commit`` may refuse it before it shows."""
        buffer = bytearray()
        upload: str | None = None
        parts: list[dict[str, Any]] = []
        with self._talking():
            try:
                for block in blocks:
                    buffer += block
                    if len(buffer) < PART:
                        continue
                    if upload is None:
                        upload = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=key)["UploadId"]
                    parts.append(self._part(key, upload, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
                if upload is None:
                    before_commit()
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                    return
                if buffer:
                    parts.append(self._part(key, upload, len(parts) + 1, bytes(buffer)))
                before_commit()
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload,
                    MultipartUpload={"Parts": parts})
            except BaseException:
                if upload is not None:
                    self._abort(key, upload)
                raise

    def _part(self, key: str, upload: str, number: int, body: bytes) -> dict[str, Any]:
        answer = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                         PartNumber=number, Body=body)
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _abort(self, key: str, upload: str) -> None:
        # What an abort could not clear, the bucket's lifecycle rules do.
        with suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)

    def read(self, sha256: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        with self._talking():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                    raise FileDamaged(
                        f"the file {sha256[:12]}… is missing from the file store") from None
                raise
            body = answer["Body"]
            try:
                yield from self.opened(body, sha256)
            finally:
                body.close()


@contextmanager
def _seekable(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` itself when it can be read twice; else its bytes spooled to a temporary
    file first (on disk, so memory stays flat)."""
    if stream.seekable():
        yield stream
        return
    with tempfile.TemporaryFile(prefix="verify-incoming-") as spooled:
        shutil.copyfileobj(stream, spooled, CHUNK)
        spooled.seek(0)
        yield spooled


def s3_file_store(env: dict[str, str]) -> S3FileStore:
    """The object store a store's settings name (see `adapters.store`)."""
    bucket, prefix = parse_s3_address(env["VERIFY_FILES_URL"])
    return S3FileStore(bucket, prefix, endpoint=env.get("VERIFY_S3_ENDPOINT") or None,
                       key=env.get("CIPHER_KEY") or None)


def s3_endpoint() -> str:
    """The object store's address from ``VERIFY_S3_ENDPOINT`` (empty: AWS itself)."""
    return os.environ.get("VERIFY_S3_ENDPOINT", "").strip()


__all__ = [
    "PART",
    "FileStoreUnavailable",
    "S3FileStore",
    "parse_s3_address",
    "s3_endpoint",
    "s3_file_store",
]

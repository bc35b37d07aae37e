"""The S3-compatible file store against a real server (SeaweedFS on loopback): large files
in parts, streams read once, refusals in one sentence, nothing half-stored."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verify.adapters.file_store import FileDamaged
from verify.adapters.object_store import PART, S3FileStore, parse_s3_address
from verify.domain.errors import InvalidInput, Refused
from verify.entrypoints.cli import cli

from object_store_server import ACCESS_KEY, SECRET_KEY, ObjectStoreServer, fresh_bucket_name


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


def bucket_store(server: ObjectStoreServer, key: str | None = None) -> S3FileStore:
    store = S3FileStore(fresh_bucket_name(), "team/evidence", endpoint=server.endpoint, key=key)
    assert store.prepare() == f"created the bucket {store.bucket} for evidence files"
    assert store.prepare() is None  # already there
    return store


def keys(server: ObjectStoreServer, bucket: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return [item["Key"] for item in listed]


class OneWayStream(io.RawIOBase):
    """Bytes that can be read once only, like a pipe or an upload that is not spooled."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self.inner.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


class ChangingFile(io.BytesIO):
    """A file that is being written while it is stored: the second reading differs."""

    def seek(self, offset: int, whence: int = 0) -> int:
        self.getbuffer()[-1] ^= 1
        return super().seek(offset, whence)


@pytest.mark.objectstore
@pytest.mark.slow
@pytest.mark.parametrize("key", [None, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="])
def test_a_file_larger_than_a_part_goes_in_parts_and_comes_back_whole(
        object_store: ObjectStoreServer, credentials: None, key: str | None) -> None:
    store = bucket_store(object_store, key)
    data = os.urandom(2 * PART + 12345)
    stored = store.put(io.BytesIO(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert keys(object_store, store.bucket) == [
        f"team/evidence/{stored.sha256[:2]}/{stored.sha256[2:]}"]
    assert b"".join(store.verified(stored.sha256)) == data
    again = store.put(OneWayStream(data))  # read once, spooled to disk, not sent again
    assert again == stored and len(keys(object_store, store.bucket)) == 1
    empty = store.put(io.BytesIO(b""))
    assert b"".join(store.verified(empty.sha256)) == b""


@pytest.mark.objectstore
@pytest.mark.slow
def test_a_file_that_changes_while_it_is_stored_leaves_nothing(
        object_store: ObjectStoreServer, credentials: None) -> None:
    store = bucket_store(object_store)
    for size in (1000, PART + 1000):  # sent whole, and sent in parts
        with pytest.raises(Refused, match="the file changed while it was being stored"):
            store.put(ChangingFile(os.urandom(size)))
    assert keys(object_store, store.bucket) == []
    uploads = object_store.client().list_multipart_uploads(Bucket=store.bucket)
    assert uploads.get("Uploads", []) == []  # the parts sent were aborted


@pytest.mark.objectstore
@pytest.mark.slow
def test_damage_in_the_bucket_is_named(
        object_store: ObjectStoreServer, credentials: None) -> None:
    store = bucket_store(object_store, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    stored = store.put(io.BytesIO(b"a witness statement " * 100))
    (name,) = keys(object_store, store.bucket)
    client = object_store.client()
    sealed = client.get_object(Bucket=store.bucket, Key=name)["Body"].read()
    assert b"witness" not in sealed  # encrypted at rest
    client.put_object(Bucket=store.bucket, Key=name, Body=sealed[:-1])
    with pytest.raises(FileDamaged, match=r"was altered|cut short"):
        store.check(stored.sha256)
    client.delete_object(Bucket=store.bucket, Key=name)
    with pytest.raises(FileDamaged, match="is missing from the file store"):
        store.check(stored.sha256)


def run(store: str, env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "mei", *args], env=env)


@pytest.mark.objectstore
@pytest.mark.slow
def test_a_team_store_with_a_bucket_from_init_to_refusals(
        object_store: ObjectStoreServer, tmp_path: Path) -> None:
    store = str(tmp_path / "team.sqlite")
    bucket = fresh_bucket_name()
    env = object_store.env(bucket)
    photo = tmp_path / "rubble.pdf"
    photo.write_bytes(b"%PDF-1.7\n" + b"x" * 3000)
    created = run(store, env, "init")
    assert created.exit_code == 0 and f"created the bucket {bucket}" in created.stdout
    assert run(store, env, "report", "CS1", "--date", "2017-03-21", "--location", "Tabqa",
               "--country", "Syria").exit_code == 0

    refusals = [
        ({**env, "AWS_SECRET_ACCESS_KEY": "wrong-secret"}, 1,
         f"the object store refused access to the bucket {bucket}"),
        ({**env, "VERIFY_FILES": "s3://another-bucket-here"}, 1,
         "the bucket another-bucket-here does not exist on the object store; initialising"),
        ({**env, "VERIFY_S3_ENDPOINT": "http://127.0.0.1:9"}, 1, "cannot be reached"),
        ({**env, "VERIFY_FILES": "s3://No_Such"}, 2, "names no bucket"),
    ]
    for changed, code, says in refusals:
        result = run(store, changed, "evidence", "add", "CS1", str(photo))
        assert result.exit_code == code and says in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "wrong-secret" not in result.stderr
        assert SECRET_KEY not in result.stderr
    shown = run(store, env, "show", "CS1", "--json")
    assert '"version": 1' in shown.stdout  # nothing was recorded by the refusals
    assert run(store, env, "evidence", "add", "CS1", str(photo)).exit_code == 0
    assert run(store, env, "evidence", "verify").exit_code == 0


def test_addresses() -> None:
    assert parse_s3_address("s3://evidence") == ("evidence", "")
    assert parse_s3_address("s3://evidence.team-1/a/b/") == ("evidence.team-1", "a/b")
    for wrong in ("s3://", "s3://UPPER", "s3://a", "s3://under_score/x", "s3://a..b"):
        with pytest.raises(InvalidInput, match="names no bucket"):
            parse_s3_address(wrong)

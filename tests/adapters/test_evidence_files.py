"""Evidence files on real stores (SQLite, PostgreSQL with a folder), in clear and encrypted:
stored once per SHA-256, handed out re-hashed, every handling in the history."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.domain.evidence_files import media_type_of
from verify.entrypoints.cli import cli

from object_store_server import ObjectStoreServer, fresh_bucket_name


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small valid PNG, made here (no image library needed)."""
    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# Encrypted: the same paths under the store's key; left to CI, the inner loop runs plain.
@pytest.fixture(params=["plain", pytest.param("encrypted", marks=pytest.mark.slow)])
def cipher_key(request: pytest.FixtureRequest) -> str:
    if request.param == "plain":
        return ""
    result = CliRunner().invoke(cli, ["keygen"])
    return result.output.strip()


class FolderRoom:
    """Evidence files in a folder: beside a SQLite store, or named by VERIFY_FILES."""

    def __init__(self, store: str, folder: Path) -> None:
        self.store, self.folder = store, folder
        self.root = folder if "://" in store else Path(store + ".files")

    def env(self) -> dict[str, str]:
        return {"VERIFY_FILES": str(self.folder)} if "://" in self.store else {}

    def names(self) -> list[str]:
        return [str(path.relative_to(self.root)) for path in self.root.rglob("*")
                if path.is_file() and not path.name.startswith(".")]

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        (self.root / name).write_bytes(data)

    def remove(self, name: str) -> None:
        (self.root / name).unlink()


class BucketRoom:
    """Evidence files in a bucket of the real object store (SeaweedFS)."""

    def __init__(self, server: ObjectStoreServer) -> None:
        self.server, self.bucket = server, fresh_bucket_name()
        self.client = server.client()

    def env(self) -> dict[str, str]:
        return self.server.env(self.bucket)

    def names(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return [item["Key"] for item in listed]

    def read(self, name: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        return data

    def write(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=name, Body=data)

    def remove(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=name)


Room = FolderRoom | BucketRoom


# The object store starts a server: left to CI with the encrypted variants.
@pytest.fixture(params=["folder", pytest.param("s3", marks=[pytest.mark.slow,
                                                            pytest.mark.objectstore])])
def room(request: pytest.FixtureRequest, store_url: str, tmp_path: Path) -> Room:
    if request.param == "folder":
        return FolderRoom(store_url, tmp_path / "evidence-files")
    return BucketRoom(request.getfixturevalue("object_store"))


def runner(store: str, key: str, room: Room) -> Any:
    def run(*args: str, actor: str = "mei") -> Result:
        env = {"VERIFY_CIPHER_KEY": key, **room.env()}
        return CliRunner().invoke(cli, ["--store", store, "--actor", actor, *args], env=env)
    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def test_a_file_is_kept_once_handed_out_rehashed_and_its_custody_recorded(
        store_url: str, cipher_key: str, room: Room, tmp_path: Path) -> None:
    run = runner(store_url, cipher_key, room)
    ok(run("init"))
    for code in ("CS1", "CS2"):
        ok(run("report", code, "--date", "2017-03-21", "--location", "Tabqa", "--country",
               "Syria", "--belligerent", "US-led Coalition"))
    ok(run("source", "add", "CS1", "--url", "https://example.org/post/1", "--publisher",
           "Tabqa network", "--kind", "social"))
    photo = tmp_path / "IMG_0042.jpg"  # a PNG under a JPEG's name: the bytes decide
    photo.write_bytes(png(40, 30, (120, 80, 40)))
    added = ok(run("evidence", "add", "CS1", str(photo), "--source", "s1", "--origin",
                   "https://example.org/post/1", "--collected-by", "Tabqa network",
                   "--collected-at", "2017-03-22T09:00:00Z", "--description",
                   "rubble of the bakery"))
    assert added.stdout.startswith("added e1 to CS1: image/png,")
    ok(run("evidence", "add", "CS2", str(photo), "--protected"))
    assert len(room.names()) == 1  # one copy per SHA-256
    if cipher_key:
        assert all(photo.read_bytes()[:64] not in room.read(name) for name in room.names())
    again = run("evidence", "add", "CS1", str(photo))
    assert again.exit_code == 1 and "already holds this file as e1" in again.stderr
    listed = json.loads(ok(run("evidence", "list", "CS1", "--json")).stdout)
    assert [(f["id"], f["media_type"], f["name"], f["source"]) for f in listed] == [
        ("e1", "image/png", "IMG_0042.jpg", "s1")]

    copy = tmp_path / "copy.png"
    ok(run("evidence", "get", "CS1", "e1", "-o", str(copy), "--reason", "for the report",
           actor="amira"))
    assert copy.read_bytes() == photo.read_bytes()
    history = json.loads(ok(run("history", "CS1", "--json")).stdout)
    custody = [(e["event"], e["actor"], e["why"]) for e in history if "File" in e["event"]]
    assert custody == [("FileCollected", "mei", "rubble of the bakery"),
                       ("FileCopied", "amira", "for the report")]
    text = ok(run("history", "CS1")).stdout
    assert "collected by Tabqa network at 2017-03-22 09:00:00Z from https://example.org/" in text
    public = ok(run("history", "CS2", "--public")).stdout
    assert "collected file e1 (protected; details withheld)" in public and "sha256" not in public
    assert "intact: 2 evidence files match their SHA-256" in ok(run("evidence", "verify")).stdout

    (stored,) = room.names()
    damaged = bytearray(room.read(stored))
    damaged[len(damaged) // 2] ^= 1
    room.write(stored, bytes(damaged))
    verified = run("evidence", "verify")
    assert verified.exit_code == 1 and "CS1 e1:" in verified.stderr
    refused = run("evidence", "get", "CS1", "e1", "-o", str(tmp_path / "again.png"))
    assert refused.exit_code == 1 and not (tmp_path / "again.png").exists()
    versions = json.loads(ok(run("show", "CS1", "--json")).stdout)["version"]
    assert versions == len(history)  # the refused copy recorded nothing
    ok(run("audit", "verify"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    room = FolderRoom(store, tmp_path)
    run = runner(store, "", room)
    ok(run("init"))
    ok(run("report", "CS1", "--date", "2017-03-21", "--location", "Tabqa", "--country", "Syria"))
    document = tmp_path / "statement.pdf"
    document.write_bytes(b"%PDF-1.7\n" + b"x" * 5000)
    ok(run("evidence", "add", "CS1", str(document)))
    for name in room.names():
        room.remove(name)
    result = run("evidence", "verify")
    assert result.exit_code == 1 and "CS1 e1: the file" in result.stderr
    assert "is missing from the file store" in result.stderr


def test_refusals_keep_the_contract(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    run = runner(store, "", FolderRoom(store, tmp_path))
    ok(run("init"))
    ok(run("report", "CS1", "--date", "2017-03-21", "--location", "Tabqa", "--country", "Syria"))
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for args, code, says in [
        (["evidence", "add", "CS9", str(empty)], 2, "no incident has the code CS9"),
        (["evidence", "add", "CS1", str(tmp_path / "none.jpg")], 2, "cannot read"),
        (["evidence", "add", "CS1", "/dev/zero"], 2, "not a regular file"),
        (["evidence", "add", "CS1", str(empty), "--source", "s3"], 2, "has no source s3"),
        (["evidence", "get", "CS1", "e7", "-o", str(tmp_path / "x")], 2, "has no file e7"),
    ]:
        result = run(*args)
        assert result.exit_code == code and says in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1
    assert json.loads(ok(run("show", "CS1", "--json")).stdout)["version"] == 1


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
    (b"GIF89a", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"%PDF-1.4", "application/pdf"),
    (b"<!DOCTYPE html><html>", "text/html"),
    ("نص عربي".encode(), "text/plain"),
    (b"\x00\x01\x02\xff\xfe", "application/octet-stream"),
    (b"", "application/octet-stream"),
])
def test_the_media_type_comes_from_the_bytes(head: bytes, expected: str) -> None:
    assert media_type_of(head) == expected


KNOWN_TYPES = {"image/jpeg", "image/png", "image/gif", "image/tiff", "image/bmp", "image/webp",
               "image/heic", "image/svg+xml", "application/pdf", "video/webm", "video/mp4",
               "video/quicktime", "audio/ogg", "audio/mpeg", "audio/wav", "application/zip",
               "application/gzip", "text/html", "application/xml", "text/plain",
               "application/octet-stream"}


@pytest.mark.slow  # 300 examples; the known types stay in the inner loop (above)
@given(st.binary(max_size=600))
@settings(max_examples=300)
def test_any_bytes_have_a_media_type(head: bytes) -> None:
    assert media_type_of(head) in KNOWN_TYPES


def photographs(folder: Path) -> tuple[Path, Path, Path]:
    """A photo, the same photo resized and re-compressed, and a different photo."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(3)
    scene = Image.new("RGB", (640, 480), (200, 190, 170))
    draw = ImageDraw.Draw(scene)
    for _ in range(60):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        draw.rectangle([x, y, x + rng.randint(10, 120), y + rng.randint(10, 90)],
                       fill=(rng.randint(0, 255),) * 3)
    other = Image.new("RGB", (640, 480), (30, 60, 90))
    draw = ImageDraw.Draw(other)
    for _ in range(60):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        draw.ellipse([x, y, x + rng.randint(10, 120), y + rng.randint(10, 90)],
                     fill=(rng.randint(0, 255), 100, 50))
    paths = folder / "rubble.jpg", folder / "rubble_whatsapp.jpg", folder / "market.png"
    scene.save(paths[0], quality=92)
    scene.resize((320, 240)).save(paths[1], quality=60)
    other.save(paths[2])
    return paths


def test_a_resized_photo_is_found_in_another_incident_and_a_different_one_is_not(
        store_url: str, cipher_key: str, room: Room, tmp_path: Path) -> None:
    run = runner(store_url, cipher_key, room)
    ok(run("init"))
    for code in ("CS1", "CS2", "CS3"):
        ok(run("report", code, "--date", "2017-03-21", "--location", "Tabqa", "--country",
               "Syria"))
    photo, resized, different = photographs(tmp_path)
    ok(run("evidence", "add", "CS1", str(photo)))
    ok(run("evidence", "add", "CS2", str(resized)))
    ok(run("evidence", "add", "CS3", str(different)))
    ok(run("evidence", "add", "CS3", str(photo)))
    found = json.loads(ok(run("evidence", "similar", "CS1", "e1", "--json")).stdout)
    assert [(f["code"], f["id"], f["how"]) for f in found] == [  # nearest first, then code
        ("CS2", "e1", "looks alike"), ("CS3", "e2", "same bytes")]
    assert all(f["distance"] <= 10 for f in found)
    alone = json.loads(ok(run("evidence", "similar", "CS3", "e1", "--json")).stdout)
    assert alone == []
    text = ok(run("evidence", "similar", "CS1", "e1")).stdout
    assert "looks alike" in text and "distance" in text


def test_difference_hashes_separate_different_pictures(tmp_path: Path) -> None:
    from verify.adapters.file_store import difference_hash
    from verify.domain.evidence_files import LOOKS_ALIKE, hash_distance

    photo, resized, different = photographs(tmp_path)
    hashes = [difference_hash(path.read_bytes()) for path in (photo, resized, different)]
    assert all(hashes)
    same, other = hash_distance(hashes[0], hashes[1]), hash_distance(hashes[0], hashes[2])
    assert same <= LOOKS_ALIKE < other
    assert difference_hash(b"%PDF-1.7 not a picture") is None

"""Evidence files in exports and imports (SPEC sections 5, 9 and 12), on real stores.

A full export carries every file's record, never its bytes, and re-imports
unchanged; a ``--public`` one lists the unprotected files by hash, media type
and description only; a file entry an import cannot read whole is kept
verbatim and never refuses the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result

from verify.application.records import IncidentRecord
from verify.domain.evidence_files import FileFacts
from verify.domain.incident import Incident, incident_id
from verify.entrypoints.cli import cli

import conftest

ORIGIN = ("https://www.example.org/ar/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/"
          + "%D8%BA%D8%A7%D8%B1%D8%A9-%D8%AC%D9%88%D9%8A%D8%A9-" * 60 + "?utm_source=share")
"""Where the photo was saved from: a percent-encoded Arabic address of about 3,000 characters."""

COLLECTOR = "أبو محمد الطبقاوي"
WITNESS_ORIGIN = "https://t.me/c/1234567890/4242?single"
WITNESS = "أم علي (شاهدة)"
FILE_FACTS = {"sha256", "size", "media_type", "name", "source", "origin", "collected_by",
              "collected_at", "description", "graphic", "protected", "phash"}


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small valid PNG, made here (no image library needed)."""
    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class FilingStore(conftest.Store):
    """A store driven through the command line, with a place for evidence files (a folder
    beside a SQLite file; named by VERIFY_FILES for PostgreSQL)."""

    def __init__(self, url: str, folder: Path) -> None:
        self.folder = Path(url + ".files") if "://" not in url else folder
        self.env = {"VERIFY_FILES": str(folder)} if "://" in url else {}
        super().__init__(url)

    def run(self, *args: str, actor: str = "importer") -> Result:
        return self.runner.invoke(cli, ["--store", self.url, "--actor", actor, *args],
                                  env=self.env)

    def ok(self, *args: str, actor: str = "importer") -> Result:
        result = self.run(*args, actor=actor)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result

    def exported(self, *args: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.ok("export", *args).stdout.splitlines()]


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> FilingStore:
    return FilingStore(store_url, tmp_path / "evidence-files")


@pytest.fixture
def second_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FilingStore]:
    """Another empty store of the same kind as `store`, with a folder of its own."""
    if "sqlite" in request.node.callspec.id:
        yield FilingStore(str(tmp_path / "second.sqlite"), tmp_path / "second-files")
    else:
        for url in conftest.fresh_postgres_schema():
            yield FilingStore(url, tmp_path / "second-files")


@pytest.fixture
def incident(store: FilingStore, tmp_path: Path) -> dict[str, str]:
    """CS1 holding a photo from a public source and a protected witness's document; the
    SHA-256 of each."""
    store.ok("report", "CS1", "--date", "2017-03-21", "--location", "الطبقة", "--country",
             "Syria", "--belligerent", "US-led Coalition")
    store.ok("source", "add", "CS1", "--url", "https://example.org/tabqa/1", "--publisher",
             "شبكة أخبار الطبقة", "--kind", "social")
    store.ok("source", "add", "CS1", "--url", WITNESS_ORIGIN, "--publisher", WITNESS,
             "--kind", "witness", "--protected")
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(png(40, 30, (120, 80, 40)))
    store.ok("evidence", "add", "CS1", str(photo), "--source", "s1", "--origin", ORIGIN,
             "--collected-by", COLLECTOR, "--collected-at", "2017-03-22T09:00:00Z",
             "--description", "أنقاض المخبز بعد الغارة", "--graphic", actor="mei")
    statement = tmp_path / "إفادة أم علي.pdf"
    statement.write_bytes(b"%PDF-1.4\n% the witness statement\n%%EOF\n")
    store.ok("evidence", "add", "CS1", str(statement), "--source", "s2", "--origin",
             WITNESS_ORIGIN, "--collected-by", WITNESS, "--collected-at",
             "2017-03-23T18:30:00+03:00", "--description", "إفادة الشاهدة", "--protected",
             actor="mei")
    return {"photo": hashlib.sha256(photo.read_bytes()).hexdigest(),
            "statement": hashlib.sha256(statement.read_bytes()).hexdigest()}


def test_a_public_export_lists_unprotected_files_by_hash_type_and_description_only(
        store: FilingStore, incident: dict[str, str]) -> None:
    (public,) = store.exported("--public")
    assert public["files"] == [{"sha256": incident["photo"], "media_type": "image/png",
                                "description": "أنقاض المخبز بعد الغارة"}]
    for format_ in ("jsonl", "csv"):
        text = store.ok("export", "--public", "--format", format_).stdout
        for secret in (incident["statement"], WITNESS, WITNESS_ORIGIN, "إفادة", "IMG_0042",
                       "%D8%BA%D8%A7%D8%B1%D8%A9-", COLLECTOR, "mei"):
            assert secret not in text, (format_, secret)

    (full,) = store.exported()
    photo, statement = full["files"]
    assert set(photo) == set(statement) == FILE_FACTS  # never the bytes, never the id
    assert (photo["sha256"], photo["source"], photo["origin"], photo["collected_by"],
            photo["collected_at"], photo["graphic"], photo["protected"]) == (
        incident["photo"], "s1", ORIGIN, COLLECTOR, "2017-03-22T09:00:00Z", True, False)
    assert photo["name"] == "IMG_0042.jpg" and photo["phash"] is not None
    assert (statement["name"], statement["source"], statement["protected"],
            statement["media_type"]) == ("إفادة أم علي.pdf", "s2", True, "application/pdf")


def test_an_incident_without_files_exports_as_before(store: FilingStore) -> None:
    store.ok("report", "CS2", "--date", "2017-03-21", "--location", "Raqqa", "--country",
             "Syria")
    for args in ((), ("--public",)):
        (document,) = store.exported(*args)
        assert "files" not in document
    header = store.ok("export", "--format", "csv").stdout.splitlines()[0].split(",")
    assert header[-3:] == ["victims", "files", "unread"]


def test_a_full_export_re_imports_with_its_files_and_exports_the_same(
        store: FilingStore, second_store: FilingStore, incident: dict[str, str],
        tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    store.ok("export", "-o", str(exported))
    again = json.loads(store.ok("import", str(exported), "--json").stdout)
    assert again["already_stored"] == 1 and again["differences"] == []
    report = json.loads(second_store.ok("import", str(exported), "--json").stdout)
    assert (report["imported"], report["warnings"]) == (1, [])
    assert second_store.ok("export").stdout == store.ok("export").stdout

    listed = json.loads(second_store.ok("evidence", "list", "CS1", "--json").stdout)
    assert [(f["id"], f["collected_by"], f["collected_at"]) for f in listed] == [
        ("e1", COLLECTOR, "2017-03-22T09:00:00Z"),
        ("e2", WITNESS, "2017-03-23T18:30:00+03:00")]
    history = json.loads(second_store.ok("history", "CS1", "--json").stdout)
    assert [e["actor"] for e in history if e["event"] == "FileCollected"] == ["importer"] * 2

    # The bytes did not move with the records: named missing until the folder is copied.
    missing = second_store.run("evidence", "verify")
    assert missing.exit_code == 1 and "CS1 e1:" in missing.stderr
    shutil.copytree(store.folder, second_store.folder, dirs_exist_ok=True)
    assert "intact: 2 evidence files" in second_store.ok("evidence", "verify").stdout


def test_a_csv_export_re_imports_with_its_files(
        store: FilingStore, second_store: FilingStore, incident: dict[str, str],
        tmp_path: Path) -> None:
    exported = tmp_path / "export.csv"
    store.ok("export", "-o", str(exported))
    report = json.loads(second_store.ok("import", str(exported), "--json").stdout)
    assert (report["imported"], report["warnings"]) == (1, [])
    assert second_store.ok("export").stdout == store.ok("export").stdout


def test_a_file_entry_that_does_not_read_whole_is_kept_verbatim_and_the_row_imported(
        store: FilingStore, second_store: FilingStore, incident: dict[str, str],
        tmp_path: Path) -> None:
    # A public export re-imported: each file is listed by hash alone.
    public = tmp_path / "public.jsonl"
    store.ok("export", "--public", "-o", str(public))
    report = json.loads(second_store.ok("import", str(public), "--json").stdout)
    assert report["imported"] == 1 and report["refused"] == []
    assert [(w["field"], w["reason"]) for w in report["warnings"]] == [
        ("files[0]", "not a whole file record (a public export lists a file by its hash, media "
                     "type and description only); kept verbatim")]
    shown = json.loads(second_store.ok("show", "CS1", "--json").stdout)
    assert json.loads(shown["unread"]["files[0]"]) == {
        "sha256": incident["photo"], "media_type": "image/png",
        "description": "أنقاض المخبز بعد الغارة"}
    assert second_store.ok("evidence", "list", "CS1", "--json").stdout.strip() == "[]"

    # Garbage, a second entry for the same bytes, and a file citing a source not in the row.
    (full,) = store.exported()
    photo, statement = full["files"]
    row = {**full, "code": "CS3", "sources": full["sources"][:1], "files": [
        "IMG_0042.jpg", {**photo, "sha256": "not a hash"}, photo, {**photo, "name": "copy.jpg"},
        {**statement, "collected_at": "yesterday"}, 42, None,
        {**statement, "sha256": "0" * 64}]}
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(orjson.dumps(row) + b"\n")
    report = json.loads(second_store.ok("import", str(archive), "--json").stdout)
    assert report["imported"] == 1 and report["refused"] == []
    warned = {w["field"]: w["reason"] for w in report["warnings"]}
    assert set(warned) == {"files[0]", "files[1]", "files[3]", "files[4]", "files[5]",
                           "files[7].source"}
    assert warned["files[3]"] == "the same bytes as an earlier file; recorded once; kept verbatim"
    assert all(WITNESS not in reason for reason in warned.values())  # never the values
    shown = json.loads(second_store.ok("show", "CS3", "--json").stdout)
    assert shown["unread"]["files[0]"] == "IMG_0042.jpg"
    assert shown["unread"]["files[5]"] == "42"
    assert json.loads(shown["unread"]["files[4]"])["collected_at"] == "yesterday"
    assert shown["unread"]["files[7].source"] == "s2"
    listed = json.loads(second_store.ok("evidence", "list", "CS3", "--json").stdout)
    assert [(f["sha256"], f["source"]) for f in listed] == [(incident["photo"], "s1"),
                                                            ("0" * 64, None)]

    # What was kept verbatim may be a protected file's: a public export leaves it out.
    text = second_store.ok("export", "--public").stdout
    assert "files[" not in text and WITNESS not in text
    public_history = second_store.ok("history", "CS3", "--public", "--json").stdout
    assert "files[" not in public_history and WITNESS not in public_history
    assert "(an internal entry withheld)" in second_store.ok("history", "CS3", "--public").stdout
    # The same row again is already stored; and a full export re-imports unchanged.
    again = json.loads(second_store.ok("import", str(archive), "--json").stdout)
    assert (again["imported"], again["already_stored"]) == (0, 1)
    exported = tmp_path / "again.jsonl"
    second_store.ok("export", "-o", str(exported))
    assert json.loads(second_store.ok("import", str(exported), "--json").stdout)[
        "already_stored"] == 2


def test_an_incident_stored_under_looser_limits_exports_its_files_in_both_shapes() -> None:
    """An incident today's record refuses (a date before 1900) is exported as it stands:
    its files too, whole or by hash alone, never mixed."""
    older = Incident._create(
        Incident.Reported, id=incident_id("CS9"), code="CS9", date="1850-06-01",
        date_end=None, time=None, country="Syria",
        location={"name": "الرقة", "lat": None, "lon": None, "precision": None},
        belligerents=[], killed={"min": None, "max": None},
        injured={"min": None, "max": None}, summary=None, actor="old")
    for sha256, protected in (("a" * 64, False), ("b" * 64, True)):
        older.collect_file(FileFacts(
            sha256=sha256, size=10, media_type="image/jpeg", name="صورة.jpg", origin=ORIGIN,
            collected_by=COLLECTOR, collected_at=dt.datetime(2017, 3, 22, 9, tzinfo=dt.UTC),
            description="أنقاض", protected=protected), "old")
    public = IncidentRecord.of(older, public=True).document()
    assert public["files"] == [{"sha256": "a" * 64, "media_type": "image/jpeg",
                                "description": "أنقاض"}]
    full = IncidentRecord.of(older).document()
    assert full["date"] == "1850-06-01"  # taken as stored, not refused
    assert [set(file) for file in full["files"]] == [FILE_FACTS, FILE_FACTS]
    assert [file["protected"] for file in full["files"]] == [False, True]

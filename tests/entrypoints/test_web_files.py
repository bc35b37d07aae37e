"""Evidence files on the web (no browser needed): upload streamed with a size limit,
thumbnails, graphic pictures behind a click, copies handed out re-hashed and recorded."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')
CODE = "CS1090"


def photo(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", size, colour)
    ImageDraw.Draw(picture).rectangle([40, 40, 300, 200], fill=(20, 20, 20))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def cli_run(store: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "cli", *args])


@pytest.fixture
def files_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "evidence"
    monkeypatch.setenv("VERIFY_FILES", str(folder))
    return folder


@pytest.fixture
def served(store_url: str, files_folder: Path) -> Iterator[tuple[TestClient, str]]:
    assert cli_run(store_url, "init").exit_code == 0
    assert cli_run(store_url, "report", CODE, "--date", "2017-03-21", "--location",
                   "مخبز، الطبقة (bakery, Tabqa)", "--country", "Syria").exit_code == 0
    assert cli_run(store_url, "source", "add", CODE, "--url", "https://example.org/p/1",
                   "--publisher", "Tabqa network", "--kind", "social").exit_code == 0
    app = VerifyApp(env={**parse_store(store_url).env(), "CREATE_TABLE": "n"})
    web = create_app(parse_store(store_url), team_file=None, local_actor="web", app=app,
                     max_upload_mb=1)
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client, store_url
    app.close()


def form_fields(client: TestClient) -> dict[str, str]:
    page = client.get(f"/incidents/{CODE}").text
    csrf, version = CSRF.search(page), VERSION.search(page)
    assert csrf and version
    return {"csrf": csrf.group(1), "version": version.group(1)}


def upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    return client.post(f"/incidents/{CODE}/files", data={**form_fields(client), **fields},
                       files={"file": (name, data, "application/octet-stream")},
                       follow_redirects=False)


def history(store: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(cli_run(store, "history", CODE, "--json").stdout)
    return entries


def test_files_are_added_shown_and_copied_from_the_page(
        served: tuple[TestClient, str], files_folder: Path) -> None:
    client, store = served
    rubble, wounded = photo((180, 170, 150)), photo((90, 20, 20))
    added = upload(client, "IMG_0042.jpg", rubble, description="أنقاض المخبز — the rubble",
                   origin="https://example.org/p/1", source="s1",
                   collected_by="Tabqa network", collected_at="2017-03-22T09:00")
    assert added.status_code == 303, ERROR.findall(added.text)
    assert added.headers["location"].endswith("#files")
    assert upload(client, "wounded.jpg", wounded, graphic="1").status_code == 303
    assert upload(client, "statement.pdf", b"%PDF-1.7 statement", protected="1"
                  ).status_code == 303

    page = client.get(f"/incidents/{CODE}").text
    assert "added e3 to CS1090: application/pdf" in page  # the flash, as the CLI says it
    thumbnails = re.findall(r'src="/incidents/CS1090/files/(e\d)/thumbnail"', page)
    assert thumbnails == ["e1"]  # the graphic picture is not shown until asked
    assert 'href="/incidents/CS1090?reveal=e2#file-e2"' in page
    assert "أنقاض المخبز" in page and "(protected)" in page
    revealed = client.get(f"/incidents/{CODE}?reveal=e2").text
    assert re.findall(r'src="/incidents/CS1090/files/(e\d)/thumbnail"', revealed) == [
        "e1", "e2"]
    small = client.get(f"/incidents/{CODE}/files/e1/thumbnail")
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    from PIL import Image

    assert max(Image.open(io.BytesIO(small.content)).size) == 320
    assert client.get(f"/incidents/{CODE}/files/e3/thumbnail").status_code == 404
    assert not any(e["event"] == "FileCopied" for e in history(store))  # looking is not a copy

    copy = client.post(f"/incidents/{CODE}/files/e1/copy",
                       data={"csrf": form_fields(client)["csrf"], "reason": "for the report"})
    assert copy.status_code == 200 and copy.content == rubble
    assert copy.headers["content-type"] == "application/octet-stream"
    assert 'attachment; filename="CS1090-e1-IMG_0042.jpg"' in copy.headers["content-disposition"]
    custody = [(e["event"], e["actor"], e["why"]) for e in history(store)
               if e["event"].startswith("File")]
    assert custody == [("FileCollected", "web", "أنقاض المخبز — the rubble"),
                       ("FileCollected", "web", None), ("FileCollected", "web", None),
                       ("FileCopied", "web", "for the report")]

    for stored in files_folder.rglob("*"):  # damage every stored file
        if stored.is_file() and not stored.name.startswith("."):
            stored.write_bytes(stored.read_bytes()[:-1] + b"!")
    before = len(history(store))
    refused = client.post(f"/incidents/{CODE}/files/e1/copy",
                          data={"csrf": form_fields(client)["csrf"], "reason": "again"})
    assert refused.status_code == 409 and "no longer matches its SHA-256" in refused.text
    assert len(history(store)) == before  # nothing handed out, nothing recorded


def test_uploads_that_cannot_be_taken_append_nothing(served: tuple[TestClient, str]) -> None:
    client, store = served
    before = len(history(store))
    too_large = upload(client, "video.mp4", b"\x00" * (2 * 1024 * 1024), description="kept")
    assert too_large.status_code == 413
    assert ERROR.findall(too_large.text) == [
        "the file is larger than the 1 MB this server takes; nothing was recorded"]
    nothing = client.post(f"/incidents/{CODE}/files", data=form_fields(client),
                          files={"file": ("", b"", "application/octet-stream")},
                          follow_redirects=False)
    assert nothing.status_code == 400 and ERROR.findall(nothing.text) == ["choose a file to add"]
    stale = upload(client, "a.pdf", b"%PDF-1.7", version="1")
    assert stale.status_code == 409 and "changed since you opened it" in stale.text
    no_token = client.post(f"/incidents/{CODE}/files", data={"version": "3"},
                           files={"file": ("a.pdf", b"%PDF", "application/pdf")})
    assert no_token.status_code == 403
    bad_time = upload(client, "a.pdf", b"%PDF-1.7", collected_at="yesterday-ish")
    assert bad_time.status_code == 400
    assert len(history(store)) == before


def test_the_upload_form_is_offered_only_where_it_applies(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERIFY_FILES", raising=False)
    assert cli_run(store_url, "init").exit_code == 0
    for code in (CODE, "CS1091"):
        assert cli_run(store_url, "report", code, "--date", "2017-03-21", "--location",
                       "Tabqa", "--country", "Syria").exit_code == 0
    assert cli_run(store_url, "duplicate", "CS1091", "--of", CODE).exit_code == 0
    app = VerifyApp(env={**parse_store(store_url).env(), "CREATE_TABLE": "n"})
    with TestClient(create_app(parse_store(store_url), team_file=None, local_actor="web",
                               app=app), base_url="http://127.0.0.1") as client:
        offered = 'action="/incidents/CS1090/files"' in client.get(f"/incidents/{CODE}").text
        # A SQLite store keeps files beside itself; a team's store only where VERIFY_FILES says.
        assert offered == (not store_url.startswith("postgresql"))
        assert "/files" not in client.get("/incidents/CS1091").text.split("<aside>")[1]
    app.close()

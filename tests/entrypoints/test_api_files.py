"""Evidence files through the API: added as a member's token says (multipart/form-data or
JSON with base64), refused past the upload limit with 413 and nothing recorded, refused to
roles that may not and to requests without credentials; copies handed out and recorded;
parties named. On both stores."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

from conftest import fresh_postgres_schema

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CODE = "CS1090"
MB = 1024 * 1024


def photo() -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (640, 480), (180, 170, 150))
    ImageDraw.Draw(picture).rectangle([40, 40, 300, 200], fill=(20, 20, 20))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


RUBBLE = photo()
STATEMENT = b"%PDF-1.7 the ministry's statement"


def cli_run(store: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "cli", *args])


def history(store: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(cli_run(store, "history", CODE, "--json").stdout)
    return entries


def reported(store: str) -> None:
    assert cli_run(store, "init").exit_code == 0
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location",
                   "مخبز، الطبقة (bakery, Tabqa)", "--country", "Syria").exit_code == 0
    assert cli_run(store, "source", "add", CODE, "--url", "https://example.org/p/1",
                   "--publisher", "Tabqa network", "--kind", "social").exit_code == 0


@pytest.fixture
def files_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "evidence"
    monkeypatch.setenv("VERIFY_FILES", str(folder))
    return folder


@pytest.fixture
def served(store_url: str, tmp_path: Path, files_folder: Path
           ) -> Iterator[tuple[TestClient, str, dict[str, dict[str, str]]]]:
    """A team's server that takes files of up to 1 MB, and each member's token header."""
    team = tmp_path / "team.toml"
    write_team(Team(members={name: Member(name=name, role=Role(role),
                                          password_hash=CHEAP.hash(f"{name}-passphrase"))
                             for name, role in [("amira", "analyst"), ("omar", "reporter"),
                                                ("lina", "auditor")]}), team)
    headers = {name: {"Authorization": "Bearer " + CliRunner().invoke(
                   cli, ["--team", str(team), "team", "token", name]).stdout.strip()}
               for name in ("amira", "omar", "lina")}
    reported(store_url)
    web = create_app(parse_store(store_url), team_file=team, local_actor="nobody",
                     max_upload_mb=1)
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client, store_url, headers


def multipart(client: TestClient, headers: dict[str, str], name: str, data: bytes,
              **fields: str) -> Any:
    return client.post(f"/api/incidents/{CODE}/files", headers=headers, data=fields,
                       files={"file": (name, data, "application/octet-stream")})


def sent_as_json(client: TestClient, headers: dict[str, str], name: str, data: bytes,
                 **options: Any) -> Any:
    return client.post(f"/api/incidents/{CODE}/files", headers=headers, json={
        "name": name, "content_base64": base64.b64encode(data).decode("ascii"), **options})


@pytest.mark.slow  # with a token; the inner loop sends files without a team and as a browser
def test_a_token_adds_files_both_ways_as_its_member(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, store, members = served
    amira = members["amira"]
    by_form = multipart(client, amira, "IMG_0042.jpg", RUBBLE, source="s1",
                        origin="https://example.org/p/1", collected_by="Tabqa network",
                        collected_at="2017-03-22T09:00", description="أنقاض المخبز",
                        graphic="true", protected="false", version="2")
    assert by_form.status_code == 200, by_form.text
    sha = hashlib.sha256(RUBBLE).hexdigest()
    assert by_form.json() == {
        "code": CODE, "version": 3, "message": f"added e1 to {CODE}: image/jpeg, "
        f"{len(RUBBLE):,} bytes, sha256 {sha}", "file_id": "e1", "sha256": sha,
        "size": len(RUBBLE), "media_type": "image/jpeg"}
    by_json = sent_as_json(client, amira, "statement.pdf", STATEMENT, protected=True,
                           description="the ministry's statement")
    assert by_json.status_code == 200, by_json.text
    assert by_json.json()["file_id"] == "e2"
    assert by_json.json()["sha256"] == hashlib.sha256(STATEMENT).hexdigest()
    assert by_json.json()["media_type"] == "application/pdf"

    shown = json.loads(cli_run(store, "show", CODE, "--json").stdout)
    files = {found["id"]: found for found in shown["files"]}
    assert files["e1"]["sha256"] == sha and files["e1"]["name"] == "IMG_0042.jpg"
    assert files["e1"]["graphic"] is True and files["e1"]["protected"] is False
    assert files["e1"]["collected_by"] == "Tabqa network" and files["e1"]["source"] == "s1"
    assert files["e2"]["sha256"] == hashlib.sha256(STATEMENT).hexdigest()
    assert files["e2"]["protected"] is True and files["e2"]["collected_by"] == "amira"
    assert [(e["event"], e["actor"]) for e in history(store)
            if e["event"] == "FileCollected"] == [("FileCollected", "amira")] * 2

    # The bytes come back as they went in, re-hashed, and the copy is recorded.
    copy = client.post(f"/api/incidents/{CODE}/files/e1/copy", headers=members["lina"],
                       json={"reason": "for the audit"})
    assert copy.status_code == 200 and copy.content == RUBBLE
    assert copy.headers["content-type"] == "application/octet-stream"
    assert copy.headers["repr-digest"] == \
        f"sha-256=:{base64.b64encode(hashlib.sha256(RUBBLE).digest()).decode()}:"
    assert 'filename="CS1090-e1-IMG_0042.jpg"' in copy.headers["content-disposition"]
    assert [(e["event"], e["actor"], e["why"]) for e in history(store)][-1] == (
        "FileCopied", "lina", "for the audit")


def test_a_file_past_the_limit_is_refused_413_and_nothing_is_recorded(
        served: tuple[TestClient, str, dict[str, dict[str, str]]], files_folder: Path) -> None:
    client, store, members = served
    amira = members["amira"]
    before = history(store)
    refusal = {"error": "the file is larger than the 1 MB this server takes; nothing was "
                        "recorded"}
    for answer in [
        multipart(client, amira, "video.mp4", b"\x00" * (2 * MB)),  # counted as it arrives
        multipart(client, amira, "video.mp4", b"\x00" * (MB + 1)),  # within the form's slack
        sent_as_json(client, amira, "video.mp4", b"\x00" * (2 * MB)),
        sent_as_json(client, amira, "video.mp4", b"\x00" * (MB + 1)),  # decoded, one too many
    ]:
        assert answer.status_code == 413 and answer.json() == refusal
    assert history(store) == before
    assert not [stored for stored in files_folder.rglob("*") if stored.is_file()]
    exactly = sent_as_json(client, amira, "one.bin", b"\x01" * MB)
    assert exactly.status_code == 200 and exactly.json()["size"] == MB


def test_who_may_not_add_a_file_is_refused_before_it_is_read(
        served: tuple[TestClient, str, dict[str, dict[str, str]]], files_folder: Path) -> None:
    client, store, members = served
    before = history(store)
    for answer in [multipart(client, members["lina"], "a.pdf", STATEMENT),
                   sent_as_json(client, members["lina"], "a.pdf", STATEMENT)]:
        assert answer.status_code == 409 and answer.json() == {
            "error": "lina is an auditor and may not record strikes, claims, assessments, "
                     "discount findings or casualty figures"}
    reporter = multipart(client, members["omar"], "a.pdf", STATEMENT)
    assert reporter.status_code == 409 and "omar is a reporter" in reporter.json()["error"]
    larger = multipart(client, members["lina"], "video.mp4", b"\x00" * (2 * MB))
    assert larger.status_code == 409  # the role decides before the body is read (not 413)
    for answer in [multipart(client, {}, "a.pdf", STATEMENT),
                   sent_as_json(client, {}, "a.pdf", STATEMENT),
                   multipart(client, {"Authorization": "Bearer verify_0000abcd_" + "A" * 43},
                             "a.pdf", STATEMENT),
                   client.post(f"/api/incidents/{CODE}/files/e1/copy", json={})]:
        assert answer.status_code == 401 and list(answer.json()) == ["error"]
        assert "WWW-Authenticate" in answer.headers
    assert history(store) == before
    assert not [stored for stored in files_folder.rglob("*") if stored.is_file()]


def test_a_browsers_credentials_send_a_file_as_json_only(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    """A browser posts a multipart form to any site with the cookie or Basic credentials it
    holds; it cannot be made to send JSON here. So those credentials take JSON only."""
    client, store, _ = served
    password = ("amira", "amira-passphrase")
    form = client.post(f"/api/incidents/{CODE}/files", auth=password,
                       files={"file": ("a.pdf", STATEMENT, "application/pdf")})
    assert form.status_code == 415 and form.json() == {
        "error": "send the file as JSON (content_base64), or as multipart/form-data with an "
                 "API token (Authorization: Bearer TOKEN)"}
    body = {"name": "a.pdf", "content_base64": base64.b64encode(STATEMENT).decode()}
    cross = client.post(f"/api/incidents/{CODE}/files", auth=password, json=body,
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 415
    plain = client.post(f"/api/incidents/{CODE}/files", auth=password,
                        content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert not [e for e in history(store) if e["event"] == "FileCollected"]
    assert client.post(f"/api/incidents/{CODE}/files", auth=password, json=body
                       ).status_code == 200
    assert [e["actor"] for e in history(store) if e["event"] == "FileCollected"] == ["amira"]


def test_refusals_are_one_sentence_and_append_nothing(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, store, members = served
    amira = members["amira"]
    before = history(store)
    encoded = base64.b64encode(STATEMENT).decode()
    cases = [
        (sent_as_json(client, amira, "a.pdf", STATEMENT, version=1), 409,
         "no longer at version 1"),
        (client.post(f"/api/incidents/{CODE}/files", headers=amira,
                     json={"name": "a.pdf", "content_base64": "not base64!"}), 400,
         "content_base64 is not base64"),
        (client.post(f"/api/incidents/{CODE}/files", headers=amira,
                     json={"content_base64": encoded}), 400, "name is required"),
        (sent_as_json(client, amira, "a.pdf", STATEMENT, colour="red"), 400, "colour"),
        (sent_as_json(client, amira, "a.pdf", STATEMENT, collected_at="yesterday-ish"), 400,
         "yesterday-ish"),
        (sent_as_json(client, amira, "a.pdf", STATEMENT, source="s9"), 400, "s9"),
        (client.post(f"/api/incidents/{CODE}/files", content=b"{",
                     headers={**amira, "Content-Type": "application/json"}), 400,
         "the body is not JSON"),
        (multipart(client, amira, "a.pdf", STATEMENT, graphic="perhaps"), 400, "graphic"),
        (multipart(client, amira, "", STATEMENT), 400, "with its file name"),
        (client.post(f"/api/incidents/{CODE}/files", headers=amira, data={"name": "a.pdf"},
                     files={"picture": ("a.pdf", STATEMENT, "application/pdf")}), 400,
         "part named file"),
        (client.post(f"/api/incidents/{CODE}/files", headers={**amira, "Content-Type":
                                                              "application/octet-stream"},
                     content=STATEMENT), 415, "multipart/form-data"),
        (client.post("/api/incidents/CS4040/files", headers=amira,
                     files={"file": ("a.pdf", STATEMENT, "application/pdf")}), 404,
         "no incident has the code CS4040"),
        (client.post(f"/api/incidents/{CODE}/files/e9/copy", headers=amira, json={}), 400,
         "e9"),
    ]
    for answer, status, says in cases:
        assert answer.status_code == status, (says, answer.text)
        assert list(answer.json()) == ["error"] and says in answer.json()["error"], answer.text
    assert history(store) == before


def test_without_a_team_the_local_actor_sends_files_as_json(
        store_url: str, files_folder: Path) -> None:
    reported(store_url)
    web = create_app(parse_store(store_url), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        form = client.post(f"/api/incidents/{CODE}/files",
                           files={"file": ("a.pdf", STATEMENT, "application/pdf")})
        assert form.status_code == 415
        sent = client.post(f"/api/incidents/{CODE}/files", json={
            "name": "a.pdf", "content_base64": base64.b64encode(STATEMENT).decode()})
        assert sent.status_code == 200 and sent.json()["file_id"] == "e1"
    assert [(e["event"], e["actor"]) for e in history(store_url)][-1] == (
        "FileCollected", "maya")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_postgres_schema()


@pytest.mark.postgres
def test_a_store_without_a_place_for_files_refuses_before_reading(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL store without VERIFY_FILES (a SQLite store keeps its files beside it)."""
    monkeypatch.delenv("VERIFY_FILES", raising=False)
    store_url = postgres_url
    reported(store_url)
    web = create_app(parse_store(store_url), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        sent = client.post(f"/api/incidents/{CODE}/files", json={
            "name": "a.pdf", "content_base64": base64.b64encode(STATEMENT).decode()})
    assert sent.status_code == 409 and list(sent.json()) == ["error"]


def test_parties_are_named_as_the_member(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, store, members = served
    named = client.post("/api/parties", headers=members["amira"], json={
        "name": "US-led Coalition", "aliases": ["Coalition", "التحالف الدولي"]})
    assert named.status_code == 200, named.text
    assert named.json() == {
        "party": "US-led Coalition", "aliases": ["Coalition", "التحالف الدولي"],
        "message": "recorded US-led Coalition with the aliases Coalition, التحالف الدولي"}
    again = client.post("/api/parties", headers=members["amira"], json={"name": "coalition"})
    assert again.status_code == 409 and list(again.json()) == ["error"]
    refused = client.post("/api/parties", headers=members["lina"], json={"name": "Russia"})
    assert refused.status_code == 409 and "lina is an auditor" in refused.json()["error"]
    assert client.post("/api/parties", json={"name": "Russia"}).status_code == 401
    listed = json.loads(cli_run(store, "parties", "list", "--json").stdout)
    assert listed == [{"name": "US-led Coalition", "aliases": ["Coalition", "التحالف الدولي"]}]


# The whole OpenAPI document and its page: test_api_strikes checks them in the inner loop.
@pytest.mark.slow
def test_the_document_and_the_page_describe_both_ways(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, _, _ = served
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/api/incidents/{code}/files"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"multipart/form-data", "application/json"}
    schemas = document["components"]["schemas"]
    upload = schemas[content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert upload["properties"]["file"] == {
        "type": "string", "format": "binary", "title": "File",
        "description": upload["properties"]["file"]["description"]}
    sent = schemas[content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert {"name", "content_base64"} <= set(sent["required"])
    assert {"413", "415", "401"} <= set(operation["responses"])
    assert "evidence add" in operation["summary"]
    assert "/api/incidents/{code}/files/{file_id}/copy" in document["paths"]
    assert "/api/parties" in document["paths"]
    page = client.get("/docs").text
    assert "<code>/api/incidents/{code}/files</code>" in page
    assert "<code>content_base64</code>" in page and "<code>/api/parties</code>" in page

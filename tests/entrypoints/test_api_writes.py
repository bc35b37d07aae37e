"""The write API: every change the command line makes, as JSON, acting as the member a token
names, under the same roles and separation of duties; every error one sentence; the export;
the /docs page. On both stores."""

from __future__ import annotations

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
from verify.entrypoints.web.api import CHANGES
from verify.entrypoints.web.app import create_app

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CODE = "CS1090"


def cli_run(store: str, *args: str, team: Path | None = None) -> Any:
    extra = ["--team", str(team)] if team else []
    return CliRunner().invoke(cli, ["--store", store, *extra, "--actor", "cli", *args])


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str, dict[str, str]]]:
    team = tmp_path / "team.toml"
    write_team(Team(members={name: Member(name=name, role=Role(role),
                                          password_hash=CHEAP.hash(f"{name}-passphrase"))
                             for name, role in [("amira", "analyst"), ("jonas", "analyst"),
                                                ("omar", "reporter"), ("lina", "auditor")]}),
               team)
    tokens = {name: CliRunner().invoke(cli, ["--team", str(team), "team", "token", name]
                                       ).stdout.strip()
              for name in ("amira", "jonas", "omar", "lina")}
    assert cli_run(store_url, "init").exit_code == 0
    web = create_app(parse_store(store_url), team_file=team, local_actor="nobody")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client, store_url, tokens


def as_member(tokens: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


def history(store: str) -> list[tuple[str, str]]:
    entries = json.loads(cli_run(store, "history", CODE, "--json").stdout)
    return [(entry["event"], entry["actor"]) for entry in entries]


def test_a_token_writes_as_its_member_and_the_rules_hold(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, tokens = served
    amira, jonas = as_member(tokens, "amira"), as_member(tokens, "jonas")
    made = client.post("/api/incidents", headers=amira, json={
        "code": CODE, "date": "21 March 2017", "location": "مخبز، الطبقة (bakery, Tabqa)",
        "country": "Syria", "belligerents": ["US-led Coalition"], "killed": "4-7"})
    assert made.status_code == 201 and made.json() == {
        "code": CODE, "version": 1, "message": f"reported {CODE}"}
    for url, publisher in [("https://example.org/tabqa/1", "شبكة الطبقة"),
                           ("https://example.org/airwars/2", "Airwars")]:
        added = client.post(f"/api/incidents/{CODE}/sources", headers=amira, json={
            "url": url, "publisher": publisher, "kind": "ngo", "reliability": "B",
            "credibility": 2})
        assert added.status_code == 200, added.text
    assert added.json()["message"].startswith(f"added source s2 to {CODE}")
    strike = client.post(f"/api/incidents/{CODE}/strikes", headers=amira, json={
        "belligerent": "US-led Coalition", "status": "declared", "report": "CJTF-OIR 2017-03-28"})
    assert strike.status_code == 200, strike.text
    graded = client.post(f"/api/incidents/{CODE}/grade", headers=amira, json={})
    assert graded.status_code == 200 and "proposed" in graded.json()["message"]
    own = client.post(f"/api/incidents/{CODE}/approve", headers=amira, json={})
    assert own.status_code == 409 and "a different person must approve it" in own.json()["error"]
    assert client.post(f"/api/incidents/{CODE}/approve", headers=jonas, json={}
                       ).status_code == 200
    reporter = client.post(f"/api/incidents/{CODE}/disputes", headers=as_member(tokens, "omar"),
                           json={"by": "US-led Coalition", "reason": "a depot"})
    assert reporter.status_code == 409
    assert reporter.json() == {"error": "omar is a reporter and may not open a dispute"}
    auditor = client.post(f"/api/incidents/{CODE}/notes", headers=as_member(tokens, "lina"),
                          json={"text": "x"})
    assert auditor.status_code == 409 and "lina is an auditor" in auditor.json()["error"]
    assert client.post(f"/api/incidents/{CODE}/comments", headers=jonas, json={
        "text": "@amira approved; the report matches"}).status_code == 200
    assert client.post(f"/api/incidents/{CODE}/tags", headers=jonas, json={
        "tags": ["verified-strike"]}).status_code == 200
    assert history(store) == [
        ("Reported", "amira"), ("SourceAdded", "amira"), ("SourceAdded", "amira"),
        ("Corroborated", "amira"), ("StrikeConfirmed", "amira"), ("GradeProposed", "amira"),
        ("Graded", "amira"), ("GradeApproved", "jonas"), ("Commented", "jonas"),
        ("Tagged", "jonas")]
    shown = json.loads(cli_run(store, "show", CODE, "--json").stdout)
    assert shown["grading"]["approved_by"] == "jonas"


def test_refusals_are_one_sentence_and_append_nothing(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, tokens = served
    amira = as_member(tokens, "amira")
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    cases = [
        ({}, "/sources", {"url": "https://a.example", "publisher": "A", "kind": "ngo"}, 401,
         "sign in first"),
        ({"Authorization": "Bearer verify_0000abcd_" + "A" * 43}, "/notes", {"text": "x"},
         401, "token"),
        (amira, "/sources", {"url": "https://a.example", "kind": "ngo"}, 400,
         "publisher is required"),
        (amira, "/sources", {"url": "not an address", "publisher": "A", "kind": "ngo"}, 400,
         "web address"),
        (amira, "/sources", {"url": "https://a.example", "publisher": "A", "kind": "blog"},
         400, "kind"),
        (amira, "/sources", {"url": "https://a.example", "publisher": "A", "kind": "ngo",
                             "colour": "red"}, 400, "colour"),
        (amira, "/notes", {"text": "x", "version": 7}, 409, "no longer at version 7"),
        (amira, "/sources/s9/withdraw", {"reason": "gone"}, 400, "has no source s9"),
        (amira, "/approve", {}, 409, "has no proposed grade to approve"),
        (amira, "/casualties", {"killed": "many", "reason": "r"}, 400, "killed"),
        (amira, "/tags", {"tags": []}, 400, "tags"),
    ]
    for headers, suffix, body, status, says in cases:
        answer = client.post(f"/api/incidents/{CODE}{suffix}", headers=headers, json=body)
        assert answer.status_code == status, (suffix, answer.text)
        assert list(answer.json()) == ["error"] and says in answer.json()["error"], answer.text
        assert tokens["amira"] not in answer.text
    unknown = client.post("/api/incidents/CS4040/notes", headers=amira, json={"text": "x"})
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "no incident has the code CS4040"}
    not_json = client.post(f"/api/incidents/{CODE}/notes", auth=("amira", "amira-passphrase"),
                           data={"text": "a form, not JSON"})
    assert not_json.status_code in (400, 415) and "error" in not_json.json()
    assert history(store) == [("Reported", "cli")]
    stats = client.get("/api/stats?by=week", headers=amira)
    assert stats.status_code == 400 and stats.json() == {
        "error": "by must be one of month, grade, country, belligerent, not 'week'"}


def test_basic_credentials_write_json_only(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, _ = served
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    sent = client.post(f"/api/incidents/{CODE}/notes", auth=("amira", "amira-passphrase"),
                       json={"text": "by a script with a password"})
    assert sent.status_code == 200
    faked = client.post(f"/api/incidents/{CODE}/notes", auth=("amira", "amira-passphrase"),
                        content=b'{"text": "from another site"}',
                        headers={"Content-Type": "text/plain"})
    assert faked.status_code in (400, 415)
    assert history(store) == [("Reported", "cli"), ("NoteAdded", "amira")]


@pytest.mark.slow  # an export and the whole API page: nearly half a second
def test_export_and_the_api_page(served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, tokens = served
    amira = as_member(tokens, "amira")
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    assert cli_run(store, "note", CODE, "internal: the family asked").exit_code == 0
    full = client.get("/api/export", headers=amira)
    assert full.status_code == 200 and full.headers["content-type"].startswith(
        "application/x-ndjson")
    assert "the family asked" in full.text
    public = client.get("/api/export?format=jsonl&public=1", headers=amira)
    assert "the family asked" not in public.text and json.loads(public.text)["code"] == CODE
    assert client.get("/api/export?format=csv", headers=amira).text.startswith("code,")
    assert client.get("/api/export").status_code == 401
    page = client.get("/docs")
    assert page.status_code == 200 and "<script" not in page.text
    for suffix, _, _, _ in CHANGES:
        assert f"/api/incidents/{{code}}/{suffix}</code>" in page.text, suffix
    document = client.get("/openapi.json").json()
    assert all(f"/api/incidents/{{code}}/{suffix}" in document["paths"]
               for suffix, _, _, _ in CHANGES)


def test_without_a_team_the_local_actor_writes_json(store_url: str) -> None:
    assert cli_run(store_url, "init").exit_code == 0
    assert cli_run(store_url, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    web = create_app(parse_store(store_url), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        assert client.post(f"/api/incidents/{CODE}/notes", json={"text": "t"}).status_code == 200
        cross = client.post(f"/api/incidents/{CODE}/notes", json={"text": "t"},
                            headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 415
        form = client.post(f"/api/incidents/{CODE}/notes", data={"text": "t"})
        assert form.status_code in (400, 415)
    assert history(store_url) == [("Reported", "cli"), ("NoteAdded", "maya")]


def test_a_victims_sources_are_replaced_as_victim_amend_replaces_them(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, tokens = served
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    for number in (1, 2):
        assert cli_run(store, "source", "add", CODE, "--url", f"https://example.org/{number}",
                       "--publisher", f"P{number}", "--kind", "ngo").exit_code == 0
    assert cli_run(store, "victim", "add", CODE, "--name", "Layla", "--source", "s1"
                   ).exit_code == 0
    amended = client.post(f"/api/incidents/{CODE}/victims/v1/amend",
                          headers=as_member(tokens, "amira"),
                          json={"sources": ["s1", "s2"], "reason": "named by both"})
    assert amended.status_code == 200, amended.text
    shown = json.loads(cli_run(store, "show", CODE, "--json").stdout)
    assert shown["victims"][0]["sources"] == ["s1", "s2"]


def comparable(entry: dict[str, Any], code: str) -> tuple[Any, ...]:
    """An event as the same change by another edge would record it: its own code, its
    victim's random key and sealed details, and when it was recorded left out."""
    data = {key: value for key, value in entry["data"].items() if key != "code"}
    if "victim" in data:
        data["victim"] = {key: value for key, value in data["victim"].items()
                          if key not in ("key", "sealed")}
    return (entry["event"], entry["actor"], entry["what"].replace(code, "CODE"),
            json.dumps(data, sort_keys=True).replace(code, "CODE"))


def test_the_options_the_api_lacked_are_recorded_as_the_command_records_them(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    """`report --date-end --time`, `strike confirm --reported`, `assess --dated`, `victim add`
    without --status, and `tag --remove` of several tags: the same events either way."""
    client, store, tokens = served
    amira = as_member(tokens, "amira")
    made = client.post("/api/incidents", headers=amira, json={
        "code": CODE, "date": "21 March 2017", "date_end": "2017-03-22", "time": "14:30",
        "location": "Tabqa", "country": "Syria", "belligerents": ["US-led Coalition"]})
    assert made.status_code == 201, made.text
    changes: list[tuple[str, dict[str, Any]]] = [
        ("sources", {"url": "https://example.org/1", "publisher": "P", "kind": "ngo"}),
        ("strikes", {"belligerent": "US-led Coalition", "status": "declared",
                     "report": "CJTF-OIR 2017-03-28", "reported": "28/03/2017"}),
        ("assessments", {"belligerent": "US-led Coalition", "outcome": "credible",
                         "dated": "2 April 2017"}),
        ("victims", {"sources": ["s1"]}),
        ("tags", {"tags": ["night", "needs-geolocation", "الطبقة"]}),
        ("tags/remove", {"tags": ["Needs Geolocation", "الطبقة"]}),
    ]
    for suffix, body in changes:
        answer = client.post(f"/api/incidents/{CODE}/{suffix}", headers=amira, json=body)
        assert answer.status_code == 200, (suffix, answer.text)
    assert answer.json()["message"] == \
        f"took needs-geolocation, الطبقة off {CODE}; its tags: night"
    other = "CS1091"
    for command in [
        ["report", other, "--date", "21 March 2017", "--date-end", "2017-03-22", "--time",
         "14:30", "--location", "Tabqa", "--country", "Syria", "--belligerent",
         "US-led Coalition"],
        ["source", "add", other, "--url", "https://example.org/1", "--publisher", "P",
         "--kind", "ngo"],
        ["strike", "confirm", other, "--belligerent", "US-led Coalition", "--status",
         "declared", "--report", "CJTF-OIR 2017-03-28", "--reported", "28/03/2017"],
        ["assess", other, "--belligerent", "US-led Coalition", "--outcome", "credible",
         "--dated", "2 April 2017"],
        ["victim", "add", other, "--source", "s1"],
        ["tag", other, "night", "needs-geolocation", "الطبقة"],
        ["tag", other, "Needs Geolocation", "الطبقة", "--remove"],
    ]:
        result = CliRunner().invoke(cli, ["--store", store, "--actor", "amira", *command])
        assert result.exit_code == 0, (command, result.output)
    by_api, by_cli = (json.loads(cli_run(store, "history", code, "--json").stdout)
                      for code in (CODE, other))
    assert [comparable(entry, CODE) for entry in by_api] == \
        [comparable(entry, other) for entry in by_cli]
    shown = json.loads(cli_run(store, "show", CODE, "--json").stdout)
    assert (shown["date_end"], shown["time"], shown["tags"]) == ("2017-03-22", "14:30",
                                                                ["night"])
    assert shown["strikes"][0]["reported"] == "2017-03-28"
    assert shown["assessments"][0]["dated"] == "2017-04-02"
    assert shown["victims"][0]["status"] == "killed"


def test_the_new_keys_are_read_as_the_command_reads_them(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    client, store, tokens = served
    amira = as_member(tokens, "amira")
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria", "--belligerent", "US-led Coalition").exit_code == 0
    report = {"date": "2017-03-21", "location": "Tabqa", "country": "Syria"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/api/incidents", {**report, "code": "CS1092", "time": "25:00"}, "HH:MM"),
        ("/api/incidents", {**report, "code": "CS1092", "date_end": "2017-02-30"},
         "no such day"),
        ("/api/incidents", {**report, "code": "CS1092", "date_end": "2017-03-01"},
         "before the incident's first day"),
        (f"/api/incidents/{CODE}/strikes", {"belligerent": "US-led Coalition",
                                            "status": "likely", "reported": "2999-01-01"},
         "after today"),
        (f"/api/incidents/{CODE}/assessments", {"belligerent": "US-led Coalition",
                                                "outcome": "credible", "dated": "soon"},
         "soon"),
        (f"/api/incidents/{CODE}/tags/remove", {"tags": []}, "tags"),
        (f"/api/incidents/{CODE}/tags/remove", {"tag": "night"}, "tag"),
        (f"/api/incidents/{CODE}/tags/remove", {"tags": ["night"]}, "has none of these tags"),
    ]
    for path, body, says in cases:
        answer = client.post(path, headers=amira, json=body)
        assert 400 <= answer.status_code < 500, (path, body, answer.text)
        assert list(answer.json()) == ["error"] and says in answer.json()["error"], answer.text
    assert history(store) == [("Reported", "cli")]
    assert client.get("/api/incidents/CS1092", headers=amira).status_code == 404


def test_a_victims_name_with_a_nul_is_refused_before_it_is_sealed(
        served: tuple[TestClient, str, dict[str, str]]) -> None:
    """A victim's details are sealed before the events' own NUL check sees them: a NUL in a
    name would pass sealed, then break the read model's search names on PostgreSQL (the
    fuzzer found it). It is refused first, and the read model keeps up."""
    client, store, tokens = served
    assert cli_run(store, "report", CODE, "--date", "2017-03-21", "--location", "Tabqa",
                   "--country", "Syria").exit_code == 0
    assert cli_run(store, "source", "add", CODE, "--url", "https://example.org/1",
                   "--publisher", "P1", "--kind", "ngo").exit_code == 0
    for field in ("name", "name_original", "family", "role"):
        sent = client.post(f"/api/incidents/{CODE}/victims", headers=as_member(tokens, "amira"),
                           json={field: "Lay\u0000la", "status": "killed", "sources": ["s1"]})
        assert sent.status_code == 400, (field, sent.text)
        assert sent.json() == {"error": "text must not contain NUL characters (\\x00)"}
    assert history(store) == [("Reported", "cli"), ("SourceAdded", "cli")]
    assert client.get("/api/queue", headers=as_member(tokens, "amira")).status_code == 200

"""Changes of many incidents at once through the API: strike reports imported and matched
as `verify strikes import` and `strikes match` do, and every incident graded as `grade
--all` does, each acting as the member a token names, under the same roles; refused
without credentials and to roles that may not, in one sentence, recording nothing. On both
stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.application.app import VerifyApp
from verify.domain.duties import Member, Role, Team
from verify.domain.strikes import StrikeReport, StrikeReportRecord
from verify.entrypoints.cli import cli
from verify.entrypoints.cli.strikes import DEFAULT_DAYS, DEFAULT_RADIUS_KM
from verify.entrypoints.web import api_strikes
from verify.entrypoints.web.app import create_app

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
REPORT = {"reference": "CJTF-OIR 2017-03-18", "belligerent": "US-led Coalition",
          "report_date": "18 March 2017", "strike_date": "2017-03-17", "place": "Mosul",
          "lat": 36.34, "lon": 43.13, "strikes": 6, "text": "Near Mosul, six strikes…"}
ROWS: list[Any] = [
    REPORT,
    {**REPORT, "reference": "B", "lat": None, "lon": None, "strike_date": "17/03/2017"},
    {key: value for key, value in REPORT.items() if key != "reference"},
    {**REPORT, "reference": "x3", "lon": None},
    {**REPORT, "reference": "x4", "report_date": "2017-03-01"},
    ["not", "an", "object"],
    {**REPORT, "reference": "x6", "strike_date": "2017-02-30"},
    {**REPORT, "reference": "x7", "colour": "red"},
]
"""Two reports that read, and one row for each way a row does not."""


def cli_run(store: str, *args: str, actor: str = "cli") -> Result:
    return CliRunner().invoke(cli, ["--store", store, "--actor", actor, *args])


@pytest.fixture
def served(store_url: str, tmp_path: Path
           ) -> Iterator[tuple[TestClient, str, dict[str, dict[str, str]]]]:
    """A team's server, and each member's token header."""
    team = tmp_path / "team.toml"
    write_team(Team(members={name: Member(name=name, role=Role(role),
                                          password_hash=CHEAP.hash(f"{name}-passphrase"))
                             for name, role in [("amira", "analyst"), ("omar", "reporter"),
                                                ("lina", "auditor")]}), team)
    headers = {name: {"Authorization": "Bearer " + CliRunner().invoke(
                   cli, ["--team", str(team), "team", "token", name]).stdout.strip()}
               for name in ("amira", "omar", "lina")}
    assert cli_run(store_url, "init").exit_code == 0
    web = create_app(parse_store(store_url), team_file=team, local_actor="nobody")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client, store_url, headers


def recorded_by(store: str) -> list[tuple[str, str]]:
    """Each strike report recorded: its reference, and who recorded it."""
    app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
    try:
        return [(event.report["reference"], event.actor)
                for event in app.events_of(StrikeReport.Recorded)]
    finally:
        app.close()


def test_reports_are_imported_as_strikes_import_imports_their_file(
        served: tuple[TestClient, str, dict[str, dict[str, str]]], tmp_path: Path) -> None:
    client, store, members = served
    answer = client.post("/api/strike-reports", headers=members["amira"], json=ROWS)
    assert answer.status_code == 200, answer.text
    file = tmp_path / "reports.jsonl"
    file.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in ROWS))
    twin = str(tmp_path / "twin.sqlite")
    assert cli_run(twin, "init").exit_code == 0
    printed = cli_run(twin, "strikes", "import", str(file), "--json")
    assert printed.exit_code == 2  # some rows are invalid
    assert answer.json() == json.loads(printed.stdout)
    assert answer.json()["imported"] == 2 and answer.json()["invalid"] == 6
    assert [problem["line"] for problem in answer.json()["problems"]] == [3, 4, 5, 6, 7, 8]
    assert answer.json()["problems"][3]["message"] == "a row must be a JSON object"
    assert recorded_by(store) == [("CJTF-OIR 2017-03-18", "amira"), ("B", "amira")]
    again = client.post("/api/strike-reports", headers=members["amira"],
                        json=[REPORT, {**REPORT, "strikes": 7}])
    assert again.status_code == 200 and again.json() == {
        "imported": 0, "unchanged": 1, "invalid": 0, "differs": 1, "problems": [
            {"line": 2, "status": "differs", "message": "report CJTF-OIR 2017-03-18 differs "
                                                        "from the store in strikes; not merged"}]}
    listed = json.loads(cli_run(store, "strikes", "list", "--json").stdout)
    assert [report["strikes"] for report in listed] == [6, 6]


def test_refusals_are_one_sentence_and_record_nothing(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, store, members = served
    assert cli_run(store, "report", "CS1090", "--date", "2017-03-17", "--location", "Mosul",
                   "--country", "Iraq", "--belligerent", "US-led Coalition", "--lat", "36.34",
                   "--lon", "43.13").exit_code == 0
    assert cli_run(store, "source", "add", "CS1090", "--url", "https://example.org/1",
                   "--publisher", "P", "--kind", "ngo").exit_code == 0
    too_many = [REPORT] * (api_strikes.MOST_ROWS + 1)
    cases: list[tuple[dict[str, str], str, Any, int, str]] = [
        ({}, "/api/strike-reports", [REPORT], 401, "sign in first"),
        ({}, "/api/strike-reports/match", {"apply": True}, 401, "sign in first"),
        ({}, "/api/grade-all", {}, 401, "sign in first"),
        ({"Authorization": "Bearer verify_0000abcd_" + "A" * 43}, "/api/grade-all", {}, 401,
         "token"),
        (members["omar"], "/api/strike-reports", [REPORT], 409,
         "omar is a reporter and may not import or apply belligerent strike reports"),
        (members["lina"], "/api/strike-reports", [REPORT], 409,
         "lina is an auditor and may not import or apply belligerent strike reports"),
        (members["omar"], "/api/strike-reports/match", {"apply": True}, 409,
         "omar is a reporter and may not import or apply belligerent strike reports"),
        (members["omar"], "/api/grade-all", {}, 409,
         "omar is a reporter and may not grade an incident"),
        (members["lina"], "/api/grade-all", {"due": True}, 409,
         "lina is an auditor and may not grade an incident"),
        (members["amira"], "/api/strike-reports", too_many, 400,
         f"send at most {api_strikes.MOST_ROWS:,} strike reports at a time"),
        (members["amira"], "/api/strike-reports", REPORT, 400, "list"),
        (members["amira"], "/api/strike-reports/match", {"radius_km": 0}, 400, "radius_km"),
        (members["amira"], "/api/strike-reports/match", {"days": 31}, 400, "days"),
        (members["amira"], "/api/strike-reports/match", {"gazetteer": "/etc/passwd"}, 400,
         "gazetteer"),
        (members["amira"], "/api/grade-all", {"due": "maybe"}, 400, "due"),
    ]
    for headers, path, body, status, says in cases:
        answer = client.post(path, headers=headers, json=body)
        assert answer.status_code == status, (path, answer.text)
        assert list(answer.json()) == ["error"] and says in answer.json()["error"], answer.text
    assert recorded_by(store) == []
    history = json.loads(cli_run(store, "history", "CS1090", "--json").stdout)
    assert [entry["event"] for entry in history] == ["Reported", "SourceAdded"]


def test_matches_are_found_as_strikes_match_finds_them_and_applied_as_the_member(
        served: tuple[TestClient, str, dict[str, dict[str, str]]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's gazetteer places what only a name places: `VERIFY_GAZETTEER`."""
    client, store, members = served
    gazetteer = tmp_path / "places.csv"
    gazetteer.write_text("name,alternate_names,lat,lon\nQaraqosh,Bakhdida;بخديدا|Baghdede,"
                         "36.27,43.38\n", encoding="utf-8")
    monkeypatch.setenv("VERIFY_GAZETTEER", str(gazetteer))
    assert cli_run(store, "report", "CI2000", "--date", "2017-03-17", "--location", "بخديدا",
                   "--country", "Iraq", "--belligerent", "US-led Coalition").exit_code == 0
    assert client.post("/api/strike-reports", headers=members["amira"], json=[
        {**REPORT, "lat": None, "lon": None, "place": "Baghdede"}]).status_code == 200
    looked = client.post("/api/strike-reports/match", headers=members["lina"],
                         json={"radius_km": 20, "days": 2})
    assert looked.status_code == 200, looked.text
    printed = cli_run(store, "strikes", "match", "--radius-km", "20", "--days", "2", "--json")
    assert looked.json() == json.loads(printed.stdout)
    assert [c["incident"] for c in looked.json()["candidates"]] == ["CI2000"]
    assert looked.json()["candidates"][0]["report_located_by"] == "gazetteer: Qaraqosh"
    assert looked.json()["applied"] == []
    defaults = client.post("/api/strike-reports/match", headers=members["lina"], json={})
    assert (defaults.json()["radius_km"], defaults.json()["days"]) == (DEFAULT_RADIUS_KM,
                                                                       DEFAULT_DAYS)
    assert [entry["event"] for entry in json.loads(
        cli_run(store, "history", "CI2000", "--json").stdout)] == ["Reported"]
    applied = client.post("/api/strike-reports/match", headers=members["amira"],
                          json={"apply": True})
    assert applied.status_code == 200, applied.text
    assert [c["incident"] for c in applied.json()["applied"]] == ["CI2000"]
    history = json.loads(cli_run(store, "history", "CI2000", "--json").stdout)
    assert [(entry["event"], entry["actor"]) for entry in history] == [
        ("Reported", "cli"), ("StrikeConfirmed", "amira")]
    assert history[1]["data"]["strike"]["status"] == "likely"
    again = client.post("/api/strike-reports/match", headers=members["amira"],
                        json={"apply": True})
    assert again.json()["candidates"] == [] and again.json()["applied"] == []


@pytest.mark.slow  # grades every incident of two stores: a quarter second
def test_every_incident_is_graded_as_grade_all_grades_it(
        served: tuple[TestClient, str, dict[str, dict[str, str]]], tmp_path: Path) -> None:
    client, store, members = served
    twin = str(tmp_path / "twin.sqlite")
    assert cli_run(twin, "init").exit_code == 0
    for where in (store, twin):
        for code in ("CS1090", "CS1091"):
            assert cli_run(where, "report", code, "--date", "2017-03-17", "--location",
                           "Mosul", "--country", "Iraq").exit_code == 0
        assert cli_run(where, "source", "add", "CS1090", "--url", "https://example.org/1",
                       "--publisher", "P", "--kind", "ngo").exit_code == 0
    graded = client.post("/api/grade-all", headers=members["amira"], json={})
    assert graded.status_code == 200, graded.text
    printed = cli_run(twin, "grade", "--all", "--json", actor="amira")
    assert graded.json() == json.loads(printed.stdout)
    assert graded.json()["graded"] == 1 and graded.json()["not_gradable"] == ["CS1091"]
    history = json.loads(cli_run(store, "history", "CS1090", "--json").stdout)
    assert (history[-1]["event"], history[-1]["actor"]) == ("Graded", "amira")
    due = client.post("/api/grade-all", headers=members["amira"], json={"due": True})
    assert due.status_code == 200 and due.json()["graded"] == 0


def test_the_routes_are_in_the_openapi_document_and_the_api_page(
        served: tuple[TestClient, str, dict[str, dict[str, str]]]) -> None:
    client, _, _ = served
    document = client.get("/openapi.json").json()
    for path, command in [("/api/strike-reports", "`verify strikes import`"),
                          ("/api/strike-reports/match", "`verify strikes match"),
                          ("/api/grade-all", "`verify grade --all")]:
        assert command in document["paths"][path]["post"]["summary"], path
    body = document["paths"]["/api/strike-reports"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/StrikeReportRow"}
    row = document["components"]["schemas"]["StrikeReportRow"]
    assert list(row["properties"]) == list(StrikeReportRecord.model_fields)  # the file's keys
    assert set(document["components"]["schemas"]["MatchStrikeReports"]["properties"]) == {
        "radius_km", "days", "apply"}
    page = client.get("/docs").text
    assert "<code>/api/strike-reports</code>" in page and "<code>strike_date</code>" in page

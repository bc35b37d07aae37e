"""Releases on the command line (SPEC 14): two releases apart diff to exactly the incidents
that changed publicly, with the reasons; the figures printed at the first come back with
`stats --as-of` its moment and `stats --release` its name, on both stores."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verify.adapters.team_file import write_team
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli

from conftest import Store

SECRET_URL = "https://signal.invalid/rasha-4411"
SECRET_PUBLISHER = "Rasha Witness Circle"
SECRET_NOTE = "Rasha met the family at the clinic"
SECRET_VICTIM = "Huda Rasha"
SECRETS = (SECRET_URL, SECRET_PUBLISHER, SECRET_NOTE, SECRET_VICTIM, "Rasha", "Huda")


def ok(store: Store, *args: str) -> str:
    result = store.run(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def as_json(store: Store, *args: str) -> Any:
    return json.loads(ok(store, *args, "--json"))


def report(store: Store, code: str, day: str, belligerent: str = "US-led Coalition") -> None:
    ok(store, "report", code, "--date", day, "--location", "Tabqa", "--country", "Syria",
       "--belligerent", belligerent, "--killed", "2-4")


def source(store: Store, code: str, n: int, *more: str) -> None:
    ok(store, "source", "add", code, "--url", f"https://example.org/{code}/{n}",
       "--publisher", f"Publisher {n}", "--kind", "ngo", "--reliability", "B",
       "--credibility", "2", *more)


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


def test_two_releases_diff_to_exactly_what_changed_with_reasons(store: Store) -> None:
    for code, day in (("CS1", "2017-03-01"), ("CS2", "2017-03-02"), ("CS3", "2017-03-03"),
                      ("CS4", "2017-04-04")):
        report(store, code, day)
    source(store, "CS1", 1)
    source(store, "CS1", 2)
    printed = {by: ok(store, "stats", "--by", by) for by in ("month", "grade", "belligerent")}
    export = store.runner.invoke(cli, ["--store", store.url, "export", "--format", "jsonl",
                                       "--public"]).stdout_bytes
    first = as_json(store, "release", "create", "2017-04", "--notes", "April's figures")
    assert first["export_sha256"] == hashlib.sha256(export).hexdigest()
    assert first["counts"]["incidents"] == 4
    assert first["counts"]["grades"]["ungraded"] == 4
    assert first["head"].startswith("sha256:") and first["merkle_root"].startswith("sha256:")

    # The week between: public changes to three incidents, a new one, and internal work.
    ok(store, "grade", "CS1", "--grade", "fair", "--rationale", "two NGO sources agree")
    ok(store, "duplicate", "CS2", "--of", "CS1")
    ok(store, "amend", "CS3", "--location", "Raqqa", "--reason", "the hospital's list says Raqqa")
    report(store, "CS5", "2017-04-20", "Russia")
    ok(store, "source", "add", "CS4", "--url", SECRET_URL, "--publisher", SECRET_PUBLISHER,
       "--kind", "witness", "--reliability", "B", "--credibility", "2", "--protected")
    ok(store, "note", "CS4", SECRET_NOTE)
    ok(store, "victim", "add", "CS4", "--name", SECRET_VICTIM, "--source", "s1", "--protected")
    second = as_json(store, "release", "create", "2017-05")

    diff = as_json(store, "release", "diff", "2017-04", "2017-05")
    assert diff["from"]["export_sha256"] == first["export_sha256"]
    assert [entry["code"] for entry in diff["added"]] == ["CS5"]
    assert [(entry["code"], entry["duplicate_of"]) for entry in diff["withdrawn"]] == \
        [("CS2", "CS1")]
    changed = {entry["code"]: entry for entry in diff["changed"]}
    assert sorted(changed) == ["CS1", "CS3"], "CS4 changed only in what is withheld"
    cs1 = {change["field"]: change for change in changed["CS1"]["changes"]}
    assert cs1["grade"]["old"] is None and cs1["grade"]["new"]["grade"] == "fair"
    assert (cs1["state"]["old"], cs1["state"]["new"]) == ("corroborated", "graded")
    assert [reason["why"] for reason in changed["CS1"]["reasons"]] == ["two NGO sources agree"]
    cs3 = {change["field"]: change for change in changed["CS3"]["changes"]}
    assert cs3["location"]["old"]["name"] == "Tabqa" and cs3["location"]["new"]["name"] == "Raqqa"
    assert [reason["why"] for reason in changed["CS3"]["reasons"]] == \
        ["the hospital's list says Raqqa"]
    shown = ok(store, "release", "diff", "2017-04", "2017-05")
    assert "withdrawn  CS2: duplicate of CS1" in shown
    assert "why: the hospital's list says Raqqa" in shown
    for text in (json.dumps(diff), shown):
        assert not any(secret in text for secret in SECRETS)

    # The figures as published, exactly, though the store moved on since.
    moment = first["at"]
    for by, figures in printed.items():
        assert ok(store, "stats", "--by", by) != figures or by == "belligerent"
        assert ok(store, "stats", "--by", by, "--as-of", moment) == figures
        assert ok(store, "stats", "--by", by, "--release", "2017-04") == figures
    assert ok(store, "stats", "--as-of", second["at"]) == ok(store, "stats")

    listed = as_json(store, "release", "list")
    assert [made["name"] for made in listed] == ["2017-04", "2017-05"]
    assert listed[0]["notes"] == "April's figures" and listed[0]["by"] == "importer"
    assert ok(store, "audit", "verify").count("intact") >= 1


def test_a_release_is_in_the_audited_log_and_is_never_replaced(store: Store) -> None:
    report(store, "CS1", "2017-03-01")
    made = as_json(store, "release", "create", "first")
    # The register opens with the first release: two events follow what it sealed.
    assert made["events"] == store.events() - 2
    again = store.run("release", "create", " FIRST ")
    assert again.exit_code == 1
    assert again.stderr == ("error: there is already a release named FIRST: a release is never "
                            "replaced; choose another name\n")
    assert store.run("audit", "verify").exit_code == 0


@pytest.mark.parametrize(("args", "code", "message"), [
    (("release", "diff", "first", "nothing"), 2, "there is no release named 'nothing'"),
    (("release", "diff", "second", "first"), 2, "was made after first"),
    (("release", "create", "  "), 2, "a release's name must not be empty"),
    (("stats", "--release", "nothing"), 2, "there is no release named 'nothing'"),
    (("stats", "--release", "first", "--as-of", "2017-01-01"), 2, "not both"),
    (("stats", "--as-of", "yesterday"), 2, "is not a date or date-time"),
])
def test_bad_input_is_one_sentence(tmp_path: Path, args: tuple[str, ...], code: int,
                                   message: str) -> None:
    store = Store(str(tmp_path / "s.sqlite"))
    report(store, "CS1", "2017-03-01")
    ok(store, "release", "create", "first")
    report(store, "CS2", "2017-03-02")
    ok(store, "release", "create", "second")
    result = store.run(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_with_a_team_only_a_reviewer_records_a_release(tmp_path: Path) -> None:
    team = tmp_path / "team.toml"
    write_team(Team(members={
        "rana": Member(name="rana", role=Role.REVIEWER),
        "omar": Member(name="omar", role=Role.ANALYST)}), team)
    runner = CliRunner()
    base = ["--store", str(tmp_path / "s.sqlite"), "--team", str(team)]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    refused = runner.invoke(cli, [*base, "--actor", "omar", "release", "create", "r1"])
    assert refused.exit_code == 1
    assert refused.stderr == "error: omar is an analyst and may not record a release\n"
    assert runner.invoke(cli, [*base, "--actor", "rana", "release", "create", "r1"]).exit_code == 0


def test_an_empty_store_releases_and_counts_nothing(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.sqlite"))
    made = as_json(store, "release", "create", "empty")
    assert made["counts"]["incidents"] == 0 and made["events"] == 0
    assert made["export_sha256"] == hashlib.sha256(b"").hexdigest()
    assert ok(store, "release", "list").startswith("empty  ")
    assert dt.datetime.fromisoformat(made["at"]).tzinfo is not None


def test_the_web_shows_the_figures_as_they_stood(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from verify.adapters.store import parse_store
    from verify.entrypoints.web.app import create_app

    store = Store(str(tmp_path / "s.sqlite"))
    report(store, "CS1", "2017-03-01")
    then = as_json(store, "stats", "--by", "country")
    made = as_json(store, "release", "create", "first")
    report(store, "CS2", "2017-03-02", "Russia")
    api = create_app(parse_store(store.url), team_file=None, local_actor="web")
    with TestClient(api, base_url="http://127.0.0.1") as client:
        served = client.get("/api/stats", params={"by": "country", "as_of": made["at"]})
        assert served.status_code == 200 and served.json() == then
        assert client.get("/api/stats", params={"by": "country"}).json() != then
        page = client.get("/stats", params={"by": "country", "as_of": made["at"]})
        assert page.status_code == 200
        assert "as they stood at" in page.text and f'value="{made["at"]}"' in page.text
        bad = client.get("/stats", params={"as_of": "yesterday"})
        assert bad.status_code == 400 and "is not a date or date-time" in bad.text
        bad_api = client.get("/api/stats", params={"as_of": "yesterday"})
        assert bad_api.status_code == 400 and list(bad_api.json()) == ["error"]


def test_an_incident_is_proven_against_a_release_after_the_log_grew(store: Store,
                                                                     tmp_path: Path) -> None:
    """`audit prove CODE --release NAME` proves against the root the release recorded, so the
    proof still checks against it once later changes have grown the log."""
    ok(store, "init")
    report(store, "CS2001", "2017-03-20")
    source(store, "CS2001", 1)
    release = as_json(store, "release", "create", "2017-03")
    ok(store, "note", "CS2001", "written after the release")
    report(store, "CS2002", "2017-03-21")
    proof_file = tmp_path / "proof.json"
    ok(store, "audit", "prove", "CS2001", "--release", "2017-03", "-o", str(proof_file))
    proof = json.loads(proof_file.read_text())
    assert (proof["root"], proof["tree_size"]) == (release["merkle_root"], release["events"])
    assert store.run("audit", "check-proof", str(proof_file), "--root",
                     release["merkle_root"]).exit_code == 0
    today = as_json(store, "audit", "seal")["merkle_root"]
    assert store.run("audit", "check-proof", str(proof_file), "--root", today).exit_code == 1
    refused = store.run("audit", "prove", "CS2001", "--release", "2017-04")
    assert refused.exit_code == 2 and "no release named" in refused.stderr

"""assign, comment, tag, inbox and the queue's --assignee/--mine/--tag through the command
line, with a team file: sentences, exit codes, and nothing appended by a refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verify.entrypoints.cli import cli


@pytest.fixture
def run(tmp_path: Path) -> Any:
    team = tmp_path / "team.toml"
    store = str(tmp_path / "team.sqlite")
    for name, role in [("amira", "analyst"), ("jonas", "analyst"), ("omar", "reporter"),
                       ("lina", "auditor")]:
        assert CliRunner().invoke(cli, ["--team", str(team), "team", "add", name, "--role",
                                        role]).exit_code == 0

    def invoke(actor: str, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--store", store, "--team", str(team), "--actor", actor,
                                        *args])

    assert invoke("amira", "init").exit_code == 0
    for code, place in [("CS1090", "Bakery, Tabqa (الطبقة)"), ("CS1093", "Tabqa")]:
        assert invoke("amira", "report", code, "--date", "2017-03-21", "--location", place,
                      "--country", "Syria").exit_code == 0
    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result.stdout


def versions(run: Any) -> int:
    return int(json.loads(ok(run("amira", "show", "CS1090", "--json")))["version"])


def test_handing_over_discussing_and_tagging(run: Any) -> None:
    assert ok(run("amira", "assign", "cs1090", "--to", "JONAS")) == "assigned CS1090 to jonas\n"
    assert ok(run("amira", "comment", "CS1090", "@jonas is the bakery the one on the map?")) \
        == "added comment m1 to CS1090 (mentioning jonas)\n"
    inbox = json.loads(ok(run("jonas", "inbox", "--json")))
    assert [(item["kind"], item["code"], item["by"], item["comment"]) for item in inbox] == [
        ("mentioned", "CS1090", "amira", "m1"), ("assigned", "CS1090", "amira", None)]
    assert "amira mentioned you in m1: @jonas is the bakery" in ok(run("jonas", "inbox"))
    assert ok(run("jonas", "comment", "CS1090", "yes, 36.01, 38.55", "--reply-to", "M1")) \
        == "added comment m2 to CS1090\n"
    assert ok(run("jonas", "tag", "CS1090", "Needs Geolocation", "الطبقة")) == (
        "put needs-geolocation, الطبقة on CS1090; its tags: needs-geolocation, الطبقة\n")
    mine = ok(run("jonas", "queue", "--mine"))
    assert "CS1090" in mine and "[jonas]" in mine and "#needs-geolocation" in mine
    assert "CS1093" not in mine
    tagged = json.loads(ok(run("lina", "queue", "--tag", "NEEDS_GEOLOCATION", "--json")))
    assert [(e["code"], e["assignee"], e["tags"]) for e in tagged] == [
        ("CS1090", "jonas", ["needs-geolocation", "الطبقة"])]
    assert json.loads(ok(run("lina", "queue", "--assignee", "amira", "--json"))) == []
    assert "(answered)" in ok(run("jonas", "inbox"))
    assert ok(run("omar", "inbox")) == "nothing waits for omar\n"
    shown = json.loads(ok(run("lina", "show", "CS1090", "--json")))
    assert shown["assignee"] == "jonas" and [c["id"] for c in shown["comments"]] == ["m1", "m2"]
    history = ok(run("lina", "history", "CS1090"))
    assert "assigned to jonas" in history and "comment m2, answering m1" in history
    public = ok(run("lina", "history", "CS1090", "--public"))
    assert "36.01" not in public and "comment (internal; withheld)" in public
    assert ok(run("amira", "tag", "CS1090", "needs-geolocation", "--remove")).startswith(
        "took needs-geolocation off CS1090; its tags: الطبقة")
    assert ok(run("amira", "assign", "CS1090", "--unassign")) == \
        "CS1090 is assigned to nobody now\n"
    assert ok(run("jonas", "inbox", "--json")).count('"assigned"') == 0


@pytest.mark.parametrize(("actor", "args", "code", "says"), [
    ("amira", ["assign", "CS1090"], 2, "give --to NAME, or --unassign"),
    ("amira", ["assign", "CS1090", "--to", "jonas", "--unassign"], 2, "give --to NAME"),
    ("amira", ["assign", "CS1090", "--to", "jonsa"], 2,
     "no member of the team is called jonsa; did you mean jonas?"),
    ("amira", ["assign", "CS1090", "--unassign"], 1, "CS1090 is not assigned to anyone"),
    ("omar", ["assign", "CS1090", "--to", "jonas"], 1,
     "omar is a reporter and may not assign an incident or tag it"),
    ("lina", ["comment", "CS1090", "a thought"], 1, "lina is an auditor and may not comment"),
    ("amira", ["comment", "CS1090", "   "], 2, "the comment is empty"),
    ("amira", ["comment", "CS1090", "yes", "--reply-to", "m7"], 2, "has no comment m7"),
    ("amira", ["comment", "CS1090", "yes", "--reply-to", "x1"], 2, "is not a comment's id"),
    ("amira", ["comment", "CS1090", "@zoe look"], 2, "no member of the team is called zoe"),
    ("amira", ["tag", "CS1090", "--", "---"], 2, "is not a tag"),
    ("amira", ["tag", "CS1090", "#!?"], 2, "is not a tag"),
    ("amira", ["tag", "CS1090", "x" * 61], 2, "a tag is at most 60 characters"),
    ("amira", ["tag", "CS1090", "old", "--remove"], 1, "has none of these tags"),
    ("amira", ["comment", "CS9999", "hello"], 2, "no incident has the code CS9999"),
    ("amira", ["queue", "--mine", "--assignee", "jonas"], 2, "give --mine or --assignee"),
    ("amira", ["queue", "--tag", "!!"], 2, "is not a tag"),
])
def test_refusals_say_one_sentence_and_append_nothing(
        run: Any, actor: str, args: list[str], code: int, says: str) -> None:
    before = versions(run)
    result = run(actor, *args)
    assert result.exit_code == code and says in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    assert versions(run) == before


def test_a_duplicate_takes_no_casework(run: Any) -> None:
    ok(run("amira", "duplicate", "CS1093", "--of", "CS1090"))
    for args in (["assign", "CS1093", "--to", "jonas"], ["comment", "CS1093", "hm"],
                 ["tag", "CS1093", "x"]):
        result = run("amira", *args)
        assert result.exit_code == 1 and "record this on CS1090 instead" in result.stderr

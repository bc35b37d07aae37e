"""What a newcomer tripped on (issue 23): a proposal nobody could see, an approval told as the
proposer's act, revisions without the figures they replaced, `grade --all` without the codes,
imported grades worded as if "imported" graded them, and duplicates searched as if live.

Driven through the command line and the web, as a newcomer meets them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

Run = Callable[..., Result]

ARCHIVE = Path(__file__).parents[1] / "data" / "archive.jsonl"
MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"
"""A moment as a history line says it (to the second, UTC)."""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "verify.sqlite"


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """lina analyses and proposes; jonas reviews and approves."""
    path = tmp_path / "team.toml"
    for name, role in [("lina", "analyst"), ("jonas", "reviewer")]:
        added = CliRunner().invoke(cli, ["--team", str(path), "team", "add", name, "--role", role])
        assert added.exit_code == 0, added.output
    return path


@pytest.fixture
def run(store: Path, team: Path) -> Run:
    """`verify --store S --actor NAME [--team T] ARGS...`; the team file only when asked."""
    runner = CliRunner()

    def invoke(actor: str, *args: str, with_team: bool = False) -> Result:
        base = ["--store", str(store), "--actor", actor]
        if with_team:
            base += ["--team", str(team)]
        return runner.invoke(cli, [*base, *args], catch_exceptions=False)

    assert invoke("lina", "init").exit_code == 0
    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def reported(run: Run, code: str, *, sources: int = 2, killed: str = "80-150") -> None:
    ok(run("lina", "report", code, "--date", "2017-03-21", "--location", "al-Mansoura",
           "--country", "Syria", "--belligerent", "Coalition", "--killed", killed))
    for n in range(1, sources + 1):
        ok(run("lina", "source", "add", code, "--url", f"https://example.org/{code}/{n}",
               "--publisher", f"Publisher {n}", "--kind", "ngo", "--reliability", "B",
               "--credibility", "2"))


def proposed(run: Run, code: str = "CS2") -> None:
    """CS2: two independent credible sources and a declared strike; lina proposes fair."""
    reported(run, code)
    ok(run("lina", "strike", "confirm", code, "--belligerent", "Coalition",
           "--status", "declared", with_team=True))
    graded = ok(run("lina", "grade", code, with_team=True))
    assert "proposed" in graded.output


# ------------------------------------------------- 2. a proposal waiting for approval


def test_show_tells_the_reviewer_what_waits_for_approval(run: Run) -> None:
    proposed(run)
    shown = ok(run("jonas", "show", "CS2", with_team=True)).output
    assert "grade        ungraded" in shown
    line = next(line for line in shown.splitlines() if line.startswith("  proposed"))
    assert re.fullmatch(
        r"  proposed     fair  \(rule FAIR, rulebook v1, by lina, \d{4}-\d\d-\d\dT[\d:]{8}\); "
        r"waits for a second person's approval \(verify approve CS2\)", line), line
    assert "    because    2 independent credible sources" in shown

    document = json.loads(ok(run("jonas", "show", "CS2", "--json")).stdout)
    assert document["grade"] is None and document["state"] == "strike-confirmed"
    proposal = document["proposal"]
    assert (proposal["grade"], proposal["rule"], proposal["by"]) == ("fair", "FAIR", "lina")
    assert proposal["at"] and proposal["reasons"][0].startswith("2 independent credible sources")


def test_the_incident_page_tells_who_proposed_what_when_and_why(run: Run, store: Path) -> None:
    proposed(run)
    at = json.loads(ok(run("jonas", "show", "CS2", "--json")).stdout)["proposal"]["at"]
    web = create_app(parse_store(str(store)), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        page = client.get("/incidents/CS2").text
    start = page.index("Proposed:")
    notice = re.sub(r"<[^>]+>", "", page[start:page.index("<h2", start)])
    assert "by lina" in notice and at[:16].replace("T", " ") in notice, notice
    assert "it takes effect when a different person approves it" in notice
    assert "2 independent credible sources" in notice, notice


def test_after_approval_the_history_says_who_proposed_and_who_approved_when(
        run: Run, store: Path) -> None:
    proposed(run)
    ok(run("jonas", "approve", "CS2", with_team=True))
    entries = json.loads(ok(run("jonas", "history", "CS2", "--json")).stdout)
    proposal, took_effect, approval = entries[-3:]
    assert [proposal["event"], took_effect["event"], approval["event"]] == [
        "GradeProposed", "Graded", "GradeApproved"]
    text = ok(run("jonas", "history", "CS2")).output
    line = next(line for line in text.splitlines()
                if line.startswith(f"{took_effect['version']:>4}"))
    assert re.search(
        rf"grade fair took effect by rule FAIR, rulebook v1: proposed by lina at {MOMENT}, "
        rf"approved by jonas at {MOMENT}$", line), line
    assert "lina          graded fair" not in text and "graded fair by rule" not in text
    proposed_at = re.search(r"proposed by lina at (\S+ \S+)Z,", line)
    assert proposed_at is not None and proposed_at[1].replace(" ", "T") == proposal["at"][:19]

    web = create_app(parse_store(str(store)), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        page = client.get("/incidents/CS2").text
    assert "grade fair took effect by rule FAIR, rulebook v1: proposed by lina at" in page
    for public in ([], ["--public"]):  # the change feed tells it as the history does
        changes = ok(run("jonas", "changes", *public)).output
        assert "grade fair took effect by rule FAIR, rulebook v1: proposed by lina at" in changes


# ------------------------------------------------- 3. a revision says what it replaced


def test_a_revision_says_the_old_figures_and_the_new(run: Run) -> None:
    reported(run, "CS3", sources=1)
    ok(run("lina", "revise", "CS3", "--killed", "105-200", "--reason", "hospital lists"))
    ok(run("lina", "revise", "CS3", "--injured", "30", "--reason", "clinic records"))
    ok(run("lina", "revise", "CS3", "--killed", "110-200", "--injured", "31-40",
           "--reason", "both, again"))
    text = ok(run("lina", "history", "CS3")).output
    assert "revised civilians killed from 80-150 to 105-200\n" in text
    assert "revised civilians injured from unknown to 30\n" in text
    assert "revised civilians killed from 105-200 to 110-200, injured from 30 to 31-40" in text
    assert "revised civilians killed to" not in text
    for public in ([], ["--public"]):
        changes = ok(run("lina", "changes", *public)).output
        assert "revised civilians killed from 80-150 to 105-200; why: hospital lists" in changes


# ------------------------------------------------- 4. grade --all names what it graded


def test_grade_all_names_the_incidents_of_each_grade(run: Run) -> None:
    reported(run, "CS10", sources=1)
    reported(run, "CS11", sources=1)
    reported(run, "CS12", sources=2)
    ok(run("lina", "contest", "CS12", "--belligerent", "Russian Military",
           "--reason", "local reports name Russian aircraft"))
    reported(run, "CS13", sources=0)
    result = ok(run("lina", "grade", "--all"))
    assert "graded 3 incidents: weak 2 (CS10, CS11), contested 1 (CS12)" in result.output
    assert "1 cannot be graded (no source): CS13" in result.output

    for n in range(20, 35):
        reported(run, f"CS{n}", sources=1)
    summary = json.loads(ok(run("lina", "grade", "--all", "--json")).stdout)
    assert summary["graded"] == 15 and summary["by_grade"] == {"weak": 15}
    assert summary["incidents_by_grade"] == {"weak": [f"CS{n}" for n in range(20, 35)]}
    assert summary["proposed_incidents"] == {} and summary["not_gradable"] == ["CS13"]


def test_grade_all_shows_the_first_codes_of_a_long_list_and_counts_the_rest(run: Run) -> None:
    for n in range(20, 35):
        reported(run, f"CS{n}", sources=1)
    text = ok(run("lina", "grade", "--all")).output
    first = ", ".join(f"CS{n}" for n in range(20, 30))
    assert f"graded 15 incidents: weak 15 ({first} and 5 more)" in text


def test_grade_all_names_the_proposals_under_a_team(run: Run) -> None:
    proposed_code = "CS40"
    reported(run, proposed_code)
    ok(run("lina", "strike", "confirm", proposed_code, "--belligerent", "Coalition",
           "--status", "declared"))
    text = ok(run("lina", "grade", "--all", with_team=True)).output
    assert "proposed 1 grade for a second person to approve: fair 1 (CS40)" in text
    summary = json.loads(ok(run("lina", "grade", "--all", "--json", with_team=True)).stdout)
    assert summary["proposed_incidents"] == {}  # already proposed: nothing new


# ------------------------------------------------- 5. an imported grade, as the archive had it


def test_an_imported_grade_says_the_archive_recorded_it_and_why(run: Run) -> None:
    imported = run("jonas", "import", str(ARCHIVE))
    assert imported.exit_code == 2  # the archive's last two lines are refused, on purpose
    text = ok(run("jonas", "history", "CS1001")).output
    assert "imported grade fair, as recorded by the source archive\n" in text
    assert "why: two sources and a declared strike" in text  # the archive's reason
    assert "by imported" not in text
    entries = json.loads(ok(run("jonas", "history", "CS1001", "--json")).stdout)
    assert entries[-1]["event"] == "Graded"
    assert entries[-1]["why"] == "two sources and a declared strike"


# ------------------------------------------------- 6. a duplicate found by a search


def test_search_marks_duplicates_with_their_original(run: Run, store: Path) -> None:
    reported(run, "CS1001", sources=1)
    reported(run, "CS1002", sources=1)
    ok(run("lina", "duplicate", "CS1002", "--of", "CS1001"))
    text = ok(run("lina", "search", "al-Mansoura")).output
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert lines["CS1001"].endswith("[reported, ungraded]")
    assert lines["CS1002"].endswith("[duplicate of CS1001; reported, ungraded]")
    hits = {hit["code"]: hit for hit in
            json.loads(ok(run("lina", "search", "al-Mansoura", "--json")).stdout)}
    assert hits["CS1002"]["duplicate_of"] == "CS1001" and hits["CS1001"]["duplicate_of"] is None
    assert set(hits["CS1002"]) >= {"code", "date", "location", "country", "state", "grade",
                                   "summary"}
    web = create_app(parse_store(str(store)), team_file=None, local_actor="maya")
    with TestClient(web, base_url="http://127.0.0.1") as client:
        page = client.get("/search", params={"q": "al-Mansoura"}).text
    row = page[page.index('href="/incidents/CS1002"'):]
    row = re.sub(r"<[^>]+>", "", row[:row.index("</tr>")])
    assert "duplicate of CS1001" in row, row

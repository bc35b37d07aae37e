"""Corrections through the command line (SPEC section 10): amend, retract, duplicate --undo,
re-grading due, show --known-on, and corrections carried through export and import.

Driven through click's CliRunner as a user would type it, on both kinds of store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verify.application.messages import today_utc
from verify.entrypoints.cli import cli

from conftest import fresh_postgres_schema

Run = Callable[..., Result]

US = "US-led Coalition"


def runner_for(store_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, actor: str = "ann") -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", actor, *args], env={},
                             catch_exceptions=False)

    return invoke


@pytest.fixture
def store(store_url: str) -> Run:
    """`verify --store <fresh, initialised store> --actor ann ARGS...`."""
    run = runner_for(store_url)
    assert run("init").exit_code == 0
    return run


@pytest.fixture
def other_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    """A second empty store of the same kind as `store`, to import into."""
    if "sqlite" in request.node.callspec.id:
        run = runner_for(str(tmp_path / "other.sqlite"))
        assert run("init").exit_code == 0
        yield run
    else:
        for url in fresh_postgres_schema():
            run = runner_for(url)
            assert run("init").exit_code == 0
            yield run


# ------------------------------------------------------------------ helpers


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def reported(run: Run, code: str = "CS1", *extra: str, date: str = "2017-03-17",
             belligerents: tuple[str, ...] = (US,)) -> None:
    args = ["report", code, "--date", date, "--location", "Mosul", "--country", "Iraq",
            "--lat", "36.34", "--lon", "43.10", "--precision", "neighbourhood",
            "--killed", "3-5", "--summary", "Strike on a house."]
    for name in belligerents:
        args += ["--belligerent", name]
    assert f"reported {code}" in ok(run(*args, *extra)).output


def add_source(run: Run, code: str, n: int, rating: str = "B2", *extra: str) -> None:
    ok(run("source", "add", code, "--url", f"https://example.org/{code}/{n}", "--publisher",
           f"Publisher {n}", "--kind", "ngo", "--reliability", rating[0], "--credibility",
           rating[1], *extra))


def corroborated_with_strike(run: Run, code: str = "CS1") -> None:
    """Two independent credible sources and a declared strike by the alleged party."""
    add_source(run, code, 1, "B2")
    add_source(run, code, 2, "C3")
    ok(run("strike", "confirm", code, "--belligerent", US, "--status", "declared"))


def shown(run: Run, code: str, *extra: str) -> dict[str, Any]:
    result = ok(run("show", code, "--json", *extra))
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def history(run: Run, code: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(ok(run("history", code, "--json")).stdout)
    return entries


def queued(run: Run) -> dict[str, dict[str, Any]]:
    return {entry["code"]: entry for entry in json.loads(ok(run("queue", "--json")).stdout)}


def assert_one_sentence(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def refused_appending_nothing(run: Run, code: str, args: list[str], exit_code: int,
                              fragment: str) -> None:
    """The command is refused with one sentence, and the incident's history is unchanged."""
    before = history(run, code)
    assert_one_sentence(run(*args), exit_code, fragment)
    assert history(run, code) == before


def tomorrow() -> str:
    return (today_utc() + dt.timedelta(days=1)).isoformat()


# ------------------------------------------------------------------ amend


def test_a_mistyped_date_is_amended_in_one_event_that_keeps_the_old_value(store: Run) -> None:
    reported(store, "CS1", date="2017-03-27")
    before = history(store, "CS1")
    result = ok(store("amend", "CS1", "--date", "2017-03-17", "--reason", "typo: 27 for 17",
                      actor="jonas"))
    assert result.stdout.strip() == "amended CS1: date"

    entries = history(store, "CS1")
    assert len(entries) == len(before) + 1
    amended = entries[-1]
    assert amended["event"] == "Amended" and amended["actor"] == "jonas"
    assert amended["data"]["changes"] == {"date": {"old": "2017-03-27", "new": "2017-03-17"}}
    assert amended["data"]["reason"] == "typo: 27 for 17"
    assert amended["why"] == "typo: 27 for 17"

    text = ok(store("history", "CS1")).stdout
    assert "amended date 2017-03-27 → 2017-03-17" in text
    assert "why: typo: 27 for 17" in text

    now = shown(store, "CS1")
    assert now["date"] == "2017-03-17" and now["version"] == 2
    assert now["date_end"] is None and now["time"] is None
    assert now["state"] == "reported"
    # As this system had recorded it before the amendment: the old day.
    then = shown(store, "CS1", "--as-of", entries[0]["at"])
    assert then["date"] == "2017-03-27" and then["version"] == 1
    assert shown(store, "CS1", "--version", "1")["date"] == "2017-03-27"


def test_show_has_date_end_and_time_from_report_or_amendment(store: Run) -> None:
    reported(store, "CS1")
    reported(store, "CS2", "--date-end", "2017-03-19", "--time", "9:05")
    first = shown(store, "CS1")
    assert first["date_end"] is None and first["time"] is None
    second = shown(store, "CS2")
    assert (second["date"], second["date_end"], second["time"]) == (
        "2017-03-17", "2017-03-19", "09:05")
    assert "2017-03-17 to 2017-03-19 09:05" in ok(store("show", "CS2")).stdout
    assert "reported CS2: 2017-03-17 to 2017-03-19 09:05" in ok(store("history", "CS2")).stdout

    result = ok(store("amend", "CS1", "--date-end", "2017-03-18", "--time", "14:30",
                      "--reason", "the hospital's list"))
    assert result.stdout.strip() == "amended CS1: date end, time"
    changes = history(store, "CS1")[-1]["data"]["changes"]
    assert changes == {"date_end": {"old": None, "new": "2017-03-18"},
                       "time": {"old": None, "new": "14:30"}}
    amended = shown(store, "CS1")
    assert (amended["date_end"], amended["time"]) == ("2017-03-18", "14:30")
    assert "amended date end none → 2017-03-18; time none → 14:30" in ok(
        store("history", "CS1")).stdout
    features = json.loads(ok(store("export", "--format", "geojson")).stdout)["features"]
    by_code = {feature["properties"]["code"]: feature["properties"] for feature in features}
    assert (by_code["CS1"]["date_end"], by_code["CS1"]["time"]) == ("2017-03-18", "14:30")


def test_report_refuses_a_last_day_before_the_first(store: Run) -> None:
    result = store("report", "CS3", "--date", "2017-03-17", "--date-end", "2017-03-16",
                   "--location", "x", "--country", "Iraq")
    assert_one_sentence(result, 2, "before the incident's first day")
    assert_one_sentence(store("show", "CS3"), 2, "no incident has the code CS3")


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--date", "2017-03-17"], 1, "already has these values; nothing to amend"),
        (["--belligerent", US, "--summary", "Strike on a house."], 1, "nothing to amend"),
        ([], 1, "nothing to amend"),
        (["--lat", "36.3"], 2, "give --lat and --lon together"),
        (["--lon", "43.1", "--summary", "moved"], 2, "give --lat and --lon together"),
        (["--lat", "91", "--lon", "43"], 2, "--lat"),
        (["--date-end", "2017-03-16"], 2,
         "the last day (2017-03-16) is before the incident's first day (2017-03-17)"),
        (["--time", "25:00"], 2, "'25:00' is not a time of day"),
        (["--time", "12:60"], 2, "is not a time of day"),
        (["--time", "evening"], 2, "is not a time of day"),
        (["--date", "tomorrow"], 2, "is after today (UTC)"),
        (["--date", "2017-02-30"], 2, "that month has no such day"),
        (["--country", "  "], 2, "the country must not be empty"),
        (["--precision", "galaxy"], 2, "--precision"),
    ],
)
def test_refused_amendments_are_one_sentence_and_append_nothing(
        store: Run, args: list[str], code: int, fragment: str) -> None:
    reported(store)
    args = [tomorrow() if arg == "tomorrow" else arg for arg in args]
    refused_appending_nothing(store, "CS1", ["amend", "CS1", *args, "--reason", "checked"],
                              code, fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["amend", "CS1", "--summary", "x"], "Missing option '--reason'"),
     (["amend", "CS1", "--summary", "x", "--reason", "   "], "give the reason"),
     (["amend", "CS404", "--summary", "x", "--reason", "y"], "no incident has the code CS404")],
)
def test_an_amendment_needs_a_reason_and_a_known_incident(store: Run, args: list[str],
                                                           fragment: str) -> None:
    reported(store)
    refused_appending_nothing(store, "CS1", args, 2, fragment)


def test_a_last_day_before_an_amended_first_day_is_refused(store: Run) -> None:
    reported(store, "CS1", "--date-end", "2017-03-18")
    refused_appending_nothing(store, "CS1", ["amend", "CS1", "--date", "2017-03-20",
                                             "--reason", "x"], 2, "is before the incident's")
    ok(store("amend", "CS1", "--date", "2017-03-20", "--date-end", "2017-03-21", "--reason",
             "both days were wrong"))
    assert (shown(store, "CS1")["date"], shown(store, "CS1")["date_end"]) == (
        "2017-03-20", "2017-03-21")


def test_a_duplicate_is_not_amended(store: Run) -> None:
    reported(store, "CS1")
    reported(store, "CS2")
    ok(store("duplicate", "CS2", "--of", "CS1"))
    refused_appending_nothing(store, "CS2", ["amend", "CS2", "--summary", "new", "--reason",
                                             "x"], 1, "record this on CS1 instead")


def test_belligerent_replaces_the_list(store: Run) -> None:
    reported(store, "CS1", belligerents=(US, "Russia"))
    ok(store("amend", "CS1", "--belligerent", "Turkey", "--reason", "misattributed"))
    assert shown(store, "CS1")["belligerents"] == ["Turkey"]
    changes = history(store, "CS1")[-1]["data"]["changes"]
    assert changes == {"belligerents": {"old": [US, "Russia"], "new": ["Turkey"]}}
    assert "amended belligerents US-led Coalition, Russia → Turkey" in ok(
        store("history", "CS1")).stdout
    ok(store("amend", "CS1", "--belligerent", "Russia", "--belligerent", "Turkey",
             "--belligerent", "russia", "--reason", "both, as the second source says"))
    assert shown(store, "CS1")["belligerents"] == ["Russia", "Turkey"]


def test_coordinates_amend_one_by_one_and_as_of_shows_the_place_before(store: Run) -> None:
    reported(store, "CS1")
    ok(store("amend", "CS1", "--lat", "36.35", "--lon", "43.12", "--reason", "geolocated"))
    ok(store("amend", "CS1", "--location", "Mosul al-Jadida", "--precision", "street",
             "--summary", "Strike on two houses.", "--country", "Syria",
             "--reason", "a better source"))
    entries = history(store, "CS1")
    assert [e["event"] for e in entries] == ["Reported", "Amended", "Amended"]
    first, second = entries[1]["data"]["changes"], entries[2]["data"]["changes"]
    assert first == {"location": {
        "old": {"name": "Mosul", "lat": 36.34, "lon": 43.1, "precision": "neighbourhood"},
        "new": {"name": "Mosul", "lat": 36.35, "lon": 43.12, "precision": "neighbourhood"}}}
    assert list(second) == ["location", "country", "summary"]  # in the order history names
    assert second["country"] == {"old": "Iraq", "new": "Syria"}
    assert second["summary"] == {"old": "Strike on a house.", "new": "Strike on two houses."}

    now = shown(store, "CS1")
    assert now["location"] == {"name": "Mosul al-Jadida", "lat": 36.35, "lon": 43.12,
                               "precision": "street"}
    assert now["country"] == "Syria" and now["summary"] == "Strike on two houses."
    between = shown(store, "CS1", "--as-of", entries[1]["at"])
    assert between["location"]["name"] == "Mosul" and between["location"]["lat"] == 36.35
    assert between["country"] == "Iraq"
    text = ok(store("history", "CS1")).stdout
    assert ("amended location Mosul (36.34, 43.1, neighbourhood) → "
            "Mosul (36.35, 43.12, neighbourhood)") in text


# ------------------------------------------------------------------ retract


def full_case(run: Run, code: str = "CS1") -> None:
    """One of each piece of evidence: source, strike, competing claim, assessment, finding,
    note."""
    reported(run, code)
    add_source(run, code, 1, "B2")
    ok(run("strike", "confirm", code, "--belligerent", US, "--status", "declared"))
    ok(run("contest", code, "--belligerent", "Iraqi ground forces", "--reason", "artillery"))
    ok(run("assess", code, "--belligerent", US, "--outcome", "not_yet_assessed"))
    ok(run("discount", code, "--combatants", "--rationale", "fighters among the dead"))
    ok(run("note", code, "call the hospital"))


def test_every_piece_of_evidence_has_an_id_in_show(store: Run) -> None:
    full_case(store)
    document = shown(store, "CS1")
    assert [(s["id"], s["withdrawn"]) for s in document["sources"]] == [("s1", False)]
    for key, first_id in (("strikes", "k1"), ("contested_by", "c1"), ("assessments", "a1"),
                          ("discounts", "f1"), ("notes", "n1")):
        assert [(item["id"], item["retracted"]) for item in document[key]] == [
            (first_id, False)], key
    ok(store("contest", "CS1", "--belligerent", "ISIS", "--reason", "shelling"))
    assert [c["id"] for c in shown(store, "CS1")["contested_by"]] == ["c1", "c2"]
    text = ok(store("show", "CS1")).stdout
    for line in ("k1   declared by US-led Coalition", "c1   Iraqi ground forces: artillery",
                 "a1   US-led Coalition not_yet_assessed", "f1   combatants: fighters"):
        assert line in text


def test_a_retracted_competing_claim_is_marked_and_stays_in_the_history(store: Run) -> None:
    full_case(store)
    before = history(store, "CS1")
    result = ok(store("retract", "CS1", "C1", "--reason", "the claim was withdrawn",
                      actor="jonas"))
    assert result.stdout.strip() == "retracted c1 of CS1"
    document = shown(store, "CS1")
    claim = document["contested_by"][0]
    assert claim["retracted"] is True and claim["belligerent"] == "Iraqi ground forces"
    assert claim["retraction"]["reason"] == "the claim was withdrawn"
    assert claim["retraction"]["by"] == "jonas"
    assert all(not item["retracted"] for key in ("strikes", "assessments", "discounts")
               for item in document[key])

    entries = history(store, "CS1")
    assert entries[:-1] == before  # nothing before it rewritten
    assert entries[-1]["event"] == "Retracted"
    assert entries[-1]["data"] == {"item_id": "c1", "reason": "the claim was withdrawn",
                                   "actor": "jonas"}
    assert any(e["event"] == "AttributionContested" for e in entries)
    text = ok(store("history", "CS1")).stdout
    assert "retracted competing claim c1" in text and "why: the claim was withdrawn" in text
    assert "c1   Iraqi ground forces: artillery [retracted]" in ok(store("show", "CS1")).stdout


@pytest.mark.parametrize("item", ["k1", "a1", "f1"])
def test_strikes_assessments_and_findings_retract_too(store: Run, item: str) -> None:
    full_case(store)
    ok(store("retract", "CS1", item, "--reason", "wrong"))
    key = {"k": "strikes", "a": "assessments", "f": "discounts"}[item[0]]
    assert shown(store, "CS1")[key][0]["retracted"] is True


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["c1"], 1, "competing claim c1 of incident CS1 is already retracted"),
        (["s1"], 1, "s1 is a source: a source is withdrawn, not retracted"),
        (["k2"], 2, "incident CS1 has no retractable evidence 'k2'"),
        (["c01"], 2, "has no retractable evidence"),
        (["n1"], 2, "has no retractable evidence 'n1'"),
        (["x1"], 2, "has no retractable evidence"),
        (["k1", "--reason", " "], 2, "give the reason"),
    ],
)
def test_refused_retractions_are_one_sentence_and_append_nothing(
        store: Run, args: list[str], code: int, fragment: str) -> None:
    full_case(store)
    ok(store("retract", "CS1", "c1", "--reason", "withdrawn"))
    if "--reason" not in args:
        args = [*args, "--reason", "again"]
    refused_appending_nothing(store, "CS1", ["retract", "CS1", *args], code, fragment)


def test_retract_needs_a_reason_and_a_known_incident(store: Run) -> None:
    full_case(store)
    refused_appending_nothing(store, "CS1", ["retract", "CS1", "k1"], 2,
                              "Missing option '--reason'")
    assert_one_sentence(store("retract", "CS404", "k1", "--reason", "x"), 2,
                        "no incident has the code CS404")


# ------------------------------------------------------------ re-grading due


def test_a_retraction_under_a_grade_waits_for_regrading(store: Run) -> None:
    reported(store, "CS1")
    corroborated_with_strike(store, "CS1")
    ok(store("contest", "CS1", "--belligerent", "Iraqi ground forces", "--reason", "artillery"))
    assert "graded contested by rule CONTESTED" in ok(store("grade", "CS1")).stdout
    assert shown(store, "CS1")["regrade_due"] is False
    assert "CS1" not in queued(store)
    reported(store, "CS2")  # ungraded, with a source: --due leaves it alone
    add_source(store, "CS2", 1)

    ok(store("retract", "CS1", "c1", "--reason", "the claim was withdrawn"))
    document = shown(store, "CS1")
    assert document["regrade_due"] is True
    assert document["grade"] == "contested" and document["state"] == "graded"
    assert document["regrade"]["grade"] == "fair" and document["regrade"]["rule"] == "FAIR"
    assert history(store, "CS1")[-1]["event"] == "RegradeDue"
    assert "re-grading   due: the evidence changed; the rulebook now grades it fair" in ok(
        store("show", "CS1")).stdout
    waiting = queued(store)["CS1"]
    assert waiting["state"] == "graded" and "re-grading" in waiting["waiting_for"]

    # grade --all grades the ungraded and lists, without re-grading, the one due.
    events = len(history(store, "CS1"))
    listed = ok(store("grade", "--all"))
    assert "graded 1 incident: weak 1" in listed.stdout
    assert "1 graded incident waits for re-grading (the evidence changed): CS1" in listed.stdout
    assert len(history(store, "CS1")) == events
    assert shown(store, "CS1")["grade"] == "contested"
    summary = json.loads(ok(store("grade", "--all", "--json")).stdout)
    assert summary["graded"] == 0 and summary["regrade_due"] == ["CS1"]

    regraded = ok(store("grade", "--all", "--due", actor="jonas"))
    assert "re-graded 1 incident: fair 1" in regraded.stdout
    document = shown(store, "CS1")
    assert document["grade"] == "fair" and document["grading"]["rule"] == "FAIR"
    assert document["grading"]["by"] == "jonas"
    assert document["regrade_due"] is False and document["regrade"] is None
    assert "CS1" not in queued(store)
    assert shown(store, "CS2")["grade"] == "weak"  # graded once, by the plain --all
    again = json.loads(ok(store("grade", "--all", "--due", "--json")).stdout)
    assert again["graded"] == 0 and again["regrade_due"] == []


def test_an_amendment_flags_and_unflags_a_grade(store: Run) -> None:
    reported(store, "CS1")
    corroborated_with_strike(store, "CS1")
    ok(store("grade", "CS1"))
    ok(store("amend", "CS1", "--belligerent", "Russia", "--reason", "misfiled"))
    document = shown(store, "CS1")
    assert document["regrade_due"] is True and document["regrade"]["grade"] == "weak"
    assert "CS1" in queued(store)
    ok(store("amend", "CS1", "--belligerent", US, "--reason", "it was right"))
    document = shown(store, "CS1")
    assert document["regrade_due"] is False and document["grade"] == "fair"
    assert "CS1" not in queued(store)
    assert [e["event"] for e in history(store, "CS1")][-4:] == [
        "Amended", "RegradeDue", "Amended", "RegradeDue"]
    assert [e["data"]["due"] for e in history(store, "CS1")[-3::2]] == [True, False]


@pytest.mark.parametrize("args", [["grade", "--due"], ["grade", "CS1", "--due"],
                                  ["grade", "CS1", "--due", "--suggest"]])
def test_due_without_all_is_a_usage_error(store: Run, args: list[str]) -> None:
    reported(store, "CS1")
    add_source(store, "CS1", 1)
    refused_appending_nothing(store, "CS1", args, 2, "--due goes with --all")


# ---------------------------------------------------------- duplicate --undo


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--undo"], "say why with --reason"),
     (["--undo", "--reason", "   "], "say why with --reason"),
     (["--undo", "--of", "CS1", "--reason", "x"], "not both"),
     (["--of", "CS1", "--reason", "x"], "--reason goes with --undo")],
)
def test_duplicate_undo_usage(store: Run, args: list[str], fragment: str) -> None:
    reported(store, "CS1")
    reported(store, "CS2")
    ok(store("duplicate", "CS2", "--of", "CS1"))
    refused_appending_nothing(store, "CS2", ["duplicate", "CS2", *args], 2, fragment)
    assert shown(store, "CS2")["duplicate_of"] == "CS1"


def test_undo_on_an_incident_that_is_no_duplicate_is_refused(store: Run) -> None:
    reported(store, "CS1")
    refused_appending_nothing(store, "CS1", ["duplicate", "CS1", "--undo", "--reason", "x"], 1,
                              "incident CS1 is not marked a duplicate")


def test_a_duplicate_undone_returns_to_its_queue(store: Run) -> None:
    reported(store, "CS1")
    reported(store, "CS2")
    assert set(queued(store)) == {"CS1", "CS2"}
    ok(store("duplicate", "CS2", "--of", "CS1"))
    assert shown(store, "CS1")["duplicates"] == ["CS2"]
    assert shown(store, "CS2")["duplicate_of"] == "CS1"
    assert shown(store, "CS2")["duplicates"] == []
    assert "duplicates   CS2" in ok(store("show", "CS1")).stdout
    assert set(queued(store)) == {"CS1"}
    refused_appending_nothing(store, "CS2", ["note", "CS2", "same strike?"], 1,
                              "record this on CS1 instead")

    result = ok(store("duplicate", "CS2", "--undo", "--reason", "two strikes, two houses",
                      actor="jonas"))
    assert result.stdout.strip() == "CS2 is no longer a duplicate of CS1"
    assert shown(store, "CS1")["duplicates"] == []
    assert shown(store, "CS2")["duplicate_of"] is None
    assert set(queued(store)) == {"CS1", "CS2"}
    last = history(store, "CS2")[-1]
    assert last["event"] == "DuplicateUndone" and last["actor"] == "jonas"
    assert last["data"]["of"] == "CS1" and last["data"]["reason"] == "two strikes, two houses"
    assert [e["event"] for e in history(store, "CS2")] == [
        "Reported", "MarkedDuplicate", "DuplicateUndone"]
    text = ok(store("history", "CS2")).stdout
    assert "no longer a duplicate of CS1" in text and "why: two strikes, two houses" in text
    ok(store("note", "CS2", "checked"))  # it takes notes again
    refused_appending_nothing(store, "CS2", ["duplicate", "CS2", "--undo", "--reason", "x"], 1,
                              "is not marked a duplicate")
    # A view of the past does not claim to know which incidents were duplicates then.
    assert shown(store, "CS1", "--version", "1")["duplicates"] is None


def test_a_retracted_only_strike_no_longer_confirms_one(store: Run) -> None:
    """The state, the queue and strike matching go back to an incident without a strike."""
    reported(store, "CS1")
    add_source(store, "CS1", 1, "B2")
    ok(store("strike", "confirm", "CS1", "--belligerent", US, "--status", "likely"))
    assert shown(store, "CS1")["state"] == "strike-confirmed"
    ok(store("retract", "CS1", "k1", "--reason", "the report was about another village"))
    assert shown(store, "CS1")["state"] == "reported"
    assert queued(store)["CS1"]["state"] == "reported"
    matched = json.loads(ok(store("strikes", "match", "--json")).stdout)
    assert matched["incidents_without_strike"] == 1, matched


# ------------------------------------------------------------------ known-on


def known_case(run: Run) -> None:
    """A B2 source published on the 18th, a C3 one of another group on the 25th, and a strike
    report published on the 18th: weak as known on the 20th, fair from the 25th."""
    reported(run, "CS5")
    add_source(run, "CS5", 1, "B2", "--group", "amnesty", "--published", "2017-03-18")
    add_source(run, "CS5", 2, "C3", "--group", "local", "--published", "2017-03-25")
    ok(run("strike", "confirm", "CS5", "--belligerent", US, "--status", "declared",
           "--report", "CJTF-OIR 2017-03-18", "--reported", "2017-03-18"))


def known_on(run: Run, day: str, code: str = "CS5") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok(run("show", code, "--known-on", day,
                                                 "--json")).stdout)
    return document


def test_known_on_grades_from_what_had_been_published_by_then(store: Run) -> None:
    known_case(store)
    early = known_on(store, "2017-03-20")
    for key in ("code", "known_on", "sources", "suggested_grade", "rule", "reasons",
                "strikes", "grade"):
        assert key in early
    assert early["known_on"] == "2017-03-20"
    assert [s["id"] for s in early["sources"]] == ["s1"]
    assert early["sources"][0]["published"] == "2017-03-18"
    assert [(k["id"], k["known_since"]) for k in early["strikes"]] == [("k1", "2017-03-18")]
    assert (early["suggested_grade"], early["rule"]) == ("weak", "WEAK")
    assert early["reasons"] == ["a single independent credible source among 1 attached"]
    assert early["grade"] is None

    late = known_on(store, "2017-03-25")
    assert [s["id"] for s in late["sources"]] == ["s1", "s2"]
    assert (late["suggested_grade"], late["rule"]) == ("fair", "FAIR")
    assert "2 independent credible sources" in late["reasons"][0]
    assert known_on(store, "2017-03-24")["suggested_grade"] == "weak"

    nothing = known_on(store, "2017-03-17")
    assert nothing["sources"] == [] and nothing["strikes"] == []
    assert nothing["suggested_grade"] is None and nothing["rule"] is None
    assert nothing["reasons"] == ["no source had been published or recorded by then"]

    text = ok(store("show", "CS5", "--known-on", "2017-03-20")).stdout
    assert "CS5 as known on 2017-03-20" in text
    assert "the rulebook would have graded it weak by rule WEAK" in text
    assert "s1   B2" in text and "s2 " not in text
    # Today: as recorded, whatever the dates.
    assert known_on(store, today_utc().isoformat())["suggested_grade"] == "fair"
    ok(store("grade", "CS5"))
    assert known_on(store, "2017-03-20")["grade"] == "fair"  # the grade recorded today


def test_known_on_counts_a_dated_assessment_from_its_day_and_no_retracted_evidence(
        store: Run) -> None:
    known_case(store)
    ok(store("assess", "CS5", "--belligerent", US, "--outcome", "credible", "--reason",
             "conceded two deaths", "--dated", "2017-04-10"))
    assert known_on(store, "2017-04-09")["suggested_grade"] == "fair"
    assert known_on(store, "2017-04-09")["assessments"] == []
    conceded = known_on(store, "2017-04-10")
    assert (conceded["suggested_grade"], conceded["rule"]) == ("confirmed", "CONFIRMED")
    assert [a["id"] for a in conceded["assessments"]] == ["a1"]

    ok(store("retract", "CS5", "a1", "--reason", "statement withdrawn"))
    ok(store("retract", "CS5", "k1", "--reason", "another strike"))
    after = known_on(store, "2017-04-10")
    assert (after["suggested_grade"], after["rule"]) == ("weak", "WEAK")
    assert [(k["id"], k["retracted"]) for k in after["strikes"]] == [("k1", True)]


def test_evidence_without_its_own_date_is_known_from_the_day_it_was_recorded(
        store: Run) -> None:
    reported(store, "CS6")
    add_source(store, "CS6", 1, "B2")  # no --published
    assert known_on(store, "2017-03-20", "CS6")["sources"] == []
    today = known_on(store, today_utc().isoformat(), "CS6")
    assert [s["id"] for s in today["sources"]] == ["s1"]
    assert today["suggested_grade"] == "weak"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--known-on", "2017-03-20", "--as-of", "2026-01-01"], "give it without --as-of"),
     (["--known-on", "2017-03-20", "--version", "1"], "give it without --as-of or --version"),
     (["--known-on", "tomorrow"], "is after today (UTC)"),
     (["--known-on", "2017-02-30"], "that month has no such day"),
     (["--known-on", "soon"], "--known-on")],
)
def test_known_on_usage_errors(store: Run, args: list[str], fragment: str) -> None:
    known_case(store)
    args = [tomorrow() if arg == "tomorrow" else arg for arg in args]
    refused_appending_nothing(store, "CS5", ["show", "CS5", *args, "--json"], 2, fragment)


@pytest.mark.parametrize("command", [["strike", "confirm", "CS5", "--belligerent", US,
                                      "--status", "likely", "--reported"],
                                     ["assess", "CS5", "--belligerent", US, "--outcome",
                                      "credible", "--dated"]])
def test_evidence_dated_after_today_is_refused(store: Run, command: list[str]) -> None:
    reported(store, "CS5")
    refused_appending_nothing(store, "CS5", [*command, tomorrow()], 2, "is after today (UTC)")


# ------------------------------------------------------- export and import


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_corrections_survive_export_and_import(store: Run, other_store: Run, tmp_path: Path,
                                               suffix: str) -> None:
    reported(store, "CS9", date="2017-03-21")
    add_source(store, "CS9", 1, "B2", "--published", "2017-03-22")
    ok(store("contest", "CS9", "--belligerent", "Iraqi ground forces", "--reason", "artillery"))
    ok(store("contest", "CS9", "--belligerent", "ISIS", "--reason", "shelling"))
    ok(store("amend", "CS9", "--date", "2017-03-17", "--date-end", "2017-03-19", "--time",
             "14:30", "--location", "الموصل الجديدة", "--lat", "36.35", "--lon", "43.12",
             "--precision", "street", "--belligerent", US, "--belligerent", "Russia",
             "--summary", "Strike on a block.", "--reason", "checked against the archive"))
    ok(store("retract", "CS9", "c2", "--reason", "the claim was withdrawn"))
    original = shown(store, "CS9")

    path = tmp_path / f"out{suffix}"
    assert "exported 1 incident" in ok(store("export", "-o", str(path))).stdout
    if suffix == ".jsonl":
        row = json.loads(path.read_text(encoding="utf-8"))
        assert (row["date"], row["date_end"], row["time"]) == (
            "2017-03-17", "2017-03-19", "14:30")
        assert row["retracted"] == ["c2"]
    imported = ok(other_store("import", str(path)))
    assert "imported 1 incident" in imported.stdout and "0 refused" in imported.stdout

    copy = shown(other_store, "CS9")
    for key in ("date", "date_end", "time", "location", "country", "belligerents", "summary",
                "civilians_killed"):
        assert copy[key] == original[key], key
    assert copy["location"] == {"name": "الموصل الجديدة", "lat": 36.35, "lon": 43.12,
                                "precision": "street"}
    assert [(c["id"], c["belligerent"], c["retracted"]) for c in copy["contested_by"]] == [
        ("c1", "Iraqi ground forces", False), ("c2", "ISIS", True)]
    assert [s["published"] for s in copy["sources"]] == ["2017-03-22"]
    assert "Retracted" in [e["event"] for e in history(other_store, "CS9")]

    # The copy exports the same line, and the file re-imports into the original unchanged.
    assert other_store("export", "--format", suffix[1:]).stdout == store(
        "export", "--format", suffix[1:]).stdout
    again = ok(store("import", str(path)))
    assert "1 already stored" in again.stdout and "0 differ" in again.stdout


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_known_on_days_survive_export_and_import(store: Run, other_store: Run, tmp_path: Path,
                                                 suffix: str) -> None:
    known_case(store)
    ok(store("assess", "CS5", "--belligerent", US, "--outcome", "credible", "--dated",
             "2017-04-10"))
    path = tmp_path / f"out{suffix}"
    ok(store("export", "-o", str(path)))
    ok(other_store("import", str(path)))
    for day in ("2017-03-20", "2017-03-25", "2017-04-10"):
        assert known_on(other_store, day) == known_on(store, day), day
    again = ok(store("import", str(path)))
    assert "1 already stored" in again.stdout and "0 differ" in again.stdout

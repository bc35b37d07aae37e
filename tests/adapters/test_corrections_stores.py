"""Corrections on real stores, SQLite and PostgreSQL: the read models (queue, statistics,
search), a rebuild of them, the audit chain, snapshots and strike matching all follow an
amended incident, a retraction and a duplicate undone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.base import SNAPSHOT_INTERVAL

from conftest import Store

US = "US-led Coalition"

STRIKE_REPORT = {"reference": "CJTF-OIR 2017-03-18", "belligerent": US,
                 "report_date": "2017-03-18", "strike_date": "2017-03-17", "place": "Mosul",
                 "lat": 36.34, "lon": 43.13, "strikes": 6, "text": "Near Mosul, six strikes"}


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def reading(store: Store, *args: str) -> Any:
    return json.loads(ok(store.run(*args, "--json")).stdout)


def codes(store: Store, *args: str) -> list[str]:
    """The codes a listing (queue, search) answers, in its order."""
    return [item["code"] for item in reading(store, *args)]


def stats_by(store: Store, by: str) -> dict[str, tuple[int, int, int]]:
    """Each group's key: (incidents, killed_min, killed_max)."""
    return {group["key"]: (group["incidents"], group["killed_min"], group["killed_max"])
            for group in reading(store, "stats", "--by", by)["groups"]}


def report(store: Store, code: str, *extra: str) -> None:
    ok(store.run("report", code, "--date", "2017-03-17", *extra))


def audit_intact(store: Store) -> dict[str, Any]:
    result = store.run("audit", "verify", "--json")
    assert result.exit_code == 0, (result.output, result.stderr)
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["intact"] is True
    return document


# ----------------------------------------------------------- the read models


def test_queue_stats_and_search_follow_an_amendment_and_a_rebuild(store: Store) -> None:
    report(store, "CS1", "--location", "Raqqa", "--country", "Iraq", "--belligerent", US,
           "--killed", "3-5", "--summary", "Strike on a bakery.")
    report(store, "CS2", "--location", "Tabqa", "--country", "Syria", "--belligerent", US,
           "--killed", "1", "--summary", "Strike on a bridge.")
    assert codes(store, "queue", "--belligerent", US) == ["CS1", "CS2"]
    assert codes(store, "search", "bakery") == ["CS1"]

    ok(store.run("amend", "CS1", "--belligerent", "Russia", "--location", "Idlib",
                 "--country", "Syria", "--date", "2017-04-02",
                 "--summary", "Strike on a market; قصف على سوق",
                 "--reason", "misfiled under the wrong city and party"))

    def follows() -> None:
        assert codes(store, "queue", "--belligerent", "Russia") == ["CS1"]
        assert codes(store, "queue", "--belligerent", US) == ["CS2"]
        assert codes(store, "queue", "--country", "Iraq") == []
        assert codes(store, "queue", "--country", "Syria") == ["CS1", "CS2"]
        assert stats_by(store, "belligerent") == {"Russia": (1, 3, 5), US: (1, 1, 1)}
        assert stats_by(store, "month") == {"2017-03": (1, 1, 1), "2017-04": (1, 3, 5)}
        assert stats_by(store, "country") == {"Syria": (2, 4, 6)}
        for old in ("bakery", "Raqqa"):
            assert codes(store, "search", old) == [], old
        for new in ("market", "Idlib", "سوق", "cs1"):
            assert codes(store, "search", new) == ["CS1"], new
        hit = reading(store, "search", "market")[0]
        assert (hit["location"], hit["country"], hit["date"]) == ("Idlib", "Syria",
                                                                  "2017-04-02")
        assert codes(store, "search", "bridge") == ["CS2"]

    follows()
    before = {"queue": reading(store, "queue"), "stats": reading(store, "stats"),
              "belligerents": reading(store, "stats", "--by", "belligerent")}
    assert "rebuilt the read models from 3 events" in ok(
        store.run("projections", "rebuild")).stdout
    follows()
    assert before == {"queue": reading(store, "queue"), "stats": reading(store, "stats"),
                      "belligerents": reading(store, "stats", "--by", "belligerent")}
    assert audit_intact(store)["events"] == 3


def test_an_amended_belligerent_is_recorded_under_its_canonical_name(store: Store) -> None:
    ok(store.run("parties", "add", US, "--alias", "the Coalition"))
    report(store, "CS1", "--location", "Raqqa", "--country", "Syria", "--belligerent",
           "Russia")
    ok(store.run("amend", "CS1", "--belligerent", "THE coalition", "--reason", "misfiled"))
    shown = reading(store, "show", "CS1")
    assert shown["belligerents"] == [US]
    assert codes(store, "queue", "--belligerent", "the Coalition") == ["CS1"]
    assert codes(store, "queue", "--belligerent", "Russia") == []
    assert stats_by(store, "belligerent") == {US: (1, 0, 0)}


def test_regrading_due_and_a_duplicate_undone_survive_a_rebuild(store: Store) -> None:
    for code in ("CS1", "CS2", "CS3"):
        report(store, code, "--location", "Mosul", "--country", "Iraq", "--belligerent", US,
               "--killed", "2")
    for n, rating in ((1, "B2"), (2, "C3")):
        ok(store.run("source", "add", "CS1", "--url", f"https://example.org/{n}",
                     "--publisher", f"P{n}", "--kind", "ngo", "--reliability", rating[0],
                     "--credibility", rating[1]))
    ok(store.run("strike", "confirm", "CS1", "--belligerent", US, "--status", "declared"))
    ok(store.run("contest", "CS1", "--belligerent", "ISIS", "--reason", "shelling"))
    ok(store.run("grade", "CS1"))
    ok(store.run("retract", "CS1", "c1", "--reason", "withdrawn"))
    ok(store.run("duplicate", "CS3", "--of", "CS2"))
    assert stats_by(store, "month") == {"2017-03": (2, 4, 4)}  # the duplicate left out
    ok(store.run("duplicate", "CS3", "--undo", "--reason", "a second strike"))

    def follows() -> None:
        queue = {item["code"]: item for item in reading(store, "queue")}
        assert set(queue) == {"CS1", "CS2", "CS3"}
        assert queue["CS1"]["state"] == "graded"
        assert queue["CS1"]["waiting_for"] == (
            "re-grading: the evidence changed; the rulebook now grades it fair")
        assert codes(store, "queue", "--state", "graded") == ["CS1"]
        assert stats_by(store, "month") == {"2017-03": (3, 6, 6)}
        grades = reading(store, "stats", "--by", "grade")["groups"]
        assert {group["key"]: group["incidents"] for group in grades} == {
            "contested": 1, "ungraded": 2}
        assert reading(store, "show", "CS2")["duplicates"] == []

    follows()
    ok(store.run("projections", "rebuild"))
    follows()
    ok(store.run("grade", "--all", "--due"))
    assert "CS1" not in codes(store, "queue")
    ok(store.run("projections", "rebuild"))
    assert "CS1" not in codes(store, "queue")
    assert reading(store, "show", "CS1")["grade"] == "fair"
    audit_intact(store)


def test_an_amendment_across_a_snapshot_reads_back_and_audits(store: Store) -> None:
    report(store, "CS1", "--location", "Mosul", "--country", "Iraq", "--belligerent", US)
    app = VerifyApp(env=parse_store(store.url).env())
    try:  # notes up to one event before the snapshot, quickly
        for n in range(SNAPSHOT_INTERVAL - 2):
            app.add_note("CS1", f"note {n}", "ann")
    finally:
        app.close()
    ok(store.run("amend", "CS1", "--date", "2017-03-16", "--time", "06:15", "--location",
                 "Mosul al-Jadida", "--reason", "the hospital's records"))  # the snapshot's
    ok(store.run("note", "CS1", "after the snapshot"))
    ok(store.run("amend", "CS1", "--date-end", "2017-03-18", "--reason", "three days"))

    shown = reading(store, "show", "CS1")
    assert shown["version"] == SNAPSHOT_INTERVAL + 2
    assert (shown["date"], shown["date_end"], shown["time"]) == (
        "2017-03-16", "2017-03-18", "06:15")
    assert shown["location"]["name"] == "Mosul al-Jadida"
    last = reading(store, "history", "CS1")[-1]
    assert last["data"]["changes"] == {"date_end": {"old": None, "new": "2017-03-18"}}
    before = reading(store, "show", "CS1", "--version", str(SNAPSHOT_INTERVAL - 1))
    assert (before["date"], before["time"], before["location"]["name"]) == (
        "2017-03-17", None, "Mosul")
    assert reading(store, "show", "CS1", "--version", str(SNAPSHOT_INTERVAL))["date"] == (
        "2017-03-16")
    document = audit_intact(store)
    assert document["snapshots_checked"] >= 1
    assert document["events"] == SNAPSHOT_INTERVAL + 2


# ------------------------------------------------------------ strike matching


def strike_reports(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "reports.jsonl"
    path.write_bytes(orjson.dumps(STRIKE_REPORT) + b"\n")
    ok(store.run("strikes", "import", str(path)))


@pytest.mark.parametrize(
    ("wrong", "amendment"),
    [
        (["--lat", "33.31", "--lon", "44.36"],  # Baghdad, 400 km away
         ["--lat", "36.35", "--lon", "43.12", "--precision", "neighbourhood"]),
        (["--lat", "36.35", "--lon", "43.12", "--belligerent", "Russia"],
         ["--belligerent", US]),
        (["--lat", "36.35", "--lon", "43.12", "--date", "2017-03-10"],
         ["--date", "2017-03-17"]),
        (["--date", "2017-03-17"],  # no coordinates at all, a place no gazetteer knows
         ["--location", "Mosul al-Jadida", "--lat", "36.35", "--lon", "43.12"]),
    ],
    ids=["coordinates", "belligerent", "date", "unplaced"],
)
def test_strike_matching_uses_the_amended_facts(store: Store, tmp_path: Path,
                                                 wrong: list[str], amendment: list[str]
                                                 ) -> None:
    args = ["report", "CI1", "--date", "2017-03-17", "--location", "Somewhere",
            "--country", "Iraq", *wrong]
    if "--belligerent" not in wrong:
        args += ["--belligerent", US]
    ok(store.run(*args))
    strike_reports(store, tmp_path)
    before = reading(store, "strikes", "match")
    assert before["incidents_without_strike"] == 1 and before["candidates"] == []

    ok(store.run("amend", "CI1", *amendment, "--reason", "checked"))
    after = reading(store, "strikes", "match")
    assert [(c["incident"], c["report"], c["day_offset"]) for c in after["candidates"]] == [
        ("CI1", "CJTF-OIR 2017-03-18", 0)]
    assert after["candidates"][0]["distance_km"] < 2
    assert after["incidents_not_placed"] == 0

    applied = reading(store, "strikes", "match", "--apply")
    assert [c["incident"] for c in applied["applied"]] == ["CI1"]
    shown = reading(store, "show", "CI1")
    assert shown["state"] == "strike-confirmed"
    assert [(k["id"], k["status"], k["report"]) for k in shown["strikes"]] == [
        ("k1", "likely", "CJTF-OIR 2017-03-18")]
    assert reading(store, "strikes", "match")["incidents_without_strike"] == 0
    audit_intact(store)

"""The application against a real SQLite file: persistence, snapshots, time travel, conflicts."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from eventsourcing.application import project_aggregate

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.base import SNAPSHOT_INTERVAL
from verify.domain import (
    ConcurrentChange,
    Grade,
    InvalidInput,
    Source,
    StrikeConfirmation,
    UnknownIncident,
)

from conftest import report


def open_app(store: str | Path) -> VerifyApp:
    return VerifyApp(env=parse_store(str(store)).env())


def src(n: int, rating: str = "B2") -> Source:
    return Source(url=f"https://example.org/{n}", publisher=f"Publisher {n}", kind="media",
                  reliability=rating[0], credibility=int(rating[1]))


def test_events_survive_reopening_the_store(store_url: str) -> None:
    first = open_app(store_url)
    report(first, "ci1050", ["Coalition"])
    first.add_source("CI1050", src(1), "ann")
    first.close()
    second = open_app(store_url)
    view = second.show("ci1050")
    assert view.code == "CI1050"
    assert [s.id for s in view.sources] == ["s1"]
    assert view.version == 2
    second.close()


def test_unknown_codes_are_reported(app: VerifyApp) -> None:
    with pytest.raises(UnknownIncident, match="no incident has the code CS404"):
        app.show("cs404")


def test_version_and_as_of_reconstruct_earlier_states(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.add_source("CS1", src(1), "ann")
    app.add_source("CS1", src(2, "C3"), "ann")
    app.confirm_strike("CS1", StrikeConfirmation(belligerent="Coalition", status="declared"), "ann")
    time.sleep(0.01)
    before_grade = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    app.grade("CS1", "bob")
    assert app.show("CS1").grade == "fair"
    assert app.show("CS1", as_of=before_grade).grade is None
    assert app.show("CS1", as_of=before_grade).state == "strike-confirmed"
    assert app.show("CS1", version=1).state == "reported"
    assert app.show("CS1", version=4).state == "corroborated"
    with pytest.raises(InvalidInput, match="versions 1 to 6"):
        app.show("CS1", version=7)
    with pytest.raises(InvalidInput, match="first reported"):
        app.show("CS1", as_of=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def test_snapshots_are_taken_and_never_change_the_answer(app: VerifyApp) -> None:
    report(app, "CS9", ["Coalition"])
    app.add_source("CS9", src(1), "ann")
    for n in range(SNAPSHOT_INTERVAL * 2 + 5):
        app.add_note("CS9", f"note {n}", "ann")
    loaded = app.load("CS9")
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(loaded.id))
    assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL, SNAPSHOT_INTERVAL * 2]
    events = list(app.events.get(loaded.id))
    assert len(events) == loaded.version == SNAPSHOT_INTERVAL * 2 + 7
    for version in (SNAPSHOT_INTERVAL - 1, SNAPSHOT_INTERVAL, SNAPSHOT_INTERVAL + 3, None):
        replayed = project_aggregate(None, events[:version])
        assert replayed is not None
        assert vars(app.load("CS9", version=version)) == vars(replayed)
    # Note n is the (n + 3)th event: the report and the source come first.
    assert app.show("CS9", version=SNAPSHOT_INTERVAL + 3).notes[-1]["text"] == (
        f"note {SNAPSHOT_INTERVAL}"
    )


def test_incidents_loaded_by_the_batch_are_the_ones_loaded_one_by_one(app: VerifyApp) -> None:
    """Reading every incident (grade --all, exports) loads many per query, from their latest
    snapshot and the events after it: each equals the repository's own load."""
    report(app, "CS9", ["Coalition"])
    for n in range(SNAPSHOT_INTERVAL + 5):
        app.add_note("CS9", f"note {n}", "ann")
    for code in ("CS10", "CS11"):
        report(app, code, ["Coalition"])
    app.add_source("CS10", src(1), "ann")
    assert app.snapshots is not None and list(app.snapshots.get(app.load("CS9").id))
    loaded = list(app._incidents())
    assert [incident.code for incident in loaded] == ["CS9", "CS10", "CS11"]
    for incident in loaded:
        assert vars(incident) == vars(app.load(incident.code)), incident.code


def test_a_concurrent_change_is_refused_not_lost(store_url: str) -> None:
    one, two = open_app(store_url), open_app(store_url)
    report(one, "CS5", ["Coalition"])
    mine = one.load("CS5")
    theirs = two.load("CS5")
    mine.add_source(src(1), "ann")
    theirs.add_source(src(2), "bob")
    one.save(mine)
    with pytest.raises(ConcurrentChange, match="changed since you read it"):
        two.save_incident(theirs)
    assert [s.url for s in one.show("CS5").sources] == ["https://example.org/1"]
    one.close()
    two.close()


def test_grade_all_grades_in_batches_and_lists_what_it_cannot(app: VerifyApp) -> None:
    for n in range(1, 8):
        report(app, f"CS{n}", ["Coalition"])
    for n in range(1, 6):
        app.add_source(f"CS{n}", src(n), "ann")
    app.add_source("CS1", src(100, "C3"), "ann")
    app.confirm_strike("CS1", StrikeConfirmation(belligerent="Coalition", status="likely"), "ann")
    app.grade("CS2", "bob")
    app.mark_duplicate("CS3", "CS4", "ann")
    seen: list[int] = []
    summary = app.grade_all("robot", progress=seen.append)
    assert summary.by_grade == {"fair": 1, "weak": 2}
    assert summary.graded == 3
    assert summary.not_gradable == ["CS6", "CS7"]
    assert sum(seen) == 7
    assert app.show("CS1").grading["by"] == "robot"  # type: ignore[index]
    assert app.show("CS3").grade is None
    again = app.grade_all("robot")
    assert again.graded == 0


def test_override_records_the_rulebook_grade_beside_it(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.add_source("CS1", src(1), "ann")
    app.override_grade("CS1", Grade.FAIR, "investigators visited the site", "rev")
    grading = app.show("CS1").grading
    assert grading is not None
    assert (grading["grade"], grading["rule"], grading["override"], grading["rulebook_grade"]) == (
        "fair", "OVERRIDE", True, "weak")


def test_history_tells_what_and_why(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.add_source("CS1", src(1), "ann")
    app.grade("CS1", "bob")
    app.dispute("CS1", "Coalition", "denies any civilian presence", "carol")
    entries = app.history("CS1")
    assert [e.event for e in entries] == ["Reported", "SourceAdded", "Graded", "GradeDisputed"]
    assert [e.actor for e in entries] == ["ann", "ann", "bob", "carol"]
    assert entries[2].what == "graded weak by rule WEAK, rulebook v1"
    assert entries[3].why == "denies any civilian presence"
    assert entries[0].at.endswith("+00:00")


def test_a_command_on_a_version_someone_moved_past_is_refused(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    seen = app.show("CS1").version
    app.add_source("CS1", src(1), "ann", expected_version=seen)
    with pytest.raises(ConcurrentChange):
        app.add_note("CS1", "written on the page as it was", "bob", expected_version=seen)
    assert app.show("CS1").version == seen + 1


def test_the_team_is_given_at_construction_and_read_when_a_command_runs(
    store_url: str,
) -> None:
    from verify.domain import Refused
    from verify.domain.duties import Member, Role, Team

    setup = open_app(store_url)
    report(setup, "CS1", ["Coalition"])
    setup.close()
    current: list[Team | None] = [None]
    app = VerifyApp(env=parse_store(store_url).env(), team=lambda: current[0])
    app.add_note("CS1", "anyone may, without a team", "zoe")
    current[0] = Team(members={"amira": Member(name="amira", role=Role.AUDITOR)})
    with pytest.raises(Refused, match="zoe is not a member"):
        app.add_note("CS1", "not now", "zoe")
    app.close()


def test_a_read_model_of_an_earlier_shape_is_made_anew_from_the_log(tmp_path: Path) -> None:
    import sqlite3

    store = tmp_path / "old.sqlite"
    app = open_app(store)
    report(app, "CS1", ["Coalition"])
    app.catch_up()
    app.close()
    with sqlite3.connect(store) as db:  # the shape before names were compared folded
        db.execute("DROP INDEX incident_view_country")
        db.execute("ALTER TABLE incident_view DROP COLUMN country_key")
    reopened = open_app(store)
    assert reopened.events_behind() == 1
    reopened.catch_up()
    assert [entry.code for entry in reopened.queue(country="SYRIA ")] == []
    assert [entry.code for entry in reopened.queue(country="iraq")] == ["CS1"]
    reopened.close()

"""The Incident aggregate on its own: events, guards and replay, no storage."""

from __future__ import annotations

import datetime as dt

import pytest
from eventsourcing.application import project_aggregate

from verify.domain import (
    CasualtyRange,
    Incident,
    Location,
    Refused,
    Source,
    State,
    StrikeConfirmation,
    incident_id,
)
from verify.domain.incident import KnownOn, replayed_with_days
from verify.domain.parties import NO_PARTIES


def new_incident() -> Incident:
    return Incident.report(
        code="cs7", date=dt.date(2017, 3, 21), country="Syria",
        location=Location(name="Tabqa", lat=35.84, lon=38.55, precision="town"),
        belligerents=["Coalition", "Coalition "], killed=CasualtyRange(min=7, max=7),
        injured=CasualtyRange(), summary="  bakery  ", actor="mei",
    )


def source(n: int, rating: str = "B2", group: str | None = None) -> Source:
    return Source(url=f"https://example.org/{n}", publisher=f"P{n}", kind="ngo",
                  reliability=rating[0], credibility=int(rating[1]), group=group)


def test_report_normalises_and_derives_the_id_from_the_code() -> None:
    incident = new_incident()
    assert incident.code == "CS7"
    assert incident.id == incident_id("CS7") == incident_id("cs7")
    assert incident.belligerents == ["Coalition"]
    assert incident.summary == "bakery"
    assert incident.state is State.REPORTED


def test_every_event_carries_the_actor_and_a_utc_timestamp() -> None:
    incident = new_incident()
    incident.add_source(source(1), "amira")
    incident.add_source(source(2, "C3"), "amira")
    incident.confirm_strike(StrikeConfirmation(belligerent="Coalition", status="likely"), "jonas")
    incident.grade_by_rulebook("jonas")
    events = incident.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Reported", "SourceAdded", "SourceAdded", "Corroborated", "StrikeConfirmed", "Graded"]
    assert [e.actor for e in events] == ["mei", "amira", "amira", "amira", "jonas", "jonas"]  # type: ignore[attr-defined]
    assert all(e.timestamp.utcoffset() == dt.timedelta(0) for e in events)


def test_a_refused_command_leaves_no_pending_event() -> None:
    incident = new_incident()
    incident.collect_events()
    with pytest.raises(Refused, match="no source"):
        incident.grade_by_rulebook("bob")
    with pytest.raises(Refused, match="no grade to dispute"):
        incident.dispute_grade("x", "y", "bob")
    assert incident.pending_events == []
    assert incident.version == 1


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    incident = new_incident()
    incident.add_source(source(1), "amira")
    incident.add_source(source(2, "C3", group="g"), "amira")
    incident.grade_by_rulebook("jonas")
    incident.dispute_grade("Coalition", "denies", "jonas")
    events = incident.collect_events()
    replayed = project_aggregate(None, events)
    assert replayed is not None
    assert vars(replayed) == vars(incident)


def test_snapshot_restores_the_same_state() -> None:
    incident = new_incident()
    incident.add_source(source(1), "amira")
    incident.collect_events()
    snapshot = Incident.Snapshot.take(incident)
    restored = snapshot.mutate(None)
    assert vars(restored) == vars(incident)


def test_a_finding_whose_basis_and_party_contradict_is_refused() -> None:
    from verify.domain import DiscountFinding, InvalidInput

    incident = new_incident()
    with pytest.raises(InvalidInput, match="names no other party"):
        incident.discount(DiscountFinding(basis="combatants", party="ISIS",
                                          rationale="funerals"), "mei")
    with pytest.raises(InvalidInput, match="name the other party"):
        incident.discount(DiscountFinding(basis="other_party", rationale="shelling"), "mei")
    assert incident.version == 1


def test_an_empty_note_is_refused() -> None:
    from verify.domain import InvalidInput

    incident = new_incident()
    with pytest.raises(InvalidInput, match="the note is empty"):
        incident.add_note(" \n ", "mei")
    assert incident.version == 1


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)",
                                 "data:text/html,<script>x</script>", "file:///etc/passwd",
                                 "ftp://example.org/a", "//example.org/a", "example.org/a",
                                 "not a url", "https://"])
def test_a_source_must_be_a_web_address(url: str) -> None:
    from verify.domain import InvalidInput

    incident = new_incident()
    with pytest.raises(InvalidInput, match="must be a web address"):
        incident.add_source(Source(url=url, publisher="P", kind="ngo"), "mei")
    assert incident.version == 1


@pytest.mark.parametrize("url", ["https://example.org/a", "HTTP://Example.org", "http://10.0.0.1:8080/x?y=z#w",
                                 "https://ar.example/%D8%A7%D9%84%D8%B1%D9%82%D8%A9"])
def test_web_addresses_are_taken(url: str) -> None:
    incident = new_incident()
    assert incident.add_source(Source(url=url, publisher="P", kind="ngo"), "mei") == "s1"


# ------------------------------------------------------------- corrections


def graded_fair() -> Incident:
    incident = new_incident()
    incident.add_source(source(1), "amira")
    incident.add_source(source(2, "C3"), "amira")
    incident.confirm_strike(StrikeConfirmation(belligerent="Coalition", status="declared"),
                            "jonas")
    incident.grade_by_rulebook("jonas")
    return incident


def test_an_amendment_is_one_event_with_each_old_and_new_value() -> None:
    incident = new_incident()
    incident.collect_events()
    changes = incident.amend(date=dt.date(2017, 3, 12), date_end=dt.date(2017, 3, 14),
                             time="06:15", summary="bakery queue", reason="first report",
                             actor="mei")
    assert changes == {"date": {"old": "2017-03-21", "new": "2017-03-12"},
                       "date_end": {"old": None, "new": "2017-03-14"},
                       "time": {"old": None, "new": "06:15"},
                       "summary": {"old": "bakery", "new": "bakery queue"}}
    (event,) = incident.collect_events()
    assert isinstance(event, Incident.Amended) and event.reason == "first report"
    assert (incident.date, incident.date_end, incident.time) == ("2017-03-12", "2017-03-14",
                                                                 "06:15")


def test_an_amendment_that_changes_nothing_or_contradicts_itself_is_refused() -> None:
    from verify.domain import InvalidInput

    incident = new_incident()
    incident.collect_events()
    with pytest.raises(Refused, match="nothing to amend"):
        incident.amend(date=dt.date(2017, 3, 21), belligerents=["Coalition"], reason="same",
                       actor="mei")
    with pytest.raises(InvalidInput, match="before the incident's first day"):
        incident.amend(date_end=dt.date(2017, 3, 1), reason="x", actor="mei")
    with pytest.raises(InvalidInput, match="give the reason"):
        incident.amend(date=dt.date(2017, 3, 1), reason=" ", actor="mei")
    assert incident.pending_events == []


def test_retracted_evidence_stays_but_no_longer_counts() -> None:
    incident = graded_fair()
    incident.collect_events()
    assert incident.retract("K1", "another strike", "mei") == "k1"
    assert incident.suggest_grade().grade.value == "weak"
    assert incident.evidence("k")[0]["retracted"] is True
    assert incident.strikes[0]["belligerent"] == "Coalition"  # kept
    with pytest.raises(Refused, match="already retracted"):
        incident.retract("k1", "again", "mei")
    with pytest.raises(Refused, match="withdrawn, not retracted"):
        incident.retract("s1", "x", "mei")


@pytest.mark.parametrize("item", ["k2", "k0", "k01", "x1", "c1", "", "k"])
def test_retracting_evidence_the_incident_does_not_hold_is_refused(item: str) -> None:
    from verify.domain import InvalidInput

    incident = graded_fair()
    incident.collect_events()
    with pytest.raises(InvalidInput, match="no retractable evidence"):
        incident.retract(item, "x", "mei")
    assert incident.pending_events == []


def test_a_change_under_a_grade_flags_it_and_a_new_grade_clears_the_flag() -> None:
    incident = graded_fair()
    before = incident.deciding()
    incident.retract("k1", "another strike", "mei")
    incident.review_regrade(before, NO_PARTIES, "mei")
    assert incident.regrade_due is not None and incident.regrade_due["grade"] == "weak"
    assert incident.grade is not None and incident.grade.value == "fair"  # never re-graded
    incident.grade_by_rulebook("jonas")
    assert incident.regrade_due is None and incident.grade.value == "weak"


def test_a_change_that_leaves_the_rulebook_where_it_was_flags_nothing() -> None:
    incident = graded_fair()
    incident.collect_events()
    before = incident.deciding()
    incident.add_source(source(3, "A1"), "amira")
    incident.review_regrade(before, NO_PARTIES, "amira")
    assert incident.regrade_due is None
    assert [type(e).__name__ for e in incident.collect_events()] == ["SourceAdded"]


def test_known_on_counts_each_piece_of_evidence_from_its_own_day() -> None:
    incident = new_incident()
    incident.add_source(source(1, "C3").model_copy(update={"published": dt.date(2017, 3, 22)}),
                        "amira")
    incident.add_source(source(2, "B2").model_copy(update={"published": dt.date(2017, 3, 30)}),
                        "amira")
    incident.add_note("called", "amira")  # no date of its own: the day it was recorded
    replayed, recorded = replayed_with_days(incident.collect_events())
    assert replayed is not None
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert recorded == {"s1": today, "s2": today, "n1": today}

    def known(day: dt.date) -> list[str]:
        return [s.id for s in replayed.case_file(known_on=KnownOn(day, recorded)).sources]

    assert known(dt.date(2017, 3, 21)) == []
    assert known(dt.date(2017, 3, 25)) == ["s1"]
    assert known(dt.date(2017, 3, 30)) == ["s1", "s2"]


def test_state_without_new_facts_equals_a_snapshot_taken_before_they_existed() -> None:
    """Unset facts stay off the instance: an audit compares snapshots with replays."""
    incident = graded_fair()
    state = vars(incident)
    for absent in ("date_end", "time", "retractions", "regrade_due"):
        assert absent not in state, absent


def test_undoing_a_duplicate_returns_it_and_a_duplicate_takes_no_note() -> None:
    incident = new_incident()
    incident.mark_duplicate("CS1", "mei")
    with pytest.raises(Refused, match="marked a duplicate of CS1"):
        incident.add_note("still here", "mei")
    incident.undo_duplicate("a different strike", "jonas")
    assert incident.duplicate_of is None
    with pytest.raises(Refused, match="not marked a duplicate"):
        incident.undo_duplicate("again", "jonas")

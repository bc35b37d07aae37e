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

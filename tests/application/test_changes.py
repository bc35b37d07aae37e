"""The change feed (SPEC section 14): every change in log order, read on from a cursor.

A reader keeps the cursor of the last change it read and asks for what follows:
it never misses a change and never sees one twice, however many changes are
appended between its pages. The public view leaves out what the public history
withholds, and a cursor moves past what it leaves out. Concurrent writers on
both stores are in tests/adapters/test_change_feed_races.py.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from verify.application.app import VerifyApp
from verify.application.changes import MAX_CHANGES, change_cursor, cursor_position
from verify.application.views import Change
from verify.domain import ConcurrentChange, InvalidInput, Source, StrikeConfirmation
from verify.domain.values import Credibility, Grade, Reliability

from conftest import report

SECRET_PUBLISHER = "Zahra Witness Circle"
SECRET_URL = "https://signal.invalid/zahra-7731"
SECRET_REASON = "Zahra was right before"
SECRET_NOTE = "met the Zahra circle at the safe house"
SECRET_COMMENT = "ask Zahra again about the second strike"
SECRET_TAG = "zahra-followup"
SECRET_VICTIM = "Layla Zahra"
SECRET_VICTIM_ORIGINAL = "ليلى زهرة"
SECRETS = (SECRET_PUBLISHER, SECRET_URL, SECRET_REASON, SECRET_NOTE, SECRET_COMMENT, SECRET_TAG,
           SECRET_VICTIM, SECRET_VICTIM_ORIGINAL, "Zahra", "zahra", "زهرة", "B2", "A2")
"""What the public view must never show, in any form (B2, A2: the protected source's
ratings)."""


def source(n: int, **extra: object) -> Source:
    return Source.model_validate({"url": f"https://example.org/{n}", "publisher": f"Paper {n}",
                                  "kind": "media", "reliability": "C", "credibility": 3,
                                  **extra})


def everything(app: VerifyApp, *, public: bool = False) -> list[Change]:
    """Every change, read in pages of the largest size."""
    found: list[Change] = []
    since = None
    while True:
        page = app.changes(since=since, limit=MAX_CHANGES, public=public)
        found.extend(page.changes)
        if page.next_cursor is None:
            return found
        since = page.next_cursor


def test_every_change_in_log_order_told_as_its_history_tells_it(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"], actor="ann")
    report(app, "CS2", ["Russia"], actor="bob")
    app.add_source("CS1", source(1), "ann")
    app.add_source("CS2", source(2), "bob")
    app.override_grade("CS1", Grade.WEAK, "one source only, for now", "cy")
    changes = everything(app)
    assert [(change.code, change.by) for change in changes] == [
        ("CS1", "ann"), ("CS2", "bob"), ("CS1", "ann"), ("CS2", "bob"), ("CS1", "cy")]
    positions = [cursor_position(change.cursor) for change in changes]
    assert positions == sorted(set(positions))  # strictly in log order
    for code in ("CS1", "CS2"):
        told = [(change.at, change.what, change.why) for change in changes if change.code == code]
        assert told == [(entry.at, entry.what, entry.why) for entry in app.history(code)]
    assert changes[-1].why == "one source only, for now"
    document = orjson.loads(orjson.dumps(app.changes(limit=2).to_json()))
    assert list(document) == ["changes", "next_cursor"]
    assert list(document["changes"][0]) == ["cursor", "code", "at", "by", "what", "why"]
    assert document["next_cursor"] == document["changes"][1]["cursor"]


def test_a_reader_that_keeps_its_cursor_misses_nothing_and_sees_nothing_twice(
        app: VerifyApp) -> None:
    """Changes appended between every two pages: the pages read, one after another from the
    cursor kept, are the whole log once."""
    report(app, "CS1", ["Coalition"])
    report(app, "CS2", ["Coalition"])
    read: list[Change] = []
    kept: str | None = None
    for n in range(12):
        page = app.changes(since=kept, limit=3)
        read.extend(page.changes)
        if page.changes:
            kept = page.changes[-1].cursor
        app.add_note(("CS1", "CS2")[n % 2], f"note {n}", "ann")  # meanwhile
        if n % 4 == 0:
            app.add_source("CS1", source(n), "bob")
    while (page := app.changes(since=kept, limit=3)).changes:
        read.extend(page.changes)
        kept = page.changes[-1].cursor
    assert page.next_cursor is None
    assert [change.cursor for change in read] == [change.cursor for change in everything(app)]
    assert len({change.cursor for change in read}) == len(read) >= 2 + 12 + 3


def test_next_cursor_says_whether_more_follow(app: VerifyApp) -> None:
    for n in range(4):
        report(app, f"CS{n}", ["Coalition"])
    exact = app.changes(limit=4)
    assert len(exact.changes) == 4 and exact.next_cursor is None
    first = app.changes(limit=3)
    assert first.next_cursor == first.changes[-1].cursor
    rest = app.changes(since=first.next_cursor, limit=3)
    assert [change.code for change in rest.changes] == ["CS3"] and rest.next_cursor is None
    assert app.changes(since=rest.changes[-1].cursor).changes == []


def protected_casework(app: VerifyApp) -> None:
    """An incident with a protected source, a victim protected later, a note, a comment, an
    assignment and a tag, between changes anyone may read."""
    report(app, "CS1", ["Coalition"], actor="amira")
    app.add_source("CS1", Source(url=SECRET_URL, publisher=SECRET_PUBLISHER, kind="witness",
                                 reliability="B", credibility=2, group="zahra-circle",
                                 protected=True), "amira")
    app.add_source("CS1", source(2), "amira")
    app.rerate_source("CS1", "s1", Reliability.A, Credibility(2), SECRET_REASON, "amira")
    app.add_victim("CS1", {"name": SECRET_VICTIM, "name_original": SECRET_VICTIM_ORIGINAL},
                   {"status": "killed", "sources": ["s2"]}, "amira")
    app.add_note("CS1", SECRET_NOTE, "amira")
    app.comment("CS1", SECRET_COMMENT, "amira")
    app.assign("CS1", "jonas", "amira")
    app.tag_incident("CS1", [SECRET_TAG], "amira")
    app.amend_victim("CS1", "v1", {}, {"protected": True}, "the family asked", "amira")
    app.confirm_strike("CS1", StrikeConfirmation(belligerent="Coalition", status="declared"),
                       "jonas")
    app.grade("CS1", "jonas")


def test_the_public_view_leaves_out_what_the_public_history_withholds(app: VerifyApp) -> None:
    protected_casework(app)
    internal = everything(app)
    public = everything(app, public=True)
    assert [change.what for change in public] == [
        internal[0].what, internal[2].what, internal[3].what, internal[-2].what,
        internal[-1].what]
    assert public[2].what == "corroborated by independent credible sources s1, s2"
    assert {change.cursor for change in public} <= {change.cursor for change in internal}
    assert "s1 (protected)" in public[-1].why  # the grade's reasons: by id only
    shown = orjson.dumps([change.to_json() for change in public]).decode()
    for secret in SECRETS:
        assert secret not in shown, secret
    # The internal view tells all of it, to those who hold the store.
    told = orjson.dumps([change.to_json() for change in internal]).decode()
    assert SECRET_PUBLISHER in told and SECRET_NOTE in told and SECRET_COMMENT in told


def test_a_cursor_moves_past_what_the_public_view_leaves_out(app: VerifyApp) -> None:
    protected_casework(app)
    public = app.changes(public=True, limit=3)
    assert public.changes[-1].what.startswith("corroborated")
    after = app.changes(since=public.next_cursor, public=True, limit=1)
    # Seven withheld changes lie between the corroboration and the strike: passed over.
    assert after.changes[0].what.startswith("confirmed declared strike")
    gap = cursor_position(after.changes[0].cursor) - cursor_position(public.next_cursor or "")
    assert gap == 8
    last = app.changes(since=after.next_cursor, public=True, limit=1)
    assert last.changes[0].what.startswith("graded") and last.next_cursor is None
    assert app.changes(since=last.changes[0].cursor, public=True).changes == []
    app.add_note("CS1", "only withheld changes follow", "amira")
    nothing = app.changes(since=last.changes[0].cursor, public=True)
    assert nothing.changes == [] and nothing.next_cursor is None


def test_a_victim_protected_later_is_withheld_from_the_start(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.add_source("CS1", source(1), "ann")
    app.add_victim("CS1", {"name": SECRET_VICTIM}, {"status": "killed", "sources": ["s1"]},
                   "ann")
    before = app.changes(public=True)
    assert "recorded victim v1" in before.changes[-1].what  # not protected yet
    app.amend_victim("CS1", "v1", {}, {"protected": True}, "the family asked", "ann")
    after = app.changes(public=True)
    assert [change.what for change in after.changes] == [
        change.what for change in before.changes[:-1]]
    assert SECRET_VICTIM not in orjson.dumps([c.to_json() for c in after.changes]).decode()


def test_a_change_recorded_while_a_page_is_read_is_told_not_dropped(
        app: VerifyApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page reads the log in batches and each incident's history once: a change to an
    incident recorded after its history was read, found in a later batch, is told (the
    history is read again), never taken for a withheld one."""
    report(app, "CS1", ["Coalition"])
    app.add_note("CS1", "withheld in public", "ann")
    reported = app.changes(limit=1).changes[0].cursor
    read = app.recorder.select_notifications
    batches: list[int] = []

    def meanwhile(*args: object, **kwargs: object) -> object:
        batches.append(1)
        if len(batches) == 2:  # after the first batch was told: CS1's history is read
            app.add_source("CS1", source(1), "bob")
        return read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app.recorder, "select_notifications", meanwhile)
    page = app.changes(since=reported, limit=1, public=True)
    assert len(batches) >= 2
    assert [change.what for change in page.changes] == ["added source s1: Paper 1 (media, C3)"]


def test_changes_to_other_records_are_passed_over(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.add_party("Coalition", ["CJTF-OIR"], "ann")
    report(app, "CS2", ["CJTF-OIR"])
    changes = everything(app)
    assert [change.code for change in changes] == ["CS1", "CS2"]
    assert cursor_position(changes[1].cursor) > cursor_position(changes[0].cursor) + 1
    assert app.changes(since=changes[0].cursor).changes == changes[1:]


def test_the_latest_changes_newest_first_and_earlier_pages_reach_the_first(
        app: VerifyApp) -> None:
    for n in range(5):
        report(app, f"CS{n}", ["Coalition"])
        app.add_note(f"CS{n}", "withheld in public", "ann")
        app.add_source(f"CS{n}", source(n), "ann")
    forward = everything(app, public=True)
    assert len(forward) == 10
    recent = app.recent_changes(limit=4)
    assert recent.changes == list(reversed(forward))[:4]
    assert recent.earlier == recent.changes[-1].cursor
    walked, before = [], None
    while True:
        page = app.recent_changes(before=before, limit=3)
        walked.extend(page.changes)
        if page.earlier is None:
            break
        before = page.earlier
    assert walked == list(reversed(forward))
    assert app.recent_changes(before=forward[0].cursor).changes == []
    internal = app.recent_changes(limit=50, public=False).changes
    assert len(internal) == 15 and internal[1].what == "note added"


def test_a_write_that_lost_a_race_leaves_no_hole_in_the_feed(app: VerifyApp) -> None:
    """On PostgreSQL the refused insert took notification ids it never used: a gap the
    cursor passes over; SQLite has none. Either way nothing is missed."""
    report(app, "CS1", ["Coalition"])
    other = VerifyApp(env=app.env)
    mine, theirs = app.load("CS1"), other.load("CS1")
    mine.add_source(source(1), "ann")
    theirs.add_source(source(2), "bob")
    app.save_incident(mine)
    with pytest.raises(ConcurrentChange):
        other.save_incident(theirs)
    other.close()
    first = app.changes(limit=2)
    report(app, "CS2", ["Coalition"])
    rest = app.changes(since=first.changes[-1].cursor)
    assert [change.code for change in first.changes + rest.changes] == ["CS1", "CS1", "CS2"]
    assert "Paper 2" not in str(rest.changes)


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "", " ", "x", "bG9nOjA", "bG9nOjE=", _encoded(b"log:01"), _encoded(b"log:-1"),
    _encoded(b"log:1 "), _encoded(b"log:"), _encoded(b"page:1"), "log:1", "1",
    "é", "bG9nOjE\x00", "A" * 41, "eyJsIjoicXVldWUifQ", _encoded("log:\u0661".encode()),
])
def test_a_damaged_cursor_is_refused_with_one_sentence(app: VerifyApp, cursor: str) -> None:
    report(app, "CS1", ["Coalition"])
    with pytest.raises(InvalidInput) as refused:
        app.changes(since=cursor)
    assert str(refused.value) == (
        "the change cursor is damaged or was not made by verify: give one a page of changes "
        "ended with, or none to start from the first change")
    with pytest.raises(InvalidInput):
        app.recent_changes(before=cursor)


def test_a_cursor_past_the_end_of_the_log_was_made_by_another_store(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    head = cursor_position(everything(app)[-1].cursor)
    assert app.changes(since=change_cursor(head)).changes == []
    with pytest.raises(InvalidInput, match="past the end of this store's log"):
        app.changes(since=change_cursor(head + 1))


@pytest.mark.parametrize("limit", [0, -1, MAX_CHANGES + 1])
def test_a_limit_out_of_range_is_refused(app: VerifyApp, limit: int) -> None:
    with pytest.raises(InvalidInput, match=f"the limit must be 1 to 10,000, not {limit}"):
        app.changes(limit=limit)


def test_a_cursor_is_a_stable_opaque_token() -> None:
    assert change_cursor(1) == "bG9nOjE"  # as printed in docs/publication.md: never changes
    assert change_cursor(9_223_372_036_854_775_807) == "bG9nOjkyMjMzNzIwMzY4NTQ3NzU4MDc"
    for position in (1, 2, 63, 64, 1000, 10**12, 2**63 - 1):
        assert cursor_position(change_cursor(position)) == position

"""Tamper evidence: edits made directly in the SQLite file are caught and named."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.domain.chain import GENESIS, link
from verify.entrypoints.cli import cli

from conftest import fresh_postgres_schema

Tamper = Callable[[sqlite3.Connection], None]


def run(store: Path | str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), "--actor", "auditor", *args])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "audit.sqlite"
    assert run(path, "demo").exit_code == 0
    return path


def rowid_of(db: sqlite3.Connection, code_event: str, version: int) -> int:
    """The notification id of an incident's event, found through the chain table."""
    for rowid, state in db.execute(
        "SELECT rowid, state FROM stored_events WHERE originator_version = 1"
    ):
        if json.loads(state)["code"] == code_event:
            originator = db.execute("SELECT originator_id FROM stored_events WHERE rowid=?",
                                    (rowid,)).fetchone()[0]
            found = db.execute(
                "SELECT rowid FROM stored_events WHERE originator_id=? AND originator_version=?",
                (originator, version)).fetchone()
            return int(found[0])
    raise AssertionError(code_event)


def tamper(store: Path, change: Tamper) -> None:
    with sqlite3.connect(store) as db:
        change(db)


def test_an_untouched_store_is_intact(store: Path) -> None:
    result = run(store, "audit", "verify")
    assert result.exit_code == 0, result.stderr
    assert result.output.startswith("intact: 51 events")
    report = json.loads(run(store, "audit", "verify", "--json").stdout)
    assert report["intact"] is True and report["events"] == 51
    assert report["head"].startswith("sha256:") and len(report["head"]) == 71


def edit(db: sqlite3.Connection) -> None:
    rowid = rowid_of(db, "CS1080", 2)
    state = json.loads(db.execute("SELECT state FROM stored_events WHERE rowid=?",
                                  (rowid,)).fetchone()[0])
    state["source"]["reliability"] = "A"
    db.execute("UPDATE stored_events SET state=? WHERE rowid=?",
               (json.dumps(state).encode(), rowid))


def delete(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE rowid=?", (rowid_of(db, "CS1070", 3),))


def swap(db: sqlite3.Connection) -> None:
    first, second = rowid_of(db, "CI1050", 6), rowid_of(db, "CI1050", 7)
    rows = {r[0]: r[1:] for r in db.execute(
        "SELECT rowid, originator_version, topic, state FROM stored_events WHERE rowid IN (?, ?)",
        (first, second))}
    db.execute("DELETE FROM stored_events WHERE rowid IN (?, ?)", (first, second))
    originator = db.execute("SELECT originator_id FROM stored_events WHERE rowid=?",
                            (rowid_of(db, "CI1050", 1),)).fetchone()[0]
    db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)"
               " VALUES (?, ?, ?, ?, ?)", (first, originator, *rows[second]))
    db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)"
               " VALUES (?, ?, ?, ?, ?)", (second, originator, *rows[first]))


def insert(db: sqlite3.Connection) -> None:
    rowid = rowid_of(db, "CS1090", 3)
    originator, topic, state = db.execute(
        "SELECT originator_id, topic, state FROM stored_events WHERE rowid=?", (rowid,)).fetchone()
    forged = json.loads(state)
    forged["grade"] = "fair"
    db.execute("INSERT INTO stored_events VALUES (?, 99, ?, ?)",
               (originator, topic, json.dumps(forged).encode()))


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "code", "version", "event", "problem"),
    [
        (edit, "CS1080", 2, "SourceAdded", "was altered"),
        (delete, "CS1070", 3, "SourceAdded", "was removed from the database"),
        (swap, "CI1050", 6, "StrikeConfirmed", "was replaced or moved"),
        (insert, "CS1090", 99, "Graded", "was inserted directly into the database"),
    ],
    ids=["edit", "delete", "swap", "insert"],
)
def test_tampering_is_caught_and_named(
    store: Path, change: Tamper, code: str, version: int, event: str, problem: str
) -> None:
    tamper(store, change)
    result = run(store, "audit", "verify")
    assert result.exit_code == 1
    sentence = result.stderr.strip()
    assert sentence.count("\n") == 0
    assert f"({code} version {version}, {event}) {problem}" in sentence, sentence
    report = json.loads(run(store, "audit", "verify", "--json").stdout)
    assert report["intact"] is False
    assert (report["first_bad"]["code"], report["first_bad"]["version"],
            report["first_bad"]["event"]) == (code, version, event)
    assert run(store, "audit", "seal").exit_code == 1


def test_a_rewrite_of_events_and_chain_together_is_caught_by_the_seal(store: Path) -> None:
    seal = run(store, "audit", "seal").stdout.strip()
    assert seal.startswith("verify seal: store=") and "events=51 head=sha256:" in seal

    def rewrite_everything(db: sqlite3.Connection) -> None:
        edit(db)
        previous = GENESIS
        rows = db.execute("SELECT rowid, originator_id, originator_version, topic, state"
                          " FROM stored_events ORDER BY rowid").fetchall()
        for rowid, originator, version, topic, state in rows:
            previous = link(previous, originator, version, topic, state)
            db.execute("UPDATE event_chain SET link=? WHERE notification_id=?", (previous, rowid))

    tamper(store, rewrite_everything)
    assert run(store, "audit", "verify").exit_code == 0  # consistent with itself...
    result = run(store, "audit", "verify", "--seal", seal)
    assert result.exit_code == 1  # ...but not with what was published
    assert "differs from the seal" in result.stderr


def test_the_seal_also_catches_events_cut_off_the_end(store: Path) -> None:
    seal = run(store, "audit", "seal").stdout
    tamper(store, lambda db: (
        db.execute("DELETE FROM stored_events WHERE rowid=(SELECT MAX(rowid) FROM stored_events)"),
        db.execute("DELETE FROM event_chain WHERE notification_id="
                   "(SELECT MAX(notification_id) FROM event_chain)")))
    assert run(store, "audit", "verify").exit_code == 0
    result = run(store, "audit", "verify", "--seal", seal)
    assert result.exit_code == 1 and "fewer than the 51 sealed" in result.stderr
    later = run(store, "audit", "verify", "--seal", "events=3 head=sha256:" + "0" * 64)
    assert later.exit_code == 1


def test_a_seal_matching_a_longer_history_still_verifies(store: Path) -> None:
    seal = run(store, "audit", "seal").stdout
    assert run(store, "note", "CS1094", "called the local council").exit_code == 0
    result = run(store, "audit", "verify", "--seal", seal)
    assert result.exit_code == 0 and "matches the seal at event 51" in result.output
    assert run(store, "audit", "verify", "--seal", "nonsense").exit_code == 2


def test_a_doctored_snapshot_is_caught(tmp_path: Path) -> None:
    store = tmp_path / "snap.sqlite"
    run(store, "init")
    run(store, "report", "CS1", "--date", "2017-03-17", "--location", "Mosul", "--country",
        "Iraq", "--belligerent", "Coalition")
    for n in range(60):
        run(store, "note", "CS1", f"note {n}")
    assert run(store, "audit", "verify").output.startswith("intact: 61 events, 1 snapshots")

    def doctor(db: sqlite3.Connection) -> None:
        state = db.execute("SELECT state FROM stored_snapshots").fetchone()[0]
        db.execute("UPDATE stored_snapshots SET state=?",
                   (state.replace(b"Mosul", b"Basra"),))

    tamper(store, doctor)
    result = run(store, "audit", "verify")
    assert result.exit_code == 1
    assert "the snapshot of CS1 at version 50 does not match its events" in result.stderr


def test_as_of_and_version_answer_from_the_log_not_the_snapshots(tmp_path: Path) -> None:
    store = tmp_path / "asof.sqlite"
    run(store, "init")
    run(store, "report", "CS1", "--date", "2017-03-17", "--location", "Mosul", "--country",
        "Iraq", "--belligerent", "Coalition")
    for n in range(55):
        run(store, "note", "CS1", f"note {n}")
    for version in (1, 49, 50, 51, 56):
        shown = json.loads(run(store, "show", "CS1", "--version", str(version), "--json").stdout)
        assert shown["version"] == version
        assert len(shown["notes"]) == version - 1


def test_explain_and_regrade_through_the_command_line(store: Path) -> None:
    explained = json.loads(run(store, "explain", "CI1050", "--json").stdout)
    assert explained["decision"]["grade"] == "confirmed"
    assert explained["recorded"]["grade"] == "confirmed"
    assert [s["counted"] for s in explained["sources"]] == [True, True, False]
    assert explained["strikes"][0]["counts"] is True
    regrade = json.loads(run(store, "audit", "regrade", "--rulebook", "V2", "--json").stdout)
    assert regrade["rulebook"] == "v2"
    assert (regrade["compared"], regrade["changed"]) == (5, 1)
    assert regrade["changes"][0]["code"] == "CS1080"
    unknown = run(store, "audit", "regrade", "--rulebook", "v9")
    assert unknown.exit_code == 2 and "no rulebook 'v9'; there are v1, v2" in unknown.stderr
    assert run(store, "explain", "CS1094").exit_code == 1  # no source: nothing to explain


@pytest.fixture
def postgres_store() -> Iterator[str]:
    yield from fresh_postgres_schema()


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE {s}.verify_events SET state = convert_to(replace("
         "convert_from(state, 'UTF8'), 'Amnesty', 'Amnestie'), 'UTF8')"
         " WHERE notification_id = 2", "(CI1050 version 2, SourceAdded) was altered"),
        ("DELETE FROM {s}.verify_events WHERE notification_id = 3",
         "(CI1050 version 3, SourceAdded) was removed from the database"),
        ("INSERT INTO {s}.verify_events (originator_id, originator_version, topic, state)"
         " SELECT originator_id, 99, topic, state FROM {s}.verify_events"
         " WHERE notification_id = 2", "(CI1050 version 99, SourceAdded) was inserted directly"),
    ],
    ids=["edit", "delete", "insert"],
)
def test_tampering_in_postgresql_is_caught(postgres_store: str, statement: str,
                                           problem: str) -> None:
    import psycopg

    from conftest import POSTGRES_SERVER

    assert run(postgres_store, "demo").exit_code == 0
    assert run(postgres_store, "audit", "verify").exit_code == 0
    schema = postgres_store.rsplit("schema=", 1)[1]
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        db.execute(statement.replace("{s}", schema).encode())
    result = run(postgres_store, "audit", "verify")
    assert result.exit_code == 1
    assert problem in result.stderr, result.stderr


def swap_the_event_index(path: Path, moves: dict[tuple[str, int], tuple[str, int]]) -> None:
    """Forge the events table's primary-key index so that loading record A at version v reads
    the row stored for record B at version w, leaving every row and chain link as it is.

    A copy of the index is built with the chosen entries pointing at other rows, and the
    schema's root pages are swapped (PRAGMA writable_schema): what the finding did.
    """
    with sqlite3.connect(path) as db:
        rows = {(o, v): rowid for rowid, o, v in db.execute(
            "SELECT rowid, originator_id, originator_version FROM stored_events")}
        db.execute("CREATE TABLE forged (originator_id TEXT, originator_version INTEGER)")
        for key, rowid in rows.items():
            target = rows[moves[key]] if key in moves else rowid
            db.execute("INSERT INTO forged (rowid, originator_id, originator_version) "
                       "VALUES (?, ?, ?)", (target, *key))
        db.execute("CREATE UNIQUE INDEX forged_index ON forged (originator_id, "
                   "originator_version)")
        (real,), (fake,) = (db.execute("SELECT rootpage FROM sqlite_master WHERE name=?",
                                       (name,)).fetchone() for name in
                            ("sqlite_autoindex_stored_events_1", "forged_index"))
        db.execute("PRAGMA writable_schema=ON")
        db.execute("UPDATE sqlite_master SET rootpage=? WHERE name=?",
                   (fake, "sqlite_autoindex_stored_events_1"))
        db.execute("UPDATE sqlite_master SET rootpage=? WHERE name=?", (real, "forged_index"))
        db.execute("PRAGMA writable_schema=OFF")


def test_a_forged_index_that_shows_another_history_is_caught(store: Path) -> None:
    """The finding: the seal and the chain held while `show` told another incident's grade."""
    from verify.adapters.store import parse_store
    from verify.application.app import VerifyApp
    from verify.domain.incident import incident_id

    seal = json.loads(run(store, "audit", "seal", "--json").stdout)["line"]
    app = VerifyApp(env=parse_store(str(store)).env())
    before = app.show("CS1094").model_dump(mode="json")
    rows = list(app.recorder.select_notifications(start=1, limit=10_000))
    app.close()
    victim = incident_id("CS1094").hex
    last = max(row.originator_version for row in rows if row.originator_id.hex == victim)
    graded_fair = next((row.originator_id.hex, row.originator_version) for row in rows
                       if row.topic.endswith("Incident.Graded")
                       and row.originator_id.hex == incident_id("CS1080").hex)
    swap_the_event_index(store, {(victim, last): graded_fair, graded_fair: (victim, last)})
    shown = run(store, "show", "CS1094", "--json")
    assert shown.exit_code != 0 or json.loads(shown.stdout) != before  # another history ...
    result = run(store, "audit", "verify", "--seal", seal)
    assert result.exit_code == 1, result.output  # ... and the audit says so
    assert "read back differently through the database's index" in result.stderr
    assert "CS1094" in result.stderr or "CS1080" in result.stderr  # the two swapped


def test_a_forged_index_that_reorders_one_history_is_caught(store: Path) -> None:
    """Two events of one incident swapped in the index: every row is still read once, in
    another order (the audit's sums alone would agree; its order check does not)."""
    with sqlite3.connect(store) as db:
        (record, events), = db.execute(
            "SELECT originator_id, count(*) FROM stored_events GROUP BY originator_id"
            " ORDER BY count(*) DESC LIMIT 1")
    assert events >= 3
    swap_the_event_index(store, {(record, 2): (record, 3), (record, 3): (record, 2)})
    result = run(store, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert "read back differently through the database's index" in result.stderr


def test_the_read_back_sum_tells_rows_whose_parts_were_swapped() -> None:
    """Two rows exchanging their topic and bytes (what a forged index shows) never sum as
    the stored rows do: each row's hash is of its whole stored form, not a tuple's hash,
    which is nearly additive in its items and summed alike about one time in four."""
    from verify.application.auditing import ReadBack
    from verify.domain.chain import GENESIS, link, verify_chain

    stored = [(f"{n:032x}", 1 + n % 3, f"verify.domain.incident:Incident.E{n % 7}",
               f'{{"n": {n}}}'.encode()) for n in range(400)]
    previous, rows = GENESIS, []
    for number, row in enumerate(stored, start=1):
        previous = link(previous, *row)
        rows.append((number, *row, number, *row[:3], previous))
    content = verify_chain(rows).content
    assert ReadBack.summed(sorted(stored)) == content
    for first in range(0, 400, 2):
        a, b = stored[first], stored[first + 1]
        swapped = [*stored[:first], (*a[:2], *b[2:]), (*b[:2], *a[2:]), *stored[first + 2:]]
        assert ReadBack.summed(sorted(swapped)) != content, first

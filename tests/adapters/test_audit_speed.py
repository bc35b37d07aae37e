"""The audit's quick walk (`adapters.chain_walk`) says what the careful walk says.

Every tampered copy of a demo store is audited twice, through the quick walk
(in two processes, and in one) and without it: the reports must be equal,
first bad position, sentence and all; a store the careful walk cannot read
must fail the same way both times.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verify.adapters.chain_walk import SQLiteChainWalk
from verify.adapters.sqlite import ChainedSQLiteRecorder
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.domain.chain import GENESIS, Seal, link, merge_chain, verify_chain
from verify.entrypoints.cli import cli

Tamper = Callable[[sqlite3.Connection], object]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quick") / "demo.sqlite"
    result = CliRunner().invoke(cli, ["--store", str(path), "--actor", "auditor", "demo"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def copy(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.sqlite"
    shutil.copyfile(demo, path)
    return path


def audit(path: Path, walk: str, seal: Seal | None = None) -> Any:
    """The audit's report, or the type of what it raised, with the quick walk as ``walk``
    says: "none" (careful only), "one" (one process) or "two" (two processes)."""
    with pytest.MonkeyPatch.context() as patch:
        if walk == "none":
            patch.delattr(ChainedSQLiteRecorder, "chain_walk", raising=False)
        else:
            parallel_from = 0 if walk == "two" else 10**9
            patch.setattr(ChainedSQLiteRecorder, "chain_walk", lambda self: SQLiteChainWalk(
                self.datastore.pool.db_name, parallel_from=parallel_from), raising=False)
        app = VerifyApp(env=parse_store(str(path)).env())
        try:
            return Auditor(app, str(path)).verify(seal)
        except Exception as error:
            return type(error)
        finally:
            app.close()


def rows_of(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return db.execute("SELECT rowid, originator_id, originator_version, topic, state"
                      " FROM stored_events ORDER BY rowid").fetchall()


def relink(db: sqlite3.Connection) -> None:
    """Recompute every link from the events as they now stand (a forger's rewrite)."""
    previous = GENESIS
    for rowid, originator, version, topic, state in rows_of(db):
        previous = link(previous, originator, version, topic, state)
        db.execute("UPDATE event_chain SET link=? WHERE notification_id=?", (previous, rowid))


def set_column(table: str, column: str, value: object, at: int) -> Tamper:
    key = "rowid" if table == "stored_events" else "notification_id"
    return lambda db: db.execute(f"UPDATE {table} SET {column}=? WHERE {key}=?", (value, at))


def edit_state(at: int) -> Tamper:
    return lambda db: db.execute(
        "UPDATE stored_events SET state=CAST(state||' ' AS BLOB) WHERE rowid=?", (at,))


def delete_both(at: int) -> Tamper:
    return lambda db: (db.execute("DELETE FROM stored_events WHERE rowid=?", (at,)),
                       db.execute("DELETE FROM event_chain WHERE notification_id=?", (at,)))


def swap_states(first: int, second: int) -> Tamper:
    def swap(db: sqlite3.Connection) -> None:
        one, two = (db.execute("SELECT state FROM stored_events WHERE rowid=?", (n,)).fetchone()[0]
                    for n in (first, second))
        db.execute("UPDATE stored_events SET state=? WHERE rowid=?", (two, first))
        db.execute("UPDATE stored_events SET state=? WHERE rowid=?", (one, second))
    return swap


def forge_index(db: sqlite3.Connection) -> None:
    """The events' index pointing two entries at each other's rows (as test_audit forges)."""
    rows = {(o, v): rowid for rowid, o, v, *_ in rows_of(db)}
    (record, _), = db.execute("SELECT originator_id, count(*) FROM stored_events"
                              " GROUP BY originator_id ORDER BY count(*) DESC LIMIT 1")
    moves = {(record, 2): (record, 3), (record, 3): (record, 2)}
    db.execute("CREATE TABLE forged (originator_id TEXT, originator_version INTEGER)")
    for key, rowid in rows.items():
        db.execute("INSERT INTO forged (rowid, originator_id, originator_version) VALUES (?, ?, ?)",
                   (rows[moves[key]] if key in moves else rowid, *key))
    db.execute("CREATE UNIQUE INDEX forged_index ON forged (originator_id, originator_version)")
    (real,), (fake,) = (db.execute("SELECT rootpage FROM sqlite_master WHERE name=?",
                                   (name,)).fetchone()
                        for name in ("sqlite_autoindex_stored_events_1", "forged_index"))
    db.execute("PRAGMA writable_schema=ON")
    db.execute("UPDATE sqlite_master SET rootpage=? WHERE name=?",
               (fake, "sqlite_autoindex_stored_events_1"))
    db.execute("UPDATE sqlite_master SET rootpage=? WHERE name=?", (real, "forged_index"))
    db.execute("PRAGMA writable_schema=OFF")


def tampers() -> Iterator[Any]:
    for at in (1, 2, 17, 35, 36, 37, 50, 51):  # both ranges, and their edges (51 events)
        yield pytest.param(edit_state(at), id=f"edit-{at}")
        yield pytest.param(set_column("stored_events", "topic", "x.y:Z", at), id=f"topic-{at}")
        yield pytest.param(set_column("event_chain", "originator_version", 99, at),
                           id=f"chain-version-{at}")
        yield pytest.param(lambda db, at=at: db.execute(
            "DELETE FROM stored_events WHERE rowid=?", (at,)), id=f"delete-event-{at}")
        yield pytest.param(lambda db, at=at: db.execute(
            "DELETE FROM event_chain WHERE notification_id=?", (at,)), id=f"delete-link-{at}")
        yield pytest.param(delete_both(at), id=f"delete-both-{at}")
    yield pytest.param(swap_states(20, 40), id="swap-across-ranges")
    yield pytest.param(lambda db: (edit_state(20)(db), relink(db)), id="rewritten-with-chain")
    yield pytest.param(lambda db: db.execute(
        "INSERT INTO stored_events VALUES ('00', 1, 'x.y:Z', x'00')"), id="insert-event")
    yield pytest.param(lambda db: db.execute(
        "INSERT INTO event_chain VALUES (99, '00', 1, 'x.y:Z', x'00')"), id="insert-link")
    yield pytest.param(lambda db: (
        db.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic,"
                   " state) VALUES (-5, '00', 1, 'x.y:Z', x'00')"),
        db.execute("INSERT INTO event_chain VALUES (-5, '00', 1, 'x.y:Z', x'00')")),
        id="rows-before-the-first")
    # Values of another type than the program writes: the careful walk decides.
    yield pytest.param(set_column("stored_events", "state", "text", 30), id="state-as-text")
    yield pytest.param(set_column("stored_events", "state", 7, 30), id="state-as-integer")
    yield pytest.param(set_column("stored_events", "originator_version", 1000.5, 30),
                       id="version-as-real")
    yield pytest.param(set_column("stored_events", "originator_version", "two", 30),
                       id="version-as-text")
    yield pytest.param(lambda db: db.execute(
        "UPDATE event_chain SET link=hex(link) WHERE notification_id=40"), id="link-as-text")
    yield pytest.param(lambda db: db.execute(
        "UPDATE stored_events SET originator_id=upper(originator_id) WHERE rowid=10"),
        id="record-in-capitals")
    yield pytest.param(set_column("stored_events", "originator_id", None, 10), id="null-record")
    yield pytest.param(forge_index, id="forged-index")
    yield pytest.param(lambda db: None, id="untouched")
    yield pytest.param(delete_both(51), id="last-cut-off")


@pytest.mark.parametrize("change", list(tampers()))
def test_the_quick_walk_reports_what_the_careful_walk_reports(copy: Path,
                                                              change: Tamper) -> None:
    with sqlite3.connect(copy) as db:
        change(db)
    careful = audit(copy, "none")
    assert audit(copy, "two") == careful
    assert audit(copy, "one") == careful


@pytest.mark.parametrize("walk", ["one", "two"])
def test_seals_are_checked_as_the_careful_walk_checks_them(copy: Path, walk: str) -> None:
    with sqlite3.connect(copy) as db:
        links = [row[0] for row in db.execute(
            "SELECT link FROM event_chain ORDER BY notification_id")]
    for seal in (Seal(51, links[50]), Seal(36, links[35]), Seal(1, links[0]),
                 Seal(36, links[36]), Seal(52, links[50]), Seal(0, GENESIS),
                 Seal(0, links[0])):
        assert audit(copy, walk, seal) == audit(copy, "none", seal), seal


def test_the_quick_walk_sums_the_content_as_the_careful_walk_does(demo: Path) -> None:
    """The sum the read-back compares with (kept for an encrypted store), in both
    processes' halves, is the careful walk's."""
    with sqlite3.connect(f"file:{demo}?mode=ro", uri=True) as db:
        careful = verify_chain(merge_chain(
            db.execute("SELECT rowid, originator_id, originator_version, topic, state"
                       " FROM stored_events ORDER BY rowid"),
            db.execute("SELECT * FROM event_chain ORDER BY notification_id")))
    told: list[int] = []
    for parallel_from in (0, 10**9):
        walked = SQLiteChainWalk(str(demo), parallel_from=parallel_from).audit(
            progress=told.append, content=True)
        assert walked is not None and walked.index_intact
        assert (walked.report.events, walked.report.head, walked.report.content) == \
            (careful.events, careful.head, careful.content)
    assert 0 < sum(told) <= careful.events  # the second process's events, told at its end

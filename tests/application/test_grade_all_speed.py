"""`grade --all` in worker processes does what it does in one process, event for event.

A store large enough for workers is graded by them (forked, or started fresh when the
process runs other threads) while this process reads the incidents and saves the grades;
a small one is graded here. Both must append the same events in the same order, in the
same transactions, and say the same. The thresholds are lowered here so that a few dozen
incidents make several tasks and several transactions.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import active_children
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from verify.adapters.store import new_cipher_key, parse_store
from verify.application import grading, workers
from verify.application.app import VerifyApp
from verify.application.base import SNAPSHOT_INTERVAL, row_decoder
from verify.application.views import GradeAllSummary
from verify.domain import (
    Assessment,
    CompetingClaim,
    DiscountFinding,
    Source,
    StrikeConfirmation,
)
from verify.domain.duties import Member, Role, Team
from verify.domain.incident import incident_id

from conftest import report

INCIDENTS = 40
"""Incidents of the casework below: enough for several tasks of LOAD_BATCH."""

LONG = ("CS6", "CS14")
"""Ungraded incidents with many notes: one reaches a snapshot when graded, one loads from
one."""


def src(n: int, rating: str = "B2", group: str | None = None) -> Source:
    return Source(url=f"https://example.org/{n}", publisher=f"Publisher {n}", kind="media",
                  reliability=rating[0], credibility=int(rating[1]), group=group)


def casework(app: VerifyApp) -> None:
    """Incidents in every state `grade --all` tells apart, the same every time."""
    coalition = StrikeConfirmation(belligerent="Coalition", status="declared")
    for n in range(1, INCIDENTS + 1):
        code = f"CS{n}"
        report(app, code, ["Coalition", "Russia"] if n % 9 == 0 else ["Coalition"])
        kind = n % 8
        if kind == 0:
            continue  # no source: not gradable
        app.add_source(code, src(n), "ann")
        if kind in (1, 2):  # two independent credible sources and a strike: fair
            app.add_source(code, src(100 + n, "A1"), "ann")
            app.confirm_strike(code, coalition, "ann")
        if kind == 3:  # graded already
            app.grade(code, "bob")
        if kind == 4:  # graded weak, then the evidence moved: flagged for re-grading
            app.grade(code, "bob")
            app.add_source(code, src(100 + n, "A1"), "ann")
            app.confirm_strike(code, coalition, "ann")
        if kind == 5:  # graded, then disputed
            app.grade(code, "bob")
            app.dispute(code, "Coalition", "denies it", "carol")
        if kind == 6 and n > 20:
            app.assess(code, Assessment(belligerent="Coalition", outcome="credible"), "ann")
        if kind == 7 and n > 20:
            finding = DiscountFinding(basis="other_party", party="Russia", rationale="jets")
            app.discount(code, finding, "ann")
        if n % 10 == 7:
            app.contest(code, CompetingClaim(belligerent="Russia"), "ann")
    app.mark_duplicate("CS10", "CS11", "ann")
    for code, version in zip(LONG, (SNAPSHOT_INTERVAL - 1, SNAPSHOT_INTERVAL + 3), strict=True):
        while app.show(code).version < version:
            app.add_note(code, "checked again", "ann")


def small_thresholds(monkeypatch: pytest.MonkeyPatch, method: str | None = None) -> None:
    monkeypatch.setattr(grading, "PARALLEL_FROM", 10)
    monkeypatch.setattr(grading, "LOAD_BATCH", 7)
    monkeypatch.setattr(grading, "GRADE_BATCH", 4)
    if method is not None:
        monkeypatch.setattr(workers, "start_method", lambda: method)


def log(app: VerifyApp) -> list[tuple[str, dict[str, Any]]]:
    """Every stored event in log order, decoded, without the moment it was made."""
    found = []
    for row in app.recorder.select_notifications(start=1, limit=100_000):
        state = dict(vars(app.mapper.to_domain_event(row)))
        state.pop("timestamp")
        found.append((row.topic, state))
    return found


class Graded(NamedTuple):
    summary: GradeAllSummary
    app: VerifyApp
    steps: list[int]
    """What `grade --all` said of its progress."""
    transactions: list[int]
    """How many incidents' grades each transaction saved."""


def graded(store: str, monkeypatch: pytest.MonkeyPatch, *, workers_from: int | None,
           team: Team | None = None, due: bool = False, method: str | None = None) -> Graded:
    """The casework in ``store``, graded by `grade --all` (first without ``due``, when it
    asks for the re-grading): in this process, or by workers from ``workers_from``
    incidents on; ``team`` is in force for the last run, which is the one observed."""
    app = VerifyApp(env=parse_store(store).env())
    casework(app)
    if due:
        app.grade_all("robot")
    app.close()
    app = VerifyApp(env=app.env, team=team)
    seen: list[int] = []
    transactions: list[int] = []
    save_stored = app.save_stored

    def saved(records: Any) -> list[int]:
        transactions.append(len(records))
        return save_stored(records)

    with monkeypatch.context() as patched:
        small_thresholds(patched, method)
        patched.setattr(grading, "PARALLEL_FROM", workers_from or 1 << 62)
        patched.setattr(app, "save_stored", saved)
        summary = app.grade_all("robot", progress=seen.append, due=due)
    return Graded(summary, app, seen, [size for size in transactions if size])


@pytest.mark.parametrize(("store_url", "method"), [
    ("sqlite", "fork"),
    pytest.param("sqlite", "spawn", marks=pytest.mark.slow),
    # A PostgreSQL pool runs threads: workers are never forked beside it.
    pytest.param("postgres", "spawn", marks=[pytest.mark.postgres, pytest.mark.slow]),
], indirect=["store_url"])
def test_workers_grade_as_this_process_does(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str,
) -> None:
    expected, reference, steps, transactions = graded(
        str(tmp_path / "reference.sqlite"), monkeypatch, workers_from=None)
    assert steps == [1] * INCIDENTS  # below PARALLEL_FROM: one incident at a time, here
    summary, app, steps, saved = graded(store_url, monkeypatch, workers_from=10,
                                        method=method)
    assert summary == expected
    assert sum(steps) == INCIDENTS and len(steps) == 6  # a progress step per task of 7
    assert summary.by_grade and summary.not_gradable and summary.regrade_due
    assert saved == transactions and saved[0] == 4  # GRADE_BATCH, as lowered here
    assert log(app) == log(reference)
    snapshot = app.snapshots.get(incident_id(LONG[0])) if app.snapshots else None
    assert [event.originator_version for event in snapshot or []] == [SNAPSHOT_INTERVAL]
    assert app.show(LONG[1]).grade is not None  # loaded from its snapshot by a worker
    assert app.grade_all("robot").graded == 0
    reference.close()
    app.close()


TEAM = Team(members={name: Member(name=name, role=Role.ANALYST) for name in ("robot", "bob")})
"""Separation of duties in force: fair grades are proposed, for a second person."""


@pytest.mark.parametrize(("team", "due"), [(TEAM, False), (None, True)],
                         ids=["proposals", "due"])
def test_workers_propose_and_regrade_as_this_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, team: Team | None, due: bool,
) -> None:
    expected, reference, _, _ = graded(str(tmp_path / "reference.sqlite"), monkeypatch,
                                    workers_from=None, team=team, due=due)
    summary, app, _, _ = graded(str(tmp_path / "subject.sqlite"), monkeypatch, workers_from=10,
                             team=team, due=due)
    assert summary == expected
    assert summary.proposed if team else summary.graded
    assert log(app) == log(reference)
    reference.close()
    app.close()


def test_workers_read_and_write_an_encrypted_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERIFY_CIPHER_KEY", new_cipher_key())
    expected, reference, _, _ = graded(str(tmp_path / "reference.sqlite"), monkeypatch,
                                    workers_from=None)
    summary, app, _, _ = graded(str(tmp_path / "subject.sqlite"), monkeypatch, workers_from=10)
    assert summary == expected and summary.graded
    assert log(app) == log(reference)
    assert not any(b"robot" in row.state
                   for row in app.recorder.select_notifications(start=1, limit=100_000))
    reference.close()
    app.close()


def test_an_incident_changed_while_workers_grade_it_is_a_conflict(
    store_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = VerifyApp(env=parse_store(store_url).env())
    other = VerifyApp(env=parse_store(store_url).env())
    casework(app)
    small_thresholds(monkeypatch)

    def meanwhile(step: int) -> None:
        if not other.show("CS1").notes:  # the first task is graded, not yet saved
            other.add_note("CS1", "checked the hospital records", "bob")

    summary = app.grade_all("robot", progress=meanwhile)
    assert summary.conflicts == ["CS1"]
    assert "CS1" not in summary.incidents_by_grade.get("fair", [])
    assert app.show("CS1").grade is None and app.show("CS2").grade == "fair"
    again = app.grade_all("robot")
    assert again.incidents_by_grade == {"fair": ["CS1"]} and again.conflicts == []
    app.close()
    other.close()


def test_a_worker_that_fails_stops_grading_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = VerifyApp(env=parse_store(str(tmp_path / "broken.sqlite")).env())
    casework(app)
    app.recorder.insert_events([StoredEvent(incident_id("CS12"), 99, "verify.domain.incident"
                                            ":Incident.NoteAdded", b"{not json")])
    small_thresholds(monkeypatch)
    with pytest.raises(MapperDeserialisationError, match="originator_version 99") as failed:
        app.grade_all("robot")
    # The worker's own traceback comes with it, for whoever has to find the cause.
    notes = getattr(failed.value, "__notes__", [])
    assert any(note.startswith("raised in a worker process:") and "Traceback" in note
               for note in notes)
    assert active_children() == []
    # As in one process: the transactions before the failure were whole, none came after.
    assert app.show("CS1").grade == "fair" and app.show("CS14").grade is None
    app.close()


STORED_LOG = Path(__file__).resolve().parents[1] / "data" / "stored-log.jsonl"
"""One stored event of every type, old shapes included (tests/adapters/test_stored_log.py)."""


def test_rows_decode_as_the_mapper_decodes_them(tmp_path: Path) -> None:
    app = VerifyApp(env=parse_store(str(tmp_path / "decode.sqlite")).env())
    decode = row_decoder(app.mapper)
    for line in STORED_LOG.read_bytes().splitlines():
        row = orjson.loads(line)
        stored = StoredEvent(UUID(row["originator_id"]), row["originator_version"],
                             row["topic"], row["state"].encode())
        mine = decode(UUID(row["originator_id"]), stored.originator_version, stored.topic,
                      stored.state)
        theirs = app.mapper.to_domain_event(stored)
        assert type(mine) is type(theirs) and vars(mine) == vars(theirs)
    with pytest.raises(MapperDeserialisationError, match="originator_version 3"):
        decode(incident_id("CS1"), 3, "verify.domain.incident:Incident.NoteAdded", b"{")
    app.close()


WORKER_PARENT = r"""
import os, sys, time
from multiprocessing import active_children
from pathlib import Path
from verify.adapters.store import new_cipher_key, parse_store
from verify.application import grading
from verify.application.app import VerifyApp

store, found = sys.argv[1], Path(sys.argv[2])
grading.PARALLEL_FROM, grading.LOAD_BATCH = 10, 7
app = VerifyApp(env=parse_store(store).env())

def stop(step):
    found.write_text(" ".join(str(child.pid) for child in active_children()))
    time.sleep(120)

app.grade_all("robot", progress=stop)
"""


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux") or workers.usable_cores() < 2,
                    reason="reads /proc; workers need two cores")
@pytest.mark.slow  # kills a process and waits for its workers to end
def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    store = str(tmp_path / "killed.sqlite")
    app = VerifyApp(env=parse_store(store).env())
    casework(app)
    app.close()
    found = tmp_path / "workers"
    parent = subprocess.Popen([sys.executable, "-c", WORKER_PARENT, store, str(found)])
    try:
        deadline = time.monotonic() + 60
        while not (found.exists() and found.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [int(pid) for pid in found.read_text().split()]
        assert len(pids) == workers.usable_cores()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, pids)), "a worker outlived the process that started it"


@pytest.mark.parametrize("without", ["a second core", "a recorder that loads many"])
def test_without_workers_every_incident_is_graded_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, without: str,
) -> None:
    expected, reference, _, _ = graded(str(tmp_path / "reference.sqlite"), monkeypatch,
                                    workers_from=None)
    app = VerifyApp(env=parse_store(str(tmp_path / "one.sqlite")).env())
    casework(app)
    started: list[object] = []
    monkeypatch.setattr(grading, "Workers", lambda *args: started.append(args))
    small_thresholds(monkeypatch)
    if without == "a second core":
        monkeypatch.setattr(grading, "usable_cores", lambda: 1)
    else:
        monkeypatch.setattr(type(app.recorder), "records", None)
    seen: list[int] = []
    assert app.grade_all("robot", progress=seen.append) == expected
    assert started == [] and seen == [1] * INCIDENTS
    assert log(app) == log(reference)
    reference.close()
    app.close()


def in_a_thread(action: Callable[[], GradeAllSummary]) -> GradeAllSummary:
    """Run ``action`` beside a second thread, as a server runs it (workers start fresh)."""
    done: list[GradeAllSummary] = []
    thread = threading.Thread(target=lambda: done.append(action()))
    thread.start()
    thread.join()
    return done[0]


def test_a_process_with_threads_starts_its_workers_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    methods: list[str] = []
    chosen = workers.start_method

    def noted() -> str:
        methods.append(chosen())
        return methods[-1]

    expected, reference, _, _ = graded(str(tmp_path / "reference.sqlite"), monkeypatch,
                                    workers_from=None)
    app = VerifyApp(env=parse_store(str(tmp_path / "threads.sqlite")).env())
    casework(app)
    small_thresholds(monkeypatch)
    monkeypatch.setattr(workers, "start_method", noted)
    summary = in_a_thread(lambda: app.grade_all("robot"))
    assert methods == ["spawn"] and summary == expected
    assert log(app) == log(reference)
    reference.close()
    app.close()

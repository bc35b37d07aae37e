"""The bulk import's faster paths store exactly what the slower ones did.

Workers send events as table rows; the writer inserts a batch in one statement
(SQLite) or one COPY (PostgreSQL) and hashes the chain in one loop, and every
save of a batch takes the same path. Each must leave the same events, chain
links and refusals as before: the audit passes, a batch that repeats a stored
event writes nothing of itself, and an incident imported by workers holds the
events the sequential importer gives it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from eventsourcing.persistence import IntegrityError
from hypothesis import given
from hypothesis import strategies as st

from verify.adapters import bulk_import
from verify.adapters.bulk_import import (
    CHUNK_LINES,
    ParallelImporter,
    WorkerSettings,
    parallel_pays,
)
from verify.adapters.interchange import read_rows
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.application.importing import Importer, Status, incident_from_record
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.workers import start_method
from verify.demo.synthetic import archive, write_archive
from verify.domain.chain import GENESIS, EventRow, link, links_after, originator_text
from verify.domain.dates import DateOrder
from verify.domain.values import CasualtyRange, Location

ACTOR = "importer"


@pytest.fixture
def app(store_url: str) -> Iterator[VerifyApp]:
    application = VerifyApp(env=parse_store(store_url).env())
    yield application
    application.close()


def event_rows(app: VerifyApp, count: int, first: int = 1) -> list[EventRow]:
    """Synthetic incidents' events, encoded by the store's mapper as a worker encodes them."""
    intake = Intake(today=today_utc())
    rows: list[EventRow] = []
    for line in list(archive(first + count - 1))[first - 1:]:
        record = intake.read(orjson.loads(line)).record
        assert record is not None
        for event in incident_from_record(record, ACTOR).collect_events():
            stored = app.mapper.to_stored_event(event)
            rows.append((originator_text(stored.originator_id), stored.originator_version,
                         stored.topic, stored.state))
    return rows


def audit(app: VerifyApp, store_url: str) -> dict[str, Any]:
    return Auditor(app, store_url).verify()


def test_a_batch_of_links_is_the_links_one_by_one() -> None:
    rows: list[EventRow] = [("", 1, "a:Topic", b""), ("ab" * 16, 1, "a:Topic", b"x" * 300),
                            ("ab" * 16, 2, "a:Other", b"{}"), ("cd" * 16, 1, "a:Topic", b"y")]
    previous, expected = bytes(range(32)), []
    for number, (originator, version, topic, state) in enumerate(rows, start=41):
        previous = link(previous, originator, version, topic, state)
        expected.append((number, originator, version, topic, previous))
    assert links_after(bytes(range(32)), 41, rows) == expected
    assert links_after(GENESIS, 1, []) == []


def test_rows_inserted_in_bulk_follow_the_log_with_their_links(
        app: VerifyApp, store_url: str) -> None:
    app.report_incident(code="CI9001", date=today_utc(), country="Iraq",
                        location=Location(name="Mosul"), belligerents=[],
                        killed=CasualtyRange(), injured=CasualtyRange(), summary=None,
                        actor=ACTOR)
    before = app.recorder.max_notification_id() or 0
    rows = event_rows(app, 40)
    ids = app.recorder.insert_rows(rows)  # type: ignore[attr-defined]
    assert list(ids) == list(range(before + 1, before + 1 + len(rows)))
    stored = app.recorder.select_notifications(start=before + 1, limit=len(rows) + 1)
    assert [(n.id, originator_text(n.originator_id), n.originator_version, n.topic,
             bytes(n.state)) for n in stored] == [(i, *row) for i, row in zip(ids, rows,
                                                                             strict=True)]
    report = audit(app, store_url)
    assert report["intact"], report["problem"]
    assert report["events"] == before + len(rows)
    assert app.show("CS3").code == "CS3"


def test_a_bulk_insert_repeating_a_stored_event_writes_nothing_of_itself(
        app: VerifyApp, store_url: str) -> None:
    rows = event_rows(app, 10)
    app.recorder.insert_rows(rows[:30])  # type: ignore[attr-defined]
    head = audit(app, store_url)["head"]
    keys = [("0" * 32, b"k" * 32)]
    with pytest.raises(IntegrityError):
        app.recorder.insert_rows(rows[25:], victim_keys=keys)  # type: ignore[attr-defined]
    assert app.recorder.max_notification_id() == 30
    assert app.recorder.open_details("0" * 32, "c2VhbGVk") is None  # no key was kept
    report = audit(app, store_url)
    assert report["intact"] and report["head"] == head
    app.recorder.insert_rows(rows[30:], victim_keys=keys)  # type: ignore[attr-defined]
    report = audit(app, store_url)
    assert report["intact"] and report["events"] == len(rows)


def stored_events(app: VerifyApp) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each incident's events, by code: their topics and contents but the moment stored."""
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for code in app.incident_codes():
        events = app.recorder.select_events(app.load(code).id)
        found[code] = [(event.topic, {key: value for key, value in
                                      app.mapper.transcoder.decode(event.state).items()
                                      if key != "timestamp"})
                       for event in events]
    return found


def unsealed(events: dict[str, list[tuple[str, dict[str, Any]]]]) -> Any:
    """The events without their victims' keys and sealed details (new keys each import)."""
    def without_keys(state: dict[str, Any]) -> dict[str, Any]:
        if "victim" not in state:
            return state
        victim = {k: v for k, v in state["victim"].items() if k not in ("key", "sealed")}
        return {**state, "victim": victim}
    return {code: [(topic, without_keys(state)) for topic, state in history]
            for code, history in events.items()}


@pytest.mark.slow  # starts worker processes; the bulk insert tests above stay fast
def test_workers_store_the_events_the_sequential_importer_stores(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are answered by two workers in turn and written, and reported, in file order."""
    monkeypatch.setattr(bulk_import, "CHUNK_LINES", 15)
    file = write_archive(tmp_path / "archive.jsonl", 60, victim_count=1)
    intake = Intake(today=today_utc())
    sequential = VerifyApp(env=parse_store(str(tmp_path / "sequential.sqlite")).env())
    outcomes = list(Importer(sequential, ACTOR).run(read_rows(file, intake)))
    assert {outcome.status for outcome in outcomes} == {Status.IMPORTED}
    env = parse_store(store_url).env()
    parallel = VerifyApp(env=env)
    settings = WorkerSettings(env=env, actor=ACTOR, today=intake.today,
                              date_order=DateOrder.DMY, parties=intake.parties)
    outcomes = list(ParallelImporter(parallel, settings, workers=2).run(file))
    assert [(o.line, o.status, o.events) for o in outcomes] == [
        (number, Status.IMPORTED, o.events) for number, o in enumerate(outcomes, start=1)]
    assert unsealed(stored_events(parallel)) == unsealed(stored_events(sequential))
    assert audit(parallel, store_url)["intact"]
    sequential.close()
    parallel.close()


def victims_indexed(app: VerifyApp) -> list[tuple[Any, ...]]:
    """The victims' names as the search index holds them (not in the read model's dump)."""
    model = cast(Any, app.read_model)
    return sorted(model._select(f"SELECT * FROM {model.table('incident_victim')}"))


@pytest.mark.slow  # starts worker processes
def test_workers_write_the_read_models_a_catch_up_would_write(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk's read-model rows go in with its events, made by its worker from the
    very events stored (victims' names read from the details it sealed): the read models
    are current after the import, and a rebuild from the log gives the same tables."""
    monkeypatch.setattr(bulk_import, "CHUNK_LINES", 15)  # several chunks, in turn
    file = write_archive(tmp_path / "archive.jsonl", 60, victim_count=2)
    intake = Intake(today=today_utc())
    env = parse_store(store_url).env()
    app = VerifyApp(env=env)
    settings = WorkerSettings(env=env, actor=ACTOR, today=intake.today,
                              date_order=DateOrder.DMY, parties=intake.parties)
    outcomes = list(ParallelImporter(app, settings, workers=2).run(file))
    assert {outcome.status for outcome in outcomes} == {Status.IMPORTED}
    assert app.events_behind() == 0
    written, names = app.read_model.dump(), victims_indexed(app)
    assert len(written["incident_view"]) == 60 and names
    app.rebuild_read_models()
    assert app.read_model.dump() == written
    assert victims_indexed(app) == names
    app.close()


@pytest.mark.slow  # starts worker processes
def test_a_read_model_behind_is_left_to_the_catch_up(
        app: VerifyApp, tmp_path: Path, store_url: str) -> None:
    """Rows are written with a chunk only where they follow on from what the read model
    has applied; behind it (a command's event not applied yet), the catch-up does them."""
    app.report_incident(code="XX1", date=today_utc(), country="Syria",
                        location=Location(name="Raqqa"), belligerents=[],
                        killed=CasualtyRange(), injured=CasualtyRange(), summary=None,
                        actor=ACTOR)
    assert app.events_behind() == 1
    file = write_archive(tmp_path / "archive.jsonl", 30)
    intake = Intake(today=today_utc())
    settings = WorkerSettings(env=parse_store(store_url).env(), actor=ACTOR,
                              today=intake.today, date_order=DateOrder.DMY,
                              parties=intake.parties)
    list(ParallelImporter(app, settings, workers=2).run(file))
    assert app.read_model.position() == 0
    app.catch_up()
    written = app.read_model.dump()
    app.rebuild_read_models()
    assert app.read_model.dump() == written and len(written["incident_view"]) == 31


@pytest.mark.parametrize(("lines", "workers"), [(1500, 2), (2500, 3), (8000, 8), (None, 8)])
def test_no_more_workers_start_than_the_file_has_chunks(
        app: VerifyApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        lines: int | None, workers: int) -> None:
    """On a machine of many cores a small file starts a worker a chunk, not one a core (a
    worker started afresh costs a fraction of a second of a core before its first chunk)."""
    started: list[int] = []

    def run(self: ParallelImporter, path: Path) -> Iterator[Any]:
        started.append(self.workers)
        return iter(())

    monkeypatch.setattr(bulk_import, "usable_cores", lambda: 8)
    monkeypatch.setattr(ParallelImporter, "run", run)
    intake = Intake(today=today_utc())
    file = tmp_path / "archive.jsonl"
    list(bulk_import.import_file(app, {}, [], file, actor=ACTOR, dry_run=False, parallel=True,
                                 intake=intake, lines=lines))
    assert started == [workers]


def test_workers_fork_only_while_this_process_runs_one_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker starts at once; forking beside other threads could deadlock it."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr("sys.platform", "linux")
    assert start_method() == "fork"
    monkeypatch.setattr("sys.platform", "darwin")
    assert start_method() == "spawn"


def test_a_batch_of_the_sequential_importer_is_stored_whole_or_compared_row_by_row(
        app: VerifyApp, store_url: str, tmp_path: Path) -> None:
    """A batch's events are appended in one go (with COPY on PostgreSQL, past
    COPY_FROM_EVENTS); a batch holding a stored incident is refused whole, then each row
    is compared with the store, as before."""
    file = write_archive(tmp_path / "archive.jsonl", 40)
    intake = Intake(today=today_utc())
    first = list(Importer(app, ACTOR, batch_size=30).run(read_rows(file, intake)))
    assert [outcome.status for outcome in first] == [Status.IMPORTED] * 40
    events = sum(outcome.events for outcome in first)
    assert events > 100 and app.recorder.max_notification_id() == events
    again = list(Importer(app, ACTOR).run(read_rows(file, intake)))
    assert [outcome.status for outcome in again] == [Status.UNCHANGED] * 40
    report = audit(app, store_url)
    assert report["intact"] and report["events"] == events


# ------------------------------------------------ when workers pay (by measured cost)

@pytest.mark.parametrize(("rows", "method", "cores", "pays"), [
    (0, "fork", 2, False),
    (CHUNK_LINES, "fork", 8, False),  # one chunk: nothing to share
    (1100, "fork", 2, False),  # the second chunk too small to repay even a fork
    (1500, "fork", 2, True),
    (2500, "fork", 2, True),
    (2500, "spawn", 2, False),  # a spawned worker imports the program again first
    (5000, "spawn", 2, True),
    (1_000_000, "fork", 1, False),  # one core: nothing to share
    (1_000_000, "spawn", 1, False),
])
def test_workers_are_started_only_where_they_are_measured_to_pay(
        rows: int, method: str, cores: int, pays: bool) -> None:
    assert parallel_pays(rows, method, cores) is pays


@given(st.integers(0, 50_000), st.sampled_from(["fork", "spawn"]), st.integers(1, 64))
def test_more_rows_never_turn_workers_off(rows: int, method: str, cores: int) -> None:
    if parallel_pays(rows, method, cores):
        assert parallel_pays(rows + 1, method, cores)
        assert parallel_pays(rows, method, cores + 1)

"""Bulk import: records become the same events the commands would append, saved in batches.

Rows are streamed: at most a few batches of incidents are held in memory, and
each batch is written in one transaction. Every row gets an outcome once its
batch is stored, so "imported" always means durable.

Large JSON Lines files are prepared in worker processes (validation, domain
commands, encoding: the CPU-bound part) while this process only writes; see
`ParallelImporter`. Everything else goes through the sequential `Importer`.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from pydantic import ValidationError

from verify.application import SNAPSHOT_INTERVAL, VerifyApp, fewer_collections
from verify.domain.dates import DateOrder
from verify.domain.duties import Action
from verify.domain.errors import ConcurrentChange, VerifyError
from verify.domain.incident import Incident, incident_id
from verify.domain.parties import NO_PARTIES, PartyNames
from verify.domain.values import canonical_code
from verify.intake import FieldWarning, Intake
from verify.records import IncidentRecord

IMPORT_BATCH = 1000
"""Incidents written per transaction by the sequential importer."""

CHUNK_LINES = 1000
"""Lines a worker prepares at a time; the main process writes each chunk in one transaction."""

PARALLEL_FROM_ROWS = 5000
"""Smaller files are imported in this process: starting workers would cost more than it saves."""

MAX_LINE_BYTES = 2_000_000
"""A longer line is refused unread: no incident needs it, and it protects memory."""

WITHDRAWN_IN_RECORD = "withdrawn in the imported record"


class Status(StrEnum):
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    DIFFERS = "differs"
    INVALID = "invalid"
    REFUSED = "refused"


@dataclass(frozen=True)
class Row:
    """One line of an input file: a record with its warnings, or why it is refused."""

    line: int
    record: IncidentRecord | None = None
    error: str | None = None
    warnings: tuple[FieldWarning, ...] = ()
    code: str | None = None
    """The row's code when it could be read, even if the row is refused."""


@dataclass(frozen=True)
class Outcome:
    line: int
    status: Status
    code: str | None = None
    message: str = ""
    events: int = 0
    warnings: tuple[FieldWarning, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """An incident built from a row, with its events pending, not yet stored."""

    line: int
    record: IncidentRecord
    incident: Incident
    warnings: tuple[FieldWarning, ...] = ()


def _with_warnings(outcome: Outcome, row: Row) -> Outcome:
    if not row.warnings:
        return outcome
    return Outcome(outcome.line, outcome.status, outcome.code, outcome.message, outcome.events,
                   row.warnings)


# ------------------------------------------------------------------- rows


def describe(error: ValidationError) -> str:
    """A pydantic error as "field: reason" phrases, the first few only."""
    parts = []
    for problem in error.errors()[:3]:
        where = ".".join(str(part) for part in problem["loc"]) or "row"
        message = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    more = len(error.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validate_row(line: int, data: object, intake: Intake) -> Row:
    """A row read by the intake: strict on the required fields, lenient on the rest."""
    reading = intake.read(data)
    if reading.record is None:
        return Row(line, error=reading.refusal, warnings=reading.warnings,
                   code=_code_of(data))
    return Row(line, record=reading.record, warnings=reading.warnings)


def _code_of(data: object) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        try:
            return canonical_code(data["code"])
        except ValueError:
            return None
    return None


def decode_json_line(raw: bytes) -> dict[str, Any] | str | None:
    """One JSON Lines line as an object, or why it is not one; None for a blank line."""
    if len(raw) > MAX_LINE_BYTES:
        return f"the line is longer than {MAX_LINE_BYTES:,} bytes"
    if not raw.strip():
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return f"not valid JSON: {error}"
    if not isinstance(data, dict):
        return "a row must be a JSON object"
    return data


def parse_json_line(line: int, raw: bytes, intake: Intake) -> Row | None:
    """One JSON Lines line as an incident row; None for a blank line."""
    data = decode_json_line(raw)
    if data is None:
        return None
    if isinstance(data, str):
        return Row(line, error=data)
    return validate_row(line, data, intake)


# --------------------------------------------------------- record -> events


def incident_from_record(
    record: IncidentRecord, actor: str, parties: PartyNames = NO_PARTIES
) -> Incident:
    """Build an incident by the same commands, in the same order, an analyst would use."""
    incident = Incident.report(
        code=record.code, date=record.date, country=record.country, location=record.location,
        belligerents=list(record.belligerents), killed=record.civilians_killed,
        injured=record.civilians_injured, summary=record.summary, actor=actor,
    )
    incident.keep_unread(record.unread, actor)
    for source in record.sources:
        if source.withdrawn:
            incident.add_withdrawn_source(source.to_source(), WITHDRAWN_IN_RECORD, actor)
        else:
            incident.add_source(source.to_source(), actor)
    for strike in record.strikes:
        incident.confirm_strike(strike, actor, parties)
    for claim in record.contested_by:
        incident.contest(claim, actor)
    for assessment in record.assessments:
        incident.assess(assessment, actor, parties)
    for finding in record.discounts:
        incident.discount(finding, actor)
    if record.grade is not None:
        incident.record_imported_grade(
            record.grade.grade, record.grade.rule, record.grade.rationale, actor
        )
    if record.dispute is not None:
        incident.dispute_grade(record.dispute.by, record.dispute.reason, actor)
    for note in record.notes:
        incident.add_note(note, actor)
    return incident


def differences(stored: IncidentRecord, incoming: IncidentRecord) -> list[str]:
    """Names of the fields where an incoming row departs from the stored incident."""
    return [name for name in IncidentRecord.model_fields
            if getattr(stored, name) != getattr(incoming, name)]


def compare(line: int, stored: IncidentRecord, incoming: IncidentRecord, where: str) -> Outcome:
    changed = differences(stored, incoming)
    if not changed:
        return Outcome(line, Status.UNCHANGED, incoming.code)
    return Outcome(
        line, Status.DIFFERS, incoming.code,
        f"{incoming.code} differs from {where} in {', '.join(changed)}; not merged",
    )


class Preparer:
    """Turns rows into incidents ready to store, without touching the store.

    Invalid rows, refused commands and repeats of a code within the batch are
    settled here; everything else waits in the batch until it is drained.
    """

    def __init__(self, actor: str, parties: PartyNames = NO_PARTIES) -> None:
        self.actor = actor
        self.parties = parties
        self.batch: dict[str, Prepared] = {}

    def take(self, row: Row) -> Outcome | None:
        if row.record is None:
            return Outcome(row.line, Status.INVALID, row.code, row.error or "invalid row",
                           warnings=row.warnings)
        record = row.record
        earlier = self.batch.get(record.code)
        if earlier is not None:
            return _with_warnings(
                compare(row.line, earlier.record, record, f"line {earlier.line}"), row)
        try:
            incident = incident_from_record(record, self.actor, self.parties)
        except VerifyError as error:
            return Outcome(row.line, Status.REFUSED, record.code, str(error),
                           warnings=row.warnings)
        self.batch[record.code] = Prepared(row.line, record, incident, row.warnings)
        return None

    def drain(self) -> list[Prepared]:
        prepared = list(self.batch.values())
        self.batch.clear()
        return prepared


# ----------------------------------------------------- sequential importer


class Importer:
    """Turns a stream of rows into stored incidents, a batch per transaction."""

    def __init__(
        self, app: VerifyApp, actor: str, *, dry_run: bool = False,
        check_first: bool = False, batch_size: int = IMPORT_BATCH,
        parties: PartyNames = NO_PARTIES,
    ) -> None:
        self.app = app
        self.actor = actor
        self.dry_run = dry_run
        self.check_first = dry_run or check_first
        self.batch_size = batch_size
        self.preparer = Preparer(actor, parties)
        self.duplicates: list[tuple[int, str, str]] = []

    def run(self, rows: Iterable[Row], *, link: bool = True) -> Iterator[Outcome]:
        """Import the rows; ``link=False`` leaves duplicate marks in ``self.duplicates``.

        Outcomes come a batch at a time, in line order within the batch.
        """
        settled: list[Outcome] = []
        with fewer_collections():
            for row in rows:
                outcome = self._take(row)
                if outcome is not None:
                    settled.append(outcome)
                if len(self.preparer.batch) >= self.batch_size or len(settled) >= self.batch_size:
                    yield from _in_line_order([*settled, *self._flush()])
                    settled.clear()
            yield from _in_line_order([*settled, *self._flush()])
            if link:
                yield from link_duplicates(self.app, self.duplicates, self.actor, self.dry_run)

    def _take(self, row: Row) -> Outcome | None:
        record = row.record
        if (self.check_first and record is not None and record.code not in self.preparer.batch
                and self.app.has_incident(record.code)):
            return _with_warnings(
                against_store(self.app, row.line, record, self.duplicates), row)
        outcome = self.preparer.take(row)
        if outcome is None and row.record is not None and row.record.duplicate_of is not None:
            self.duplicates.append((row.line, row.record.code, row.record.duplicate_of))
        return outcome

    def _flush(self) -> Iterator[Outcome]:
        """Write the batch in one transaction, assuming its incidents are new.

        If any already exists (a re-import, or someone else's write), the
        transaction rolls back whole and each incident is checked on its own.
        """
        prepared = self.preparer.drain()
        if not prepared:
            return
        counts = [len(p.incident.pending_events) for p in prepared]
        if self.dry_run:
            for item, events in zip(prepared, counts, strict=True):
                yield Outcome(item.line, Status.IMPORTED, item.record.code, "would import", events,
                              item.warnings)
            return
        kept = [list(item.incident.pending_events) for item in prepared]
        try:
            self.app.save(*(item.incident for item in prepared))
        except IntegrityError:
            # The failed save took the pending events off the incidents: put them back.
            for item, pending in zip(prepared, kept, strict=True):
                item.incident.pending_events[:] = pending
            yield from self._save_one_by_one(prepared, counts)
            return
        for item, events in zip(prepared, counts, strict=True):
            yield Outcome(item.line, Status.IMPORTED, item.record.code, events=events,
                          warnings=item.warnings)

    def _save_one_by_one(self, prepared: list[Prepared], counts: list[int]) -> Iterator[Outcome]:
        for item, events in zip(prepared, counts, strict=True):
            code = item.record.code
            if self.app.has_incident(code):
                self.duplicates = [link for link in self.duplicates if link[1] != code]
                found = against_store(self.app, item.line, item.record, self.duplicates)
                yield Outcome(found.line, found.status, found.code, found.message,
                              warnings=item.warnings)
                continue
            try:
                self.app.save_incident(item.incident)
            except ConcurrentChange:
                yield Outcome(item.line, Status.REFUSED, code,
                              f"{code} was written by someone else during the import",
                              warnings=item.warnings)
                continue
            yield Outcome(item.line, Status.IMPORTED, code, events=events,
                          warnings=item.warnings)


def _in_line_order(outcomes: list[Outcome]) -> list[Outcome]:
    return sorted(outcomes, key=lambda outcome: outcome.line)


def against_store(app: VerifyApp, line: int, record: IncidentRecord,
                  duplicates: list[tuple[int, str, str]]) -> Outcome:
    """Compare a row with its stored incident; a duplicate mark still to come is queued.

    Marks are written after the incidents (an original may come later in the
    file), so an import stopped in between leaves incidents without theirs.
    A row that differs only by that missing mark gets it now, which is how a
    re-run completes the interrupted import; any other difference is reported.
    """
    stored = IncidentRecord.of(app.load(record.code))
    if (record.duplicate_of is not None and stored.duplicate_of is None
            and differences(stored, record) == ["duplicate_of"]):
        duplicates.append((line, record.code, record.duplicate_of))
        return Outcome(line, Status.UNCHANGED, record.code)
    return compare(line, stored, record, "the store")


def link_duplicates(
    app: VerifyApp, links: list[tuple[int, str, str]], actor: str, dry_run: bool
) -> Iterator[Outcome]:
    """Duplicate marks wait for the end of the file, so an original may come later in it."""
    for line, code, original in links:
        if dry_run:
            continue
        try:
            app.mark_duplicate(code, original, actor)
        except VerifyError as error:
            yield Outcome(line, Status.REFUSED, code,
                          f"{code} was imported but not marked a duplicate: {error}")
    links.clear()


# ------------------------------------------------------- parallel importer


@dataclass
class PreparedChunk:
    """What a worker sends back: settled outcomes, and stored events ready to insert."""

    lines: list[tuple[int, bytes]]
    outcomes: list[Outcome] = field(default_factory=list)
    incidents: list[tuple[int, str, int, str | None, tuple[FieldWarning, ...]]] = field(
        default_factory=list)
    stored_events: list[StoredEvent] = field(default_factory=list)


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to read rows and build incidents as this process would."""

    env: dict[str, str]
    actor: str
    today: dt.date
    date_order: DateOrder
    parties: PartyNames

    def intake(self) -> Intake:
        return Intake(today=self.today, parties=self.parties, date_order=self.date_order)


_worker_mapper: Mapper[UUID] | None = None
_worker: WorkerSettings | None = None


def _start_worker(settings: WorkerSettings) -> None:
    """Each worker encodes with the store's own mapper (same transcoder, cipher, compressor)."""
    global _worker_mapper, _worker
    in_memory = VerifyApp(env={**settings.env, "PERSISTENCE_MODULE": "eventsourcing.popo"})
    _worker_mapper = in_memory.mapper
    _worker = settings
    gc.set_threshold(50_000, *gc.get_threshold()[1:])


def _prepare_chunk(lines: list[tuple[int, bytes]]) -> PreparedChunk:
    assert _worker_mapper is not None and _worker is not None
    chunk = PreparedChunk(lines)
    preparer = Preparer(_worker.actor, _worker.parties)
    intake = _worker.intake()
    for line, raw in lines:
        row = parse_json_line(line, raw, intake)
        if row is None:
            continue
        outcome = preparer.take(row)
        if outcome is not None:
            chunk.outcomes.append(outcome)
    for item in preparer.drain():
        events = item.incident.collect_events()
        chunk.incidents.append(
            (item.line, item.record.code, len(events), item.record.duplicate_of, item.warnings)
        )
        chunk.stored_events.extend(map(_worker_mapper.to_stored_event, events))
    return chunk


def read_chunks(path: Path, size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            chunk.append((number, raw))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


class ParallelImporter:
    """Workers prepare chunks of a JSON Lines file; this process writes them in file order.

    A chunk is inserted in one transaction. If any of its incidents already
    exists, that transaction rolls back and the chunk goes through the
    sequential importer, which compares each row with the store.
    """

    def __init__(self, app: VerifyApp, settings: WorkerSettings,
                 workers: int | None = None) -> None:
        self.app = app
        self.settings = settings
        self.actor = settings.actor
        self.workers = workers or max(1, (os.cpu_count() or 1))

    def run(self, path: Path) -> Iterator[Outcome]:
        duplicates: list[tuple[int, str, str]] = []
        in_flight: deque[Future[PreparedChunk]] = deque()
        context = get_context("spawn")
        with fewer_collections(), ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker,
            initargs=(self.settings,),
        ) as pool:
            for lines in read_chunks(path, CHUNK_LINES):
                in_flight.append(pool.submit(_prepare_chunk, lines))
                if len(in_flight) > 2 * self.workers:
                    yield from self._write(in_flight.popleft().result(), duplicates)
            while in_flight:
                yield from self._write(in_flight.popleft().result(), duplicates)
        yield from link_duplicates(self.app, duplicates, self.actor, dry_run=False)

    def _write(
        self, chunk: PreparedChunk, duplicates: list[tuple[int, str, str]]
    ) -> Iterator[Outcome]:
        try:
            if chunk.stored_events:
                self.app.recorder.insert_events(chunk.stored_events)
        except IntegrityError:
            yield from self._write_carefully(chunk, duplicates)
            return
        outcomes = list(chunk.outcomes)
        for line, code, events, original, warnings in chunk.incidents:
            outcomes.append(Outcome(line, Status.IMPORTED, code, events=events,
                                    warnings=warnings))
            if original is not None:
                duplicates.append((line, code, original))
            if events >= SNAPSHOT_INTERVAL:
                self.app.take_snapshot(
                    incident_id(code), version=events - events % SNAPSHOT_INTERVAL
                )
        yield from sorted(outcomes, key=lambda outcome: outcome.line)

    def _write_carefully(
        self, chunk: PreparedChunk, duplicates: list[tuple[int, str, str]]
    ) -> Iterator[Outcome]:
        importer = Importer(self.app, self.actor, check_first=True,
                            parties=self.settings.parties)
        intake = self.settings.intake()
        rows = (row for line, raw in chunk.lines if (row := parse_json_line(line, raw, intake)))
        yield from importer.run(rows, link=False)
        duplicates.extend(importer.duplicates)


def import_file(
    app: VerifyApp, store_env: dict[str, str], rows: Iterable[Row], path: Path, *,
    actor: str, dry_run: bool, parallel: bool, intake: Intake,
) -> Iterator[Outcome]:
    """The import path `verify import` takes: parallel for large JSON Lines files.

    ``rows`` were read by ``intake`` (the sequential path); the parallel path
    reads ``path`` in workers with the same settings. Imported grades were
    decided elsewhere and are marked so; under a team file only a reviewer
    may import (a dry run changes nothing and is open).
    """
    if not dry_run:
        app.authorize(actor, Action.IMPORT)
    if parallel and not dry_run:
        settings = WorkerSettings(env=store_env, actor=actor, today=intake.today,
                                  date_order=intake.date_order, parties=intake.parties)
        return ParallelImporter(app, settings).run(path)
    return Importer(app, actor, dry_run=dry_run, parties=intake.parties).run(rows)

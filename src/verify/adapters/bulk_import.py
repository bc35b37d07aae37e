"""Large JSON Lines files imported by worker processes while this process writes.

Workers validate rows, run the domain commands and encode the events (the
CPU-bound part) with the store's own mapper; the main process only inserts
them, a chunk per transaction, in file order. A chunk whose incidents already
exist rolls back and goes through the sequential importer
(`verify.application.importing`), which compares each row with the store.

The workers are `verify.application.workers.Workers`, as `grade --all`'s are:
chunks are answered in file order, and a worker ends with the main process
however it ends (killed outright included).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Mapper, Tracking

from verify.adapters.files import Overlong, open_regular, read_lines
from verify.adapters.interchange import IMPORT_FILE, parse_json_line
from verify.adapters.readmodel import (
    AlsoInTransaction,
    ChangedRows,
    ReadModelQueries,
    TextSeal,
    changed_rows,
)
from verify.adapters.victim_keys import CollectingSealer
from verify.application.app import VerifyApp
from verify.application.base import (
    SNAPSHOT_INTERVAL,
    RowDecoder,
    detached_mapper,
    fewer_collections,
    row_decoder,
)
from verify.application.importing import (
    Importer,
    Outcome,
    Preparer,
    Row,
    Status,
    link_duplicates,
)
from verify.application.intake import FieldWarning, Intake
from verify.application.projection import PROJECTION_NAME, IncidentRow, IncidentsProjection
from verify.application.victims import searched_names
from verify.application.workers import Workers, start_method, usable_cores
from verify.domain.chain import EventRow, originator_text
from verify.domain.dates import DateOrder
from verify.domain.duties import Action
from verify.domain.incident import Incident, incident_id
from verify.domain.parties import PartyNames

CHUNK_LINES = 1000
"""Lines a worker prepares at a time; the main process writes each chunk in one transaction."""

ROW_SECONDS = 0.0004
"""About what a row of a synthetic archive costs to import in one process (read, build,
write), measured on a two-core machine (docs/performance.md)."""

START_SECONDS = {"fork": 0.05, "spawn": 0.6}
"""About what starting the workers costs before their first chunk is back, by how they
start: a spawned worker imports the program again (measured as above)."""


def parallel_pays(rows: int, method: str | None = None, cores: int | None = None) -> bool:
    """Whether worker processes would import ``rows`` lines sooner than this process alone.

    They share the rows out over the cores, a chunk at least each, so the import
    lasts about as long as the largest share, after the workers' start. Measured
    (docs/performance.md): forked workers win from about 1,200 rows, spawned ones
    from about 3,000; with one core there is nothing to share.
    """
    cores = usable_cores() if cores is None else cores
    largest_share = min(rows, max(CHUNK_LINES, -(-rows // max(cores, 1))))
    saved = (rows - largest_share) * ROW_SECONDS
    return saved > START_SECONDS[method or start_method()]


@dataclass
class PreparedChunk:
    """What a worker sends back: settled outcomes, and the events as rows ready to insert.

    Rows (originator, version, topic, state) are what the events table holds:
    cheaper to send between processes than `StoredEvent` objects and inserted
    as they are.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    incidents: list[tuple[int, str, int, str | None, tuple[FieldWarning, ...]]] = field(
        default_factory=list)
    rows: list[EventRow] = field(default_factory=list)
    victim_keys: list[tuple[str, bytes]] = field(default_factory=list)
    """Keys the worker sealed victims' details with, stored before the events."""
    view: ChangedRows | None = None
    """The read model's rows for the chunk's incidents, made as a catch-up makes them
    from these very events (victims' names read from the details the worker sealed),
    ready to write."""


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
_worker_decoder: RowDecoder | None = None
_worker: WorkerSettings | None = None


def _start_worker(settings: WorkerSettings) -> None:
    """Each worker encodes with the store's own mapper (same transcoder, cipher, compressor)."""
    global _worker_mapper, _worker_decoder, _worker
    _worker_mapper = detached_mapper(settings.env)
    _worker_decoder = row_decoder(_worker_mapper)
    _worker = settings
    # A chunk's objects are freed by their reference counts as soon as it is sent; the
    # cyclic collector would only re-scan them while they live (a tenth of a worker's
    # time), so it runs once a chunk instead (`_prepare_chunk`), and never over what the
    # worker started with (frozen: inherited from its parent when forked).
    gc.disable()
    gc.freeze()


def _prepare_chunk(lines: list[tuple[int, bytes | Overlong]]) -> PreparedChunk:
    try:
        return _prepared(lines)
    finally:
        gc.collect(1)  # whatever cycles the chunk left (a refused row's traceback, say)


def _prepared(lines: list[tuple[int, bytes | Overlong]]) -> PreparedChunk:
    assert _worker_mapper is not None and _worker_decoder is not None and _worker is not None
    chunk = PreparedChunk()
    sealer = CollectingSealer()
    preparer = Preparer(_worker.actor, _worker.parties, sealer.seal_details)
    intake = _worker.intake()
    for line, raw in lines:
        row = parse_json_line(line, raw, intake)
        if row is None:
            continue
        outcome = preparer.take(row)
        if outcome is not None:
            chunk.outcomes.append(outcome)
    to_stored_event = _worker_mapper.to_stored_event
    decode = _worker_decoder
    rows = chunk.rows
    view = IncidentsProjection(_no_row, partial(searched_names, sealer))
    for item in preparer.drain():
        events = item.incident.collect_events()
        chunk.incidents.append(
            (item.line, item.record.code, len(events), item.record.duplicate_of, item.warnings)
        )
        for event in events:
            stored = to_stored_event(event)
            rows.append((originator_text(stored.originator_id), stored.originator_version,
                         stored.topic, stored.state))
            # Decoded again, so the rows are exactly what a catch-up makes of them.
            seen = decode(cast(UUID, stored.originator_id), stored.originator_version,
                          stored.topic, stored.state)
            if isinstance(seen, Incident.Event):
                view.apply(seen)
    chunk.victim_keys = sealer.keys
    chunk.view = changed_rows(view.rows(), view.new_codes,
                              {code: str(key) for key, code in view.by_id.items()},
                              TextSeal(_worker_mapper.cipher))
    return chunk


def _no_row(incident_id: str) -> IncidentRow | None:
    return None  # every incident a worker prepares is new


def read_chunks(path: Path, size: int) -> Iterator[list[tuple[int, bytes | Overlong]]]:
    """Numbered lines of a JSON Lines file, ``size`` at a time; a line over the cap is
    OVERLONG, for the worker to refuse."""
    chunk: list[tuple[int, bytes | Overlong]] = []
    with open_regular(path, IMPORT_FILE) as stream:
        for number, raw in enumerate(read_lines(stream), start=1):
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
        self.workers = workers or usable_cores()
        self.recorder = bulk_recorder(app.recorder)
        self.read_model = cast(ReadModelQueries, app.read_model)
        self.read_model_follows = app.events_behind() == 0
        """Whether each chunk's read-model rows go in with its events: while the read model
        has applied every event before them. Once not, the next catch-up applies the rest."""

    def run(self, path: Path) -> Iterator[Outcome]:
        duplicates: list[tuple[int, str, str]] = []
        sent: deque[list[tuple[int, bytes | Overlong]]] = deque()

        def chunks() -> Iterator[list[tuple[int, bytes | Overlong]]]:
            for lines in read_chunks(path, CHUNK_LINES):
                sent.append(lines)  # answers come back in this order
                yield lines

        with fewer_collections(), Workers(self.workers, _start_worker, (self.settings,),
                                          _prepare_chunk) as workers:
            for chunk in workers.answers(chunks()):
                yield from self._write(sent.popleft(), chunk, duplicates)
        yield from link_duplicates(self.app, duplicates, self.actor, dry_run=False)

    def _write(
        self, lines: list[tuple[int, bytes | Overlong]], chunk: PreparedChunk,
        duplicates: list[tuple[int, str, str]],
    ) -> Iterator[Outcome]:
        try:
            if chunk.rows:  # with the victims' keys and the read model's rows, in one transaction
                self.recorder.insert_rows(chunk.rows, victim_keys=chunk.victim_keys,
                                          then=self._read_model_rows(chunk.view))
        except IntegrityError:
            self.read_model_follows = False
            yield from self._write_carefully(lines, duplicates)
            return
        outcomes = chunk.outcomes
        for line, code, events, original, warnings in chunk.incidents:
            outcomes.append(Outcome(line, Status.IMPORTED, code, events=events,
                                    warnings=warnings))
            if original is not None:
                duplicates.append((line, code, original))
            if events >= SNAPSHOT_INTERVAL:
                self.app.take_snapshot(
                    incident_id(code), version=events - events % SNAPSHOT_INTERVAL
                )
        outcomes.sort(key=_line_of)
        yield from outcomes

    def _read_model_rows(self, view: ChangedRows | None) -> AlsoInTransaction | None:
        """What writes a chunk's read-model rows in its events' transaction, if they follow on
        from what the read model has applied (else nothing is written, and no longer tried)."""
        if view is None or not self.read_model_follows:
            self.read_model_follows = False
            return None

        def write(cursor: Any, numbers: Sequence[int]) -> None:
            self.read_model_follows = self.read_model.save_with(
                cursor, view, Tracking(PROJECTION_NAME, numbers[-1]), after=numbers[0] - 1)

        return write

    def _write_carefully(
        self, lines: list[tuple[int, bytes | Overlong]], duplicates: list[tuple[int, str, str]]
    ) -> Iterator[Outcome]:
        importer = Importer(self.app, self.actor, check_first=True,
                            parties=self.settings.parties)
        intake = self.settings.intake()
        rows = (row for line, raw in lines if (row := parse_json_line(line, raw, intake)))
        yield from importer.run(rows, link=False)
        duplicates.extend(importer.duplicates)


def _line_of(outcome: Outcome) -> int:
    return outcome.line


class BulkRecorder(Protocol):
    """A recorder that appends rows encoded elsewhere, chain and keys in the same
    transaction (`ChainedSQLiteRecorder`, `ChainedPostgresRecorder`)."""

    def insert_rows(self, rows: Sequence[EventRow], *,
                    victim_keys: Sequence[tuple[str, bytes]] = (),
                    then: AlsoInTransaction | None = None) -> Sequence[int]: ...


def bulk_recorder(recorder: object) -> BulkRecorder:
    """The store's recorder, for the writer; refused if it cannot append rows."""
    if not callable(getattr(recorder, "insert_rows", None)):
        raise TypeError(f"{type(recorder).__name__} cannot append rows encoded by workers")
    return cast(BulkRecorder, recorder)


def import_file(
    app: VerifyApp, store_env: dict[str, str], rows: Iterable[Row], path: Path, *,
    actor: str, dry_run: bool, parallel: bool, intake: Intake, lines: int | None = None,
) -> Iterator[Outcome]:
    """The import path `verify import` takes: parallel for large JSON Lines files.

    ``rows`` were read by ``intake`` (the sequential path); the parallel path
    reads ``path`` in workers with the same settings, no more of them than the
    file has chunks of ``lines`` (a worker started afresh costs a fraction of a
    second of a core before its first chunk). Imported grades were
    decided elsewhere and are marked so; under a team file only a reviewer
    may import (a dry run changes nothing and is open).
    """
    if not dry_run:
        app.authorize(actor, Action.IMPORT)
    if parallel and not dry_run:
        settings = WorkerSettings(env=store_env, actor=actor, today=intake.today,
                                  date_order=intake.date_order, parties=intake.parties)
        workers = usable_cores()
        if lines is not None:
            workers = max(1, min(workers, -(-lines // CHUNK_LINES)))
        return ParallelImporter(app, settings, workers).run(path)
    return Importer(app, actor, dry_run=dry_run, parties=intake.parties).run(rows)

"""Bulk import: records become the same events the commands would append, saved in batches.

Rows are streamed: at most a few batches of incidents are held in memory, and
each batch is written in one transaction. Every row gets an outcome once its
batch is stored, so "imported" always means durable.

Large JSON Lines files are prepared in worker processes (validation, domain
commands, encoding: the CPU-bound part) while this process only writes; see
`ParallelImporter`. Everything else goes through the sequential `Importer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from verify.application.app import VerifyApp
from verify.application.base import fewer_collections
from verify.application.intake import FieldWarning, Intake
from verify.application.records import (
    CommentRecord,
    FileRecord,
    IncidentRecord,
    PublicFileRecord,
    VictimRecord,
)
from verify.domain.errors import ConcurrentChange, InvalidInput, Refused, VerifyError
from verify.domain.evidence_files import FileFacts
from verify.domain.incident import Incident
from verify.domain.parties import NO_PARTIES, PartyNames
from verify.domain.values import canonical_code
from verify.domain.victims import VictimFacts

IMPORT_BATCH = 1000
"""Incidents written per transaction by the sequential importer."""

WITHDRAWN_IN_RECORD = "withdrawn in the imported record"
RETRACTED_IN_RECORD = "retracted in the imported record"
ERASED_IN_RECORD = "erased in the store the record came from"


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


# --------------------------------------------------------- record -> events


Seal = Callable[[bytes], tuple[str, str]]
"""Seals a victim's personal details under a new key: (key id, sealed details)."""


def _no_sealing(details: bytes) -> tuple[str, str]:
    raise Refused("victims cannot be recorded here: no place to keep their keys")


def _record_victim(incident: Incident, victim: VictimRecord, seal: Seal, actor: str) -> None:
    """A victim as `victim add` records it, then withdrawn or erased as the record says."""
    details = victim.details()
    try:
        facts = VictimFacts.of(details, age_group=victim.age_group, status=victim.status,
                               gender=victim.gender, sources=victim.sources,
                               protected=victim.protected)
    except ValueError as error:  # a validation error is one too
        raise InvalidInput(f"victims: {error}") from None
    if victim.erased:
        facts = facts.model_copy(update={"named": bool(victim.named)})
        victim_id = incident.record_victim(facts, lambda: ("", ""), actor)
        incident.erase_victim(victim_id, ERASED_IN_RECORD, actor)
        return
    sealed = details.model_dump_json().encode()
    victim_id = incident.record_victim(facts, lambda: seal(sealed), actor)
    if victim.withdrawn:
        incident.withdraw_victim(victim_id, WITHDRAWN_IN_RECORD, actor)


def _collect_file(incident: Incident, file: FileRecord | PublicFileRecord, actor: str) -> None:
    """A file as `evidence add` records it, by its original collector at its original time.

    Only the record moves: the bytes stay where they were until the file folder
    or bucket is copied too (`evidence verify` names them missing until then).
    """
    if not isinstance(file, FileRecord):
        # The intake keeps such an entry verbatim instead: this is a record built elsewhere.
        raise InvalidInput("files: a file listed by hash alone, as a public export lists it, "
                           "cannot be recorded (its size, collector and time are not given)")
    incident.collect_file(FileFacts.model_validate(file.model_dump()), actor)


def _add_comment(incident: Incident, comment: CommentRecord, reply_to: str | None,
                 actor: str) -> str:
    """A comment as `verify comment` adds it, keeping who wrote it and when; returns its id.
    Mentions are recorded as they were; the team is not asked."""
    try:
        return incident.comment(comment.text, actor, reply_to=reply_to,
                                mentions=list(comment.mentions),
                                written=(comment.by, comment.at.isoformat()))
    except InvalidInput as problem:
        raise InvalidInput(f"comments: {problem}") from None


def _record_casework(incident: Incident, record: IncidentRecord, actor: str) -> None:
    """Tags, the assignee, then the discussion in its order, each answer under the comment
    it answers (comments are numbered m1… in the order they are recorded)."""
    if record.tags:
        incident.tag(list(record.tags), actor)
    if record.assignee is not None:
        incident.assign(record.assignee, actor)
    recorded: dict[str, str] = {}  # each comment's id in the record, and its id here
    for comment in record.comments:
        reply_to = None
        if comment.reply_to is not None:
            if comment.reply_to not in recorded:
                raise InvalidInput(f"comments: {comment.id} answers {comment.reply_to}, which "
                                   "is no earlier comment of the row")
            reply_to = recorded[comment.reply_to]
        comment_id = _add_comment(incident, comment, reply_to, actor)
        recorded.setdefault(comment.id, comment_id)


def _dry_sealing(details: bytes) -> tuple[str, str]:
    """A dry run seals nothing and stores no key: what would be sealed is not kept."""
    return "", ""


def incident_from_record(
    record: IncidentRecord, actor: str, parties: PartyNames = NO_PARTIES,
    seal: Seal = _no_sealing,
) -> Incident:
    """Build an incident by the same commands, in the same order, an analyst would use.

    Victims' personal details are sealed by ``seal`` (a key of each victim's own).
    """
    incident = Incident.report(
        code=record.code, date=record.date, country=record.country, location=record.location,
        belligerents=list(record.belligerents), killed=record.civilians_killed,
        injured=record.civilians_injured, summary=record.summary, actor=actor,
        date_end=record.date_end, time=record.time,
    )
    incident.keep_unread(record.unread, actor)
    for source in record.sources:
        if source.withdrawn:
            incident.add_withdrawn_source(source, WITHDRAWN_IN_RECORD, actor)
        else:
            incident.add_source(source, actor)
    for file in record.files:
        _collect_file(incident, file, actor)
    for strike in record.strikes:
        incident.confirm_strike(strike, actor, parties)
    for claim in record.contested_by:
        incident.contest(claim, actor)
    for assessment in record.assessments:
        incident.assess(assessment, actor, parties)
    for finding in record.discounts:
        incident.discount(finding, actor)
    for item_id in record.retracted:
        incident.retract(item_id, RETRACTED_IN_RECORD, actor)
    for victim in record.victims:
        _record_victim(incident, victim, seal, actor)
    if record.grade is not None:
        incident.record_imported_grade(
            record.grade.grade, record.grade.rule, record.grade.rationale, actor
        )
    if record.dispute is not None:
        incident.dispute_grade(record.dispute.by, record.dispute.reason, actor)
    for note in record.notes:
        incident.add_note(note, actor)
    _record_casework(incident, record, actor)
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

    def __init__(self, actor: str, parties: PartyNames = NO_PARTIES,
                 seal: Seal = _no_sealing) -> None:
        self.actor = actor
        self.parties = parties
        self.seal = seal
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
            incident = incident_from_record(record, self.actor, self.parties, self.seal)
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
        self.preparer = Preparer(actor, parties, _dry_sealing if dry_run
                                 else app.victim_keys.seal_details)
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
    incident = app.load(record.code)
    stored = IncidentRecord.of(incident, victims=app.victim_documents(incident))
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

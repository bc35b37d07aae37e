"""The application layer: one method per command, query methods that return plain data."""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    PersistenceError,
    Tracking,
    Transcoder,
)
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import get_topic

from verify.domain.duties import Action, Team, needs_approval
from verify.domain.errors import ConcurrentChange, InvalidInput, Refused, UnknownIncident
from verify.domain.incident import Incident, incident_id, project_incident
from verify.domain.parties import NO_PARTIES, REGISTER_ID, PartyNames, PartyRegister
from verify.domain.rulebook import CURRENT_RULEBOOK, GradeDecision, Rulebook
from verify.domain.text import fold, tidy
from verify.domain.values import (
    WAITING_STATES,
    Assessment,
    CasualtyRange,
    CompetingClaim,
    Credibility,
    DiscountFinding,
    DisputeOutcome,
    Grade,
    Location,
    Reliability,
    Source,
    State,
    StrikeConfirmation,
    canonical_code,
    refuse_nul,
)
from verify.history import history_entry, public_history
from verify.projection import PROJECTION_NAME, IncidentsProjection
from verify.readmodel import STATS_KEYS, ReadModel
from verify.transcoding import OrjsonTranscoder
from verify.views import GradeAllSummary, HistoryEntry, IncidentView, Suggestion

if TYPE_CHECKING:
    from verify.records import IncidentRecord

SNAPSHOT_INTERVAL = 50
"""Every this many events an incident's state is snapshotted, so loading stays fast."""

GRADE_BATCH = 500
"""How many incidents ``grade --all`` saves in one transaction."""

MAX_LISTING = 1_000_000
"""The most incidents one listing (queue, search) returns."""

PROJECTION_BATCH = 2000
"""Events the read model applies per transaction while catching up."""

CATCH_UP_RETRIES = 20
"""How many batches a catch-up may lose to other processes before it gives up."""

Progress = Callable[[int], None]

_SEEN: ContextVar[tuple[str, int] | None] = ContextVar("verify_seen_version", default=None)
"""The incident and version a person acted on (web forms), checked when it is loaded."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often during bulk work.

    A batch allocates many small objects that all stay alive until it is
    written, so frequent collections only re-scan them; memory is still
    bounded by the batch size, and the thresholds are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_LISTING:
        raise InvalidInput(f"the limit must be 1 to {MAX_LISTING:,}, not {limit}")


class VerifyApp(Application[UUID]):
    """Incidents as event-sourced aggregates, driven by intention-revealing commands."""

    name = "verify"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Incident: SNAPSHOT_INTERVAL}
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = {Incident: project_incident}

    def __init__(self, env: Any = None, team: Team | None = None) -> None:
        super().__init__(env)
        self._read_model: Any = None
        self.team = team

    @property
    def second_person(self) -> bool:
        """Whether weighty grades and dispute resolutions need a second person."""
        return self.team is not None and self.team.separation_of_duties

    def awaits_approval(self, decision: GradeDecision) -> bool:
        """Whether a grade just decided was recorded as a proposal, not as the grade."""
        return self.second_person and needs_approval(decision.grade)

    def authorize(self, actor: str, action: Action) -> None:
        """Refuse a change the actor's role does not allow (no team file: everyone may)."""
        if self.team is not None:
            self.team.authorize(actor, action)

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    # -------------------------------------------------------------- parties

    def party_names(self) -> PartyNames:
        """The registered parties and aliases every comparison of names goes through."""
        register = self._party_register()
        return register.names() if register is not None else NO_PARTIES

    def add_party(self, name: str, aliases: list[str], actor: str) -> tuple[str, list[str]]:
        """Record a party with its aliases, or more aliases of a known party."""
        self.authorize(actor, Action.NAME_PARTIES)
        register = self._party_register() or PartyRegister.open(actor)
        party, added = register.add(name, aliases, actor)
        try:
            self.save(register)
        except IntegrityError:
            raise ConcurrentChange("the party register") from None
        return party, added

    def parties(self) -> list[dict[str, Any]]:
        """Every registered party with its aliases, in the order they were recorded."""
        register = self._party_register()
        if register is None:
            return []
        return [{"name": name, "aliases": list(aliases)}
                for name, aliases in register.parties.items()]

    def _party_register(self) -> PartyRegister | None:
        try:
            register: PartyRegister = self.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            return None
        return register

    # ------------------------------------------------------------- commands

    def report_incident(
        self,
        *,
        code: str,
        date: dt.date,
        country: str,
        location: Location,
        belligerents: list[str],
        killed: CasualtyRange,
        injured: CasualtyRange,
        summary: str | None,
        actor: str,
    ) -> str:
        """Open an incident; refuse a code that is already taken."""
        self.authorize(actor, Action.REPORT)
        canonical = canonical_code(code)
        if self.has_incident(canonical):
            raise Refused(f"incident {canonical} already exists")
        parties = self.party_names()
        incident = Incident.report(
            code=canonical,
            date=date,
            country=parties.canonical(country),
            location=location,
            belligerents=[parties.canonical(name) for name in belligerents],
            killed=killed,
            injured=injured,
            summary=summary,
            actor=actor,
        )
        self.save_incident(incident)
        return incident.code

    def add_source(self, code: str, source: Source, actor: str) -> tuple[str, bool]:
        """Attach a source; returns its id and whether it completed corroboration."""
        self.authorize(actor, Action.ADD_SOURCE)
        incident = self.load(code)
        was_corroborated = incident.corroborated_by is not None
        source_id = incident.add_source(source, actor)
        self.save_incident(incident)
        return source_id, (not was_corroborated and incident.corroborated_by is not None)

    def rerate_source(
        self,
        code: str,
        source_id: str,
        reliability: Reliability,
        credibility: Credibility,
        reason: str,
        actor: str,
    ) -> None:
        self.authorize(actor, Action.CHANGE_SOURCE)
        incident = self.load(code)
        incident.rerate_source(source_id, reliability, credibility, reason, actor)
        self.save_incident(incident)

    def withdraw_source(self, code: str, source_id: str, reason: str, actor: str) -> None:
        self.authorize(actor, Action.CHANGE_SOURCE)
        incident = self.load(code)
        incident.withdraw_source(source_id, reason, actor)
        self.save_incident(incident)

    def confirm_strike(self, code: str, strike: StrikeConfirmation, actor: str) -> None:
        self.authorize(actor, Action.RECORD_EVIDENCE)
        parties = self.party_names()
        incident = self.load(code)
        named = strike.model_copy(update={"belligerent": parties.canonical(strike.belligerent)})
        incident.confirm_strike(named, actor, parties)
        self.save_incident(incident)

    def contest(self, code: str, claim: CompetingClaim, actor: str) -> None:
        self.authorize(actor, Action.RECORD_EVIDENCE)
        parties = self.party_names()
        incident = self.load(code)
        incident.contest(
            claim.model_copy(update={"belligerent": parties.canonical(claim.belligerent)}), actor
        )
        self.save_incident(incident)

    def assess(self, code: str, assessment: Assessment, actor: str) -> None:
        self.authorize(actor, Action.RECORD_EVIDENCE)
        parties = self.party_names()
        incident = self.load(code)
        named = assessment.model_copy(
            update={"belligerent": parties.canonical(assessment.belligerent)})
        incident.assess(named, actor, parties)
        self.save_incident(incident)

    def discount(self, code: str, finding: DiscountFinding, actor: str) -> None:
        self.authorize(actor, Action.RECORD_EVIDENCE)
        if finding.party:
            finding = finding.model_copy(
                update={"party": self.party_names().canonical(finding.party)})
        incident = self.load(code)
        incident.discount(finding, actor)
        self.save_incident(incident)

    def revise_harm(
        self,
        code: str,
        killed: CasualtyRange | None,
        injured: CasualtyRange | None,
        reason: str,
        actor: str,
    ) -> None:
        self.authorize(actor, Action.RECORD_EVIDENCE)
        incident = self.load(code)
        new_killed = killed if killed is not None else CasualtyRange.model_validate(incident.killed)
        new_injured = (
            injured if injured is not None else CasualtyRange.model_validate(incident.injured)
        )
        incident.revise_harm(new_killed, new_injured, reason, actor)
        self.save_incident(incident)

    def grade(self, code: str, actor: str) -> GradeDecision:
        self.authorize(actor, Action.GRADE)
        incident = self.load(code)
        decision = incident.grade_by_rulebook(
            actor, second_person=self.second_person, parties=self.party_names())
        self.save_incident(incident)
        return decision

    def override_grade(self, code: str, grade: Grade, rationale: str, actor: str) -> GradeDecision:
        self.authorize(actor, Action.OVERRIDE)
        incident = self.load(code)
        decision = incident.override_grade(
            grade, rationale, actor, second_person=self.second_person,
            parties=self.party_names(),
        )
        self.save_incident(incident)
        return decision

    def approve(self, code: str, actor: str) -> GradeDecision:
        """A second person lets a proposed grade take effect."""
        self.authorize(actor, Action.APPROVE)
        incident = self.load(code)
        decision = incident.approve_grade(actor, self.party_names())
        self.save_incident(incident)
        return decision

    def grade_all(self, actor: str, progress: Progress | None = None) -> GradeAllSummary:
        """Grade every ungraded incident by the rulebook, many incidents per transaction.

        Under separation of duties the grades that need a second person are
        recorded as proposals and counted apart.
        """
        self.authorize(actor, Action.GRADE)
        tally: dict[str, Counter[str]] = {"graded": Counter(), "proposed": Counter()}
        outcome_of: dict[str, tuple[str, str]] = {}
        not_gradable: list[str] = []
        conflicts: list[str] = []
        batch: list[Incident] = []
        parties = self.party_names()

        def flush() -> None:
            for incident in self.save_many(batch):
                conflicts.append(incident.code)
                kind, grade = outcome_of[incident.code]
                tally[kind][grade] -= 1
            batch.clear()
            outcome_of.clear()

        with fewer_collections():
            for incident in self._incidents():
                if progress is not None:
                    progress(1)
                outcome = self._grade_into(incident, actor, not_gradable, parties)
                if outcome is not None:
                    tally[outcome[0]][outcome[1]] += 1
                    outcome_of[incident.code] = outcome
                    batch.append(incident)
                if len(batch) >= GRADE_BATCH:
                    flush()
            flush()
        counts, proposed = (
            {grade.value: tally[kind][grade.value] for grade in Grade if tally[kind][grade.value]}
            for kind in ("graded", "proposed")
        )
        return GradeAllSummary(
            graded=sum(counts.values()),
            by_grade=counts,
            proposed=proposed,
            not_gradable=not_gradable,
            conflicts=conflicts,
        )

    def _grade_into(
        self, incident: Incident, actor: str, not_gradable: list[str], parties: PartyNames
    ) -> tuple[str, str] | None:
        """Grade one incident for ``grade --all`` if it waits: ("graded" or "proposed", grade)."""
        if (incident.grading is not None or incident.proposal is not None
                or incident.duplicate_of or incident.dispute):
            return None
        try:
            decision = incident.grade_by_rulebook(
                actor, second_person=self.second_person, parties=parties)
        except Refused:
            not_gradable.append(incident.code)
            return None
        kind = "proposed" if incident.proposal is not None else "graded"
        return kind, decision.grade.value

    def dispute(self, code: str, by: str, reason: str, actor: str) -> None:
        self.authorize(actor, Action.DISPUTE)
        incident = self.load(code)
        incident.dispute_grade(by, reason, actor)
        self.save_incident(incident)

    def resolve(self, code: str, outcome: DisputeOutcome, rationale: str, actor: str) -> None:
        self.authorize(actor, Action.RESOLVE)
        incident = self.load(code)
        incident.resolve_dispute(outcome, rationale, actor, second_person=self.second_person)
        self.save_incident(incident)

    def mark_duplicate(self, code: str, of: str, actor: str) -> None:
        self.authorize(actor, Action.MARK_DUPLICATE)
        incident = self.load(code)
        original = self.load(of)
        if original.duplicate_of is not None:
            raise Refused(
                f"incident {original.code} is itself a duplicate of {original.duplicate_of}; "
                f"mark {incident.code} a duplicate of {original.duplicate_of} instead"
            )
        incident.mark_duplicate(original.code, actor)
        self.save_incident(incident)

    def add_note(self, code: str, text: str, actor: str) -> None:
        self.authorize(actor, Action.NOTE)
        incident = self.load(code)
        incident.add_note(text, actor)
        self.save_incident(incident)

    # ------------------------------------------------------------ read models

    @property
    def read_model(self) -> Any:
        """The queue, statistics and search tables, in the store beside the events."""
        if self._read_model is None:
            if isinstance(self.factory, SQLiteFactory):
                model: Any = self.factory.tracking_recorder(ReadModel)
            else:
                from verify.postgres import PostgresReadModel

                model = self.factory.tracking_recorder(PostgresReadModel)
            try:
                model.position()
            except PersistenceError:
                # A store made before its read models existed: create them now
                # (needs the right to create tables, like `verify init`). Another
                # process may be doing the same: if creating fails, use theirs.
                try:
                    model.create_table()
                except PersistenceError:
                    model.position()
            if not model.is_current():
                # Tables of an earlier version: they only ever hold what the log
                # says, so make them anew; the next catch-up fills them again.
                model.replace_tables()
            self._read_model = model
        return self._read_model

    def events_behind(self) -> int:
        """How many stored events the read model has not applied yet."""
        position: int = self.read_model.position()
        return max(0, (self.recorder.max_notification_id() or 0) - position)

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event the read model has not seen, a batch per transaction."""
        model = self.read_model
        applied = 0
        lost_races = 0
        with fewer_collections():
            while True:
                page = self.recorder.select_notifications(
                    start=model.position() + 1, limit=PROJECTION_BATCH
                )
                if not page:
                    return applied
                projection = IncidentsProjection(model.load_row)
                for notification in page:
                    event = self.mapper.to_domain_event(notification)
                    if isinstance(event, Incident.Event):
                        projection.apply(event)
                ids = {code: str(key) for key, code in projection.by_id.items()}
                try:
                    model.save(projection.changed.values(), projection.new_codes, ids,
                               Tracking(PROJECTION_NAME, page[-1].id))
                except (IntegrityError, OperationalError):
                    # Another process applied this batch first (or was applying it:
                    # PostgreSQL may report that as a deadlock): go on from there.
                    lost_races += 1
                    if lost_races > CATCH_UP_RETRIES:
                        raise
                    continue
                applied += len(page)
                if progress is not None:
                    progress(len(page))

    def rebuild_read_models(self, progress: Progress | None = None) -> int:
        """Empty the read models and apply the whole event log again."""
        self.read_model.reset()
        return self.catch_up(progress)

    def queue(
        self, *, state: State | None = None, belligerent: str | None = None,
        country: str | None = None, limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Incidents waiting for work, longest waiting first (the read model must be caught up).

        Belligerent and country compare the way people mean them, aliases included.
        """
        _check_limit(limit)
        refuse_nul([belligerent or "", country or ""])
        states = [state.value] if state else [s.value for s in WAITING_STATES]
        parties = self.party_names() if (belligerent or country) else NO_PARTIES
        rows = self.read_model.queue(
            states=states,
            belligerents=sorted(parties.spellings(belligerent)) if belligerent else None,
            countries=sorted(parties.spellings(country)) if country else None,
            limit=limit,
        )
        return [
            {"code": code, "state": row_state, "waiting_for": waiting, "since": since,
             "date": day, "location": place, "country": where}
            for code, row_state, waiting, since, day, place, where in rows
        ]

    def stats(self, *, by: str = "month", date_from: dt.date | None = None,
              date_to: dt.date | None = None) -> dict[str, Any]:
        """Counts by grade and casualty sums per group, duplicates excluded."""
        if by not in STATS_KEYS:
            raise InvalidInput(f"stats by {by!r}: choose one of {', '.join(STATS_KEYS)}")
        rows = self.read_model.stats(
            by=by, date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
        )
        grades = [grade.value for grade in Grade]
        groups: dict[str, dict[str, Any]] = {}
        names = by in ("belligerent", "country")
        parties = self.party_names() if names else NO_PARTIES
        usual = self._usual_spellings(by) if names else {}
        for label, incidents, *counts, killed_min, killed_max in rows:
            key = parties.canonical(usual.get(fold(label), label)) if names else label
            found = {
                "key": key,
                "incidents": incidents,
                "grades": {**dict(zip(grades, counts[:-1], strict=True)),
                           "ungraded": counts[-1]},
                "killed_min": killed_min,
                "killed_max": killed_max,
            }
            merged = groups.get(fold(key)) if isinstance(key, str) else None
            if merged is None:
                groups[fold(key) if isinstance(key, str) else ""] = found
                continue
            # Two spellings of one party recorded before an alias joined them.
            for total in ("incidents", "killed_min", "killed_max"):
                merged[total] += found[total]
            for grade, count in found["grades"].items():
                merged["grades"][grade] += count
        ordered = sorted(groups.values(), key=lambda group: (group["key"] or "").encode())
        return {"by": by, "groups": ordered}

    def _usual_spellings(self, by: str) -> dict[str, str]:
        """For each name by its folded form, the spelling most incidents use.

        Spellings differing only in case or invisible characters count as one
        name; the figures show it as most records write it, then without
        invisible characters, then as it was first written.
        """
        best: dict[str, tuple[int, bool, str, str]] = {}
        for key, spelling, incidents, first in self.read_model.spellings(by):
            rank = (-incidents, spelling != tidy(spelling), first, spelling)  # lowest wins
            if key not in best or rank < best[key]:
                best[key] = rank
        return {key: rank[3] for key, rank in best.items()}

    def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Incidents whose code, place or summary contains the text (any script)."""
        needle = text.strip()
        if not needle:
            raise InvalidInput("search for at least one character")
        _check_limit(limit)
        refuse_nul(needle)
        return [
            {"code": code, "date": day, "location": place, "country": country,
             "state": state, "grade": grade, "summary": summary}
            for code, day, place, country, state, grade, summary
            in self.read_model.search(needle, limit)
        ]

    # -------------------------------------------------------------- queries

    def show(
        self, code: str, *, as_of: dt.datetime | None = None, version: int | None = None
    ) -> IncidentView:
        """The incident now, at a version, or as it stood at a moment."""
        if as_of is not None and version is not None:
            raise InvalidInput("give --as-of or --version, not both")
        current = self.load(code)
        if version is not None:
            if not 1 <= version <= current.version:
                raise InvalidInput(
                    f"incident {current.code} has versions 1 to {current.version}, not {version}"
                )
            return IncidentView.of(self.load(code, version=version))
        if as_of is not None:
            found = self._version_at(current, as_of)
            return IncidentView.of(self.load(code, version=found))
        return IncidentView.of(current)

    def suggest_grade(self, code: str) -> Suggestion:
        incident = self.load(code)
        return Suggestion.of(incident.code, incident.suggest_grade(self.party_names()))

    def history(self, code: str, *, public: bool = False) -> list[HistoryEntry]:
        """Every event of an incident; ``public`` withholds protected sources and notes."""
        incident = self.load(code)
        entries = [history_entry(event) for event in self._events(incident.id)]
        return public_history(entries) if public else entries

    def incident_codes(self) -> Iterator[str]:
        """Every incident's code, in the order they were reported."""
        for incident in self._incidents():
            yield incident.code

    def incidents_for_audit(self) -> Iterator[Incident]:
        """Every incident as replayed from the log, for the application's own audit service."""
        return self._incidents()

    def explain(self, code: str, rulebook: Rulebook | None = None) -> dict[str, Any]:
        """The rulebook's grade with every piece of evidence weighed, beside the recorded one."""
        incident = self.load(code)
        book = rulebook or CURRENT_RULEBOOK
        explanation = book.explain(incident.case_file(self.party_names()))
        return {**explanation.model_dump(mode="json"), "recorded": incident.grading}

    def count_incidents(self) -> int:
        return sum(1 for _ in self._reported_ids())

    def has_incident(self, code: str) -> bool:
        return bool(self.recorder.select_events(incident_id(code), limit=1))

    def export_records(self, *, public: bool = False) -> Iterator[tuple[IncidentRecord, str]]:
        """Every incident as an interchange record with its state, in the order reported."""
        from verify.records import IncidentRecord

        for incident in self._incidents():
            yield IncidentRecord.of(incident, public=public), incident.state.value

    # ------------------------------------------------------------ internals

    @contextmanager
    def as_seen(self, code: str, version: int) -> Iterator[None]:
        """Run a command only if incident CODE still stands at the version its author saw.

        A form shows an incident at one version; if anyone changed it before
        the form came back, the command is refused (ConcurrentChange) instead
        of applying to a state its author never saw. The check happens on the
        command's own load, and the save refuses any change that slips in
        after it, so nothing is lost either way.
        """
        token = _SEEN.set((canonical_code(code), version))
        try:
            yield
        finally:
            _SEEN.reset(token)

    def load(self, code: str, version: int | None = None) -> Incident:
        """The aggregate itself, for the application layer's own bulk paths."""
        canonical = canonical_code(code)
        try:
            incident: Incident = self.repository.get(
                incident_id(canonical), version=version, projector_func=project_incident
            )
        except AggregateNotFoundError:
            raise UnknownIncident(canonical) from None
        seen = _SEEN.get()
        if version is None and seen is not None and seen[0] == canonical:
            # Checked once, by the command's own load: what it saves afterwards moves
            # the version on, and later reads in the same command must not trip on that.
            _SEEN.set(None)
            if incident.version != seen[1]:
                raise ConcurrentChange(canonical)
        return incident

    def save_many(self, incidents: list[Incident]) -> list[Incident]:
        """Save many incidents in one transaction; if that conflicts, each on its own.

        Returns the incidents refused because someone changed them meanwhile;
        every other incident is saved. A failed save has already taken the
        pending events off the aggregates, so they are kept here and put back
        before each incident is tried alone.
        """
        if not incidents:
            return []
        kept = [list(incident.pending_events) for incident in incidents]
        try:
            self.save(*incidents)
        except IntegrityError:
            refused = []
            for incident, events in zip(incidents, kept, strict=True):
                incident.pending_events[:] = events
                try:
                    self.save_incident(incident)
                except ConcurrentChange:
                    refused.append(incident)
            return refused
        return []

    def save_incident(self, incident: Incident) -> None:
        """Save one incident, turning a lost race into ConcurrentChange."""
        try:
            self.save(incident)
        except IntegrityError:
            raise ConcurrentChange(incident.code) from None

    def _events(self, originator_id: UUID) -> list[Incident.Event]:
        return [event for event in self.events.get(originator_id)
                if isinstance(event, Incident.Event)]

    def _version_at(self, incident: Incident, moment: dt.datetime) -> int:
        if moment.tzinfo is None:
            raise InvalidInput("the moment must carry a time zone")
        found = 0
        for event in self._events(incident.id):
            if event.timestamp > moment:
                break
            found = event.originator_version
        if found == 0:
            raise InvalidInput(
                f"incident {incident.code} was first reported at "
                f"{incident.created_on.isoformat()}, after {moment.isoformat()}"
            )
        return found

    def events_of(self, event_class: type[Any]) -> Iterator[Any]:
        """Every stored event of one type, in log order, read a page at a time."""
        topic = get_topic(event_class)
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=2000,
                                                         topics=[topic]):
            for notification in page:
                yield self.mapper.to_domain_event(notification)
            start = page[-1].id + 1

    def _reported_ids(self) -> Iterator[UUID]:
        for event in self.events_of(Incident.Reported):
            yield event.originator_id

    def _incidents(self) -> Iterator[Incident]:
        for originator_id in self._reported_ids():
            incident: Incident = self.repository.get(
                originator_id, projector_func=project_incident
            )
            yield incident

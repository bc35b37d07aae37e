"""The store of aggregates every use case shares: load, save, the team, events by type.

`VerifyApp` (``app.py``) is this, plus one mixin per job: casework, grading,
read models and queries. Which recorder, transcoder and read model a store
uses is named in its environment by ``verify.adapters.store``; nothing here
chooses persistence.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from operator import itemgetter
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from verify.domain.chain import RecordRow
from verify.domain.duties import Action, Team, needs_approval
from verify.domain.errors import ConcurrentChange, InvalidInput, UnknownIncident
from verify.domain.incident import Incident, incident_id, project_incident
from verify.domain.parties import NO_PARTIES, REGISTER_ID, PartyNames, PartyRegister
from verify.domain.rulebook import GradeDecision
from verify.domain.sentences import sentence
from verify.domain.values import canonical_code

SNAPSHOT_INTERVAL = 50
"""Every this many events an incident's state is snapshotted, so loading stays fast."""

LOAD_BATCH = 1000
"""Incidents loaded at once when reading them all (their snapshots and events, one query each)."""

Progress = Callable[[int], None]

LoadMany = Callable[[list[UUID]], tuple[list[RecordRow], list[RecordRow]]]
"""A recorder's `records`: the stored snapshots and events of many records, a query each,
each in record and version order."""

RowDecoder = Callable[[UUID, int, str, bytes], Any]
"""A stored row made a domain event again from its parts: record, version, topic, state
(`row_decoder`), as the mapper's `to_domain_event` makes it."""

RECORD = itemgetter(0)
VERSION = itemgetter(1)

Key = TypeVar("Key")
Row = TypeVar("Row")

TeamSource = Team | Callable[[], Team | None] | None
"""The team, or how to read it now (a server re-reads its team file when it changes)."""

FORMER_TOPICS: dict[type[Any], tuple[str, ...]] = {}
"""Topics an event class was stored under before its module moved or it was renamed.

Register the old topic with ``eventsourcing.utils.register_topic`` so old events
decode, and list it here so `events_of` still finds them (it selects by topic).
No class has moved yet: the domain modules stay where the first events were
written from."""


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


class IncidentStore(Application[UUID]):
    """Incidents as event-sourced aggregates, loaded and saved one change at a time."""

    name = "verify"
    """Names the store's tables on PostgreSQL (verify_events) and its settings' prefix."""
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Incident: SNAPSHOT_INTERVAL}
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = {Incident: project_incident}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The library names each subclass after itself; every mixin and the
        # application made of them are one store, named once.
        super().__init_subclass__(**kwargs)
        cls.name = IncidentStore.name

    def __init__(self, env: Any = None, team: TeamSource = None) -> None:
        super().__init__(env)
        self._team = team

    # ------------------------------------------------------------------ team

    @property
    def team(self) -> Team | None:
        """The team in force now (None: no team file, everyone may do everything)."""
        return self._team() if callable(self._team) else self._team

    @property
    def second_person(self) -> bool:
        """Whether weighty grades and dispute resolutions need a second person."""
        team = self.team
        return team is not None and team.separation_of_duties

    def awaits_approval(self, decision: GradeDecision) -> bool:
        """Whether a grade just decided was recorded as a proposal, not as the grade."""
        return self.second_person and needs_approval(decision.grade)

    def authorize(self, actor: str, action: Action) -> None:
        """Refuse a change the actor's role does not allow (no team file: everyone may)."""
        team = self.team
        if team is not None:
            team.authorize(actor, action)

    # --------------------------------------------------------------- parties

    def party_names(self) -> PartyNames:
        """The registered parties and aliases every comparison of names goes through."""
        register = self._party_register()
        return register.names() if register is not None else NO_PARTIES

    def _party_register(self) -> PartyRegister | None:
        try:
            register: PartyRegister = self.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            return None
        return register

    # ------------------------------------------------------------ incidents

    def load(self, code: str, version: int | None = None, *,
             expected_version: int | None = None) -> Incident:
        """An incident now, or at a version; refused if it moved past ``expected_version``.

        A person acts on an incident as they saw it (a web form names the
        version it was made from): if anyone changed it since, the command is
        refused instead of applying to a state its author never saw. The save
        refuses any change that slips in after this check, so nothing is lost
        either way.
        """
        canonical = canonical_code(code)
        try:
            incident: Incident = self.repository.get(
                incident_id(canonical), version=version, projector_func=project_incident
            )
        except AggregateNotFoundError:
            raise UnknownIncident(canonical) from None
        if expected_version is not None and incident.version != expected_version:
            raise ConcurrentChange(canonical)
        return incident

    @contextmanager
    def changing(self, code: str, actor: str, action: Action,
                 expected_version: int | None = None,
                 parties: PartyNames | None = None) -> Iterator[Incident]:
        """An incident to change: authorised, loaded, and saved when the block ends well.

        A refused command raises inside the block, so nothing is saved. When
        the change moves the rulebook's decision away from a recorded grade,
        the incident is flagged for re-grading in the same save (never re-graded);
        ``parties`` spares loading the party register again when the caller has it.
        """
        self.authorize(actor, action)
        incident = self.load(code, expected_version=expected_version)
        if parties is None:
            parties = self.party_names() if incident.grading is not None else NO_PARTIES
        before = incident.deciding(parties) if incident.grading is not None else None
        yield incident
        if incident.pending_events and before is not None:
            incident.review_regrade(before, parties, actor)
        self.save_incident(incident)

    def save_incident(self, incident: Incident) -> None:
        """Save one incident, turning a lost race into ConcurrentChange."""
        try:
            self.save(incident)
        except IntegrityError:
            raise ConcurrentChange(incident.code) from None

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

    def save_stored(self, records: Sequence[Sequence[StoredEvent]]) -> list[int]:
        """Append the new events of many incidents, already encoded, in one transaction; if
        that conflicts, each incident's on its own.

        What `save_many` does for events encoded elsewhere (by `grade --all`'s workers):
        returns the positions in ``records`` of the incidents refused because someone
        changed them meanwhile, whose events are not saved, and takes snapshots as
        `save` takes them.
        """
        if not records:
            return []
        try:
            self.recorder.insert_events([event for events in records for event in events])
        except IntegrityError:
            refused = []
            for position, events in enumerate(records):
                try:
                    self.recorder.insert_events(list(events))
                except IntegrityError:
                    refused.append(position)
                else:
                    self._snapshot_after(events)
            return refused
        for events in records:
            self._snapshot_after(events)
        return []

    def _snapshot_after(self, events: Sequence[StoredEvent]) -> None:
        """Snapshot an incident at every SNAPSHOT_INTERVAL-th version just saved, as the
        library's `save` does for the aggregates it is given."""
        if self.snapshots is None:
            return
        for event in events:
            if event.originator_version % SNAPSHOT_INTERVAL == 0:
                identity = event.originator_id
                self.take_snapshot(identity if isinstance(identity, UUID) else UUID(identity),
                                   version=event.originator_version,
                                   projector_func=project_incident)

    def has_incident(self, code: str) -> bool:
        return bool(self.recorder.select_events(incident_id(code), limit=1))

    def count_incidents(self) -> int:
        return sum(1 for _ in self._reported_ids())

    def incident_codes(self) -> Iterator[str]:
        """Every incident's code, in the order they were reported."""
        for incident in self._incidents():
            yield incident.code

    def incidents_for_audit(self) -> Iterator[Incident]:
        """Every incident as replayed from the log, for the application's own audit service."""
        return self._incidents()

    # ---------------------------------------------------------------- events

    def events_of(self, event_class: type[Any]) -> Iterator[Any]:
        """Every stored event of one type, in log order, read a page at a time."""
        topics = [get_topic(event_class), *FORMER_TOPICS.get(event_class, ())]
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=2000,
                                                         topics=topics):
            for notification in page:
                yield self.mapper.to_domain_event(notification)
            start = page[-1].id + 1

    def _events(self, originator_id: UUID) -> list[Incident.Event]:
        return [event for event in self.events.get(originator_id)
                if isinstance(event, Incident.Event)]

    def _version_at(self, incident: Incident, moment: dt.datetime) -> int:
        if moment.tzinfo is None:
            raise InvalidInput(sentence("the moment must carry a time zone"))
        found = 0
        for event in self._events(incident.id):
            if event.timestamp > moment:
                break
            found = event.originator_version
        if found == 0:
            raise InvalidInput(sentence(
                "incident %(code)s was first reported at %(reported)s, after %(moment)s",
                code=incident.code, reported=incident.created_on.isoformat(),
                moment=moment.isoformat()))
        return found

    def _reported_ids(self) -> Iterator[UUID]:
        """Every incident's id, in the order reported, read from the log's index alone."""
        topics = [get_topic(Incident.Reported), *FORMER_TOPICS.get(Incident.Reported, ())]
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=LOAD_BATCH,
                                                         topics=topics):
            for notification in page:
                identity = notification.originator_id
                yield identity if isinstance(identity, UUID) else UUID(str(identity))
            start = page[-1].id + 1

    def _incidents(self, ids: Iterator[UUID] | None = None) -> Iterator[Incident]:
        """Every incident as it is now (or those of ``ids``), in the order reported, loaded a
        batch at a time where the store can (`records`: the snapshots and events of many in
        one query each)."""
        load_many: LoadMany | None = getattr(self.recorder, "records", None)
        if ids is None:
            ids = self._reported_ids()
        if load_many is None:
            for originator_id in ids:
                incident: Incident = self.repository.get(
                    originator_id, projector_func=project_incident)
                yield incident
            return
        decode = row_decoder(self.mapper)
        while batch := list(islice(ids, LOAD_BATCH)):
            snapshots, events = load_many(batch)
            records = latest_records([identity.int for identity in batch], snapshots, events,
                                     RECORD, VERSION)
            for identity, (_, snapshot, after) in zip(batch, records, strict=True):
                yield rebuilt(identity, decode(identity, *snapshot[1:]) if snapshot else None,
                              [decode(identity, *row[1:]) for row in after])


def detached_mapper(env: dict[str, str]) -> Mapper[UUID]:
    """The store's mapper (transcoder, cipher, compressor), made by an application over no
    store: what a worker process encodes and decodes events with."""
    mapper: Mapper[UUID] = IncidentStore(
        env={**env, "PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    return mapper


def latest_records(ids: Sequence[Key], snapshots: Iterable[Row], events: Iterable[Row],
                   key: Callable[[Row], Key], version: Callable[[Row], int]
                   ) -> list[tuple[Key, Row | None, list[Row]]]:
    """Each record of ``ids``, in that order: its latest snapshot, if any, and the stored
    events after it, as the repository would read them, from the snapshots and events of
    them all (each in version order); ``key`` and ``version`` read a stored row."""
    latest: dict[Key, Row] = {}
    for stored in snapshots:  # in version order: the last is the latest
        latest[key(stored)] = stored
    after: dict[Key, list[Row]] = {}
    for stored in events:
        record = key(stored)
        snapshot = latest.get(record)
        if snapshot is None or version(stored) > version(snapshot):
            after.setdefault(record, []).append(stored)
    return [(identity, latest.get(identity), after.get(identity, [])) for identity in ids]


def rebuilt(identity: UUID, snapshot: Any | None, events: Iterable[Any]) -> Incident:
    """An incident from its latest snapshot and the events after it, decoded, as the
    repository builds it (`project_incident`)."""
    initial = snapshot.mutate(None) if snapshot is not None else None
    incident = project_incident(initial, events)
    if incident is None:
        raise UnknownIncident(identity.hex)
    return incident


def row_decoder(mapper: Mapper[UUID]) -> RowDecoder:
    """Stored rows made domain events again, as the store's mapper makes them.

    With the library's own mapper over a plain transcoder (no cipher, no
    compressor) this is its `to_domain_event` without a stored-event object and
    a topic lookup for every row: rebuilding an incident of the synthetic
    archive took 29 µs instead of 37. Any other mapper is given each row as it is.
    """
    if type(mapper) is not Mapper or mapper.cipher is not None or mapper.compressor is not None:
        def through(identity: UUID, version: int, topic: str, state: bytes) -> Any:
            return mapper.to_domain_event(StoredEvent(identity, version, topic, state))
        return through
    decode = mapper.transcoder.decode
    classes: dict[str, tuple[type[Any], int]] = {}

    def decoded(identity: UUID, version: int, topic: str, state: bytes) -> Any:
        try:
            cls, class_version = classes[topic]
        except KeyError:
            cls = resolve_topic(topic)
            class_version = classes.setdefault(topic, (cls, getattr(cls, "class_version", 1)))[1]
        try:
            event_state: dict[str, Any] = decode(state)
        except Exception:  # the mapper says what went wrong, in the library's words
            return mapper.to_domain_event(StoredEvent(identity, version, topic, state))
        event_state["originator_id"] = identity
        event_state["originator_version"] = version
        stored_version = event_state.pop("class_version", 1)
        while stored_version < class_version:
            getattr(cls, f"upcast_v{stored_version}_v{stored_version + 1}")(event_state)
            stored_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event

    return decoded

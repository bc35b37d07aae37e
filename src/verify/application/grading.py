"""Grading: by the rulebook, by a reviewer's override, approved by a second person, disputed.

Under separation of duties (a team file) the weighty grades are recorded as
proposals and take effect when a different person approves them.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain, islice
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from verify.application.base import (
    LOAD_BATCH,
    RECORD,
    VERSION,
    IncidentStore,
    LoadMany,
    Progress,
    RowDecoder,
    detached_mapper,
    fewer_collections,
    latest_records,
    rebuilt,
    row_decoder,
)
from verify.application.views import GradeAllSummary, Suggestion
from verify.application.workers import Workers, usable_cores
from verify.domain.chain import RecordRow
from verify.domain.duties import Action
from verify.domain.errors import Refused, VerifyError
from verify.domain.incident import Incident
from verify.domain.parties import PartyNames
from verify.domain.rulebook import CURRENT_RULEBOOK, GradeDecision, Rulebook
from verify.domain.sentences import sentence, sentence_of
from verify.domain.values import DisputeOutcome, Grade

GRADE_BATCH = 500
"""How many incidents ``grade --all`` saves in one transaction."""

PARALLEL_FROM = 5000
"""``grade --all`` grades fewer incidents in this process: starting workers would cost
more than they save (docs/performance.md)."""

IncidentRows = tuple[list[int], list[RecordRow], list[RecordRow]]
"""A worker's task: the incidents' ids as numbers, in order, and their stored snapshots and
events as `records` read them (plain tuples cross to a worker several times faster than
stored-event objects)."""

NewRow = tuple[int, str, bytes]
"""A new event encoded by a worker: version, topic, state."""


class Verdict(NamedTuple):
    """What ``grade --all`` made of one incident."""

    code: str
    waiting: bool
    """Graded, flagged for re-grading, and left so (no ``due``): listed, not re-graded."""
    outcome: tuple[str, str] | None
    """("graded" or "proposed", the grade) when it was graded now."""
    refused: bool
    """It waited for a grade, but the rulebook cannot grade it (no source)."""


def judged(incident: Incident, actor: str, *, second_person: bool, parties: PartyNames,
           due: bool) -> Verdict:
    """Grade one incident for ``grade --all`` if it waits, and say what became of it.

    Waiting means ungraded, or (with ``due``) flagged for re-grading; a proposal
    waiting for approval, a duplicate or an open dispute is left alone.
    """
    waiting = incident.regrade_due is not None and not due and incident.dispute is None
    waits = incident.regrade_due is not None if due else incident.grading is None
    if (not waits or incident.proposal is not None
            or incident.duplicate_of or incident.dispute):
        return Verdict(incident.code, waiting, None, False)
    try:
        decision = incident.grade_by_rulebook(actor, second_person=second_person,
                                              parties=parties)
    except Refused:
        return Verdict(incident.code, waiting, None, True)
    kind = "proposed" if incident.proposal is not None else "graded"
    return Verdict(incident.code, waiting, (kind, decision.grade.value), False)


class Grading(IncidentStore):
    """Commands that grade incidents and settle disputes about their grades."""

    def grade(self, code: str, actor: str, *, expected_version: int | None = None
              ) -> GradeDecision:
        parties = self.party_names()
        with self.changing(code, actor, Action.GRADE, expected_version,
                           parties=parties) as incident:
            decision = incident.grade_by_rulebook(
                actor, second_person=self.second_person, parties=parties)
        return decision

    def override_grade(self, code: str, grade: Grade, rationale: str, actor: str, *,
                       expected_version: int | None = None) -> GradeDecision:
        parties = self.party_names()
        with self.changing(code, actor, Action.OVERRIDE, expected_version,
                           parties=parties) as incident:
            decision = incident.override_grade(
                grade, rationale, actor, second_person=self.second_person, parties=parties)
        return decision

    def approve(self, code: str, actor: str, *, expected_version: int | None = None
                ) -> GradeDecision:
        """A second person lets a proposed grade take effect."""
        parties = self.party_names()
        with self.changing(code, actor, Action.APPROVE, expected_version,
                           parties=parties) as incident:
            decision = incident.approve_grade(actor, parties)
        return decision

    def dispute(self, code: str, by: str, reason: str, actor: str, *,
                expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.DISPUTE, expected_version) as incident:
            incident.dispute_grade(by, reason, actor)

    def resolve(self, code: str, outcome: DisputeOutcome, rationale: str, actor: str, *,
                expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.RESOLVE, expected_version) as incident:
            incident.resolve_dispute(outcome, rationale, actor,
                                     second_person=self.second_person)

    def refusals_now(self, incident: Incident, actor: str) -> dict[str, str]:
        """Why each change that depends on the incident's state would be refused now, for
        ``actor``: each is tried on a copy of the incident, never saved, so the rules stay
        the domain's own. Keys are the web's action names; absent ones would be taken."""
        parties = self.party_names()
        second = self.second_person
        proposed = (incident.proposal or {}).get("grade")
        other_grade = Grade.WEAK if proposed != Grade.WEAK.value else Grade.FAIR
        trials: dict[str, Any] = {
            "grade": lambda i: i.grade_by_rulebook(actor, second_person=second,
                                                   parties=parties),
            "override": lambda i: i.override_grade(other_grade, "-", actor,
                                                   second_person=second, parties=parties),
            "approve": lambda i: i.approve_grade(actor, parties),
            "dispute": lambda i: i.dispute_grade(actor, "-", actor),
            "resolve": lambda i: i.resolve_dispute(DisputeOutcome.DISMISSED, "-", actor,
                                                   second_person=second),
        }
        refused: dict[str, str] = {}
        for name, trial in trials.items():
            try:
                trial(copy.deepcopy(incident))
            except VerifyError as problem:
                refused[name] = sentence_of(problem)
        if not any(not source.withdrawn for source in incident.source_list()):
            refused["rerate"] = refused["withdraw"] = sentence(
                "incident %(code)s has no source that is not withdrawn", code=incident.code)
            refused["victim"] = sentence(
                "a victim cites the sources that name them, and incident %(code)s has none that "
                "is not withdrawn", code=incident.code)
        return refused

    def suggest_grade(self, code: str) -> Suggestion:
        incident = self.load(code)
        return Suggestion.of(incident.code, incident.suggest_grade(self.party_names()))

    def explain(self, code: str, rulebook: Rulebook | None = None) -> dict[str, Any]:
        """The rulebook's grade with every piece of evidence weighed, beside the recorded one."""
        incident = self.load(code)
        book = rulebook or CURRENT_RULEBOOK
        explanation = book.explain(incident.case_file(self.party_names()))
        return {**explanation.model_dump(mode="json"), "recorded": incident.grading}

    def grade_all(self, actor: str, progress: Progress | None = None, *, due: bool = False
                  ) -> GradeAllSummary:
        """Grade every ungraded incident by the rulebook, many incidents per transaction.

        With ``due``, re-grade instead the graded incidents whose evidence
        changed so that the rulebook now decides otherwise (``regrade_due``);
        without it those are only listed. Under separation of duties the
        grades that need a second person are recorded as proposals and
        counted apart. A large store is graded by worker processes, one per
        core, while this process reads the incidents and saves the grades in
        the same transactions and order.
        """
        self.authorize(actor, Action.GRADE)
        codes: dict[str, dict[str, list[str]]] = {"graded": {}, "proposed": {}}
        not_gradable: list[str] = []
        conflicts: list[str] = []
        waiting: list[str] = []
        batch: list[tuple[Verdict, list[StoredEvent]]] = []

        def flush() -> None:
            for position in self.save_stored([events for _, events in batch]):
                verdict = batch[position][0]
                assert verdict.outcome is not None
                conflicts.append(verdict.code)
                kind, grade = verdict.outcome
                codes[kind][grade].remove(verdict.code)
            batch.clear()

        with fewer_collections():
            for verdict, events in self._verdicts(actor, self.party_names(), due, progress):
                if verdict.waiting:
                    waiting.append(verdict.code)
                if verdict.refused:
                    not_gradable.append(verdict.code)
                if verdict.outcome is not None:
                    codes[verdict.outcome[0]].setdefault(verdict.outcome[1], []).append(
                        verdict.code)
                    batch.append((verdict, events))
                if len(batch) >= GRADE_BATCH:
                    flush()
            flush()
        graded, proposed = (
            {grade.value: codes[kind][grade.value] for grade in Grade
             if codes[kind].get(grade.value)}
            for kind in ("graded", "proposed")
        )
        return GradeAllSummary(
            graded=sum(len(found) for found in graded.values()),
            by_grade={grade: len(found) for grade, found in graded.items()},
            incidents_by_grade=graded,
            proposed={grade: len(found) for grade, found in proposed.items()},
            proposed_incidents=proposed,
            not_gradable=not_gradable,
            conflicts=conflicts,
            regrade_due=waiting,
        )

    def _verdicts(self, actor: str, parties: PartyNames, due: bool, progress: Progress | None
                  ) -> Iterator[tuple[Verdict, list[StoredEvent]]]:
        """Each incident's verdict, in the order reported, with the new events to save."""
        load_many: LoadMany | None = getattr(self.recorder, "records", None)
        ids = self._reported_ids()
        first = list(islice(ids, PARALLEL_FROM))
        every = chain(first, ids)
        cores = usable_cores()
        if load_many is not None and len(first) == PARALLEL_FROM and cores > 1:
            yield from self._verdicts_of_workers(
                every, load_many, cores, (actor, self.second_person, parties, due), progress)
            return
        to_stored = self.mapper.to_stored_event
        for incident in self._incidents(every):
            if progress is not None:
                progress(1)
            verdict = judged(incident, actor, second_person=self.second_person,
                             parties=parties, due=due)
            events = ([to_stored(event) for event in incident.collect_events()]
                      if verdict.outcome is not None else [])
            yield verdict, events

    def _verdicts_of_workers(
        self, ids: Iterator[UUID], load_many: LoadMany, count: int,
        settings: tuple[str, bool, PartyNames, bool], progress: Progress | None,
    ) -> Iterator[tuple[Verdict, list[StoredEvent]]]:
        """`_verdicts` from ``count`` worker processes: this process reads the incidents'
        stored events, a thousand incidents a task, and the workers decode, grade and encode."""
        sent: deque[list[UUID]] = deque()

        def tasks() -> Iterator[IncidentRows]:
            while batch := list(islice(ids, LOAD_BATCH)):
                sent.append(batch)
                snapshots, events = load_many(batch)
                yield [identity.int for identity in batch], snapshots, events

        with Workers(count, _start_grader, (dict(self.env), *settings), _grade) as workers:
            for answers in workers.answers(tasks()):
                batch = sent.popleft()
                if progress is not None:
                    progress(len(answers))
                for identity, (verdict, rows) in zip(batch, answers, strict=True):
                    yield verdict, [StoredEvent(originator_id=identity, originator_version=version,
                                                topic=topic, state=state)
                                    for version, topic, state in rows]


class _Grader(NamedTuple):
    """What a worker grades with: the store's own mapper and `grade --all`'s settings."""

    decode: RowDecoder
    to_stored: Callable[[Any], StoredEvent]
    actor: str
    second_person: bool
    parties: PartyNames
    due: bool


_grader: _Grader | None = None


def _start_grader(env: dict[str, str], actor: str, second_person: bool, parties: PartyNames,
                  due: bool) -> None:
    """A worker decodes and encodes with the store's own mapper (transcoder, cipher,
    compressor), made by an application over no store."""
    global _grader
    mapper = detached_mapper(env)
    _grader = _Grader(row_decoder(mapper), mapper.to_stored_event, actor, second_person,
                      parties, due)


def _grade(task: IncidentRows) -> list[tuple[Verdict, list[NewRow]]]:
    """A worker's task: rebuild each incident, grade it if it waits, encode its new events."""
    grader = _grader
    assert grader is not None
    decode = grader.decode
    ids, snapshots, events = task
    answers: list[tuple[Verdict, list[NewRow]]] = []
    with fewer_collections():
        for key, snapshot, rows in latest_records(ids, snapshots, events, RECORD, VERSION):
            identity = UUID(int=key)
            incident = rebuilt(
                identity, decode(identity, *snapshot[1:]) if snapshot is not None else None,
                [decode(identity, version, topic, state) for _, version, topic, state in rows])
            verdict = judged(incident, grader.actor, second_person=grader.second_person,
                             parties=grader.parties, due=grader.due)
            new: list[NewRow] = []
            if verdict.outcome is not None:
                new = [(stored.originator_version, stored.topic, stored.state)
                       for stored in map(grader.to_stored, incident.collect_events())]
            answers.append((verdict, new))
    return answers


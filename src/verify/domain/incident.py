"""The Incident aggregate: one allegation of civilian harm and every decision about it.

Each command method checks its rule first and only then triggers an event,
so a refused command leaves no pending event behind. Event ``apply`` bodies
are tiny and run again on every replay. Aggregate state is kept as plain
JSON data (what the events carry); typed views are built on demand.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from verify.domain.casework import MAX_COMMENT, comment_id, tag_of
from verify.domain.duties import needs_approval
from verify.domain.errors import InvalidInput, Refused
from verify.domain.evidence_files import FileFacts
from verify.domain.parties import NO_PARTIES, PartyNames
from verify.domain.rulebook import (
    CURRENT_RULEBOOK,
    REASONS,
    CaseFile,
    Evidence,
    GradeDecision,
)
from verify.domain.sentences import Listed, sentence, sentence_of, sentence_template
from verify.domain.text import fold, tidy
from verify.domain.values import (
    MAX_NAME,
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
    belligerent_name,
    canonical_code,
    canonical_source_id,
    check_web_address,
    grade_word,
    refuse_nul,
    workflow_state,
)
from verify.domain.victims import VictimFacts

INCIDENT_NAMESPACE = uuid.UUID("6f1f3b9e-2f55-4c55-9a8f-8d1c3c0f7a11")

JSON = dict[str, Any]


@functools.lru_cache(maxsize=4096)
def incident_id(code: str) -> uuid.UUID:
    """The aggregate id of an incident, derived from its canonical code (no lookup table)."""
    return uuid.uuid5(INCIDENT_NAMESPACE, canonical_code(code))


def _dump(value: Any) -> JSON:
    dumped: JSON = value.model_dump(mode="json")
    return dumped


_DECISION = ("grade", "rule", "rulebook", "evidence", "reasons", "rationale", "override")


def _decided(event: Any, *also: str) -> JSON:
    """A grade (or a proposed one) as the aggregate keeps it: what, by which rule, who, when."""
    kept = {name: getattr(event, name) for name in (*_DECISION, *also, "rulebook_grade")}
    kept["reasons"] = list(kept["reasons"])
    return {**kept, "by": event.actor, "at": event.timestamp.isoformat()}


def _numbered(source: Source, source_id: str) -> JSON:
    """A source as a SourceAdded event carries it: numbered, and not withdrawn.

    The id comes first, whether or not ``source`` dumps one (an archive's source does not).
    """
    data = {"id": source_id, **_dump(source)}
    data["id"] = source_id
    data["withdrawn"] = False
    return data


EVIDENCE_LISTS = {"k": "strikes", "c": "claims", "a": "assessments", "f": "discounts"}
"""Evidence that can be retracted, by the letter of its id: strikes k1…, competing claims c1…,
assessments a1…, findings f1…. Ids are positions in their list: nothing is ever removed."""

RETRACTABLE_ID = re.compile(f"[{''.join(EVIDENCE_LISTS)}][1-9][0-9]{{0,5}}")
"""The id of a retractable piece of evidence, as `show` lists it (k1, c2, a1, f3)."""

EVIDENCE_NOUNS = {"k": sentence_template("strike"), "c": sentence_template("competing claim"),
                  "a": sentence_template("assessment"), "f": sentence_template("finding"),
                  "s": sentence_template("source"), "n": sentence_template("note"),
                  "v": sentence_template("victim"), "e": sentence_template("evidence file")}
"""What each letter of an id names, as a sentence says it (``sentence(EVIDENCE_NOUNS["k"])``)."""

AMENDABLE = ("date", "date_end", "time", "location", "country", "belligerents", "summary")
"""The incident's own facts an amendment may change, in the order a history line names them."""


@dataclasses.dataclass(frozen=True)
class KnownOn:
    """A day, and the day each piece of evidence was recorded: what was known by that day.

    Evidence counts from its own date (a source's publication, a statement's
    date, a strike report's date), else from the day it was recorded.
    """

    day: dt.date
    recorded: Mapping[str, str]

    def since(self, item_id: str, own_day: Any = None) -> str | None:
        if own_day:
            return str(own_day)
        return self.recorded.get(item_id)

    def knows(self, item_id: str, own_day: Any = None) -> bool:
        since = self.since(item_id, own_day)
        return since is None or since <= self.day.isoformat()


def _copied(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


class Incident(Aggregate):
    """An allegation that a strike killed or injured civilians."""

    class Event(Aggregate.Event):
        """The base of every Incident event. Declared here so the events below
        subclass it directly: the library would otherwise define each one twice."""

    @staticmethod
    def create_id(code: str) -> uuid.UUID:
        return incident_id(code)

    # ----------------------------------------------------------------- events

    class Reported(Aggregate.Created, Event):
        """Version 2 adds ``date_end`` (an incident over several days) and ``time`` (HH:MM)."""

        class_version = 2

        code: str
        date: str
        date_end: str | None
        time: str | None
        country: str
        location: JSON
        belligerents: list[str]
        killed: JSON
        injured: JSON
        summary: str | None
        actor: str

        @staticmethod
        def upcast_v1_v2(state: JSON) -> None:
            state["date_end"] = None
            state["time"] = None

        def apply(self, aggregate: Incident) -> None:
            aggregate.code = self.code
            aggregate.date = self.date
            # Kept off the instance while unknown (the class holds None), so the state
            # replayed from a version 1 event equals a snapshot taken before version 2.
            if self.date_end is not None:
                aggregate.date_end = self.date_end
            if self.time is not None:
                aggregate.time = self.time
            aggregate.country = self.country
            aggregate.location = dict(self.location)
            aggregate.belligerents = list(self.belligerents)
            aggregate.killed = dict(self.killed)
            aggregate.injured = dict(self.injured)
            aggregate.summary = self.summary
            aggregate.reported_by = self.actor
            aggregate.sources = []
            aggregate.strikes = []
            aggregate.claims = []
            aggregate.assessments = []
            aggregate.discounts = []
            aggregate.notes = []
            aggregate.corroborated_by = None
            aggregate.grading = None
            aggregate.dispute = None
            aggregate.duplicate_of = None

    class SourceAdded(Event):
        source: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.sources.append(dict(self.source))

    class SourceRerated(Event):
        source_id: str
        reliability: str
        credibility: int
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            source = aggregate.source_record(self.source_id)
            source["reliability"] = self.reliability
            source["credibility"] = self.credibility

    class SourceWithdrawn(Event):
        source_id: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.source_record(self.source_id)["withdrawn"] = True

    class Corroborated(Event):
        source_ids: list[str]
        rulebook: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.corroborated_by = list(self.source_ids)

    class StrikeConfirmed(Event):
        """Version 2 adds ``placed``: how a matched strike's incident and report were placed
        (values.MatchPlacing); None for a strike recorded by hand, and before version 2."""

        class_version = 2

        strike: JSON
        placed: JSON | None
        actor: str

        @staticmethod
        def upcast_v1_v2(state: JSON) -> None:
            state["placed"] = None

        def apply(self, aggregate: Incident) -> None:
            # Kept out of the strike while unknown, so a strike replayed from a version 1
            # event equals one in a snapshot taken before version 2.
            if self.placed is None:
                aggregate.strikes.append(dict(self.strike))
            else:
                aggregate.strikes.append({**self.strike, "placed": copy.deepcopy(self.placed)})

    class AttributionContested(Event):
        claim: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.claims.append(dict(self.claim))

    class AssessmentRecorded(Event):
        assessment: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.assessments.append(dict(self.assessment))

    class DiscountFound(Event):
        finding: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.discounts.append(dict(self.finding))

    class HarmEstimateRevised(Event):
        killed: JSON
        injured: JSON
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.killed = dict(self.killed)
            aggregate.injured = dict(self.injured)

    class Graded(Event):
        grade: str
        rule: str | None
        rulebook: str
        evidence: JSON
        reasons: list[str]
        rationale: str | None
        override: bool
        imported: bool
        rulebook_grade: str | None
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.grading = _decided(self, "imported")
            aggregate.proposal = None
            if aggregate.regrade_due is not None:  # see Reported.apply: state as before
                aggregate.regrade_due = None

    class GradeProposed(Event):
        """A grade that takes effect only once a second person approves it."""

        grade: str
        rule: str | None
        rulebook: str
        evidence: JSON
        reasons: list[str]
        rationale: str | None
        override: bool
        rulebook_grade: str | None
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.proposal = _decided(self)

    class GradeApproved(Event):
        """A second person's approval; follows the Graded event it let take effect."""

        grade: str
        proposed_by: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            if aggregate.grading is not None:
                aggregate.grading["approved_by"] = self.actor

    class GradeDisputed(Event):
        by: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.dispute = {
                "by": self.by,
                "reason": self.reason,
                "opened_by": self.actor,
                "since": self.timestamp.isoformat(),
            }

    class DisputeResolved(Event):
        outcome: str
        rationale: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.dispute = None
            if self.outcome == DisputeOutcome.UPHELD.value:
                aggregate.grading = None
                if aggregate.regrade_due is not None:
                    aggregate.regrade_due = None

    class MarkedDuplicate(Event):
        of: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.duplicate_of = self.of

    class DuplicateUndone(Event):
        """A duplicate mark taken back: the incident returns to its own queue."""

        of: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.duplicate_of = None

    class Amended(Event):
        """Facts of the incident corrected: each changed field's old and new value, and why."""

        changes: dict[str, JSON]
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            for field, change in self.changes.items():
                setattr(aggregate, field, _copied(change["new"]))

    class Retracted(Event):
        """A strike, competing claim, assessment or finding that no longer counts; kept."""

        item_id: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.retractions = {
                **(aggregate.retractions or {}),
                self.item_id: {"reason": self.reason, "by": self.actor,
                               "at": self.timestamp.isoformat()},
            }

    class RegradeDue(Event):
        """The evidence changed under the recorded grade: the rulebook now decides otherwise
        (``due``), or agrees with the recorded grade again (not ``due``). Never a re-grade."""

        due: bool
        grade: str
        rule: str
        rulebook: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.regrade_due = {
                "grade": self.grade, "rule": self.rule, "rulebook": self.rulebook,
                "since": self.timestamp.isoformat(),
            } if self.due else None

    class VictimRecorded(Event):
        """A person harmed, citing the sources that name them; personal details sealed."""

        victim: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            if aggregate.victims is None:
                aggregate.victims = []
            aggregate.victims.append(dict(self.victim))

    class VictimAmended(Event):
        """Open facts changed (old and new value each), and which personal details changed
        (named only: their values are in ``sealed``, readable while the key exists)."""

        victim_id: str
        changes: dict[str, JSON]
        details: list[str]
        sealed: str | None
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            victim = aggregate.victim_record(self.victim_id)
            for field, change in self.changes.items():
                victim[field] = _copied(change["new"])
            if self.sealed is not None:
                victim["sealed"] = self.sealed

    class VictimWithdrawn(Event):
        victim_id: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.victim_record(self.victim_id)["withdrawn"] = True

    class VictimErased(Event):
        """The victim's key was destroyed: the personal details can no longer be read."""

        victim_id: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            victim = aggregate.victim_record(self.victim_id)
            victim["erased"] = True
            victim["sealed"] = None

    class FileCollected(Event):
        """An evidence file fixed by its SHA-256: who collected it, when, from where."""

        file: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            if aggregate.files is None:
                aggregate.files = []
            aggregate.files.append(dict(self.file))

    class FileCopied(Event):
        """A copy of an evidence file taken out of the store: by whom, when, why."""

        file_id: str
        sha256: str
        reason: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            return None

    class NoteAdded(Event):
        text: str
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.notes.append(
                {"text": self.text, "by": self.actor, "at": self.timestamp.isoformat()}
            )

    class Assigned(Event):
        """The incident handed to a person to work on, or (``assignee`` None) taken back."""

        assignee: str | None
        previous: str | None
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.assignee = self.assignee

    class Commented(Event):
        """A comment in the incident's discussion (internal): its id, text, the comment it
        answers and the members it mentions."""

        comment: JSON
        actor: str

        def apply(self, aggregate: Incident) -> None:
            # A comment taken from an archive reads as its author wrote it, then.
            aggregate.comments = [*(aggregate.comments or []), {
                **self.comment, "by": self.comment.get("written_by") or self.actor,
                "at": self.comment.get("written_at") or self.timestamp.isoformat()}]

    class Tagged(Event):
        """Tags put on the incident, or taken off."""

        added: list[str]
        removed: list[str]
        actor: str

        def apply(self, aggregate: Incident) -> None:
            kept = [tag for tag in aggregate.tags or [] if tag not in self.removed]
            aggregate.tags = sorted({*kept, *self.added})

    class UnreadValuesKept(Event):
        """Values an archive gave that could not be read, kept verbatim by field path."""

        values: dict[str, str]
        actor: str

        def apply(self, aggregate: Incident) -> None:
            aggregate.unread = {**(aggregate.unread or {}), **self.values}

    # Attributes set by Reported.apply; declared for readers and type checkers only,
    # because annotations in the class body would turn them into __init__ fields.
    if TYPE_CHECKING:
        code: str
        date: str
        country: str
        location: JSON
        belligerents: list[str]
        killed: JSON
        injured: JSON
        summary: str | None
        reported_by: str
        sources: list[JSON]
        strikes: list[JSON]
        claims: list[JSON]
        assessments: list[JSON]
        discounts: list[JSON]
        notes: list[JSON]
        corroborated_by: list[str] | None
        grading: JSON | None
        dispute: JSON | None
        duplicate_of: str | None
        proposal: JSON | None
        date_end: str | None
        time: str | None
        retractions: JSON | None
        regrade_due: JSON | None
        victims: list[JSON] | None
        files: list[JSON] | None
        assignee: str | None
        comments: list[JSON] | None
        tags: list[str] | None

    # A grade awaiting a second person's approval (separation of duties), if any.
    # A class-level default, so incidents snapshotted before proposals existed load.
    proposal = None

    # Values kept verbatim from an archive (UnreadValuesKept), if any; a class-level
    # default for the same reason.
    unread: JSON | None = None

    # Facts an incident had no place for before version 2 of Reported: the last day of
    # an incident that spans days, and the hour when it is known ("HH:MM"). Retracted
    # evidence by id (reason, by, at); the rulebook's grade when it differs from the
    # recorded one after the evidence changed. Unannotated class-level defaults, not
    # fields: an instance holds them only once an event sets them, so an incident
    # replayed from its events equals a snapshot taken before they existed (the audit
    # compares the two) and such snapshots load.
    date_end = None
    time = None
    retractions = None
    regrade_due = None
    victims = None
    files = None
    # Casework (SPEC 13): who works on it, its discussion, its tags.
    assignee = None
    comments = None
    tags = None

    # --------------------------------------------------------------- commands

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Every event after the first: refuse text no store can keep (see refuse_nul)."""
        refuse_nul(kwargs)
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def report(
        cls,
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
        date_end: dt.date | None = None,
        time: str | None = None,
    ) -> Incident:
        """Open a new incident."""
        canonical = canonical_code(code)
        refuse_nul([country, summary or "", *belligerents, actor, _dump(location)])
        # No belligerent is allowed: the party is then unknown, and never graded fair.
        names = _distinct_names(belligerents)
        if date_end is not None and date_end < date:
            raise InvalidInput(_days_out_of_order(date.isoformat(), date_end.isoformat()))
        return cls._create(
            cls.Reported,
            id=incident_id(canonical),
            code=canonical,
            date=date.isoformat(),
            date_end=date_end.isoformat() if date_end is not None else None,
            time=time,
            country=_checked_country(country),
            location=_dump(location),
            belligerents=names,
            killed=_dump(killed),
            injured=_dump(injured),
            summary=summary.strip() if summary and summary.strip() else None,
            actor=actor,
        )

    def add_source(self, source: Source, actor: str) -> str:
        """Attach a source; records corroboration the moment the rule is first met."""
        self._refuse_if_duplicate()
        check_web_address(source.url)
        for existing in self.sources:
            if existing["url"] == source.url and not existing["withdrawn"]:
                raise Refused(sentence(
                    "incident %(code)s already has this URL as source %(source)s",
                    code=self.code, source=existing["id"]))
        source_id = self._next_source_id()
        self.trigger_event(self.SourceAdded, source=_numbered(source, source_id), actor=actor)
        self._corroborate_if_due(actor)
        return source_id

    def add_withdrawn_source(self, source: Source, reason: str, actor: str) -> str:
        """Attach a source that an archive already records as withdrawn (it never corroborates)."""
        self._refuse_if_duplicate()
        check_web_address(source.url)
        source_id = self._next_source_id()
        self.trigger_event(self.SourceAdded, source=_numbered(source, source_id), actor=actor)
        self.trigger_event(self.SourceWithdrawn, source_id=source_id, reason=reason, actor=actor)
        return source_id

    def rerate_source(
        self,
        source_id: str,
        reliability: Reliability,
        credibility: Credibility,
        reason: str,
        actor: str,
    ) -> None:
        self._refuse_if_duplicate()
        source = self.source(source_id)
        source_id = source.id  # as recorded, whatever case it was typed in
        if source.withdrawn:
            raise Refused(sentence("source %(source)s of incident %(code)s has been withdrawn",
                                   source=source_id, code=self.code))
        if source.reliability is reliability and source.credibility is credibility:
            raise Refused(sentence("source %(source)s is already rated %(rating)s",
                                   source=source_id, rating=str(source.rating)))
        self.trigger_event(
            self.SourceRerated,
            source_id=source_id,
            reliability=reliability.value,
            credibility=int(credibility),
            reason=reason,
            actor=actor,
        )
        self._corroborate_if_due(actor)

    def withdraw_source(self, source_id: str, reason: str, actor: str) -> None:
        self._refuse_if_duplicate()
        source_id = self.source_record(source_id)["id"]  # as recorded, in whatever case typed
        if self.source(source_id).withdrawn:
            raise Refused(sentence("source %(source)s of incident %(code)s is already withdrawn",
                                   source=source_id, code=self.code))
        self.trigger_event(self.SourceWithdrawn, source_id=source_id, reason=reason, actor=actor)

    def confirm_strike(
        self, strike: StrikeConfirmation, actor: str, parties: PartyNames = NO_PARTIES
    ) -> None:
        self._refuse_if_duplicate()
        self._require_party(strike.belligerent, sentence("record a strike by"), parties)
        recorded = _dump(strike)
        placed = recorded.pop("placed", None)
        self.trigger_event(self.StrikeConfirmed, strike=recorded, placed=placed, actor=actor)

    def contest(self, claim: CompetingClaim, actor: str) -> None:
        """Record a competing claim as it stands, even one naming an alleged party.

        That is how "contested between the alleged parties" arrives from
        archives; the rulebook counts the distinct parties named.
        """
        self._refuse_if_duplicate()
        self.trigger_event(self.AttributionContested, claim=_dump(claim), actor=actor)

    def assess(
        self, assessment: Assessment, actor: str, parties: PartyNames = NO_PARTIES
    ) -> None:
        self._refuse_if_duplicate()
        self._require_party(assessment.belligerent, sentence("record an assessment by"),
                            parties)
        self.trigger_event(self.AssessmentRecorded, assessment=_dump(assessment), actor=actor)

    def keep_unread(self, values: dict[str, str], actor: str) -> None:
        """Keep values an archive gave that could not be read, verbatim, in the history."""
        if values:
            self.trigger_event(self.UnreadValuesKept, values=dict(values), actor=actor)

    def discount(self, finding: DiscountFinding, actor: str) -> None:
        self._refuse_if_duplicate()
        finding.check()
        self.trigger_event(self.DiscountFound, finding=_dump(finding), actor=actor)

    def revise_harm(
        self, killed: CasualtyRange, injured: CasualtyRange, reason: str, actor: str
    ) -> None:
        self._refuse_if_duplicate()
        if _dump(killed) == self.killed and _dump(injured) == self.injured:
            raise Refused(sentence("incident %(code)s already has these casualty figures",
                                   code=self.code))
        self.trigger_event(
            self.HarmEstimateRevised,
            killed=_dump(killed),
            injured=_dump(injured),
            reason=reason,
            actor=actor,
        )

    def suggest_grade(self, parties: PartyNames = NO_PARTIES) -> GradeDecision:
        """What the rulebook in force would grade this incident now."""
        return CURRENT_RULEBOOK.decide(self.case_file(parties))

    def grade_by_rulebook(
        self, actor: str, *, second_person: bool = False, parties: PartyNames = NO_PARTIES
    ) -> GradeDecision:
        """Grade by the rulebook in force; under separation of duties some grades are proposed.

        With ``second_person`` a grade that needs approval is recorded as a
        proposal (see ``approve_grade``); other grades take effect at once.
        """
        self._refuse_grading()
        decision = self.suggest_grade(parties)
        current = self.grading
        if (
            current is not None
            and current["grade"] == decision.grade.value
            and current["rule"] == decision.rule
            and not current["override"]
        ):
            raise Refused(sentence(
                "incident %(code)s is already graded %(grade)s by rule %(rule)s; nothing changed",
                code=self.code, grade=decision.grade, rule=decision.rule))
        self._refuse_same_proposal(decision.grade, decision.rule)
        self._record_grade(decision, actor=actor, propose=second_person)
        return decision

    def override_grade(
        self, grade: Grade, rationale: str, actor: str, *, second_person: bool = False,
        parties: PartyNames = NO_PARTIES,
    ) -> GradeDecision:
        """Record a reviewer's grade that departs from (or confirms) the rulebook's."""
        self._refuse_grading()
        if not rationale.strip():
            raise InvalidInput(sentence("an override needs a written rationale"))
        suggested = self.suggest_grade(parties)
        decision = GradeDecision(
            grade=grade,
            rule="OVERRIDE",
            rulebook=suggested.rulebook,
            evidence=suggested.evidence,
            reasons=(sentence(REASONS["override"], grade=suggested.grade,
                              rule=suggested.rule),),
        )
        self._refuse_same_proposal(grade, "OVERRIDE")
        self._record_grade(
            decision, actor=actor, rationale=rationale.strip(), override=True,
            rulebook_grade=suggested.grade, propose=second_person,
        )
        return decision

    def approve_grade(self, actor: str, parties: PartyNames = NO_PARTIES) -> GradeDecision:
        """Let a proposed grade take effect: a different person approves it.

        A proposal made by the rulebook is approved only while the rulebook
        still grades the evidence the same way; otherwise it must be proposed
        again, so nobody approves a grade the record no longer supports.
        """
        self._refuse_grading()
        proposal = self.proposal
        if proposal is None:
            raise Refused(sentence("incident %(code)s has no proposed grade to approve",
                                   code=self.code))
        if proposal["by"] == actor:
            raise Refused(sentence("%(name)s proposed the grade of incident %(code)s; a "
                                   "different person must approve it", name=actor, code=self.code))
        if not proposal["override"]:
            now = self.suggest_grade(parties)
            if (now.grade.value, now.rule) != (proposal["grade"], proposal["rule"]):
                raise Refused(sentence(
                    "the record of incident %(code)s changed after %(proposed)s was proposed: "
                    "the rulebook now grades it %(grade)s by rule %(rule)s; grade it again to "
                    "propose that", code=self.code, proposed=grade_word(proposal["grade"]),
                    grade=now.grade, rule=now.rule))
        decided = {key: value for key, value in proposal.items() if key not in ("by", "at")}
        self.trigger_event(self.Graded, imported=False, actor=proposal["by"], **decided)
        self.trigger_event(
            self.GradeApproved, grade=proposal["grade"], proposed_by=proposal["by"], actor=actor
        )
        return GradeDecision(
            grade=Grade(proposal["grade"]),
            rule=proposal["rule"] or "",
            rulebook=proposal["rulebook"],
            evidence=Evidence.model_validate(proposal["evidence"]),
            reasons=tuple(proposal["reasons"]),
        )

    def record_imported_grade(
        self, grade: Grade, rule: str | None, rationale: str | None, actor: str
    ) -> None:
        """Record a grade decided elsewhere (an archive, another tool), marked as imported."""
        self._refuse_grading()
        if not self.sources:
            raise Refused(sentence("incident %(code)s cannot be graded: it has no source",
                                   code=self.code))
        self.trigger_event(
            self.Graded,
            grade=grade.value,
            rule=rule,
            rulebook=CURRENT_RULEBOOK.version,
            evidence={},
            reasons=[sentence(REASONS["imported"])],
            rationale=rationale,
            override=False,
            imported=True,
            rulebook_grade=None,
            actor=actor,
        )

    def dispute_grade(self, by: str, reason: str, actor: str) -> None:
        self._refuse_if_duplicate()
        if self.dispute is not None:
            raise Refused(sentence("incident %(code)s already has a dispute open since %(since)s",
                                   code=self.code, since=self.dispute["since"]))
        if self.grading is None:
            raise Refused(sentence("incident %(code)s has no grade to dispute", code=self.code))
        self.trigger_event(self.GradeDisputed, by=by, reason=reason, actor=actor)

    def resolve_dispute(
        self, outcome: DisputeOutcome, rationale: str, actor: str, *, second_person: bool = False
    ) -> None:
        """Close the open dispute; under separation of duties not by whoever opened it."""
        self._refuse_if_duplicate()
        if self.dispute is None:
            raise Refused(sentence("incident %(code)s has no open dispute to resolve",
                                   code=self.code))
        if second_person and self.dispute["opened_by"] == actor:
            raise Refused(sentence("%(name)s opened the dispute on incident %(code)s; a "
                                   "different person must resolve it", name=actor, code=self.code))
        self.trigger_event(
            self.DisputeResolved, outcome=outcome.value, rationale=rationale, actor=actor
        )

    def mark_duplicate(self, of_code: str, actor: str) -> None:
        self._refuse_if_duplicate()
        if of_code == self.code:
            raise Refused(sentence("incident %(code)s cannot be a duplicate of itself",
                                   code=self.code))
        self.trigger_event(self.MarkedDuplicate, of=of_code, actor=actor)

    def undo_duplicate(self, reason: str, actor: str) -> None:
        """Take back a duplicate mark: the incident returns to its queue, the mark stays in
        the history."""
        if self.duplicate_of is None:
            raise Refused(sentence("incident %(code)s is not marked a duplicate", code=self.code))
        _require_reason(reason)
        self.trigger_event(
            self.DuplicateUndone, of=self.duplicate_of, reason=reason.strip(), actor=actor)

    def add_note(self, text: str, actor: str) -> None:
        self._refuse_if_duplicate()
        if not text.strip():
            raise InvalidInput(sentence("the note is empty"))
        self.trigger_event(self.NoteAdded, text=text.strip(), actor=actor)

    def assign(self, assignee: str | None, actor: str) -> None:
        """Hand the incident to ``assignee`` (a name the caller has checked), or take it back
        from whoever has it (None)."""
        self._refuse_if_duplicate()
        if assignee is None and self.assignee is None:
            raise Refused(sentence("incident %(code)s is not assigned to anyone", code=self.code))
        if assignee is not None and assignee == self.assignee:
            raise Refused(sentence("incident %(code)s is already assigned to %(name)s",
                                   code=self.code, name=assignee))
        self.trigger_event(self.Assigned, assignee=assignee, previous=self.assignee,
                           actor=actor)

    def comment(self, text: str, actor: str, *, reply_to: str | None = None,
                mentions: list[str] | None = None,
                written: tuple[str, str] | None = None) -> str:
        """Add a comment to the discussion; returns its id (m1…). ``mentions`` are the
        members it names, as the caller resolved them. ``written`` (who, ISO time) is for a
        comment taken from an archive: its author and time, kept in the comment itself, while
        the event's actor and time are the import's."""
        self._refuse_if_duplicate()
        text = text.strip()
        if not tidy(text):  # nothing readable: spaces, or only invisible characters
            raise InvalidInput(sentence("the comment is empty"))
        if len(text) > MAX_COMMENT:
            raise InvalidInput(sentence(
                "a comment is at most %(most)s characters; this one has %(count)s",
                most=f"{MAX_COMMENT:,}", count=f"{len(text):,}"))
        existing = self.comments or []
        if reply_to is not None:
            reply_to = comment_id(reply_to)
            if not any(found["id"] == reply_to for found in existing):
                raise InvalidInput(sentence("incident %(code)s has no comment %(comment)s",
                                            code=self.code, comment=reply_to))
        new_id = f"m{len(existing) + 1}"
        comment = {"id": new_id, "text": text, "reply_to": reply_to,
                   "mentions": list(mentions or [])}
        if written is not None:
            comment["written_by"], comment["written_at"] = written
        self.trigger_event(self.Commented, comment=comment, actor=actor)
        return new_id

    def tag(self, tags: list[str], actor: str, *, remove: bool = False) -> list[str]:
        """Put tags on (or, with ``remove``, take them off); returns the tags that changed.
        Refused when none would."""
        self._refuse_if_duplicate()
        wanted = list(dict.fromkeys(tag_of(tag) for tag in tags))
        if not wanted:
            raise InvalidInput(sentence("name at least one tag"))
        held = set(self.tags or [])
        changed = [tag for tag in wanted if (tag in held) == remove]
        if not changed:
            if remove:
                raise Refused(sentence("incident %(code)s has none of these tags",
                                       code=self.code))
            raise Refused(sentence("incident %(code)s already has these tags", code=self.code))
        self.trigger_event(self.Tagged, added=[] if remove else changed,
                           removed=changed if remove else [], actor=actor)
        return changed

    def amend(
        self,
        *,
        reason: str,
        actor: str,
        date: dt.date | None = None,
        date_end: dt.date | None = None,
        time: str | None = None,
        location: Location | None = None,
        country: str | None = None,
        belligerents: list[str] | None = None,
        summary: str | None = None,
    ) -> dict[str, JSON]:
        """Correct the incident's own facts; None leaves a fact as it is.

        One event carries each changed field's old and new value, so the
        history shows what was recorded before. Refused when nothing changes.
        """
        self._refuse_if_duplicate()
        _require_reason(reason)
        refuse_nul([country or "", summary or "", *(belligerents or [])])
        proposed: JSON = {}
        if date is not None:
            proposed["date"] = date.isoformat()
        if date_end is not None:
            proposed["date_end"] = date_end.isoformat()
        if time is not None:
            proposed["time"] = time
        if location is not None:
            proposed["location"] = _dump(location)
        if country is not None:
            proposed["country"] = _checked_country(country)
        if belligerents is not None:
            proposed["belligerents"] = _distinct_names(belligerents)
        if summary is not None:
            proposed["summary"] = summary.strip() or None
        changes = {
            field: {"old": _copied(getattr(self, field)), "new": proposed[field]}
            for field in AMENDABLE
            if field in proposed and proposed[field] != getattr(self, field)
        }
        if not changes:
            raise Refused(sentence("incident %(code)s already has these values; nothing to amend",
                                   code=self.code))
        first = proposed.get("date", self.date)
        last = proposed.get("date_end", self.date_end)
        if last is not None and last < first:
            raise InvalidInput(_days_out_of_order(first, last))
        self.trigger_event(self.Amended, changes=changes, reason=reason.strip(), actor=actor)
        return changes

    def retract(self, item_id: str, reason: str, actor: str) -> str:
        """Retract a strike, competing claim, assessment or finding; it stays in the history
        and no longer counts for the rulebook. Returns the id as recorded (``k1``)."""
        self._refuse_if_duplicate()
        key = item_id.strip().lower()
        letter, number = key[:1], key[1:]
        if letter == "s" and number.isdigit():
            raise Refused(sentence("%(id)s is a source: a source is withdrawn, not retracted",
                                   id=key))
        if not RETRACTABLE_ID.fullmatch(key) or int(number) > len(
                getattr(self, EVIDENCE_LISTS[letter])):
            raise InvalidInput(sentence(
                "incident %(code)s has no retractable evidence %(id)s: give the id of a strike "
                "(k1), competing claim (c1), assessment (a1) or finding (f1) as show lists it",
                code=self.code, id=repr(item_id.strip()[:20])))
        if key in (self.retractions or {}):
            raise Refused(sentence("%(what)s %(id)s of incident %(code)s is already retracted",
                                   what=sentence(EVIDENCE_NOUNS[letter]), id=key,
                                   code=self.code))
        _require_reason(reason)
        self.trigger_event(self.Retracted, item_id=key, reason=reason.strip(), actor=actor)
        return key

    def record_victim(self, facts: VictimFacts, seal: Callable[[], tuple[str, str]],
                      actor: str) -> str:
        """Record a victim citing sources of this incident. ``seal`` is called once the rules
        are met: it gives the id of a new key (kept outside the event log) and the personal
        details encrypted under it, so a refusal leaves no key behind."""
        self._refuse_if_duplicate()
        self._check_cited(facts.sources)
        key, sealed = seal()
        victim_id = f"v{len(self.victims or []) + 1}"
        self.trigger_event(self.VictimRecorded, victim={
            "id": victim_id, **facts.model_dump(mode="json"), "key": key, "sealed": sealed,
            "withdrawn": False, "erased": False}, actor=actor)
        return victim_id

    def amend_victim(self, victim_id: str, facts: VictimFacts, details: list[str],
                     sealed: str | None, reason: str, actor: str) -> dict[str, JSON]:
        """Correct a victim: open facts with old and new values, and the personal details
        named in ``details`` (sealed anew). Refused when nothing changes."""
        self._refuse_if_duplicate()
        victim = self._living_victim(victim_id)
        _require_reason(reason)
        self._check_cited(facts.sources)
        proposed = facts.model_dump(mode="json")
        changes = {field: {"old": _copied(victim.get(field)), "new": value}
                   for field, value in proposed.items() if victim.get(field) != value}
        if not changes and not details:
            raise Refused(sentence("victim %(victim)s of incident %(code)s already has these "
                                   "values; nothing to amend", victim=victim["id"],
                                   code=self.code))
        self.trigger_event(self.VictimAmended, victim_id=victim["id"], changes=changes,
                           details=list(details), sealed=sealed if details else None,
                           reason=reason.strip(), actor=actor)
        return changes

    def withdraw_victim(self, victim_id: str, reason: str, actor: str) -> str:
        self._refuse_if_duplicate()
        victim = self._living_victim(victim_id)
        _require_reason(reason)
        self.trigger_event(self.VictimWithdrawn, victim_id=victim["id"], reason=reason.strip(),
                           actor=actor)
        return str(victim["id"])

    def erase_victim(self, victim_id: str, reason: str, actor: str) -> JSON:
        """Record that a victim's personal details are erased; returns the victim (its key
        is for the application to destroy). Allowed on a duplicate: erasure is a right."""
        victim = self.victim_record(victim_id)
        if victim["erased"]:
            raise Refused(sentence("victim %(victim)s of incident %(code)s is already erased",
                                   victim=victim["id"], code=self.code))
        _require_reason(reason)
        found = dict(victim)
        self.trigger_event(self.VictimErased, victim_id=victim["id"], reason=reason.strip(),
                           actor=actor)
        return found

    def victim_record(self, victim_id: str) -> JSON:
        key = victim_id.strip().lower()
        for victim in self.victims or []:
            if victim["id"] == key:
                return victim
        raise InvalidInput(sentence("incident %(code)s has no victim %(victim)s",
                                    code=self.code, victim=victim_id.strip()[:20]))

    @property
    def named_killed(self) -> int:
        """Victims named and killed, withdrawn ones left out (erased ones still count)."""
        return sum(1 for victim in self.victims or [] if victim["named"]
                   and victim["status"] == "killed" and not victim["withdrawn"])

    @property
    def casualties_consistent(self) -> bool:
        """False when more people are named killed than the recorded maximum."""
        most = self.killed.get("max")
        return most is None or self.named_killed <= most

    def _living_victim(self, victim_id: str) -> JSON:
        victim = self.victim_record(victim_id)
        if victim["erased"]:
            raise Refused(sentence("victim %(victim)s of incident %(code)s is erased",
                                   victim=victim["id"], code=self.code))
        if victim["withdrawn"]:
            raise Refused(sentence("victim %(victim)s of incident %(code)s is withdrawn",
                                   victim=victim["id"], code=self.code))
        return victim

    def _check_cited(self, source_ids: Iterable[str]) -> None:
        for source_id in source_ids:
            source = self.source_record(source_id)
            if source["withdrawn"]:
                raise Refused(sentence("source %(source)s of incident %(code)s is withdrawn; "
                                       "cite a source that stands",
                                       source=source_id, code=self.code))

    def collect_file(self, facts: FileFacts, actor: str) -> str:
        """Record an evidence file on this incident; returns its id (e1…). A file already
        recorded here (the same bytes) is refused: each handling of it is recorded instead."""
        self._refuse_if_duplicate()
        if facts.source is not None:
            self.source_record(facts.source)
        for existing in self.files or []:
            if existing["sha256"] == facts.sha256:
                raise Refused(sentence("incident %(code)s already holds this file as %(file)s",
                                       code=self.code, file=existing["id"]))
        file_id = f"e{len(self.files or []) + 1}"
        self.trigger_event(self.FileCollected,
                           file={"id": file_id, **facts.model_dump(mode="json")}, actor=actor)
        return file_id

    def file_record(self, file_id: str) -> JSON:
        key = file_id.strip().lower()
        for found in self.files or []:
            if found["id"] == key:
                return found
        raise InvalidInput(sentence("incident %(code)s has no file %(file)s",
                                    code=self.code, file=file_id.strip()[:20]))

    def record_copy(self, file_id: str, reason: str, actor: str) -> JSON:
        """Record that a copy of a file was taken out (the chain of custody); any reader may
        take one, and says why when they can."""
        found = self.file_record(file_id)
        self.trigger_event(self.FileCopied, file_id=found["id"], sha256=found["sha256"],
                           reason=reason.strip(), actor=actor)
        return found

    def deciding(self, parties: PartyNames = NO_PARTIES) -> tuple[str, str, str]:
        """The rulebook's grade, rule and version now; grade and rule empty when it cannot
        grade (no active source)."""
        try:
            decision = self.suggest_grade(parties)
        except Refused:
            return "", "", CURRENT_RULEBOOK.version
        return decision.grade.value, decision.rule, decision.rulebook

    def review_regrade(self, before: tuple[str, str, str] | None, parties: PartyNames,
                       actor: str) -> None:
        """After a change, flag the recorded grade for re-grading when the rulebook now
        decides otherwise (and unflag it when the rulebook agrees with it again).

        ``before`` is what the rulebook decided before the change (``deciding``).
        The grade itself is never changed here: re-grading is a person's decision.
        """
        if self.grading is None or self.duplicate_of is not None:
            return
        grade, rule, rulebook = self.deciding(parties)
        rests = self._grade_rests_on((grade, rule))
        due = self.regrade_due
        if due is None:
            if rests or before is None or before[:2] == (grade, rule):
                return
        elif not rests and (due["grade"], due["rule"]) == (grade, rule):
            return
        self.trigger_event(self.RegradeDue, due=not rests, grade=grade, rule=rule,
                           rulebook=rulebook, actor=actor)

    # ------------------------------------------------------------ read views

    @property
    def state(self) -> State:
        """The workflow state, derived from what has been recorded."""
        return workflow_state(
            dispute_open=self.dispute is not None,
            graded=self.grading is not None,
            strike_confirmed=any(not strike["retracted"] for strike in self.evidence("k")),
            corroborated=self.corroborated_by is not None,
        )

    @property
    def grade(self) -> Grade | None:
        return Grade(self.grading["grade"]) if self.grading else None

    def source_record(self, source_id: str) -> JSON:
        wanted = canonical_source_id(source_id)
        for source in self.sources:
            if source["id"] == wanted:
                return source
        raise InvalidInput(sentence("incident %(code)s has no source %(source)s",
                                    code=self.code, source=source_id))

    def source(self, source_id: str) -> Source:
        return Source.model_validate(self.source_record(source_id))

    def source_list(self) -> list[Source]:
        return [Source.model_validate(source) for source in self.sources]

    def case_file(
        self, parties: PartyNames = NO_PARTIES, known_on: KnownOn | None = None
    ) -> CaseFile:
        """The evidence as the rulebook sees it, parties compared through ``parties``.

        Retracted evidence is left out. With ``known_on``, so is evidence that
        became known after that day.
        """
        def counted(letter: str, items: list[JSON], own_day: str = "") -> list[JSON]:
            retracted = self.retractions or {}
            return [item for number, item in enumerate(items, start=1)
                    if f"{letter}{number}" not in retracted and (
                        known_on is None or known_on.knows(f"{letter}{number}",
                                                           item.get(own_day)))]

        sources = [source for source in self.sources
                   if known_on is None or known_on.knows(source["id"], source.get("published"))]
        return CaseFile(
            code=self.code,
            parties=parties,
            belligerents=tuple(self.belligerents),
            sources=tuple(Source.model_validate(source) for source in sources),
            strikes=tuple(StrikeConfirmation.model_validate(s)
                          for s in counted("k", self.strikes, "reported")),
            claims=tuple(CompetingClaim.model_validate(c) for c in counted("c", self.claims)),
            assessments=tuple(Assessment.model_validate(a)
                              for a in counted("a", self.assessments, "dated")),
            discounts=tuple(DiscountFinding.model_validate(d)
                            for d in counted("f", self.discounts)),
        )

    def evidence_ids(self) -> list[str]:
        """Every piece of evidence's id, sources first: s1…, k1…, c1…, a1…, f1…, n1…."""
        return [*(source["id"] for source in self.sources),
                *(f"{letter}{number}" for letter, listed in EVIDENCE_LISTS.items()
                  for number in range(1, len(getattr(self, listed)) + 1)),
                *(f"n{number}" for number in range(1, len(self.notes) + 1))]

    def evidence(self, letter: str) -> list[JSON]:
        """One list of evidence as shown: each item with its id, and whether retracted."""
        listed = self.notes if letter == "n" else getattr(self, EVIDENCE_LISTS[letter])
        retractions = self.retractions or {}
        shown = []
        for number, item in enumerate(listed, start=1):
            item_id = f"{letter}{number}"
            entry = {"id": item_id, **item, "retracted": item_id in retractions}
            if item_id in retractions:
                entry["retraction"] = dict(retractions[item_id])
            shown.append(entry)
        return shown

    # --------------------------------------------------------------- helpers

    def _record_grade(
        self,
        decision: GradeDecision,
        *,
        actor: str,
        rationale: str | None = None,
        override: bool = False,
        imported: bool = False,
        rulebook_grade: Grade | None = None,
        propose: bool = False,
    ) -> None:
        fields: JSON = {
            "grade": decision.grade.value,
            "rule": decision.rule,
            "rulebook": decision.rulebook,
            "evidence": _dump(decision.evidence),
            "reasons": list(decision.reasons),
            "rationale": rationale,
            "override": override,
            "rulebook_grade": rulebook_grade.value if rulebook_grade else None,
            "actor": actor,
        }
        if propose and needs_approval(decision.grade):
            self.trigger_event(self.GradeProposed, **fields)
        else:
            self.trigger_event(self.Graded, imported=imported, **fields)

    def _refuse_same_proposal(self, grade: Grade, rule: str) -> None:
        proposal = self.proposal
        if proposal is not None and (proposal["grade"], proposal["rule"]) == (grade.value, rule):
            raise Refused(sentence(
                "%(name)s already proposed grade %(grade)s for incident %(code)s; it waits for a "
                "second person's approval", name=proposal["by"], grade=grade, code=self.code))

    def _next_source_id(self) -> str:
        return f"s{len(self.sources) + 1}"

    def _corroborate_if_due(self, actor: str) -> None:
        if self.corroborated_by is not None:
            return
        if sum(1 for source in self.sources if not source["withdrawn"]) < 2:
            return
        sources_only = CaseFile(
            code=self.code, belligerents=tuple(self.belligerents), sources=tuple(self.source_list())
        )
        independent = CURRENT_RULEBOOK.independent_credible_sources(sources_only)
        if len(independent) >= 2:
            self.trigger_event(
                self.Corroborated,
                source_ids=[source.id for source in independent],
                rulebook=CURRENT_RULEBOOK.version,
                actor=actor,
            )

    def _grade_rests_on(self, deciding: tuple[str, str]) -> bool:
        """Whether the recorded grade agrees with this decision of the rulebook.

        A rulebook grade agrees when grade and rule are the same; an override
        when the rulebook grades as it did when the override was made; an
        imported grade was decided elsewhere and agrees with nothing.
        """
        grading = self.grading
        if grading is None or grading.get("imported"):
            return False
        if grading["override"]:
            return bool(grading.get("rulebook_grade") == deciding[0])
        return bool((grading["grade"], grading["rule"]) == deciding)

    def _refuse_if_duplicate(self) -> None:
        if self.duplicate_of is not None:
            raise Refused(sentence(
                "incident %(code)s is marked a duplicate of %(original)s; record this on "
                "%(original)s instead", code=self.code, original=self.duplicate_of))

    def _refuse_grading(self) -> None:
        self._refuse_if_duplicate()
        if self.dispute is not None:
            raise Refused(sentence(
                "incident %(code)s has a dispute open; resolve it before grading again",
                code=self.code))

    def _require_party(self, belligerent: str, doing: str, parties: PartyNames) -> None:
        """Refuse evidence about a party the incident does not name (alleged or claimed).

        Names compare the way people mean them, aliases included. The
        sentence points to the spelling, not to a competing claim: a party
        misspelt is not a party that competes.
        """
        claimed = [claim["belligerent"] for claim in self.claims]
        named = [*self.belligerents, *claimed]
        key = parties.key(belligerent)
        if any(parties.key(name) == key for name in named):
            return
        if not named:
            raise Refused(sentence(
                "cannot %(doing)s %(belligerent)s: incident %(code)s names no alleged belligerent",
                doing=doing, belligerent=belligerent, code=self.code))
        alleged = Listed(self.belligerents, ", ")
        if not claimed:
            raise Refused(sentence(
                "cannot %(doing)s %(belligerent)s: incident %(code)s alleges %(alleged)s; if "
                "%(belligerent)s is one of these under another name, record that name as an "
                "alias of the party",
                doing=doing, belligerent=belligerent, code=self.code, alleged=alleged))
        if not self.belligerents:
            raise Refused(sentence(
                "cannot %(doing)s %(belligerent)s: incident %(code)s alleges no belligerent (and "
                "a competing claim names %(claimed)s); if %(belligerent)s is one of these under "
                "another name, record that name as an alias of the party",
                doing=doing, belligerent=belligerent, code=self.code,
                claimed=Listed(claimed, ", ")))
        raise Refused(sentence(
            "cannot %(doing)s %(belligerent)s: incident %(code)s alleges %(alleged)s (and a "
            "competing claim names %(claimed)s); if %(belligerent)s is one of these under "
            "another name, record that name as an alias of the party",
            doing=doing, belligerent=belligerent, code=self.code, alleged=alleged,
            claimed=Listed(claimed, ", ")))


def replayed_with_days(events: Iterable[Any]) -> tuple[Incident | None, dict[str, str]]:
    """An incident replayed from all its events (no snapshot), and the day each piece of
    evidence was recorded: its known-on day when it has no date of its own."""
    incident: Incident | None = None
    days: dict[str, str] = {}
    for event in events:
        incident = event.mutate(incident)
        if incident is not None:
            for item_id in incident.evidence_ids():
                days.setdefault(item_id, event.timestamp.date().isoformat())
    return incident, days


def project_incident(incident: Incident | None, events: Iterable[Any]) -> Incident | None:
    """Apply stored events (after an optional snapshot) to rebuild an incident.

    Same as the library's project_aggregate, without its per-event runtime
    protocol check, which dominates load time on Python 3.11.
    """
    for event in events:
        incident = event.mutate(incident)
    return incident


def _checked_country(country: str) -> str:
    if not country.strip():
        raise InvalidInput(sentence("the country must not be empty"))
    if len(country.strip()) > MAX_NAME:
        raise InvalidInput(sentence("the country's name must be at most %(most)s characters",
                                    most=MAX_NAME))
    return country.strip()


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput(sentence("give the reason: it stays in the history"))


def _days_out_of_order(first: str, last: str) -> str:
    """The refusal of a last day before the first (both ISO dates)."""
    return sentence("the last day (%(last)s) is before the incident's first day (%(first)s)",
                    last=last, first=first)


def _distinct_names(names: list[str]) -> list[str]:
    """Names as typed, the first spelling of each party only (compared by their folded form)."""
    distinct: list[str] = []
    seen: set[str] = set()
    for name in names:
        try:
            cleaned = belligerent_name(name.strip())
        except ValueError as error:
            raise InvalidInput(sentence_of(error)) from None
        if cleaned and fold(cleaned) not in seen:
            seen.add(fold(cleaned))
            distinct.append(cleaned)
    return distinct


__all__ = ["AMENDABLE", "EVIDENCE_LISTS", "EVIDENCE_NOUNS", "RETRACTABLE_ID", "Incident", "KnownOn",
           "incident_id", "project_incident", "replayed_with_days"]

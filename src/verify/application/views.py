"""Plain-data documents the application hands to the outside (CLI, JSON, later the web)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from verify.domain.errors import Refused
from verify.domain.incident import Incident, KnownOn
from verify.domain.parties import PartyNames
from verify.domain.rulebook import CURRENT_RULEBOOK, GradeDecision
from verify.domain.sentences import Text, sentence
from verify.domain.values import Source


def json_bytes(document: Any) -> bytes:
    """One JSON document as the command line prints it (and the web API serves it)."""
    if isinstance(document, BaseModel):
        document = document.model_dump(mode="json")
    elif isinstance(document, list):
        document = [
            item.model_dump(mode="json") if isinstance(item, BaseModel) else item
            for item in document
        ]
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


class Document(BaseModel):
    """Base of every output document: immutable; dumps to JSON with stable keys.

    Fields read by name too (``entry["code"]``), as the JSON document has them.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    def to_json(self) -> dict[str, Any]:
        return dict(self.model_dump(mode="json"))

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)


class SourceView(Document):
    id: str
    url: str | None
    publisher: str | None
    kind: str | None
    reliability: str
    credibility: int
    rating: str
    credible: bool
    group: str | None
    protected: bool
    published: str | None
    published_text: str | None
    """The publication date as an archive gave it, when it could not be read."""
    unread: dict[str, str]
    """Other values of the source an archive gave that could not be read, kept verbatim."""
    withdrawn: bool

    @classmethod
    def of(cls, source: Source) -> SourceView:
        return cls(
            id=source.id,
            url=source.url,
            publisher=source.publisher,
            kind=source.kind.value if source.kind is not None else None,
            reliability=source.reliability.value,
            credibility=int(source.credibility),
            rating=str(source.rating),
            credible=CURRENT_RULEBOOK.is_credible(source),
            group=source.group,
            protected=source.protected,
            published=source.published.isoformat() if source.published else None,
            published_text=source.published_text,
            unread=dict(source.unread),
            withdrawn=source.withdrawn,
        )


class IncidentView(Document):
    """An incident as ``verify show`` presents it (SPEC section 4 names the first keys)."""

    code: str
    state: str
    grade: str | None
    date: str
    date_end: str | None
    time: str | None
    country: str
    belligerents: list[str]
    civilians_killed: dict[str, Any]
    civilians_injured: dict[str, Any]
    sources: list[SourceView]
    version: int
    location: dict[str, Any]
    summary: str | None
    grading: dict[str, Any] | None
    corroborated_by: list[str] | None
    strikes: list[dict[str, Any]]
    contested_by: list[dict[str, Any]]
    assessments: list[dict[str, Any]]
    discounts: list[dict[str, Any]]
    dispute: dict[str, Any] | None
    proposal: dict[str, Any] | None
    duplicate_of: str | None
    duplicates: list[str] | None
    """Incidents marked duplicates of this one, from the read model; None in a view of the
    past (``--as-of``, ``--version``), for which the read model does not know them."""
    regrade_due: bool
    """The evidence changed under the recorded grade and the rulebook now grades otherwise."""
    regrade: dict[str, Any] | None
    """When ``regrade_due``: the rulebook's grade and rule now, and since when."""
    victims: list[dict[str, Any]]
    """The people harmed, each citing its sources; personal details null once erased."""
    named_killed: int
    casualties_consistent: bool
    """False when more people are named killed than ``civilians_killed.max``."""
    notes: list[dict[str, Any]]
    assignee: str | None
    """Who works on it now (SPEC 13); None when nobody does."""
    tags: list[str]
    comments: list[dict[str, Any]]
    """The internal discussion: m1…, each with its text, author, time, the comment it
    answers and the members it mentions."""
    files: list[dict[str, Any]]
    """Evidence files (e1…): hash, size, media type, and who collected each, when and from
    where; never their bytes."""
    unread: dict[str, str]
    """Values the archive gave that could not be read, kept verbatim by field path."""
    reported_by: str
    reported_at: str
    updated_at: str

    @classmethod
    def of(cls, incident: Incident, duplicates: list[str] | None = None,
           victims: list[dict[str, Any]] | None = None) -> IncidentView:
        return cls(
            code=incident.code,
            state=incident.state.value,
            grade=incident.grade.value if incident.grade else None,
            date=incident.date,
            date_end=incident.date_end,
            time=incident.time,
            country=incident.country,
            belligerents=list(incident.belligerents),
            civilians_killed=dict(incident.killed),
            civilians_injured=dict(incident.injured),
            sources=[SourceView.of(source) for source in incident.source_list()],
            version=incident.version,
            location=dict(incident.location),
            summary=incident.summary,
            grading=dict(incident.grading) if incident.grading else None,
            corroborated_by=incident.corroborated_by,
            strikes=incident.evidence("k"),
            contested_by=incident.evidence("c"),
            assessments=incident.evidence("a"),
            discounts=incident.evidence("f"),
            dispute=incident.dispute,
            proposal=dict(incident.proposal) if incident.proposal else None,
            duplicate_of=incident.duplicate_of,
            duplicates=duplicates,
            regrade_due=incident.regrade_due is not None,
            regrade=dict(incident.regrade_due) if incident.regrade_due else None,
            victims=list(victims or []),
            named_killed=incident.named_killed,
            casualties_consistent=incident.casualties_consistent,
            notes=incident.evidence("n"),
            assignee=incident.assignee,
            tags=list(incident.tags or []),
            comments=[dict(found) for found in incident.comments or []],
            files=[dict(found) for found in incident.files or []],
            unread=dict(incident.unread or {}),
            reported_by=incident.reported_by,
            reported_at=incident.created_on.isoformat(),
            updated_at=incident.modified_on.isoformat(),
        )


class KnownOnView(Document):
    """What was known of an incident by the end of a day, and what the rulebook would have
    graded from it (``show --known-on``)."""

    code: str
    known_on: str
    sources: list[SourceView]
    strikes: list[dict[str, Any]]
    contested_by: list[dict[str, Any]]
    assessments: list[dict[str, Any]]
    discounts: list[dict[str, Any]]
    victims: list[dict[str, Any]] = []
    """Victims named by then: known from the earliest of the sources they cite."""
    suggested_grade: str | None
    """None when nothing known by then could be graded on (no source yet)."""
    rule: str | None
    reasons: list[Text]
    grade: str | None
    """The grade recorded today, for comparison."""

    @classmethod
    def of(cls, incident: Incident, known_on: KnownOn, parties: PartyNames,
           victims: list[dict[str, Any]] | None = None) -> KnownOnView:
        """The evidence known by the day (its own date, else the day it was recorded)."""
        published = {source.id: source.published for source in incident.source_list()}
        named_by_then = []
        for victim in victims or []:
            days = [day for source in victim["sources"]
                    if (day := known_on.since(source, published.get(source))) is not None]
            since = min(days) if days else None
            if since is None or since <= known_on.day.isoformat():
                named_by_then.append({**victim, "known_since": since})

        def known(letter: str, own_day: str = "") -> list[dict[str, Any]]:
            return [{**item, "known_since": known_on.since(item["id"], item.get(own_day))}
                    for item in incident.evidence(letter)
                    if known_on.knows(item["id"], item.get(own_day))]

        sources = [SourceView.of(source) for source in incident.source_list()
                   if known_on.knows(source.id, source.published)]
        try:
            decision: GradeDecision | None = CURRENT_RULEBOOK.decide(
                incident.case_file(parties, known_on=known_on))
        except Refused:
            decision = None
        return cls(
            code=incident.code, known_on=known_on.day.isoformat(), sources=sources,
            strikes=known("k", "reported"), contested_by=known("c"),
            assessments=known("a", "dated"), discounts=known("f"), victims=named_by_then,
            suggested_grade=decision.grade.value if decision else None,
            rule=decision.rule if decision else None,
            reasons=list(decision.reasons) if decision else [
                sentence("no source had been published or recorded by then")],
            grade=incident.grade.value if incident.grade else None,
        )


class Suggestion(Document):
    """What the rulebook would grade, as ``grade --suggest`` prints it."""

    code: str
    grade: str
    rule: str
    rulebook: str
    reasons: list[Text]
    evidence: dict[str, Any]
    checks: list[dict[str, Any]]

    @classmethod
    def of(cls, code: str, decision: GradeDecision) -> Suggestion:
        dumped = decision.model_dump(mode="json")
        return cls(
            code=code,
            grade=decision.grade.value,
            rule=decision.rule,
            rulebook=decision.rulebook,
            reasons=list(decision.reasons),
            evidence=dumped["evidence"],
            checks=dumped["checks"],
        )


class HistoryEntry(Document):
    """One event of an incident, told for a person and kept whole for a machine."""

    version: int
    at: str
    actor: str
    event: str
    what: Text
    why: Text | None
    data: dict[str, Any]


class Change(Document):
    """One change to an incident, as the change feed tells it."""

    cursor: str
    """Where the change stands in the event log: give it as ``since`` for what came after."""
    code: str
    at: str
    by: str
    what: Text
    why: Text | None


class ChangesPage(Document):
    """Changes in log order, as ``changes --json`` prints them."""

    changes: list[Change]
    next_cursor: str | None
    """The last change's cursor when more follow; None at the end of the log."""


class RecentChanges(Document):
    """The latest changes, newest first, as a feed shows them."""

    changes: list[Change]
    earlier: str | None
    """The oldest change's cursor when earlier ones exist (give it as ``before``)."""


class GradeAllSummary(Document):
    """What ``grade --all`` did."""

    graded: int
    by_grade: dict[str, int]
    incidents_by_grade: dict[str, list[str]] = {}
    """The codes ``by_grade`` counts, under each grade, in the order they were graded."""
    proposed: dict[str, int] = {}
    """Grades recorded as proposals, waiting for a second person (separation of duties)."""
    proposed_incidents: dict[str, list[str]] = {}
    """The codes ``proposed`` counts, under each grade."""
    not_gradable: list[str]
    conflicts: list[str]
    regrade_due: list[str] = []
    """Graded incidents the rulebook now grades otherwise, left for ``grade --all --due``."""


class QueueEntry(Document):
    """One incident waiting for work, as ``queue --json`` lists it."""

    code: str
    state: str
    waiting_for: str
    since: str
    date: str
    location: str
    country: str
    grade: str | None = None
    assignee: str | None = None
    tags: list[str] = []


class QueuePage(Document):
    """One page of the queue, and the cursors of the pages beside it (None at either end)."""

    entries: list[QueueEntry]
    next: str | None = None
    """Continues after this page's last entry (give it as ``after``)."""
    previous: str | None = None
    """Ends before this page's first entry (give it as ``before``)."""


class InboxItem(Document):
    """One thing waiting for a person, as ``inbox --json`` lists it."""

    kind: str
    """``assigned`` (the incident is theirs) or ``mentioned`` (a comment names them)."""
    code: str
    at: str
    by: str
    state: str
    comment: str | None
    text: str | None
    answered: bool | None
    """For a mention: whether they have answered it."""
    version: int


class StatsGroup(Document):
    key: str | None
    incidents: int
    grades: dict[str, int]
    killed_min: int | None
    killed_max: int | None
    named_killed: int = 0
    """Victims recorded killed and named (withdrawn ones left out)."""
    children_killed: int = 0
    """Victims recorded killed under 18, or in the age group child."""
    women_killed: int = 0
    """Victims recorded killed, female and not children."""

    def plus(self, other: StatsGroup) -> StatsGroup:
        """Two groups counted as one (two spellings of one party, say), named as this one."""
        return StatsGroup(
            key=self.key, incidents=self.incidents + other.incidents,
            grades={grade: count + other.grades.get(grade, 0)
                    for grade, count in self.grades.items()},
            killed_min=(self.killed_min or 0) + (other.killed_min or 0),
            killed_max=(self.killed_max or 0) + (other.killed_max or 0),
            named_killed=self.named_killed + other.named_killed,
            children_killed=self.children_killed + other.children_killed,
            women_killed=self.women_killed + other.women_killed,
        )


class StatsDocument(Document):
    """What ``stats --json`` prints."""

    by: str
    groups: list[StatsGroup]
    total: StatsGroup
    """Every incident counted once (key null): groups may overlap (an incident alleging two
    belligerents counts in both), so their sum is no total."""


class SearchHit(Document):
    """One incident found by ``verify search``."""

    code: str
    date: str
    location: str
    country: str
    state: str
    grade: str | None
    summary: str | None
    duplicate_of: str | None = None
    """The original, when this incident is marked its duplicate (it is found, but not live)."""


class SearchPage(Document):
    """One page of what a search found, and the cursors of the pages beside it."""

    entries: list[SearchHit]
    next: str | None = None
    """Continues after this page's last hit (give it as ``after``)."""
    previous: str | None = None
    """Ends before this page's first hit (give it as ``before``)."""


class ErrorDocument(Document):
    """What the JSON API answers instead of a document: the sentence the CLI prints."""

    error: str

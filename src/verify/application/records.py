"""The interchange format: one incident per JSON Lines row (SPEC section 5).

``verify import`` validates rows with these models and ``verify export``
writes them, so an export re-imports unchanged. CSV uses the same fields,
flattened (see docs/formats.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from verify.domain.casework import COMMENT_ID, MAX_COMMENT, MAX_TAG, tag_of
from verify.domain.dates import read_time
from verify.domain.errors import InvalidInput
from verify.domain.evidence_files import FileFacts, Sha256
from verify.domain.incident import RETRACTABLE_ID, Incident
from verify.domain.sentences import sentence
from verify.domain.values import (
    Assessment,
    BelligerentName,
    CasualtyRange,
    CompetingClaim,
    DiscountFinding,
    Grade,
    Location,
    LongText,
    ShortText,
    Source,
    StrikeConfirmation,
    canonical_code,
    kept_values,
)
from verify.domain.victims import AgeGroup, Gender, VictimDetails, VictimStatus


def _absent(value: object) -> bool:
    """Left out of a record when unset, so records keep the shape they had before."""
    return value is None or value == []


class Record(BaseModel):
    """Base of the format's models: immutable, and unknown fields are errors (typos show)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SourceRecord(Source):
    """A source as the format carries it: everything a source is, but its id.

    Ids (s1, s2…) are given when a source is attached, in the order the row
    lists the sources; a row that names one keeps it verbatim instead (see
    `intake`), so this model refuses it. It is attached as it is: the incident
    numbers it, and a withdrawal is an event of its own.
    """

    id: str = Field(default="", exclude=True)

    @field_validator("id")
    @classmethod
    def _no_id(cls, value: str) -> str:
        if value:
            raise ValueError(sentence(
                "a source's id is given when it is attached, not by the row"))
        return value


class VictimRecord(Record):
    """A victim as the format carries it (SPEC section 11); ``sources`` name the row's
    sources by id (s1 is the first of ``sources``)."""

    name: ShortText | None = None
    name_original: ShortText | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    age_group: AgeGroup | None = None
    gender: Gender | None = None
    status: VictimStatus = VictimStatus.KILLED
    family: ShortText | None = None
    role: ShortText | None = None
    sources: list[str] = Field(default_factory=list, max_length=1000)
    protected: bool = False
    withdrawn: bool = False
    erased: bool = False
    """Erased in the store it came from: no personal details travel with it."""
    named: bool | None = Field(default=None, exclude_if=lambda value: value is None)
    """Whether the person was named, for an erased victim (whose names are gone)."""
    unread: dict[str, str] = kept_values()
    """What could not be read about the person, kept verbatim (sealed with the details)."""

    def details(self) -> VictimDetails:
        return VictimDetails(name=self.name, name_original=self.name_original, age=self.age,
                             family=self.family, role=self.role, unread=dict(self.unread))


class FileRecord(FileFacts):
    """An evidence file as a full export carries it (SPEC section 12): everything recorded
    about it but its bytes and its id (e1… by its place in ``files``); ``source`` names one
    of the row's sources by id (s1 is the first of ``sources``)."""


class PublicFileRecord(Record):
    """A file as a ``--public`` export lists it: what it is and what it shows, nothing that
    could name a person (its name, where it came from, who collected it)."""

    sha256: Sha256
    media_type: ShortText
    description: LongText | None = None


CommentText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT)]


class CommentRecord(Record):
    """A comment of the incident's discussion as a full export carries it (SPEC section 13):
    its id (m1… in the order of ``comments``), its text, the comment it answers, the members
    it mentions as they were recorded, and who wrote it when."""

    id: str
    text: CommentText
    reply_to: str | None = None
    mentions: list[ShortText] = Field(default_factory=list, max_length=1000)
    by: ShortText
    at: dt.datetime

    @field_validator("id", "reply_to")
    @classmethod
    def _comment_id(cls, value: str | None) -> str | None:
        if value is not None and not COMMENT_ID.fullmatch(value):
            raise ValueError(sentence("not a comment's id (m1, m2, …)"))
        return value


class GradeRecord(Record):
    grade: Grade
    rationale: LongText | None = None
    rule: ShortText | None = None


class DisputeRecord(Record):
    by: ShortText
    reason: LongText


class IncidentRecord(Record):
    """One row of an import file, or of an export."""

    code: str
    date: dt.date
    date_end: dt.date | None = Field(default=None, exclude_if=_absent)
    """The last day of an incident that spans days; absent when it does not."""
    time: str | None = Field(default=None, exclude_if=_absent)
    """The hour it happened, HH:MM, when known."""
    country: ShortText
    location: Location
    belligerents: list[BelligerentName] = Field(default_factory=list, max_length=1000)
    civilians_killed: CasualtyRange = CasualtyRange()
    civilians_injured: CasualtyRange = CasualtyRange()
    summary: LongText | None = None
    sources: list[SourceRecord] = Field(default_factory=list, max_length=10_000)
    strike: StrikeConfirmation | None = None
    other_strikes: list[StrikeConfirmation] = Field(default_factory=list, max_length=10_000)
    contested_by: list[CompetingClaim] = Field(default_factory=list, max_length=10_000)
    assessments: list[Assessment] = Field(default_factory=list, max_length=10_000)
    discounts: list[DiscountFinding] = Field(default_factory=list, max_length=10_000)
    grade: GradeRecord | None = None
    dispute: DisputeRecord | None = None
    duplicate_of: str | None = None
    notes: list[LongText] = Field(default_factory=list, max_length=10_000)
    assignee: ShortText | None = Field(default=None, exclude_if=_absent)
    """Who works on the incident (SPEC section 13); internal, never in a public record."""
    tags: list[str] = Field(default_factory=list, max_length=10_000, exclude_if=_absent)
    """The incident's tags as `verify tag` keeps them (folded, sorted); internal, since a
    team's labels ("witness-at-risk") can say more than the record publishes."""
    comments: list[CommentRecord] = Field(default_factory=list, max_length=100_000,
                                          exclude_if=_absent)
    """The internal discussion, in the order of its ids; never in a public record."""
    retracted: list[str] = Field(default_factory=list, max_length=10_000, exclude_if=_absent)
    """Ids of retracted strikes (k1…, counting ``strike`` then ``other_strikes``), competing
    claims (c1…), assessments (a1…) and findings (f1…), in the order they were retracted."""
    victims: list[VictimRecord] = Field(default_factory=list, max_length=100_000,
                                        exclude_if=_absent)
    files: list[FileRecord | PublicFileRecord] = Field(default_factory=list, max_length=100_000,
                                                       exclude_if=_absent)
    """Evidence files, never their bytes: a full export gives every file whole (`FileRecord`),
    a public one only the hash, media type and description of the unprotected ones."""
    unread: dict[str, str] = kept_values()
    """Values the archive gave that could not be read, kept verbatim by field path."""
    _as_stored: bool = PrivateAttr(default=False)

    @field_validator("code", "duplicate_of")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        return None if value is None else canonical_code(value)

    @field_validator("date")
    @classmethod
    def _plausible_date(cls, value: dt.date) -> dt.date:
        if value.year < 1900:
            raise ValueError(sentence("the date is before 1900"))
        return value

    @field_validator("time")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        return None if value is None else read_time(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        try:
            return sorted({tag_of(tag) for tag in value})
        except InvalidInput:
            raise ValueError(sentence(
                "each tag is a word, or words joined by hyphens, of at most %(most)s characters",
                most=MAX_TAG)) from None

    @field_validator("retracted")
    @classmethod
    def _evidence_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not RETRACTABLE_ID.fullmatch(item):
                raise ValueError(sentence(
                    "each retracted id names a strike (k1), competing claim (c1), assessment "
                    "(a1) or finding (f1)"))
        return value

    @property
    def strikes(self) -> list[StrikeConfirmation]:
        return ([self.strike] if self.strike else []) + list(self.other_strikes)

    @classmethod
    def of(cls, incident: Incident, *, public: bool = False,
           victims: list[dict[str, Any]] | None = None) -> IncidentRecord:
        """The record of a stored incident; ``public`` leaves protected sources, files,
        notes and the casework (assignee, tags, comments) out, and lists the other files by
        hash, media type and description only.

        What is stored is exported, always: an incident recorded under looser
        limits than today's (an earlier version took a date before 1900, or a
        longer name) is written as it stands rather than refused, which would
        stop the export of the whole store. An import then reads it as it reads
        any archive: what it cannot take is kept verbatim, or the row refused.
        """
        grading = incident.grading
        fields: dict[str, Any] = {
            "code": incident.code,
            "date": dt.date.fromisoformat(incident.date),
            "date_end": incident.date_end,
            "time": incident.time,
            "country": incident.country,
            "location": dict(incident.location),
            "belligerents": list(incident.belligerents),
            "civilians_killed": dict(incident.killed),
            "civilians_injured": dict(incident.injured),
            "summary": incident.summary,
            "sources": [source.model_dump(exclude={"id"}) for source in incident.source_list()
                        if not (public and source.protected)],
            "strike": dict(incident.strikes[0]) if incident.strikes else None,
            "other_strikes": [dict(strike) for strike in incident.strikes[1:]],
            "contested_by": [dict(claim) for claim in incident.claims],
            "assessments": [dict(assessment) for assessment in incident.assessments],
            "discounts": [dict(discount) for discount in incident.discounts],
            "grade": {"grade": grading["grade"], "rationale": grading["rationale"],
                      "rule": grading["rule"]} if grading else None,
            "dispute": {"by": incident.dispute["by"], "reason": incident.dispute["reason"]}
            if incident.dispute else None,
            "duplicate_of": incident.duplicate_of,
            "notes": [] if public else [note["text"] for note in incident.notes],
            "assignee": None if public else incident.assignee,
            "tags": [] if public else list(incident.tags or []),
            "comments": [] if public else _comments_as_exported(incident),
            "retracted": list(incident.retractions or {}),
            "victims": _victims_as_exported(incident, victims or [], public),
            "files": _files_as_exported(incident, public),
            "unread": {path: value for path, value in (incident.unread or {}).items()
                       if not (public and withheld_in_public(path))},
        }
        try:
            return cls.model_validate(fields)
        except ValidationError:
            record = as_stored(cls, fields)
            record._as_stored = True
            return record

    def document(self) -> dict[str, Any]:
        # A record taken as stored may hold values today's types would refuse: say them.
        return dict(self.model_dump(mode="json", warnings=not self._as_stored))


def _victims_as_exported(incident: Incident, victims: list[dict[str, Any]], public: bool
                         ) -> list[dict[str, Any]]:
    """Victims as the record carries them, citing sources by their place in the record.

    A public record leaves protected sources out, so the sources kept are
    numbered anew and each victim cites them by the new numbers; a victim named
    only by withheld sources is left out with them (it would point to them).
    """
    renumbered = _exported_source_ids(incident, public)
    exported = []
    for victim in victims:
        cited = [renumbered[source] for source in victim["sources"] if source in renumbered]
        if not cited:
            continue
        exported.append({**{key: value for key, value in victim.items()
                            if key in VictimRecord.model_fields
                            and (key != "named" or victim["erased"])}, "sources": cited})
    return exported


def _exported_source_ids(incident: Incident, public: bool) -> dict[str, str]:
    """Each exported source's id in the store, and its id in the record (its place there)."""
    kept = [source for source in incident.source_list() if not (public and source.protected)]
    return {source.id: f"s{number}" for number, source in enumerate(kept, start=1)}


PUBLIC_FILE_FACTS = tuple(PublicFileRecord.model_fields)
"""All a public export tells of a file: its name, origin and collector can name a person."""


def _files_as_exported(incident: Incident, public: bool) -> list[dict[str, Any]]:
    """Files as the record carries them: whole, citing sources by their place in the record;
    or, in a public record, the unprotected ones by hash, media type and description."""
    files = incident.files or []
    if public:
        return [{key: found.get(key) for key in PUBLIC_FILE_FACTS}
                for found in files if not found.get("protected")]
    renumbered = _exported_source_ids(incident, public)
    return [{**{key: value for key, value in found.items() if key in FileRecord.model_fields},
             "source": renumbered.get(found["source"], found["source"])
             if found.get("source") else None}
            for found in files]


def _comments_as_exported(incident: Incident) -> list[dict[str, Any]]:
    """The discussion as the record carries it, each comment by whoever wrote it, when.

    A comment taken in from an export keeps its author and time as ``written_by`` and
    ``written_at``: its event's own actor and time are the import's, as for every event.
    """
    return [{"id": found["id"], "text": found["text"], "reply_to": found.get("reply_to"),
             "mentions": list(found.get("mentions") or []),
             "by": found.get("written_by", found["by"]),
             "at": found.get("written_at", found["at"])}
            for found in incident.comments or []]


_WITHHELD = re.compile(r"(files|assignee|tags|comments)(?![\w-])", re.IGNORECASE)


def withheld_in_public(path: str) -> bool:
    """A kept-verbatim value that a public record, and the public history, leave out: a file
    entry that did not read (it may be a protected file's), and any of the casework, which
    is internal (``comments[0]``, ``tags[1]``, ``assignee``)."""
    return _WITHHELD.match(path) is not None


M = TypeVar("M", bound=BaseModel)


def as_stored(model: type[M], data: dict[str, Any]) -> M:
    """A model built from stored values without checking them, nested models included."""
    values = {name: _as_stored_value(field.annotation, data[name])
              for name, field in model.model_fields.items() if name in data}
    return model.model_construct(**values)


def _as_stored_value(annotation: Any, value: Any) -> Any:
    model = _model_for(annotation, value) if isinstance(value, dict) else None
    if model is not None:
        return as_stored(model, value)
    if isinstance(value, list):
        return [_as_stored_value(annotation, item) for item in value]
    kind = _enum_in(annotation)
    if kind is not None and not isinstance(value, kind):
        try:
            return kind(value)
        except ValueError:
            return value
    return value


def _arguments(annotation: Any) -> list[Any]:
    """The types an annotation names, through Optional, list and Annotated."""
    found = [annotation]
    for argument in typing.get_args(annotation):
        found.extend(_arguments(argument))
    return found


def _model_for(annotation: Any, value: dict[str, Any]) -> type[BaseModel] | None:
    """The model an annotation names for ``value``: of a union (a file whole, or as a public
    record lists it), the one whose fields the value fills; else the first."""
    models = [candidate for candidate in _arguments(annotation)
              if isinstance(candidate, type) and not isinstance(candidate, types.GenericAlias)
              and issubclass(candidate, BaseModel)]
    for model in models:
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        if required <= value.keys() <= model.model_fields.keys():
            return model
    return models[0] if models else None


def _enum_in(annotation: Any) -> type[enum.Enum] | None:
    for candidate in _arguments(annotation):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate
    return None

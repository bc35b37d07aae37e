"""The interchange format: one incident per JSON Lines row (SPEC section 5).

``verify import`` validates rows with these models and ``verify export``
writes them, so an export re-imports unchanged. CSV uses the same fields,
flattened (see docs/formats.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from verify.domain.incident import Incident
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


class Record(BaseModel):
    """Base of the format's models: immutable, and unknown fields are errors (typos show)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRecord(Source):
    """A source as the format carries it: everything a source is, but its id.

    Ids (s1, s2…) are given when a source is attached, in the order the row
    lists the sources; a row that names one keeps it verbatim instead (see
    `intake`), so this model refuses it.
    """

    id: str = Field(default="", exclude=True)

    @field_validator("id")
    @classmethod
    def _no_id(cls, value: str) -> str:
        if value:
            raise ValueError("a source's id is given when it is attached, not by the row")
        return value

    def to_source(self) -> Source:
        """The source to attach (withdrawal is an event of its own)."""
        return Source.model_validate(self.model_dump(exclude={"withdrawn"}))

    @classmethod
    def of(cls, source: Source) -> SourceRecord:
        return cls.model_validate(source.model_dump(exclude={"id"}))


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
    unread: dict[str, str] = kept_values()
    """Values the archive gave that could not be read, kept verbatim by field path."""

    @field_validator("code", "duplicate_of")
    @classmethod
    def _canonical(cls, value: str | None) -> str | None:
        return None if value is None else canonical_code(value)

    @field_validator("date")
    @classmethod
    def _plausible_date(cls, value: dt.date) -> dt.date:
        if value.year < 1900:
            raise ValueError("the date is before 1900")
        return value

    @property
    def strikes(self) -> list[StrikeConfirmation]:
        return ([self.strike] if self.strike else []) + list(self.other_strikes)

    @classmethod
    def of(cls, incident: Incident, *, public: bool = False) -> IncidentRecord:
        """The record of a stored incident; ``public`` leaves protected sources and notes out."""
        sources = [SourceRecord.of(source) for source in incident.source_list()
                   if not (public and source.protected)]
        strikes = [StrikeConfirmation.model_validate(s) for s in incident.strikes]
        grading = incident.grading
        return cls(
            code=incident.code,
            date=dt.date.fromisoformat(incident.date),
            country=incident.country,
            location=Location.model_validate(incident.location),
            belligerents=list(incident.belligerents),
            civilians_killed=CasualtyRange.model_validate(incident.killed),
            civilians_injured=CasualtyRange.model_validate(incident.injured),
            summary=incident.summary,
            sources=sources,
            strike=strikes[0] if strikes else None,
            other_strikes=strikes[1:],
            contested_by=[CompetingClaim.model_validate(c) for c in incident.claims],
            assessments=[Assessment.model_validate(a) for a in incident.assessments],
            discounts=[DiscountFinding.model_validate(d) for d in incident.discounts],
            grade=GradeRecord(
                grade=grading["grade"], rationale=grading["rationale"], rule=grading["rule"]
            ) if grading else None,
            dispute=DisputeRecord(
                by=incident.dispute["by"], reason=incident.dispute["reason"]
            ) if incident.dispute else None,
            duplicate_of=incident.duplicate_of,
            notes=[] if public else [note["text"] for note in incident.notes],
            unread=dict(incident.unread or {}),
        )

    def document(self) -> dict[str, Any]:
        return dict(self.model_dump(mode="json"))

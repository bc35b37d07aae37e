"""Incidents held in memory, changed through the aggregate alone: the grading tables' binding.

features/grading.feature states the rulebook's decision tables. Its steps are
shared with the features that run through the application on real stores;
bound here, they reach the domain directly: an `Incident` aggregate, the
party register and the rulebook, with nothing stored. The methods mirror the
few the shared steps call, and do what the application would do around the
aggregate (no more): name parties by their canonical names, and pass them to
the rulebook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from verify.domain.errors import UnknownIncident
from verify.domain.incident import Incident
from verify.domain.parties import PartyRegister
from verify.domain.rulebook import GradeDecision
from verify.domain.values import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    DiscountFinding,
    Grade,
    Location,
    Source,
    StrikeConfirmation,
    canonical_code,
)


@dataclass(frozen=True)
class Shown:
    """What the steps read of an incident."""

    version: int
    state: str
    grade: str | None
    grading: dict[str, Any] | None


class InMemoryCases:
    """Incidents by code, each an aggregate with its events applied and kept in memory."""

    def __init__(self) -> None:
        self.incidents: dict[str, Incident] = {}
        self.register = PartyRegister.open("ann")

    def _get(self, code: str) -> Incident:
        try:
            return self.incidents[canonical_code(code)]
        except KeyError:
            raise UnknownIncident(code) from None

    def report_incident(self, *, code: str, date: dt.date, country: str, location: Location,
                        belligerents: list[str], killed: CasualtyRange, injured: CasualtyRange,
                        summary: str | None, actor: str) -> str:
        parties = self.register.names()
        incident = Incident.report(
            code=code, date=date, country=parties.canonical(country), location=location,
            belligerents=[parties.canonical(name) for name in belligerents], killed=killed,
            injured=injured, summary=summary, actor=actor)
        self.incidents[incident.code] = incident
        return incident.code

    def add_party(self, name: str, aliases: list[str], actor: str) -> None:
        self.register.add(name, aliases, actor)

    def add_source(self, code: str, source: Source, actor: str) -> tuple[str, bool]:
        incident = self._get(code)
        before = incident.corroborated_by is not None
        source_id = incident.add_source(source, actor)
        return source_id, not before and incident.corroborated_by is not None

    def withdraw_source(self, code: str, source_id: str, reason: str, actor: str) -> None:
        self._get(code).withdraw_source(source_id, reason, actor)

    def confirm_strike(self, code: str, strike: StrikeConfirmation, actor: str) -> None:
        parties = self.register.names()
        self._get(code).confirm_strike(
            strike.model_copy(update={"belligerent": parties.canonical(strike.belligerent)}),
            actor, parties)

    def contest(self, code: str, claim: CompetingClaim, actor: str) -> None:
        self._get(code).contest(claim, actor)

    def assess(self, code: str, assessment: Assessment, actor: str) -> None:
        self._get(code).assess(assessment, actor, self.register.names())

    def discount(self, code: str, finding: DiscountFinding, actor: str) -> None:
        self._get(code).discount(finding, actor)

    def grade(self, code: str, actor: str) -> GradeDecision:
        return self._get(code).grade_by_rulebook(actor, parties=self.register.names())

    def override_grade(self, code: str, grade: Grade, rationale: str, actor: str
                       ) -> GradeDecision:
        return self._get(code).override_grade(grade, rationale, actor,
                                              parties=self.register.names())

    def suggest_grade(self, code: str) -> GradeDecision:
        return self._get(code).suggest_grade(self.register.names())

    def show(self, code: str) -> Shown:
        incident = self._get(code)
        return Shown(version=incident.version, state=incident.state.value,
                     grade=incident.grade.value if incident.grade else None,
                     grading=dict(incident.grading) if incident.grading else None)

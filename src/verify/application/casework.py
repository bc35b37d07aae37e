"""Casework: reporting incidents and recording the evidence about them, and naming parties.

Every name of a party (belligerents, countries, competing claims, findings)
is recorded under its canonical name when the party register knows it, so
the record reads one way whatever spelling an analyst typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from verify.application.base import IncidentStore
from verify.application.messages import validation_sentence
from verify.domain.duties import Action
from verify.domain.errors import InvalidInput, Refused
from verify.domain.incident import Incident
from verify.domain.parties import PartyRegister
from verify.domain.sentences import sentence
from verify.domain.values import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    Credibility,
    DiscountFinding,
    Location,
    Precision,
    Reliability,
    Source,
    StrikeConfirmation,
    canonical_code,
)


@dataclasses.dataclass(frozen=True)
class Amendment:
    """What an amendment asks to change; None leaves a fact as recorded."""

    date: dt.date | None = None
    date_end: dt.date | None = None
    time: str | None = None
    location: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: Precision | None = None
    country: str | None = None
    belligerents: list[str] | None = None
    summary: str | None = None

    def location_from(self, recorded: dict[str, Any]) -> Location | None:
        """The amended place: the recorded one with what was given put in; None if unchanged.

        Raises InvalidInput when the result is no place (one coordinate only, say).
        """
        given = {"name": self.location, "lat": self.lat, "lon": self.lon,
                 "precision": self.precision}
        given = {key: value for key, value in given.items() if value is not None}
        if not given:
            return None
        place = {**recorded, **given}
        if "lat" in given:  # coordinates given anew replace any kept verbatim
            place.pop("coordinates_text", None)
        try:
            return Location.model_validate(place)
        except ValidationError as error:
            raise InvalidInput(validation_sentence(error)) from None


class Casework(IncidentStore):
    """Commands that open incidents and add or change the evidence about them."""

    # --------------------------------------------------------------- parties

    def add_party(self, name: str, aliases: list[str], actor: str) -> tuple[str, list[str]]:
        """Record a party with its aliases, or more aliases of a known party."""
        self.authorize(actor, Action.NAME_PARTIES)
        register = self._party_register() or PartyRegister.open(actor)
        party, added = register.add(name, aliases, actor)
        try:
            self.save(register)
        except IntegrityError:
            raise Refused(sentence(
                "someone else changed the parties meanwhile; run the command again")) from None
        return party, added

    def parties(self) -> list[dict[str, Any]]:
        """Every registered party with its aliases, in the order they were recorded."""
        register = self._party_register()
        if register is None:
            return []
        return [{"name": name, "aliases": list(aliases)}
                for name, aliases in register.parties.items()]

    # ------------------------------------------------------------- incidents

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
        date_end: dt.date | None = None,
        time: str | None = None,
    ) -> str:
        """Open an incident; refuse a code that is already taken."""
        self.authorize(actor, Action.REPORT)
        canonical = canonical_code(code)
        if self.has_incident(canonical):
            raise Refused(sentence("incident %(code)s already exists", code=canonical))
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
            date_end=date_end,
            time=time,
        )
        self.save_incident(incident)
        return incident.code

    def add_source(self, code: str, source: Source, actor: str, *,
                   expected_version: int | None = None) -> tuple[str, bool]:
        """Attach a source; returns its id and whether it completed corroboration."""
        with self.changing(code, actor, Action.ADD_SOURCE, expected_version) as incident:
            was_corroborated = incident.corroborated_by is not None
            source_id = incident.add_source(source, actor)
        return source_id, (not was_corroborated and incident.corroborated_by is not None)

    def rerate_source(
        self, code: str, source_id: str, reliability: Reliability, credibility: Credibility,
        reason: str, actor: str, *, expected_version: int | None = None,
    ) -> None:
        with self.changing(code, actor, Action.CHANGE_SOURCE, expected_version) as incident:
            incident.rerate_source(source_id, reliability, credibility, reason, actor)

    def withdraw_source(self, code: str, source_id: str, reason: str, actor: str, *,
                        expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.CHANGE_SOURCE, expected_version) as incident:
            incident.withdraw_source(source_id, reason, actor)

    def confirm_strike(self, code: str, strike: StrikeConfirmation, actor: str, *,
                       expected_version: int | None = None) -> None:
        parties = self.party_names()
        named = strike.model_copy(update={"belligerent": parties.canonical(strike.belligerent)})
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version,
                           parties=parties) as incident:
            incident.confirm_strike(named, actor, parties)

    def contest(self, code: str, claim: CompetingClaim, actor: str, *,
                expected_version: int | None = None) -> None:
        named = claim.model_copy(
            update={"belligerent": self.party_names().canonical(claim.belligerent)})
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version) as incident:
            incident.contest(named, actor)

    def assess(self, code: str, assessment: Assessment, actor: str, *,
               expected_version: int | None = None) -> None:
        parties = self.party_names()
        named = assessment.model_copy(
            update={"belligerent": parties.canonical(assessment.belligerent)})
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version,
                           parties=parties) as incident:
            incident.assess(named, actor, parties)

    def discount(self, code: str, finding: DiscountFinding, actor: str, *,
                 expected_version: int | None = None) -> None:
        if finding.party:
            finding = finding.model_copy(
                update={"party": self.party_names().canonical(finding.party)})
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version) as incident:
            incident.discount(finding, actor)

    def revise_harm(
        self, code: str, killed: CasualtyRange | None, injured: CasualtyRange | None,
        reason: str, actor: str, *, expected_version: int | None = None,
    ) -> None:
        """New casualty figures; a figure not given stays as it is."""
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version) as incident:
            incident.revise_harm(
                killed if killed is not None else CasualtyRange.model_validate(incident.killed),
                injured if injured is not None else CasualtyRange.model_validate(
                    incident.injured),
                reason, actor)

    def mark_duplicate(self, code: str, of: str, actor: str, *,
                       expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.MARK_DUPLICATE, expected_version) as incident:
            original = self.load(of)
            if original.duplicate_of is not None:
                raise Refused(sentence(
                    "incident %(original)s is itself a duplicate of %(first)s; mark %(code)s a "
                    "duplicate of %(first)s instead", original=original.code,
                    first=original.duplicate_of, code=incident.code))
            incident.mark_duplicate(original.code, actor)

    def undo_duplicate(self, code: str, reason: str, actor: str, *,
                       expected_version: int | None = None) -> str:
        """Return a duplicate to its queue; returns the code it was marked a duplicate of."""
        with self.changing(code, actor, Action.MARK_DUPLICATE, expected_version) as incident:
            original = incident.duplicate_of
            incident.undo_duplicate(reason, actor)
        return original or ""

    def amend(self, code: str, amendment: Amendment, reason: str, actor: str, *,
              expected_version: int | None = None) -> dict[str, Any]:
        """Correct an incident's own facts; returns each changed field's old and new value.

        Coordinates, precision and place name change one by one: what is not
        given stays as recorded. Party names are recorded under their
        canonical names, as when the incident was reported.
        """
        parties = self.party_names()
        with self.changing(code, actor, Action.CORRECT, expected_version,
                           parties=parties) as incident:
            changes = incident.amend(
                reason=reason, actor=actor, date=amendment.date, date_end=amendment.date_end,
                time=amendment.time, location=amendment.location_from(incident.location),
                country=parties.canonical(amendment.country)
                if amendment.country is not None else None,
                belligerents=[parties.canonical(name) for name in amendment.belligerents]
                if amendment.belligerents is not None else None,
                summary=amendment.summary)
        return changes

    def retract(self, code: str, item_id: str, reason: str, actor: str, *,
                expected_version: int | None = None) -> str:
        """Retract a strike, competing claim, assessment or finding; returns its id."""
        with self.changing(code, actor, Action.CORRECT, expected_version) as incident:
            return incident.retract(item_id, reason, actor)

    def add_note(self, code: str, text: str, actor: str, *,
                 expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.NOTE, expected_version) as incident:
            incident.add_note(text, actor)

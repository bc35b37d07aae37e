"""Strike reports: record them, list them, and match them to incidents.

Reading report files is `verify.adapters.strike_files`' job, gazetteers
`verify.adapters.gazetteer`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from verify.application.app import VerifyApp
from verify.application.base import fewer_collections
from verify.application.importing import Outcome, Status
from verify.domain.duties import Action
from verify.domain.gazetteer import Finding, Gazetteer, GazetteerSource
from verify.domain.incident import Incident
from verify.domain.sentences import Listed, sentence
from verify.domain.strikes import (
    Candidate,
    Located,
    StrikeReport,
    StrikeReportRecord,
    at_place,
    by_coordinates,
    match,
    report_id,
)
from verify.domain.values import Placing, StrikeConfirmation, StrikeStatus

BATCH = 1000

RECORD_FIELDS = list(StrikeReportRecord.model_fields)


# ------------------------------------------------------------------- service


@dataclasses.dataclass
class Placed:
    """Incidents waiting for a strike and strike reports, as matching placed them."""

    waiting: int
    """How many incidents have no strike confirmation yet (duplicates left out)."""
    incidents: list[Located] = dataclasses.field(default_factory=list)
    reports: list[Located] = dataclasses.field(default_factory=list)
    incidents_not_placed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Each with its code, location, country and the reason."""
    reports_not_placed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Each with its reference, belligerent, place and the reason."""


class StrikeReports:
    """What the application does with belligerents' strike reports."""

    def __init__(self, app: VerifyApp) -> None:
        self.app = app

    def import_rows(
        self, rows: Iterable[tuple[int, StrikeReportRecord | None, str | None]], actor: str
    ) -> Iterator[Outcome]:
        """Record each new report; a known reference is compared, never changed."""
        self.app.authorize(actor, Action.STRIKE_REPORTS)
        batch: dict[Any, tuple[int, StrikeReportRecord, StrikeReport]] = {}
        for line, record, error in rows:
            if record is None:
                yield Outcome(line, Status.INVALID, message=error or sentence("invalid row"))
                continue
            key = report_id(record.belligerent, record.reference)
            if key in batch:
                yield self._compare(line, batch[key][1], record,
                                    sentence("line %(line)s", line=batch[key][0]))
                continue
            stored = self.stored(key)
            if stored is not None:
                yield self._compare(line, stored, record, sentence("the store"))
                continue
            batch[key] = (line, record, StrikeReport.record(record, actor))
            if len(batch) >= BATCH:
                yield from self._save(batch)
        yield from self._save(batch)

    def _save(self, batch: dict[Any, tuple[int, StrikeReportRecord, StrikeReport]]
              ) -> Iterator[Outcome]:
        if not batch:
            return
        entries = list(batch.values())
        batch.clear()
        self.app.save(*(report for _, _, report in entries))
        for line, record, _ in entries:
            yield Outcome(line, Status.IMPORTED, record.reference, events=1)

    @staticmethod
    def _compare(line: int, stored: StrikeReportRecord, incoming: StrikeReportRecord,
                 where: str) -> Outcome:
        if stored == incoming:
            return Outcome(line, Status.UNCHANGED, incoming.reference)
        changed = [name for name in RECORD_FIELDS
                   if getattr(stored, name) != getattr(incoming, name)]
        return Outcome(line, Status.DIFFERS, incoming.reference, sentence(
            "report %(report)s differs from %(where)s in %(fields)s; not merged",
            report=incoming.reference, where=where, fields=Listed(changed, ", ")))

    def stored(self, key: Any) -> StrikeReportRecord | None:
        events = list(self.app.events.get(key, lte=1))
        if not events or not isinstance(events[0], StrikeReport.Recorded):
            return None
        return StrikeReportRecord.model_validate(events[0].report)

    def all(self) -> Iterator[StrikeReportRecord]:
        """Every recorded report, in the order recorded (one event each)."""
        for event in self.app.events_of(StrikeReport.Recorded):
            assert isinstance(event, StrikeReport.Recorded)
            yield StrikeReportRecord.model_validate(event.report)

    # ---------------------------------------------------------------- matching

    def placed(self, gazetteers: GazetteerSource) -> Placed:
        """Every incident still without a strike confirmation, and every report, placed as
        matching places them (facts as amended), or listed with the reason it cannot be."""
        self.app.catch_up()
        settled = self.app.read_model.settled_codes()
        amended: dict[Any, dict[str, Any]] = {}
        for amendment in self.app.events_of(Incident.Amended):  # log order: the last one wins
            facts = amended.setdefault(amendment.originator_id, {})
            facts.update({field: change["new"] for field, change in amendment.changes.items()})
        waiting = [
            {"code": event.code, "date": event.date, "country": event.country,
             "location": event.location, "belligerents": event.belligerents,
             **amended.get(event.originator_id, {})}
            for event in self.app.events_of(Incident.Reported) if event.code not in settled]
        placing = Placer(gazetteers.covering(facts["country"] for facts in waiting))
        placed = Placed(waiting=len(waiting))
        for facts in waiting:
            located, reason = placing.incident(facts)
            if located is None:
                placed.incidents_not_placed.append({
                    "code": facts["code"], "location": facts["location"]["name"],
                    "country": facts["country"], "reason": reason})
            else:
                placed.incidents.append(located)
        for record in self.all():
            located, reason = placing.report(record)
            if located is None:
                placed.reports_not_placed.append({
                    "reference": record.reference, "belligerent": record.belligerent,
                    "place": record.place, "reason": reason})
            else:
                placed.reports.append(located)
        return placed

    def candidates(self, gazetteers: GazetteerSource, *, radius_km: float,
                   days: int) -> tuple[list[Candidate], dict[str, Any]]:
        """Candidate reports for every incident still without a strike confirmation, and
        the counts and lists of what could not be placed, each with its reason."""
        with fewer_collections():  # hundreds of thousands of small objects, no cycles
            placed = self.placed(gazetteers)
            found = match(placed.incidents, placed.reports, radius_km=radius_km, days=days,
                          party_key=self.app.party_names().key)
        counts = {"incidents_without_strike": placed.waiting,
                  "incidents_not_placed": len(placed.incidents_not_placed),
                  "reports": len(placed.reports) + len(placed.reports_not_placed),
                  "reports_not_placed": len(placed.reports_not_placed),
                  "not_placed": {"incidents": placed.incidents_not_placed,
                                 "reports": placed.reports_not_placed}}
        return found, counts

    def apply(self, found: list[Candidate], actor: str) -> list[Candidate]:
        """Record the best candidate of each incident as a likely strike; returns those applied."""
        self.app.authorize(actor, Action.STRIKE_REPORTS)
        best: dict[str, Candidate] = {}
        for candidate in found:
            best.setdefault(candidate.incident, candidate)
        incidents = []
        parties = self.app.party_names()
        for code, candidate in best.items():
            incident = self.app.load(code)
            before = incident.deciding(parties) if incident.grading is not None else None
            incident.confirm_strike(StrikeConfirmation(
                belligerent=candidate.belligerent, status=StrikeStatus.LIKELY,
                report=candidate.report, distance_km=candidate.distance_km,
                day_offset=candidate.day_offset, rule=candidate.rule,
                placed=candidate.placed), actor)
            incident.review_regrade(before, parties, actor)
            incidents.append(incident)
        refused = {incident.code for incident in self.app.save_many(incidents)}
        return [candidate for code, candidate in best.items() if code not in refused]


class Placer:
    """Puts incidents and reports on the map: their own coordinates first (as precise as
    they say), else the most specific gazetteer place their location names; the same
    words in the same country are looked up once."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._found: dict[tuple[str, str | None], tuple[Finding, Placing | None]] = {}

    def _find(self, text: str, country: str | None) -> tuple[Finding, Placing | None]:
        """What the text names, and the placing there (one object for all who share it)."""
        asked = (text, country)
        if asked not in self._found:
            finding = self.gazetteer.find(text, country)
            self._found[asked] = (finding, None if finding.place is None
                                  else at_place(finding.place, finding.named))
        return self._found[asked]

    def _placed(self, key: str, day: dt.date, belligerents: tuple[str, ...],
                lat: float | None, lon: float | None, precision: str | None, text: str,
                country: str | None) -> tuple[Located | None, str | None]:
        if lat is not None and lon is not None:
            return Located(key=key, day=day, belligerents=belligerents, lat=lat, lon=lon,
                           placing=by_coordinates(precision)), None
        finding, placing = self._find(text, country)
        if finding.place is None or placing is None:
            return None, self._why_not(finding, country)
        return Located(key=key, day=day, belligerents=belligerents, lat=finding.place.lat,
                       lon=finding.place.lon, placing=placing), None

    def _why_not(self, finding: Finding, country: str | None) -> str:
        if finding.elsewhere:
            return sentence(
                "no coordinates, and the places it names are in other countries: %(places)s",
                places=Listed([f"{place.name} ({self.gazetteer.country_name(place.country)})"
                               for place in finding.elsewhere[:5]], ", "))
        if country and self.gazetteer.country_code(country):
            return sentence("no coordinates, and it names no place the gazetteer knows in "
                            "%(country)s", country=country)
        return sentence("no coordinates, and it names no place the gazetteer knows")

    def incident(self, facts: dict[str, Any]) -> tuple[Located | None, str | None]:
        """An incident placed from its facts as amended: date, country, location,
        belligerents; or why it cannot be."""
        location = facts["location"]
        lat, lon = location.get("lat"), location.get("lon")
        return self._placed(
            facts["code"], dt.date.fromisoformat(facts["date"]), tuple(facts["belligerents"]),
            None if lat is None else float(lat), None if lon is None else float(lon),
            location.get("precision"), location["name"], facts.get("country"))

    def report(self, record: StrikeReportRecord) -> tuple[Located | None, str | None]:
        """A strike report placed, or why it cannot be."""
        return self._placed(record.reference, record.strike_date, (record.belligerent,),
                            record.lat, record.lon, record.precision, record.place or "",
                            None)

"""Strike reports: record them, list them, and match them to incidents.

Reading report files and gazetteers is `verify.adapters.strike_files`' job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from verify.application.app import VerifyApp
from verify.application.importing import Outcome, Status
from verify.domain.duties import Action
from verify.domain.incident import Incident
from verify.domain.sentences import Listed, sentence
from verify.domain.strikes import (
    Candidate,
    Gazetteer,
    Located,
    StrikeReport,
    StrikeReportRecord,
    match,
    report_id,
)
from verify.domain.values import StrikeConfirmation, StrikeStatus

BATCH = 1000

RECORD_FIELDS = list(StrikeReportRecord.model_fields)


# ------------------------------------------------------------------- service


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

    def candidates(self, gazetteer: Gazetteer, *, radius_km: float,
                   days: int) -> tuple[list[Candidate], dict[str, int]]:
        """Candidate reports for every incident still without a strike confirmation."""
        self.app.catch_up()
        reports, unplaced_reports = [], 0
        for record in self.all():
            located = _locate_report(record, gazetteer)
            if located is None:
                unplaced_reports += 1
            else:
                reports.append(located)
        settled = self.app.read_model.settled_codes()
        amended: dict[Any, dict[str, Any]] = {}
        for amendment in self.app.events_of(Incident.Amended):  # log order: the last one wins
            facts = amended.setdefault(amendment.originator_id, {})
            facts.update({field: change["new"] for field, change in amendment.changes.items()})
        incidents, unplaced_incidents, waiting = [], 0, 0
        for event in self.app.events_of(Incident.Reported):
            if event.code in settled:
                continue
            waiting += 1
            facts = {"date": event.date, "location": event.location,
                     "belligerents": event.belligerents,
                     **amended.get(event.originator_id, {})}
            located = _locate_incident(event.code, facts, gazetteer)
            if located is None:
                unplaced_incidents += 1
            else:
                incidents.append(located)
        found = match(incidents, reports, radius_km=radius_km, days=days,
                      party_key=self.app.party_names().key)
        counts = {"incidents_without_strike": waiting,
                  "incidents_not_placed": unplaced_incidents,
                  "reports": len(reports) + unplaced_reports,
                  "reports_not_placed": unplaced_reports}
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
                day_offset=candidate.day_offset, rule=candidate.rule), actor)
            incident.review_regrade(before, parties, actor)
            incidents.append(incident)
        refused = {incident.code for incident in self.app.save_many(incidents)}
        return [candidate for code, candidate in best.items() if code not in refused]


def _locate_report(record: StrikeReportRecord, gazetteer: Gazetteer) -> Located | None:
    if record.lat is not None and record.lon is not None:
        lat, lon, how = record.lat, record.lon, "coordinates"
    else:
        place = gazetteer.locate(record.place or "")
        if place is None:
            return None
        lat, lon, how = place.lat, place.lon, f"gazetteer: {place.name}"
    return Located(key=record.reference, day=record.strike_date,
                   belligerents=(record.belligerent,), lat=lat, lon=lon, how=how)


def _locate_incident(code: str, facts: dict[str, Any], gazetteer: Gazetteer
                     ) -> Located | None:
    """An incident placed from its facts as amended: date, location, belligerents."""
    location = facts["location"]
    if location.get("lat") is not None and location.get("lon") is not None:
        lat, lon = float(location["lat"]), float(location["lon"])
    else:
        place = gazetteer.locate(location["name"])
        if place is None:
            return None
        lat, lon = place.lat, place.lon
    return Located(key=code, day=dt.date.fromisoformat(facts["date"]),
                   belligerents=tuple(facts["belligerents"]), lat=lat, lon=lon)


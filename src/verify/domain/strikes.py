"""Belligerents' strike reports, places, and matching reports to incidents.

A coalition's daily release says "Near Raqqah, six strikes engaged ...": it
names a town, a day, a number of strikes, and sometimes comes a day late. A
report is kept as its own event-sourced record; the gazetteer turns the town
into coordinates; the matcher finds, for each incident without a strike
confirmation, the reports by an alleged belligerent within a radius and a
number of days, best first.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self

from eventsourcing.domain import Aggregate
from pydantic import Field, model_validator

from verify.domain.gazetteer import (
    EARTH_RADIUS_KM,
    PRECISION_REACH_KM,
    Gazetteer,
    Place,
    distance_km,
    place_key,
)
from verify.domain.sentences import Sentence, sentence
from verify.domain.text import fold
from verify.domain.values import (
    LongText,
    MatchPlacing,
    PlacedBy,
    Placing,
    Precision,
    ShortText,
    Value,
    how_far,
    refuse_nul,
)

REPORT_NAMESPACE = uuid.UUID("0b7f3c52-8d3e-4f54-9c39-3f1b6a0e2d41")


def report_id(belligerent: str, reference: str) -> uuid.UUID:
    """A report's id, from who published it and its reference: importing twice finds it."""
    return uuid.uuid5(REPORT_NAMESPACE, f"{belligerent.strip()}\x1f{reference.strip()}")


class StrikeReportRecord(Value):
    """One strike report as a belligerent published it."""

    reference: ShortText
    belligerent: ShortText
    report_date: dt.date | None = None
    strike_date: dt.date
    place: ShortText | None = None
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    precision: Precision | None = None
    strikes: int | None = Field(default=None, ge=0, le=100_000)
    text: LongText | None = None

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(sentence("give both lat and lon, or neither"))
        if self.lat is None and not self.place:
            raise ValueError(sentence("a report needs a place or coordinates"))
        if self.report_date is not None and self.report_date < self.strike_date:
            raise ValueError(sentence("the report date is before the strike date"))
        return self


class StrikeReport(Aggregate):
    """A belligerent's strike report, recorded once and never changed."""

    class Event(Aggregate.Event):
        """The base of every StrikeReport event. Declared here so the events below
        subclass it directly: the library would otherwise define each one twice."""

    @staticmethod
    def create_id(belligerent: str, reference: str) -> uuid.UUID:
        return report_id(belligerent, reference)

    class Recorded(Aggregate.Created, Event):
        report: dict[str, Any]
        actor: str

        def apply(self, aggregate: StrikeReport) -> None:
            aggregate.report = dict(self.report)
            aggregate.recorded_by = self.actor

    if TYPE_CHECKING:  # set by Recorded.apply; annotations here would become __init__ fields
        report: dict[str, Any]
        recorded_by: str

    @classmethod
    def record(cls, record: StrikeReportRecord, actor: str) -> StrikeReport:
        refuse_nul(record.model_dump(mode="json"))
        return cls._create(
            cls.Recorded,
            id=report_id(record.belligerent, record.reference),
            report=record.model_dump(mode="json"),
            actor=actor,
        )


# ----------------------------------------------------------------- matching


_UNSTATED = Placing(by=PlacedBy.COORDINATES)
"""Placed by coordinates of no stated precision."""


class Located(Value):
    """Something with a day, a belligerent set and a point: an incident or a report, and how
    it was placed there."""

    key: str
    day: dt.date
    belligerents: tuple[str, ...]
    lat: float
    lon: float
    placing: Placing = _UNSTATED

    @property
    def how(self) -> str:
        """How it was placed, in a word or two: coordinates, or gazetteer: Tabqa."""
        if self.placing.by is PlacedBy.GAZETTEER:
            return f"gazetteer: {self.placing.place}"
        return "coordinates"


_BY_COORDINATES = {precision: Placing(by=PlacedBy.COORDINATES, precision=precision,
                                      reach_km=PRECISION_REACH_KM[precision])
                   for precision in Precision}


def by_coordinates(precision: Precision | str | None) -> Placing:
    """Placed by its own coordinates, as precise as they say they are."""
    try:
        return _BY_COORDINATES[Precision(precision)] if precision is not None else _UNSTATED
    except ValueError:  # a word no version of verify recorded: its precision is unknown
        return _UNSTATED


def at_place(place: Place, named: str | None = None) -> Placing:
    """Placed at a gazetteer place's centre, named in its location by ``named``."""
    return Placing(by=PlacedBy.GAZETTEER, place=place.name, country=place.country,
                   geonames_id=place.geonames_id, named=named, reach_km=place.reach_km)


def placed_pair(incident: Located, report: Located,
                known: dict[tuple[int, int, bool], MatchPlacing] | None = None
                ) -> MatchPlacing:
    """How a matched pair was placed: one gazetteer place for both, or their distance's
    uncertainty (both sides' reach added up). ``known`` keeps those already made, by
    placing: many incidents and reports share one (a town, or a precision)."""
    one, other = incident.placing, report.placing
    same = (one.by is PlacedBy.GAZETTEER and other.by is PlacedBy.GAZETTEER
            and (incident.lat, incident.lon) == (report.lat, report.lon)
            and (one.place, one.country, one.geonames_id)
            == (other.place, other.country, other.geonames_id))
    asked = (id(one), id(other), same)
    if known is not None and asked in known:
        return known[asked]
    reach = (one.reach_km or 0.0) + (other.reach_km or 0.0)
    placed = MatchPlacing.model_construct(
        incident=one, report=other, same_place=one.place if same else None,
        uncertainty_km=round(reach, 1) if reach else None)
    if known is not None:
        known[asked] = placed
    return placed


class Candidate(Value):
    """A report that may confirm a strike near an incident on its day."""

    incident: str
    report: str
    belligerent: str
    distance_km: float | None
    """From the incident's point to the report's; None when both are one gazetteer place."""
    day_offset: int
    report_located_by: str
    rule: str
    incident_located_by: str = "coordinates"
    placed: MatchPlacing | None = None
    """How each side was placed, and what the distance is worth."""

    def how_far(self) -> Sentence:
        return how_far(self.distance_km, self.placed)


def match_rule(radius_km: float, days: int) -> str:
    return f"MATCH: same belligerent, within {radius_km:g} km and {days} day(s)"


PartyKey = Callable[[str], str]
"""How two party names compare: folded (domain.text.fold), or through registered aliases."""


class StrikeIndex:
    """Reports bucketed by party, day and a grid cell about one radius wide.

    An incident then looks at (2 * days + 1) days and the 3 x 3 cells around it,
    instead of at every report: matching is linear in the number of incidents.
    Each report keeps its latitude in radians and its cosine, so a report
    beyond the radius is passed over after two sines, before the arc is taken.
    """

    def __init__(self, reports: Iterable[Located], radius_km: float,
                 party_key: PartyKey = fold) -> None:
        self.radius_km = radius_km
        self.party_key = party_key
        self.cell_deg = max(radius_km / 111.0, 0.01)
        # The haversine's "a" of the radius, a hair wider: the exact test comes after.
        self.most_a = math.sin(radius_km / (2 * EARTH_RADIUS_KM)) ** 2 * (1 + 1e-9) + 1e-15
        self.buckets: dict[tuple[str, dt.date, int, int],
                           list[tuple[Located, float, float]]] = defaultdict(list)
        for report in reports:
            phi = math.radians(report.lat)
            kept = (report, phi, math.cos(phi))
            for belligerent in report.belligerents:
                cell = self._cell(report.lat, report.lon)
                self.buckets[(party_key(belligerent), report.day, *cell)].append(kept)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell_deg), math.floor(lon / self.cell_deg)

    def candidates(self, incident: Located, days: int) -> Iterator[tuple[Located, str, float, int]]:
        row, column = self._cell(incident.lat, incident.lon)
        # Longitude degrees shrink towards the poles: widen the search in columns.
        shrink = max(math.cos(math.radians(incident.lat)), 0.05)
        reach = math.ceil(1 / shrink)
        phi1 = math.radians(incident.lat)
        cos1 = math.cos(phi1)
        sin, most_a = math.sin, self.most_a
        for belligerent in incident.belligerents:
            party = self.party_key(belligerent)
            for offset in range(-days, days + 1):
                try:
                    day = incident.day + dt.timedelta(days=offset)
                except OverflowError:  # next to the first or last day a date can name
                    continue
                for d_row in (-1, 0, 1):
                    for d_col in range(-reach, reach + 1):
                        for report, phi2, cos2 in self.buckets.get(
                                (party, day, row + d_row, column + d_col), ()):
                            # distance_km's own terms, so the arc below is the same number
                            a = (sin((phi2 - phi1) / 2) ** 2 + cos1 * cos2
                                 * sin(math.radians(report.lon - incident.lon) / 2) ** 2)
                            if a > most_a:
                                continue
                            distance = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
                            if distance <= self.radius_km:
                                yield report, belligerent, distance, offset


def match(incidents: Iterable[Located], reports: Iterable[Located], *, radius_km: float,
          days: int, party_key: PartyKey = fold) -> list[Candidate]:
    """Every (incident, report) pair within the radius and days, by an alleged belligerent,
    best first for each incident: nearest, then closest in time.

    A candidate names the belligerent as the incident alleges it."""
    index = StrikeIndex(reports, radius_km, party_key)
    rule = match_rule(radius_km, days)
    known: dict[tuple[int, int, bool], MatchPlacing] = {}  # the placings are kept alive
    found: list[Candidate] = []
    for incident in incidents:
        pairs = sorted(index.candidates(incident, days),
                       key=lambda pair: (pair[2], abs(pair[3]), pair[0].key))
        for report, belligerent, distance, offset in pairs:
            placed = placed_pair(incident, report, known)
            found.append(Candidate(
                incident=incident.key, report=report.key, belligerent=belligerent,
                distance_km=None if placed.same_place else round(distance, 2),
                day_offset=offset, report_located_by=report.how, rule=rule,
                incident_located_by=incident.how, placed=placed))
    return found


__all__ = [
    "Candidate", "Gazetteer", "Located", "Place", "StrikeIndex", "StrikeReport",
    "StrikeReportRecord", "at_place", "by_coordinates", "distance_km", "how_far", "match",
    "match_rule", "place_key", "placed_pair", "report_id",
]

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
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self

from eventsourcing.domain import Aggregate
from pydantic import Field, model_validator

from verify.domain.sentences import sentence
from verify.domain.text import fold
from verify.domain.values import LongText, Precision, ShortText, Value, refuse_nul

REPORT_NAMESPACE = uuid.UUID("0b7f3c52-8d3e-4f54-9c39-3f1b6a0e2d41")
EARTH_RADIUS_KM = 6371.0088


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

    @staticmethod
    def create_id(belligerent: str, reference: str) -> uuid.UUID:
        return report_id(belligerent, reference)

    class Recorded(Aggregate.Created):
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


# ---------------------------------------------------------------- gazetteer

_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                                  "ـ": None})


def place_key(name: str) -> str:
    """How a place name is compared: case, accents, Arabic vowel marks and letter variants,
    punctuation and a leading article do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.translate(_ARABIC_VARIANTS)
    words = re.sub(r"[^\w]+", " ", kept).split()
    if words and words[0] in {"al", "el", "ar", "ad", "as", "ash", "at", "az"}:
        words = words[1:]
    if words and words[0].startswith("ال") and len(words[0]) > 3:
        words[0] = words[0][2:]
    return " ".join(words)


class Place(Value):
    name: ShortText
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Gazetteer:
    """Place names, in any of their spellings, to coordinates."""

    def __init__(self, places: Iterable[tuple[Place, Iterable[str]]] = ()) -> None:
        self._by_key: dict[str, Place] = {}
        for place, alternates in places:
            for name in (place.name, *alternates):
                key = place_key(name)
                if key:
                    self._by_key.setdefault(key, place)

    def locate(self, name: str) -> Place | None:
        return self._by_key.get(place_key(name))

    def __len__(self) -> int:
        return len({id(place) for place in self._by_key.values()})


# ----------------------------------------------------------------- matching


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Located(Value):
    """Something with a day, a belligerent set and a point: an incident or a report."""

    key: str
    day: dt.date
    belligerents: tuple[str, ...]
    lat: float
    lon: float
    how: str = "coordinates"


class Candidate(Value):
    """A report that may confirm a strike near an incident on its day."""

    incident: str
    report: str
    belligerent: str
    distance_km: float
    day_offset: int
    report_located_by: str
    rule: str


def match_rule(radius_km: float, days: int) -> str:
    return f"MATCH: same belligerent, within {radius_km:g} km and {days} day(s)"


PartyKey = Callable[[str], str]
"""How two party names compare: folded (domain.text.fold), or through registered aliases."""


class StrikeIndex:
    """Reports bucketed by party, day and a grid cell about one radius wide.

    An incident then looks at (2 * days + 1) days and the 3 x 3 cells around it,
    instead of at every report: matching is linear in the number of incidents.
    """

    def __init__(self, reports: Iterable[Located], radius_km: float,
                 party_key: PartyKey = fold) -> None:
        self.radius_km = radius_km
        self.party_key = party_key
        self.cell_deg = max(radius_km / 111.0, 0.01)
        self.buckets: dict[tuple[str, dt.date, int, int], list[Located]] = defaultdict(list)
        for report in reports:
            for belligerent in report.belligerents:
                cell = self._cell(report.lat, report.lon)
                self.buckets[(party_key(belligerent), report.day, *cell)].append(report)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell_deg), math.floor(lon / self.cell_deg)

    def candidates(self, incident: Located, days: int) -> Iterator[tuple[Located, str, float, int]]:
        row, column = self._cell(incident.lat, incident.lon)
        # Longitude degrees shrink towards the poles: widen the search in columns.
        shrink = max(math.cos(math.radians(incident.lat)), 0.05)
        reach = math.ceil(1 / shrink)
        for belligerent in incident.belligerents:
            party = self.party_key(belligerent)
            for offset in range(-days, days + 1):
                try:
                    day = incident.day + dt.timedelta(days=offset)
                except OverflowError:  # next to the first or last day a date can name
                    continue
                for d_row in (-1, 0, 1):
                    for d_col in range(-reach, reach + 1):
                        for report in self.buckets.get(
                                (party, day, row + d_row, column + d_col), ()):
                            distance = distance_km(incident.lat, incident.lon, report.lat,
                                                   report.lon)
                            if distance <= self.radius_km:
                                yield report, belligerent, distance, offset


def match(incidents: Iterable[Located], reports: Iterable[Located], *, radius_km: float,
          days: int, party_key: PartyKey = fold) -> list[Candidate]:
    """Every (incident, report) pair within the radius and days, by an alleged belligerent,
    best first for each incident: nearest, then closest in time.

    A candidate names the belligerent as the incident alleges it."""
    index = StrikeIndex(reports, radius_km, party_key)
    rule = match_rule(radius_km, days)
    found: list[Candidate] = []
    for incident in incidents:
        pairs = sorted(index.candidates(incident, days),
                       key=lambda pair: (pair[2], abs(pair[3]), pair[0].key))
        found.extend(
            Candidate(incident=incident.key, report=report.key, belligerent=belligerent,
                      distance_km=round(distance, 2), day_offset=offset,
                      report_located_by=report.how, rule=rule)
            for report, belligerent, distance, offset in pairs
        )
    return found

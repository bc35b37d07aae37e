"""Places as people name them: a gazetteer, and finding the place a location names.

Analysts write "Bakery, Tabqa (الطبقة)", "Tabqa, slaughterhouse" or "Al-Mohsenli,
countryside of Manbij, Aleppo": a building, a village, a district and a
province, in any order and script. The gazetteer finds every run of words that
is one of its names (compared as `place_key` folds them), lets the incident's
country decide between places of the same name, and takes the most specific
place named: the smallest, unless it lies too far from a larger place named
beside it to be inside it. A place's point is its centre; its reach says how
far from that point something "in" it may be, so no distance derived from it
claims more precision than it has.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from pydantic import Field

from verify.domain.values import Precision, ShortText, Value

EARTH_RADIUS_KM = 6371.0088

PEOPLE_PER_KM2 = 4_000
"""A town's density, to estimate its extent from its population (lower is more careful)."""

SMALLEST_REACH_KM = 1.0
"""No town is taken to reach less far than this from its centre."""

VILLAGE_REACH_KM = 2.0
"""The reach of a place of unknown population: a village or a neighbourhood added by hand."""

AREA_REACH_KM = {"ADM1": 75.0, "ADM2": 30.0, "ADM3": 15.0, "ADM4": 5.0, "PPLX": 1.0}
"""GeoNames feature codes whose reach is not a town's: provinces, districts, sub-districts,
and a section of a town (a neighbourhood)."""

PRECISION_REACH_KM = {
    Precision.EXACT: 0.0, Precision.STREET: 0.1, Precision.NEIGHBOURHOOD: 1.0,
    Precision.VILLAGE: 2.0, Precision.TOWN: 5.0, Precision.CITY: 10.0,
    Precision.DISTRICT: 25.0, Precision.PROVINCE: 100.0,
}
"""How far from given coordinates an incident or strike may be, by their stated precision."""

SAME_PLACE_KM = 5.0
"""A place of a later gazetteer file that shares a name with a known place this close (or
within its reach) is that place, renamed and with more names."""

BESIDE_KM = 200.0
"""A place named beside a larger one but farther from it than this is not inside it: it is
another place of that name, and the larger one is taken instead."""

DESCRIPTIVE = frozenset({
    "near", "in", "of", "the", "and", "at", "on", "by", "from", "to", "outskirts",
    "countryside", "rural", "village", "town", "city", "district", "subdistrict", "province",
    "governorate", "area", "region", "north", "south", "east", "west", "northern", "southern",
    "eastern", "western", "central", "centre", "center", "old", "new", "neighbourhood",
    "neighborhood", "quarter", "street", "road", "camp", "strike", "strikes", "one", "two",
    "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "ريف", "قريه", "بلده", "مدينه", "حي", "قرب", "شمال", "جنوب", "شرق", "غرب", "شمالي",
    "جنوبي", "شرقي", "غربي", "منطقه", "ناحيه", "محافظه", "قضاء", "في", "من", "علي", "مخيم",
    "طريق", "محيط", "ضواحي", "وسط",
})
"""Words (folded) that describe a place rather than name it: never a place's name alone."""

GENERIC = frozenset({
    "tall", "tell", "tal", "kafr", "kfar", "ayn", "ain", "deir", "dayr", "jisr", "ras", "bir",
    "jabal", "jebel", "wadi", "khirbat", "khirbet", "qasr", "suq", "souq", "umm", "abu",
    "bani", "beni", "beit", "bayt", "mazraat",
    "تل", "كفر", "عين", "دير", "جسر", "راس", "بير", "بئر", "جبل", "وادي", "خربه", "قصر",
    "سوق", "ام", "ابو", "بني", "بيت", "مزرعه",
})
"""Words (folded) that begin many names (Tall Afar, Kafr Nabl, Jabal Bishri): one written
onto the next word, or a word written onto one, is part of a longer name, not a place of
its own ("Tall Afar" does not name the town of At Tall)."""

LONGEST_NAME = 6
"""The most words a name is looked for in."""

# ------------------------------------------------------------------- names

_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                                  "ـ": None})
_ARTICLES = frozenset({"al", "el", "ar", "ad", "as", "ash", "at", "az"})
_ARABIC_PREFIXES = frozenset("وبفك")  # and, in, so, like: written onto the next word
_TOKEN = re.compile(r"[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]+")
_GLUE = re.compile(r"[\s\-‐‑'’ʼ`]*")
"""What joins the words of one name: spaces, hyphens, apostrophes (not a comma)."""


def _folded_words(name: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.translate(_ARABIC_VARIANTS)
    return re.sub(r"[^\w]+", " ", kept).split()


@functools.lru_cache(maxsize=65_536)
def _folded_token(token: str) -> tuple[str, ...]:
    """A word of a location, folded: the same words come back in thousands of locations."""
    return tuple(_folded_words(token))


def _key(words: Sequence[str]) -> str:
    if words and words[0] in _ARTICLES:
        words = words[1:]
    if words and words[0].startswith("ال") and len(words[0]) > 3:
        words = [words[0][2:], *words[1:]]
    return " ".join(words)


def place_key(name: str) -> str:
    """How a place name is compared: case, accents, Arabic vowel marks and letter variants,
    punctuation and a leading article do not matter."""
    return _key(_folded_words(name))


# ------------------------------------------------------------------ places


class Place(Value):
    """A place of the gazetteer: its centre, and what is known of its size."""

    name: ShortText
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: str | None = None
    """ISO 3166 alpha-2 code, when known: the incident's country decides between namesakes."""
    population: int | None = Field(default=None, ge=0)
    geonames_id: int | None = None
    area_km: float | None = Field(default=None, ge=0, le=20_000)
    """The reach of a province, district or neighbourhood, which a population does not give."""

    @property
    def reach_km(self) -> float:
        """How far from its centre something in this place may be."""
        if self.area_km is not None:
            return self.area_km
        if self.population:
            radius = math.sqrt(self.population / (math.pi * PEOPLE_PER_KM2))
            return max(SMALLEST_REACH_KM, round(radius, 1))
        return VILLAGE_REACH_KM


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _apart(one: Place, other: Place) -> float:
    return distance_km(one.lat, one.lon, other.lat, other.lon)


class Finding(NamedTuple):
    """What a location names: the place taken and the words that named it; or, when none is
    taken, the places of the names it holds that lie in other countries."""

    place: Place | None
    named: str | None = None
    elsewhere: tuple[Place, ...] = ()


@dataclasses.dataclass(eq=False)
class _Entry:
    place: Place
    main: str
    """The key of its main name."""
    rank: int
    """The source it last came from: a later source ranks higher."""


class Gazetteer:
    """Place names, in any of their spellings, to places; and countries' names to codes."""

    def __init__(self, places: Iterable[tuple[Place, Iterable[str]]] = (),
                 countries: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        self._by_key: dict[str, list[_Entry]] = {}
        self._starts: set[str] = set()
        """The first words of names of several words: "deir", "deir ez"."""
        self._sources = 0
        self._countries: dict[str, str] = {}
        self._country_names: dict[str, str] = {}
        self.add_countries(countries)
        self.add(places)

    # ------------------------------------------------------------ building

    def add_countries(self, countries: Iterable[tuple[str, Iterable[str]]]) -> None:
        """Countries by code (ISO 3166 alpha-2) and their names, the first one shown."""
        for code, names in countries:
            code = code.strip().upper()
            named = [name for name in names if name.strip()]
            self._country_names.setdefault(code, named[0] if named else code)
            for name in (code, *named):
                key = place_key(name)
                if key:
                    self._countries.setdefault(key, code)

    def add(self, places: Iterable[tuple[Place, Iterable[str]]], *, merge: bool = False
            ) -> None:
        """Places of one more source, ranking above those added before. With ``merge``, a
        place sharing a name with a known place within reach is that place: it takes this
        source's name and point, and adds its names (a file naming Tabqa as analysts do)."""
        self.add_keyed(((place, [place_key(name) for name in (place.name, *alternates)])
                        for place, alternates in places), merge=merge)

    def add_keyed(self, places: Iterable[tuple[Place, Sequence[str]]], *, merge: bool = False
                  ) -> None:
        """As `add`, with each place's names given already folded by `place_key`, its main
        name's first (as the built-in gazetteer holds them: folding 200,000 names on every
        start would take seconds)."""
        self._sources += 1
        for place, folded in places:
            keys = list(dict.fromkeys(key for key in folded if key))
            if not keys:
                continue
            entry = self._same(place, keys) if merge else None
            if entry is None:
                entry = _Entry(place, keys[0], self._sources)
            else:
                known = entry.place
                entry.place = place.model_copy(update={
                    field: getattr(known, field)
                    for field in ("country", "population", "geonames_id", "area_km")
                    if getattr(place, field) is None})
                entry.main, entry.rank = keys[0], self._sources
            for key in keys:
                listed = self._by_key.setdefault(key, [])
                if not any(other is entry for other in listed):
                    listed.append(entry)
                if " " in key:
                    words = key.split(" ")
                    self._starts.update(" ".join(words[:size]) for size in range(1, len(words)))

    def _same(self, place: Place, keys: list[str]) -> _Entry | None:
        near: list[tuple[float, _Entry]] = []
        for key in keys:
            for entry in self._by_key.get(key, ()):
                known = entry.place
                if place.country and known.country and place.country != known.country:
                    continue
                apart = _apart(place, known)
                if apart <= max(SAME_PLACE_KM, known.reach_km):
                    near.append((apart, entry))
        return min(near, key=lambda pair: pair[0])[1] if near else None

    # ------------------------------------------------------------ reading

    def covering(self, countries: Iterable[str | None]) -> Gazetteer:
        """Itself: it holds every place it was given (a `GazetteerSource`)."""
        return self

    def country_code(self, name: str | None) -> str | None:
        """The code of a country named as people name it (Syria, سوريا, SY); None if unknown."""
        return self._countries.get(place_key(name)) if name else None

    def country_name(self, code: str | None) -> str:
        return self._country_names.get(code or "", code or "?")

    def locate(self, text: str, country: str | None = None) -> Place | None:
        """The most specific place the text names, in the country when one is given."""
        return self.find(text, country).place

    def find(self, text: str, country: str | None = None) -> Finding:
        """The place a location names, and the words that named it (see the module)."""
        code = self.country_code(country)
        tokens = [(word, token.start(), token.end())
                  for token in _TOKEN.finditer(text) for word in _folded_token(token.group())]
        glued = [_GLUE.fullmatch(text, before[2], after[1]) is not None
                 for before, after in itertools.pairwise(tokens)]
        named: list[tuple[int, str, str, list[_Entry]]] = []
        elsewhere: list[Place] = []
        for start, end, key in self._spans([word for word, _, _ in tokens], glued):
            everywhere = self._by_key[key]
            entries = [entry for entry in everywhere
                       if code is None or entry.place.country in (None, code)]
            if not entries:
                elsewhere.extend(entry.place for entry in everywhere)
                continue
            top = max(entry.rank for entry in entries)
            entries = [entry for entry in entries if entry.rank == top]
            entries = [entry for entry in entries if entry.main == key] or entries
            named.append((start, key, text[tokens[start][1]:tokens[end - 1][2]], entries))
        if not named:
            return Finding(None, None, tuple(dict.fromkeys(elsewhere)))
        anchors = [entries[0].place for _, _, _, entries in named if len(entries) == 1]
        keys = [f" {key} " for _, key, _, _ in named]
        # "Mosul al-Jadida, Mosul": a name inside a longer one names the larger place.
        resolved = [(any(f" {key} " in other and f" {key} " != other for other in keys),
                     start, words, self._nearest(entries, anchors))
                    for start, key, words, entries in named]
        resolved.sort(key=lambda item: (item[0], item[3].population or 0, item[1]))
        for _, _, words, place in resolved:
            larger = [other for _, _, _, other in resolved if other is not place
                      and (other.population or 0) > (place.population or 0)]
            if all(_apart(place, other) <= BESIDE_KM for other in larger):
                return Finding(place, words)
        _, _, words, place = resolved[-1]
        return Finding(place, words)

    @staticmethod
    def _nearest(entries: list[_Entry], anchors: list[Place]) -> Place:
        """Of places of one name, the one nearest the places named beside it, else the most
        populous."""

        if len(entries) == 1:
            return entries[0].place

        def rank(entry: _Entry) -> tuple[float, int]:
            near = min((_apart(entry.place, anchor) for anchor in anchors), default=0.0)
            return near, -(entry.place.population or 0)

        return min(entries, key=rank).place

    def _spans(self, words: list[str], glued: list[bool]) -> list[tuple[int, int, str]]:
        """Runs of words that are names, the longest first where they overlap, in order;
        ``glued[i]`` says whether words i and i + 1 are written as parts of one name."""
        found = []
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + LONGEST_NAME + 1) + 1):
                run = words[start:end]
                key = _key(run)
                if key not in self._by_key and len(run[0]) > 4 and \
                        run[0][0] in _ARABIC_PREFIXES and run[0][1:3] == "ال":
                    prefixed = _key([run[0][1:], *run[1:]])  # بالطبقة: "in Tabqa"
                    if prefixed in self._by_key or prefixed in self._starts:
                        key = prefixed
                if key in self._by_key and (" " in key or (
                        len(key) >= 3 and key not in DESCRIPTIVE)) and not self._inside(
                            words, glued, start, end, key):
                    found.append((start, end, key))
                if key and key not in self._starts:
                    break  # no longer name begins so
        found.sort(key=lambda span: (span[0] - span[1], span[0]))
        taken = [False] * len(words)
        kept = []
        for start, end, key in found:
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                kept.append((start, end, key))
        return sorted(kept)

    @staticmethod
    def _inside(words: list[str], glued: list[bool], start: int, end: int, key: str) -> bool:
        """Whether a one-word name is part of a longer one: a generic word written onto the
        next word (Tall Afar), or a word written after a generic one (Jabal Tabqa)."""
        if " " in key:
            return False
        if key in GENERIC and end < len(words) and glued[end - 1]:
            return True
        return start > 0 and glued[start - 1] and _key(words[start - 1:start]) in GENERIC

    def __len__(self) -> int:
        return len({id(entry) for entries in self._by_key.values() for entry in entries})


class GazetteerSource(Protocol):
    """Where a match gets its gazetteer: only the countries it needs are read."""

    def covering(self, countries: Iterable[str | None]) -> Gazetteer:
        """A gazetteer holding (at least) the places of these countries."""
        ...

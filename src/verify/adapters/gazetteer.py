"""The gazetteer's files: GeoNames' places shipped with verify, the demo's, and yours.

The built-in places are GeoNames' (CC BY 4.0), built into `geonames.zip` by
tools/build_gazetteer.py: one member a country in GeoNames' own tab-separated
format with a 20th column, the place's names folded (`place_key`), and a table
of countries' names. Only the countries a match needs are
read, so a cold start stays fast. On top come the demo's places (the names the
demo and analysts use, and neighbourhoods GeoNames lacks) and the files given
with `--gazetteer` or `VERIFY_GAZETTEER`, which add places and names and never
take any away: a place of a file that shares a name with a known place nearby
is that place, under the file's name.

A file is either CSV with a header (name, alternate_names, lat, lon, and
optionally country), alternate names separated by `;` or `|`, or GeoNames' own
tab-separated format (such as SY.txt or cities500.txt, no header): its
populated places (feature class P) and administrative areas (A) are read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from verify.adapters.files import LINE_TOO_LONG, LineTooLong, TextLines
from verify.adapters.interchange import csv_text
from verify.domain.errors import InvalidInput
from verify.domain.gazetteer import AREA_REACH_KM, Gazetteer, Place

GAZETTEER = "the gazetteer"
BUILTIN = "geonames.zip"
DEMO = "the demo gazetteer"
GEONAMES_COLUMNS = 15
"""A row of GeoNames' format has 19 columns; these first ones are read (to population)."""
GEONAMES_CLASSES = frozenset({"P", "A", ""})
"""Feature classes read from a GeoNames file: populated places and administrative areas."""

Rows = list[tuple[Place, list[str]]]


class Gazetteers:
    """The built-in places, the demo's, and the files that add to them; from these, the
    gazetteer of the countries one match needs."""

    def __init__(self, files: Sequence[Path] = ()) -> None:
        self.countries = _countries()
        names = Gazetteer(countries=self.countries)
        demo = resources.files("verify.demo").joinpath("gazetteer.csv").read_text("utf-8")
        self.overlays: list[Rows] = [
            _csv_rows(TextLines(demo.splitlines(keepends=True)), DEMO, names),
            *(read_gazetteer_file(path, names) for path in files)]

    def covering(self, countries: Iterable[str | None]) -> Gazetteer:
        """A gazetteer of the places of these countries (named as people name them; every
        country's when one is unknown or not named), the demo's and the files' over them."""
        gazetteer = Gazetteer(countries=self.countries)
        codes: set[str] = set()
        for name in set(countries):
            code = gazetteer.country_code(name)
            if code is None:
                codes = set(_members())
                break
            codes.add(code)
        gazetteer.add_keyed(row for code in sorted(codes & _members()) for row in _builtin(code))
        for rows in self.overlays:
            gazetteer.add(rows, merge=True)
        return gazetteer

    def locate(self, text: str, country: str | None = None) -> Place | None:
        """The place a text names (in the country, when named), as a match would place it."""
        return self.covering([country]).locate(text, country)


def load_gazetteer(paths: Path | Sequence[Path] | None = None) -> Gazetteers:
    """The built-in gazetteer with the places of these files added (CSV or GeoNames'
    format); a file that cannot be read is refused with one sentence."""
    if paths is None:
        files: Sequence[Path] = ()
    elif isinstance(paths, Path):
        files = (paths,)
    else:
        files = paths
    return Gazetteers(files)


# ------------------------------------------------------------------ built-in


@cache
def _archive() -> zipfile.ZipFile:
    data = resources.files("verify.adapters").joinpath(BUILTIN).read_bytes()
    return zipfile.ZipFile(io.BytesIO(data))


@cache
def _members() -> frozenset[str]:
    return frozenset(name.removesuffix(".txt") for name in _archive().namelist()
                     if len(name) == len("SY.txt"))


@cache
def _countries() -> tuple[tuple[str, tuple[str, ...]], ...]:
    text = _archive().read("countries.txt").decode("utf-8")
    return tuple((code, tuple(names.split(",")))
                 for code, _, names in (line.split("\t") for line in text.splitlines()))


@cache
def _builtin(code: str) -> list[tuple[Place, list[str]]]:
    """A country's places with their names' keys (the 20th column), read once a process.

    The archive is built and checked by tools/build_gazetteer.py and the tests, so its
    places are taken as they stand, unvalidated: reading every country stays under a
    second."""
    text = _archive().read(f"{code}.txt").decode("utf-8")
    places = []
    for line in text.splitlines():
        cells = line.split("\t")
        places.append((Place.model_construct(
            name=cells[1], lat=float(cells[4]), lon=float(cells[5]), country=cells[8],
            population=int(cells[14]) or None, geonames_id=int(cells[0]), area_km=None),
            cells[19].split("|")))
    return places


def builtin_counts() -> dict[str, int]:
    """How many places the built-in gazetteer holds, by country code."""
    return {code: len(_builtin(code)) for code in sorted(_members())}


# --------------------------------------------------------------------- files


def read_gazetteer_file(path: Path, names: Gazetteer) -> Rows:
    """The places of a gazetteer file, CSV or GeoNames' format (told apart by its first
    line); ``names`` reads the countries a CSV file names."""
    source = str(path)
    try:
        with csv_text(path, GAZETTEER) as lines:
            first = lines.peek(4096).split("\n", 1)[0]
            cells = first.split("\t")
            if len(cells) >= GEONAMES_COLUMNS and cells[0].strip().isdigit():
                return list(_geonames_rows(_numbered(lines), source))
            return _csv_rows(lines, source, names)
    except LineTooLong as too_long:
        raise InvalidInput(f"{source}, line {too_long.line}: {LINE_TOO_LONG}") from None


def _numbered(lines: TextLines) -> Iterator[tuple[int, str]]:
    for line in lines:
        yield lines.number, line


def _csv_rows(lines: TextLines, source: str, names: Gazetteer) -> Rows:
    reader = csv.DictReader(lines)
    missing = {"name", "lat", "lon"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(f"{source} needs the columns name,alternate_names,lat,lon (and "
                           "may give country), or GeoNames' tab-separated columns")
    rows = []
    for cells in reader:
        country = (cells.get("country") or "").strip()
        code = names.country_code(country) if country else None
        if country and code is None:
            raise InvalidInput(f"{source}, line {reader.line_num}: no country is known as "
                               f"{country}")
        try:
            place = Place(name=cells["name"], lat=float(cells["lat"]), lon=float(cells["lon"]),
                          country=code)
        except (TypeError, ValueError, ValidationError):  # a short row has None cells
            raise InvalidInput(
                f"{source}, line {reader.line_num}: a place needs a name and numeric lat, lon"
            ) from None
        alternates = (cells.get("alternate_names") or "").replace("|", ";").split(";")
        rows.append((place, [name.strip() for name in alternates if name.strip()]))
    return rows


def _geonames_rows(lines: Iterable[tuple[int, str]], source: str
                   ) -> Iterator[tuple[Place, list[str]]]:
    """Places of GeoNames' format: geonameid, name, asciiname, alternatenames, latitude,
    longitude, feature class, feature code, country code, …, population, …"""
    for number, line in lines:
        if not line.strip():
            continue
        cells = line.rstrip("\r\n").split("\t")
        if len(cells) < GEONAMES_COLUMNS:
            raise InvalidInput(f"{source}, line {number}: a GeoNames row has 19 columns "
                               f"separated by tabs, not {len(cells)}")
        if cells[6] not in GEONAMES_CLASSES:
            continue
        try:
            place = Place(name=cells[1], lat=float(cells[4]), lon=float(cells[5]),
                          country=cells[8].strip().upper() or None,
                          population=int(cells[14] or 0) or None,
                          geonames_id=int(cells[0]), area_km=AREA_REACH_KM.get(cells[7]))
        except (ValueError, ValidationError):
            raise InvalidInput(f"{source}, line {number}: a GeoNames row needs a geonameid, "
                               "a name, a numeric latitude and longitude, and a whole "
                               "population") from None
        names = [cells[2], *cells[3].split(",")]
        yield place, [name.strip() for name in names if name.strip()]

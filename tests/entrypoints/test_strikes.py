"""Strike reports through the command line, the gazetteer, and the distance the matcher uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from verify.domain.strikes import Gazetteer, Place, distance_km, place_key
from verify.entrypoints.cli import cli

Run = Callable[..., Result]

REPORT = {"reference": "CJTF-OIR 2017-03-18", "belligerent": "US-led Coalition",
          "report_date": "2017-03-18", "strike_date": "2017-03-17", "place": "Mosul",
          "lat": 36.34, "lon": 43.13, "strikes": 6, "text": "Near Mosul, six strikes…"}


@pytest.fixture
def run(store_url: str) -> Run:
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store_url, "init"]).exit_code == 0

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", "jonas", *args])

    return invoke


def lines(path: Path, rows: list[object]) -> Path:
    path.write_bytes(b"".join(
        (row if isinstance(row, bytes) else orjson.dumps(row)) + b"\n" for row in rows))
    return path


def test_reports_import_once_and_list(run: Run, tmp_path: Path) -> None:
    file = lines(tmp_path / "r.jsonl", [REPORT, {**REPORT, "reference": "B", "lat": None,
                                                 "lon": None}])
    first = run("strikes", "import", str(file))
    assert first.exit_code == 0 and "imported 2 strike reports" in first.output
    again = run("strikes", "import", str(file), "--json")
    assert json.loads(again.stdout)["unchanged"] == 2
    listed = json.loads(run("strikes", "list", "--json").stdout)
    assert [r["reference"] for r in listed] == ["CJTF-OIR 2017-03-18", "B"]
    assert listed[0]["text"] == "Near Mosul, six strikes…"
    changed = lines(tmp_path / "c.jsonl", [{**REPORT, "strikes": 7}])
    result = run("strikes", "import", str(changed))
    assert result.exit_code == 1
    assert "differs from the store in strikes; not merged" in result.stderr


def test_bad_report_rows_are_named_by_line(run: Run, tmp_path: Path) -> None:
    rows: list[object] = [
        REPORT,
        {k: v for k, v in REPORT.items() if k != "reference"},
        {**REPORT, "reference": "x2", "place": None, "lat": None, "lon": None},
        {**REPORT, "reference": "x3", "lon": None},
        {**REPORT, "reference": "x4", "report_date": "2017-03-01"},
        b'{"reference": ',
        {**REPORT, "reference": "x6", "strike_date": "2017-02-30"},
    ]
    result = run("strikes", "import", str(lines(tmp_path / "bad.jsonl", rows)))
    assert result.exit_code == 2
    problems = result.stderr.strip().splitlines()
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "reference" in problems[0] and "place or coordinates" in problems[1]
    assert "both lat and lon" in problems[2] and "before the strike date" in problems[3]
    assert "not valid JSON" in problems[4] and "strike_date" in problems[5]
    assert "imported 1 strike reports" in result.stdout


def test_reports_from_csv(run: Run, tmp_path: Path) -> None:
    file = tmp_path / "r.csv"
    file.write_text("reference,belligerent,strike_date,place\nR1,US-led Coalition,2017-03-17,"
                    "الرقة\n", encoding="utf-8")
    assert run("strikes", "import", str(file)).exit_code == 0
    listed = json.loads(run("strikes", "list", "--json").stdout)
    assert listed[0]["place"] == "الرقة"


def test_matching_with_a_gazetteer_file(run: Run, tmp_path: Path) -> None:
    gazetteer = tmp_path / "places.csv"
    gazetteer.write_text("name,alternate_names,lat,lon\nQaraqosh,Bakhdida;بخديدا|Baghdede,"
                         "36.27,43.38\n", encoding="utf-8")
    run("report", "CI2000", "--date", "2017-03-17", "--location", "بخديدا",
        "--country", "Iraq", "--belligerent", "US-led Coalition")
    lines(tmp_path / "r.jsonl", [{**REPORT, "lat": None, "lon": None, "place": "Baghdede"}])
    run("strikes", "import", str(tmp_path / "r.jsonl"))
    without = json.loads(run("strikes", "match", "--json").stdout)
    assert without["candidates"] == [] and without["incidents_not_placed"] == 1
    found = json.loads(run("strikes", "match", "--gazetteer", str(gazetteer),
                           "--json").stdout)
    assert [c["incident"] for c in found["candidates"]] == ["CI2000"]
    assert found["candidates"][0]["report_located_by"] == "gazetteer: Qaraqosh"
    broken = tmp_path / "broken.csv"
    broken.write_text("name,lat,lon\nSomewhere,north,43\n", encoding="utf-8")
    result = run("strikes", "match", "--gazetteer", str(broken))
    assert result.exit_code == 2 and "line 2" in result.stderr


@pytest.mark.parametrize("radius", ["nan", "NaN", "inf", "-inf", "1e309", "-1", "0", "0.05",
                                    "500.1", "x", ""])
def test_a_radius_that_is_no_distance_is_refused(run: Run, radius: str) -> None:
    """Issue 15: --radius-km nan passed the range check (NaN compares false with both
    bounds) and failed deep in the matcher. One sentence, exit 2, for each of these."""
    result = run("strikes", "match", "--radius-km", radius)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith("error: Invalid value for '--radius-km'")
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_a_gazetteer_with_old_mac_line_ends_or_a_byte_order_mark_reads(run: Run,
                                                                        tmp_path: Path) -> None:
    run("report", "CI2001", "--date", "2017-03-17", "--location", "Qaraqosh", "--country",
        "Iraq", "--belligerent", "US-led Coalition")
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", [REPORT])))
    gazetteer = tmp_path / "places.csv"
    gazetteer.write_bytes("\ufeffname,lat,lon\rQaraqosh,36.27,43.38\r".encode())
    found = json.loads(run("strikes", "match", "--gazetteer", str(gazetteer), "--radius-km",
                           "20", "--json").stdout)
    assert found["incidents_not_placed"] == 0  # Qaraqosh was found in the gazetteer


@pytest.mark.parametrize(
    ("one", "other"),
    [("Raqqa", "RAQQA"), ("al-Raqqa", "Raqqa"), ("الرقة", "الرقه"), ("Ḥajīn", "Hajin"),
     ("أريحا", "اريحا"), ("الموصل", "موصل")],
)
def test_spellings_of_one_place_compare_equal(one: str, other: str) -> None:
    assert place_key(one) == place_key(other)


def test_gazetteer_finds_a_place_by_any_name() -> None:
    tabqa = Place(name="Tabqa", lat=35.84, lon=38.55)
    gazetteer = Gazetteer([(tabqa, ["الطبقة", "al-Thawrah"])])
    assert gazetteer.locate("Al Thawrah") == tabqa == gazetteer.locate("الطبقة")
    assert gazetteer.locate("Raqqa") is None


def test_distance_is_great_circle() -> None:
    assert distance_km(36.34, 43.13, 36.34, 43.13) == 0
    assert round(distance_km(35.95, 39.01, 36.05, 39.01), 2) == 11.12
    assert round(distance_km(0, 0, 0, 180)) == 20015


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_distance_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    assert distance_km(a, b, c, d) == pytest.approx(distance_km(c, d, a, b), abs=1e-6)
    assert 0 <= distance_km(a, b, c, d) <= 20_016


def test_report_coordinates_keep_their_precision(run: Run, tmp_path: Path) -> None:
    run("strikes", "import", str(lines(tmp_path / "p.jsonl", [{**REPORT, "precision": "town"}])))
    assert json.loads(run("strikes", "list", "--json").stdout)[0]["precision"] == "town"
    galaxy = {**REPORT, "reference": "Q", "precision": "galaxy"}
    bad = run("strikes", "import", str(lines(tmp_path / "q.jsonl", [galaxy])))
    assert bad.exit_code == 2 and "precision" in bad.stderr


def test_a_gazetteer_row_with_missing_cells_is_one_sentence(run: Run, tmp_path: Path) -> None:
    """Found by the hostile-file fuzz: a short row left lat None, and float(None) raised."""
    gazetteer = tmp_path / "places.csv"
    gazetteer.write_text("name,lat,lon\nMosul,36.34\n", encoding="utf-8")
    result = run("strikes", "match", "--gazetteer", str(gazetteer))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: ") and "line 2" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_report_with_a_nul_character_is_refused_as_its_line(run: Run, tmp_path: Path
                                                             ) -> None:
    """Found by the hostile-file fuzz: one report holding NUL stopped the whole file."""
    file = lines(tmp_path / "r.jsonl", [{**REPORT, "text": "a\x00b"},
                                        {**REPORT, "reference": "B"}])
    result = run("strikes", "import", str(file), "--json")
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["imported"] == 1 and summary["invalid"] == 1
    assert summary["problems"][0]["line"] == 1


# Issue 22: placing what people write, saying what was not placed, honest distances.

TABQA_REPORT = {"reference": "CJTF-OIR 2017-03-23", "belligerent": "US-led Coalition",
                "report_date": "2017-03-23", "strike_date": "2017-03-22",
                "place": "Near Tabqa, two strikes", "text": "Near Tabqa, two strikes engaged…"}


def _report_at(run: Run, code: str, location: str, country: str = "Syria",
               day: str = "2017-03-22") -> None:
    result = run("report", code, "--date", day, "--location", location, "--country", country,
                 "--belligerent", "US-led Coalition")
    assert result.exit_code == 0, result.output


def test_the_tabqa_cases_match_the_coalitions_report_as_the_same_place(run: Run,
                                                                       tmp_path: Path) -> None:
    """Before, none of these was placed: only a location that was exactly a gazetteer name
    was, and a match through the gazetteer was recorded as "0.0 km away"."""
    for code, location in (("CS1", "Bakery, Tabqa (الطبقة)"), ("CS2", "Carwash, Tabqa (الطبقة)"),
                           ("CS3", "Tabqa, slaughterhouse")):
        _report_at(run, code, location)
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", [TABQA_REPORT])))
    found = json.loads(run("strikes", "match", "--json").stdout)
    assert found["incidents_not_placed"] == 0 and found["reports_not_placed"] == 0
    assert [(c["incident"], c["distance_km"], c["placed"]["same_place"])
            for c in found["candidates"]] == [(code, None, "Tabqa")
                                              for code in ("CS1", "CS2", "CS3")]
    assert found["candidates"][0]["placed"]["incident"]["named"] == "Tabqa"
    assert found["candidates"][0]["placed"]["report"]["country"] == "SY"
    printed = run("strikes", "match", "--apply").stdout
    assert "CS1        CJTF-OIR 2017-03-23  same place: Tabqa (gazetteer), +0 day(s)" in printed
    for code in ("CS1", "CS2", "CS3"):
        assert ("(CJTF-OIR 2017-03-23), same place: Tabqa (gazetteer), +0 day(s), matched by "
                "MATCH") in run("history", code).stdout
    assert "likely by US-led Coalition (CJTF-OIR 2017-03-23), same place: Tabqa (gazetteer)" \
        in run("show", "CS1").stdout
    exported = tmp_path / "out.jsonl"
    assert run("export", "-o", str(exported)).exit_code == 0
    first = json.loads(exported.read_text("utf-8").splitlines()[0])
    assert (first["strike"]["distance_km"], first["strike"]["placed"]["same_place"]) == (
        None, "Tabqa")


def test_every_unplaced_incident_and_report_is_named_with_its_reason(run: Run,
                                                                     tmp_path: Path) -> None:
    """Before, only "not placed: 3 incidents, 1 reports", with --json no better."""
    for number in range(25):
        _report_at(run, f"CS{100 + number}", f"Atlantis quarter {number}")
    _report_at(run, "CS200", "Tripoli", country="Syria")
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", [
        {**TABQA_REPORT, "place": "Somewhere unnamed"}])))
    result = run("strikes", "match", "--json")
    unplaced = json.loads(result.stdout)["not_placed"]
    assert [item["code"] for item in unplaced["incidents"]] == [
        *(f"CS{100 + number}" for number in range(25)), "CS200"]
    assert unplaced["incidents"][0] == {
        "code": "CS100", "location": "Atlantis quarter 0", "country": "Syria",
        "reason": "no coordinates, and it names no place the gazetteer knows in Syria"}
    assert unplaced["reports"] == [{
        "reference": "CJTF-OIR 2017-03-23", "belligerent": "US-led Coalition",
        "place": "Somewhere unnamed",
        "reason": "no coordinates, and it names no place the gazetteer knows"}]
    printed = run("strikes", "match").stdout
    assert "not placed: 26 incidents (the first 20; --json lists them all)" in printed
    assert "  CS100 (Atlantis quarter 0): no coordinates, and it names no place" in printed
    assert "CS119 (" in printed and "CS120 (" not in printed
    assert "not placed: 1 report\n  CJTF-OIR 2017-03-23 (Somewhere unnamed): " in printed


@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_a_gazetteer_file_adds_places_and_keeps_the_built_in_ones(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given_by: str) -> None:
    """Before, --gazetteer replaced the built-in list: Tabqa, Raqqa and Mosul stopped
    matching."""
    for code, location, country in (("CS1", "Tabqa", "Syria"), ("CS2", "الرقة", "Syria"),
                                    ("CI3", "Mosul", "Iraq"),
                                    ("CS4", "Al-Mohsenli, countryside of Manbij", "Syria"),
                                    ("CI5", "Qaryat al-Bu Saif", "Iraq")):
        _report_at(run, code, location, country)
    places = tmp_path / "ours.csv"
    places.write_text("name,alternate_names,lat,lon,country\n"
                      "Al-Mohsenli,المحسنلي,36.55,37.93,Syria\n"
                      "Qaryat al-Bu Saif,البوسيف,36.25,43.08,Iraq\n", encoding="utf-8")
    reports = [{**TABQA_REPORT, "reference": ref, "place": place}
               for ref, place in (("R1", "Tabqa"), ("R2", "Raqqa"), ("R3", "Mosul"),
                                  ("R4", "المحسنلي"), ("R5", "البوسيف"))]
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", reports)))
    if given_by == "option":
        result = run("strikes", "match", "--gazetteer", str(places), "--json")
    else:
        monkeypatch.setenv("VERIFY_GAZETTEER", str(places))
        result = run("strikes", "match", "--json")
    found = json.loads(result.stdout)
    assert {(c["incident"], c["report"]) for c in found["candidates"]} >= {
        ("CS1", "R1"), ("CS2", "R2"), ("CI3", "R3"), ("CS4", "R4"), ("CI5", "R5")}
    assert found["incidents_not_placed"] == 0 and found["reports_not_placed"] == 0


def test_a_gazetteer_in_geonames_format_is_read(run: Run, tmp_path: Path) -> None:
    _report_at(run, "CS1", "قرية المحسنلي")
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", [
        {**TABQA_REPORT, "place": None, "lat": 36.56, "lon": 37.93, "precision": "exact"}])))
    geonames = tmp_path / "SY.txt"
    geonames.write_text("\t".join(["9999999", "Al-Mohsenli", "Al-Mohsenli", "المحسنلي",
                                   "36.55", "37.93", "P", "PPL", "SY", "", "09", "", "", "",
                                   "0", "", "400", "Asia/Damascus", "2024-01-01"]) + "\n",
                        encoding="utf-8")
    found = json.loads(run("strikes", "match", "--gazetteer", str(geonames), "--json").stdout)
    (candidate,) = found["candidates"]
    assert candidate["incident_located_by"] == "gazetteer: Al-Mohsenli"
    assert candidate["placed"]["incident"]["geonames_id"] == 9999999
    assert (candidate["distance_km"], candidate["placed"]["uncertainty_km"]) == (1.11, 2.0)
    assert "1.11 km away (± 2.0 km)" in run("strikes", "match", "--gazetteer",
                                            str(geonames)).stdout


def test_amended_places_and_coordinates_are_used_and_coordinates_win(run: Run,
                                                                      tmp_path: Path) -> None:
    _report_at(run, "CS1", "Atlantis quarter")
    _report_at(run, "CS2", "Tabqa, slaughterhouse")
    run("strikes", "import", str(lines(tmp_path / "r.jsonl", [TABQA_REPORT])))
    assert [item["code"] for item in json.loads(
        run("strikes", "match", "--json").stdout)["not_placed"]["incidents"]] == ["CS1"]
    assert run("amend", "CS1", "--location", "Bakery, Tabqa (الطبقة)", "--reason",
               "the network named the bakery").exit_code == 0
    assert run("amend", "CS2", "--lat", "35.87", "--lon", "38.57", "--precision", "street",
               "--reason", "geolocated from video").exit_code == 0
    found = json.loads(run("strikes", "match", "--json").stdout)
    assert found["not_placed"]["incidents"] == []
    placed = {c["incident"]: c for c in found["candidates"]}
    assert placed["CS1"]["placed"]["same_place"] == "Tabqa"
    assert placed["CS2"]["incident_located_by"] == "coordinates"
    assert placed["CS2"]["placed"]["incident"] == {
        "by": "coordinates", "precision": "street", "place": None, "country": None,
        "geonames_id": None, "named": None, "reach_km": 0.1}
    assert (placed["CS2"]["distance_km"], placed["CS2"]["placed"]["uncertainty_km"]) == (
        3.79, 2.7)

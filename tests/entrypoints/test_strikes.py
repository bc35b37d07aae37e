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

"""Real archives taken in whole (SPEC section 9): strict on four fields, lossless on the rest.

The corpus in tests/data holds every shape real archives were refused over:
empty summaries, Arabic publication dates (one with a typo in the year), a
long percent-encoded Arabic URL, unknown belligerents, competing claims among
the alleged parties, zero width characters, counts such as "at least 30",
coordinates out of range, fields the format does not know; and a spreadsheet
with semicolons, a byte order mark, CRLF line ends, day-first slashes and one
source per row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from verify.application.importing import incident_from_record
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.records import IncidentRecord
from verify.domain.casework import tag_of
from verify.domain.errors import VerifyError
from verify.domain.text import fold

from conftest import Store

CORPUS = Path(__file__).resolve().parents[1] / "data"
ARCHIVE = CORPUS / "archive.jsonl"
SHEET = CORPUS / "sheet.csv"


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


@pytest.fixture
def second_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    from conftest import fresh_postgres_schema

    if "sqlite" in request.node.callspec.id:
        yield Store(str(tmp_path / "second.sqlite"))
    else:
        for url in fresh_postgres_schema():
            yield Store(url)


def imported(store: Store, path: Path) -> dict[str, Any]:
    result = store.run("import", str(path), "--json")
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert result.exit_code == (2 if report["refused"] else 0), result.stderr
    return report  # type: ignore[no-any-return]


def exported(store: Store, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in store.run("export", *args).stdout.splitlines()]


SOURCES_KEPT = {
    "CS1001": 2, "CS1002": 1, "CS1003": 3, "CS1004": 1, "CS1005": 1, "RS1006": 1, "CS1007": 2,
    "CS1008": 1, "CS1009": 1, "CS1010": 1, "CI1011": 1, "CI1012": 2, "CI1013": 2, "CS1014": 2,
    "CS1015": 1, "CS1016": 1,
}
"""Every source of every incident in archive.jsonl (CS1016 lists one source twice)."""


def test_an_archive_with_every_shape_imports_whole(store: Store, second_store: Store,
                                                    tmp_path: Path) -> None:
    report = imported(store, ARCHIVE)
    assert [(r["line"], r["code"]) for r in report["refused"]] == [(17, "CS1017"),
                                                                   (18, "CS1018")]
    assert report["imported"] == 16
    warned = {(w["code"], w["field"]) for w in report["warnings"]}
    assert {("CS1003", "sources[2].published"), ("CI1011", "location.coordinates_text"),
            ("CI1011", "airwars_url"), ("CI1012", "civilians_killed"),
            ("CI1012", "sources[0].kind"), ("CI1013", "sources[1].protected"),
            ("CS1015", "strike"), ("CS1016", "sources[1]")} <= warned
    incidents = {row["code"]: row for row in exported(store)}
    assert {code: len(row["sources"]) for code, row in incidents.items()} == SOURCES_KEPT

    # Nothing read leniently is lost: each value is stored read, or kept verbatim.
    assert incidents["CS1002"]["summary"] is None
    dated = incidents["CS1003"]["sources"]
    assert [s["published"] for s in dated] == ["2025-10-26", "2025-12-07", None]
    assert dated[2]["published_text"] == "31 ديسمبر 0399"
    original = [json.loads(line) for line in ARCHIVE.read_text(encoding="utf-8").splitlines()]
    assert incidents["CS1004"]["sources"][0]["url"] == original[3]["sources"][0]["url"]
    assert incidents["CS1005"]["belligerents"] == []
    assert incidents["RS1006"]["grade"]["grade"] == "contested"
    assert [c["belligerent"] for c in incidents["RS1006"]["contested_by"]] == [
        "Russian Military", "Syrian regime"]
    assert incidents["CS1007"]["belligerents"] == ["US\u200b-led Coalition"]
    assert incidents["CS1007"]["sources"][0]["publisher"] == \
        "Raqqa\u200b Is Being Slaughtered Silently"
    assert incidents["CS1008"]["civilians_killed"] == {"min": 30, "max": None}
    assert incidents["CS1008"]["civilians_injured"] == {"min": 30, "max": None}
    assert incidents["CS1009"]["date"] == incidents["CS1010"]["date"] == "2017-03-17"
    assert incidents["CS1010"]["sources"][0]["published"] == "2017-03-20"
    mosul = incidents["CI1011"]
    assert mosul["location"]["lat"] is None
    assert mosul["location"]["coordinates_text"] == "36.34, 4239"
    assert mosul["unread"] == {"location.precision": "approx.",
                               "airwars_url": "https://airwars.org/civilian-casualties/ci1011",
                               "victims_named": "41"}
    assert mosul["sources"][0]["reliability"] == "B" and mosul["sources"][0]["kind"] == "ngo"
    assert mosul["sources"][0]["unread"] == {"rating_note": "verified by phone"}
    assert incidents["CI1012"]["civilians_killed"]["text"] == "dozens"
    assert incidents["CI1012"]["sources"][0]["unread"] == {"kind": "blog"}
    assert incidents["CI1012"]["grade"]["grade"] == "fair"
    assert [s["protected"] for s in incidents["CI1013"]["sources"]] == [True, True]
    assert incidents["CS1014"]["belligerents"] == ["US-led Coalition", "Syrian Democratic Forces"]
    assert json.loads(incidents["CS1015"]["unread"]["strike"])["status"] == "possible"
    assert incidents["CS1015"]["assessments"][0]["outcome"] == "non_credible"

    # Re-importing adds nothing; an export re-imports into an empty store unchanged.
    events = store.events()
    again = imported(store, ARCHIVE)
    assert (again["imported"], again["already_stored"], again["differ"]) == (0, 16, 0)
    assert store.events() == events
    first = tmp_path / "first.jsonl"
    assert store.run("export", "-o", str(first)).exit_code == 0
    assert imported(second_store, first)["imported"] == 16
    second = tmp_path / "second.jsonl"
    assert second_store.run("export", "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_the_archive_round_trips_through_a_spreadsheet(store: Store, second_store: Store,
                                                       tmp_path: Path) -> None:
    """What was kept verbatim travels in the CSV export too, and reads back the same."""
    imported(store, ARCHIVE)
    sheet = tmp_path / "archive.csv"
    assert store.run("export", "-o", str(sheet)).exit_code == 0
    report = imported(second_store, sheet)
    assert (report["imported"], report["warnings"]) == (16, [])
    assert second_store.run("export").stdout == store.run("export").stdout


def test_a_public_export_keeps_protected_sources_out_even_when_unreadable(store: Store) -> None:
    imported(store, ARCHIVE)
    public = store.run("export", "--public").stdout
    assert "signal.invalid" not in public and "Witness in Zanjili" not in public
    assert "unsure" not in public


def test_a_spreadsheet_as_analysts_keep_it(store: Store, second_store: Store,
                                            tmp_path: Path) -> None:
    report = imported(store, SHEET)
    assert [(r["line"], r["code"], r["reason"]) for r in report["refused"]] == [
        (8, "CS2005", "country: missing (every incident needs its country)")]
    assert report["imported"] == 4
    incidents = {row["code"]: row for row in exported(store)}
    school = incidents["CS2001"]
    assert school["date"] == "2017-03-20" and school["civilians_killed"] == {"min": 30, "max": None}
    assert school["summary"] == 'School sheltering displaced families hit; "dozens" feared dead'
    assert [(s["publisher"], s["published"], s["protected"]) for s in school["sources"]] == [
        ("RBSS", "2017-03-21", False), ("Syrian Civil Defence", "2017-03-21", False),
        ("Witness", None, True)]
    tabqa = incidents["CS2002"]
    assert tabqa["date"] == "2017-03-21" and tabqa["country"] == "سوريا"
    assert tabqa["belligerents"] == ["US\u200c-led Coalition", "Syrian Democratic Forces"]
    assert tabqa["sources"][0]["published"] == "2025-10-26"
    assert incidents["CS2003"]["sources"] == [] and incidents["CS2003"]["belligerents"] == []
    old_city = incidents["CS2004"]
    assert old_city["location"]["name"] == "Raqqa; old city"
    assert old_city["civilians_killed"] == {"min": 3, "max": None}
    assert old_city["sources"][0]["published_text"] == "31 ديسمبر 0399"
    assert (old_city["sources"][0]["kind"], old_city["sources"][0]["reliability"]) == ("media",
                                                                                      "B")
    events = store.events()
    assert imported(store, SHEET)["already_stored"] == 4
    assert store.events() == events
    csv_export = tmp_path / "sheet-export.csv"
    assert store.run("export", "-o", str(csv_export)).exit_code == 0
    assert imported(second_store, csv_export)["imported"] == 4
    assert second_store.run("export").stdout == store.run("export").stdout


def test_a_column_map_reads_a_sheet_with_its_own_headers(store: Store, tmp_path: Path) -> None:
    sheet = tmp_path / "own.csv"
    sheet.write_text("Ref\tDay\tGovernorate\tPlace\tAttacker\tDeaths\tLink\n"
                     "CS3001\t17/03/2017\tRaqqa\tal-Mansoura\tUS-led Coalition\t12\t"
                     "https://example.org/m\n", encoding="utf-8")
    columns = tmp_path / "columns.toml"
    columns.write_text('[columns]\nRef = "code"\nDay = "date"\nGovernorate = "province"\n'
                       'Place = "location_name"\nAttacker = "belligerents"\n'
                       'Deaths = "civilians_killed"\nLink = "source_url"\n', encoding="utf-8")
    bad = store.run("import", str(sheet), "--columns", str(columns))
    assert bad.exit_code == 2 and "province" in bad.stderr and store.events() == 0
    columns.write_text(columns.read_text().replace('"province"', '"country"'))
    assert store.run("import", str(sheet), "--columns", str(columns)).exit_code == 0
    incident = exported(store)[0]
    assert (incident["code"], incident["date"], incident["country"]) == (
        "CS3001", "2017-03-17", "Raqqa")
    assert incident["sources"][0]["url"] == "https://example.org/m"
    assert incident["civilians_killed"] == {"min": 12, "max": 12}


def test_slash_dates_are_day_first_unless_told(store: Store, tmp_path: Path) -> None:
    sheet = tmp_path / "us.csv"
    sheet.write_text("code,date,country,location_name\nCS4001,03/17/2017,Syria,Raqqa\n",
                     encoding="utf-8")
    refused = store.run("import", str(sheet))
    assert refused.exit_code == 2 and "in the order mdy" in refused.stderr
    assert store.run("import", str(sheet), "--date-order", "mdy").exit_code == 0
    assert exported(store)[0]["date"] == "2017-03-17"


def test_names_compare_the_way_people_mean_them(store: Store, tmp_path: Path) -> None:
    rows = [{"code": f"CS5{n}", "date": "2017-03-17", "country": country,
             "location": {"name": "Raqqa"}, "belligerents": [name]}
            for n, (name, country) in enumerate([("US-led Coalition", "Syria"),
                                                 ("US\u200b-led Coalition", " SYRIA"),
                                                 ("US-LED COALITION ", "syria\u200f"),
                                                 ("Russian Military", "Syria")])]
    file = tmp_path / "names.jsonl"
    file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    imported(store, file)
    found = json.loads(store.run("queue", "--belligerent", "us-led coalition", "--json").stdout)
    assert sorted(entry["code"] for entry in found) == ["CS50", "CS51", "CS52"]
    found = json.loads(store.run("queue", "--country", "Syria", "--json").stdout)
    assert len(found) == 4
    stats = json.loads(store.run("stats", "--by", "belligerent", "--json").stdout)
    assert [(group["key"], group["incidents"]) for group in stats["groups"]] == [
        ("Russian Military", 1), ("US-led Coalition", 3)]
    # Evidence about a party names it in any spelling, and what was typed is recorded.
    confirmed = store.run("strike", "confirm", "CS52", "--belligerent", "US-Led Coalition",
                          "--status", "likely")
    assert confirmed.exit_code == 0, confirmed.stderr
    refused = store.run("strike", "confirm", "CS52", "--belligerent", "Russian Military",
                        "--status", "likely")
    assert refused.exit_code == 1
    assert "alias" in refused.stderr and "contest" not in refused.stderr
    assert "competing claim" not in refused.stderr


def test_a_party_is_recorded_once_with_its_aliases(store: Store, tmp_path: Path) -> None:
    added = store.run("parties", "add", "US-led Coalition", "--alias", "Coalition",
                      "--alias", "CJTF-OIR")
    assert added.exit_code == 0, added.stderr
    assert store.run("parties", "add", "Russian Military", "--alias", "coalition").exit_code == 1
    assert store.run("parties", "add", "us-led coalition", "--alias", "Coalition").exit_code == 1
    assert store.run("parties", "add", "Coalition", "--alias", "التحالف الدولي").exit_code == 0
    assert json.loads(store.run("parties", "list", "--json").stdout) == [
        {"name": "US-led Coalition", "aliases": ["Coalition", "CJTF-OIR", "التحالف الدولي"]}]
    reported = store.run("report", "CS6001", "--date", "17 March 2017", "--location", "Raqqa",
                         "--country", "Syria", "--belligerent", "coalition ")
    assert reported.exit_code == 0, reported.stderr
    shown = json.loads(store.run("show", "CS6001", "--json").stdout)
    assert shown["belligerents"] == ["US-led Coalition"] and shown["date"] == "2017-03-17"
    found = json.loads(store.run("queue", "--belligerent", "التحالف الدولي", "--json").stdout)
    assert [entry["code"] for entry in found] == ["CS6001"]
    # A strike report by an alias matches the incident alleging the canonical name.
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"reference": "CJTF-OIR 2017-03-18", "belligerent": "CJTF-OIR",
                                   "strike_date": "2017-03-17", "place": "Raqqa"}) + "\n",
                       encoding="utf-8")
    assert store.run("strikes", "import", str(reports)).exit_code == 0
    matched = json.loads(store.run("strikes", "match", "--json").stdout)
    assert [(c["incident"], c["belligerent"]) for c in matched["candidates"]] == [
        ("CS6001", "US-led Coalition")]


def test_dates_after_today_are_refused_everywhere(store: Store) -> None:
    future = store.run("report", "CS7001", "--date", "2999-01-01", "--location", "Raqqa",
                       "--country", "Syria")
    assert future.exit_code == 2 and "after today" in future.stderr
    assert store.run("report", "CS7001", "--date", "2017-01-01", "--location", "Raqqa",
                     "--country", "Syria").exit_code == 0
    published = store.run("source", "add", "CS7001", "--url", "https://example.org/f",
                          "--publisher", "P", "--kind", "media", "--published", "1 May 2999")
    assert published.exit_code == 2 and "after today" in published.stderr
    assert store.events() == 1


# --------------------------------------------------------------- property

INTAKE = Intake(today=today_utc())

MARK = "zz~"
"""Starts every junk text: no code, date, count, kind or grade reads it, so it must be kept."""

JUNK_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Cf"),
                                  blacklist_characters=";"), min_size=1, max_size=12).map(
    lambda text: MARK + text)
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**9) | st.floats(allow_nan=False,
                                                                      allow_infinity=False)
    | JUNK_TEXT | st.sampled_from(["", "  ", "\u200b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["url", "publisher", "kind", "reliability", "credibility", "group",
                         "protected", "published", "status", "belligerent", "reason",
                         "outcome", "grade", "rationale", "by", "min", "max", "sha256",
                         "media_type", "description", "id", "text", "at", "reply_to",
                         "mentions", "x"]),
        inner, max_size=4),
    max_leaves=12,
)
OPTIONAL = ["belligerents", "civilians_killed", "civilians_injured", "summary", "sources",
            "strike", "other_strikes", "contested_by", "assessments", "discounts", "grade",
            "dispute", "duplicate_of", "notes", "files", "assignee", "tags", "comments",
            "unknown column"]


def texts(value: Any) -> list[str]:
    """Every text a document holds."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts(item)]
    return []


def leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith(MARK) else []
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    return []


@settings(max_examples=int(os.environ.get("VERIFY_EXAMPLES", "100")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(optional=st.dictionaries(st.sampled_from(OPTIONAL), JUNK, max_size=6),
       location=st.dictionaries(st.sampled_from(["lat", "lon", "precision", "y"]), JUNK,
                                max_size=3))
def test_any_row_with_its_required_fields_imports_and_keeps_what_it_could_not_read(
    optional: dict[str, Any], location: dict[str, Any]
) -> None:
    row = {"code": "CS9", "date": "2017-03-17", "country": "Syria",
           "location": {"name": "Raqqa", **location}, **optional}
    reading = INTAKE.read(row)
    assert reading.record is not None, reading.refusal
    record = reading.record
    stored = fold("\n".join(texts(record.document())))
    note(f"row {row!r}")
    for leaf in leaves(row):
        escaped = json.dumps(leaf, ensure_ascii=False)[1:-1]  # kept inside a value's JSON text
        # A tag is kept as `verify tag` keeps it: words joined by hyphens.
        assert (fold(leaf) in stored or fold(escaped) in stored
                or tag_of(leaf) in record.tags), (leaf, stored)
    try:
        incident = incident_from_record(record, "importer")
    except VerifyError as refusal:  # a rule of the workflow (a dispute with no grade, say)
        assert str(refusal).strip()
        return
    kept = IncidentRecord.of(incident)
    assert kept == record, "re-importing this row would report it as different"
    again = INTAKE.read(json.loads(json.dumps(kept.document())))
    assert again.record == kept and again.warnings == (), again.warnings


def test_an_archive_address_that_is_not_a_web_address_is_kept_never_linked(
    store: Store, tmp_path: Path,
) -> None:
    row = {"code": "CS8001", "date": "2017-03-17", "country": "Syria",
           "location": {"name": "Raqqa"},
           "sources": [{"url": "javascript:fetch('/incidents/CS1/approve')", "publisher": "P",
                        "kind": "media"}]}
    file = tmp_path / "a.jsonl"
    file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = imported(store, file)
    assert report["imported"] == 1
    assert [(w["field"], w["reason"]) for w in report["warnings"]] == [
        ("sources[0].url", "not a web address (http:// or https://); kept verbatim with the "
                           "source")]
    source = exported(store)[0]["sources"][0]
    assert source["url"] is None and source["unread"] == {"url": row["sources"][0]["url"]}

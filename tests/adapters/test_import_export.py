"""Bulk import and export through the command line, on real SQLite files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.adapters.interchange import read_jsonl
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.demo.synthetic import archive

from conftest import PARALLEL_ROWS, POSTGRES_IN_CI, Store, fresh_postgres_schema

# PostgreSQL stays in the inner loop for a first import and for a re-import whose batch meets
# stored codes and falls back row by row; the rest is the same on either store (CI runs both).

GOOD = {
    "code": "CI1050", "date": "2017-03-17", "country": "Iraq",
    "location": {"name": "الموصل الجديدة", "lat": 36.34, "lon": 43.10,
                 "precision": "neighbourhood"},
    "belligerents": ["US-led Coalition"],
    "civilians_killed": {"min": 100, "max": 200},
    "civilians_injured": {"min": None, "max": None},
    "summary": "Strike on a residential block; bodies recovered from one building.",
    "sources": [
        {"url": "https://example.org/a", "publisher": "Amnesty International", "kind": "ngo",
         "reliability": "B", "credibility": 2, "group": None, "protected": False,
         "published": "2017-03-28"},
        {"url": "https://example.org/secret-witness", "publisher": "Witness Abu Karim",
         "kind": "witness", "reliability": "C", "credibility": 3, "protected": True},
    ],
    "strike": {"status": "declared", "belligerent": "US-led Coalition",
               "report": "CJTF-OIR 2017-03-17"},
    "contested_by": [{"belligerent": "Iraqi ground forces", "reason": "artillery also reported"}],
    "assessments": [{"belligerent": "US-led Coalition", "outcome": "credible", "reason": "..."}],
    "grade": {"grade": "fair", "rationale": "two sources and a declared strike", "rule": None},
    "notes": ["internal: call the hospital"],
}


FILED: dict[str, Any] = {**GOOD, "code": "CI1051", "files": [
    {"sha256": "5579df01b5041841d2e41dcce130f22814a901e1b9ae49fe0185b42531b48a20",
     "size": 48_213, "media_type": "image/jpeg", "name": "صورة_الموقع.jpg", "source": "s1",
     "origin": "https://www.example.org/ar/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/"
               + "%D8%BA%D8%A7%D8%B1%D8%A9-%D8%AC%D9%88%D9%8A%D8%A9-" * 40,
     "collected_by": "فريق الرصد", "collected_at": "2017-03-18T07:45:00Z",
     "description": "أنقاض المبنى السكني من الجهة الشمالية", "graphic": True,
     "protected": False, "phash": "f0e1d2c3b4a59687"},
    {"sha256": "d59ae3d0b524db28816e5986fc913167beefaef095d73f7832bc23afeac4ed05",
     "size": 912, "media_type": "application/pdf", "name": "statement-abu-karim.pdf",
     "source": "s2", "origin": None, "collected_by": "Witness Abu Karim",
     "collected_at": "2017-03-19T12:00:00+03:00", "description": None, "graphic": False,
     "protected": True, "phash": None},
]}
"""An incident with an evidence file's record and a protected one (their bytes are elsewhere)."""

DISCUSSED: dict[str, Any] = {
    **GOOD, "code": "CI1052", "assignee": "أمينة",
    "tags": ["needs-geolocation", "شاهد-في-خطر"],
    "comments": [
        {"id": "m1", "text": "@jonas هل يطابق تقرير الضربة موقع المبنى؟", "reply_to": None,
         "mentions": ["jonas"], "by": "أمينة", "at": "2017-03-20T08:15:00Z"},
        {"id": "m2", "text": "Checked on the map: it matches.", "reply_to": "m1",
         "mentions": [], "by": "jonas", "at": "2017-03-20T11:40:00+03:00"},
    ]}
"""An incident with its casework: who has it, its tags and a question answered (internal)."""


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


@pytest.fixture
def second_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Another empty store of the same kind as `store`."""
    if "sqlite" in request.node.callspec.id:
        yield Store(str(tmp_path / "second.sqlite"))
    else:
        for url in fresh_postgres_schema():
            yield Store(url)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
    return path


def test_a_row_imports_as_the_commands_would_record_it(store: Store, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "one.jsonl", [orjson.dumps(GOOD)])
    result = store.run("import", str(file))
    assert result.exit_code == 0, result.output + result.stderr
    history = json.loads(store.run("history", "CI1050", "--json").output)
    assert [h["event"] for h in history] == [
        "Reported", "SourceAdded", "SourceAdded", "Corroborated", "StrikeConfirmed",
        "AttributionContested", "AssessmentRecorded", "Graded", "NoteAdded"]
    assert {h["actor"] for h in history} == {"importer"}
    shown = json.loads(store.run("show", "CI1050", "--json").output)
    assert shown["grade"] == "fair"
    assert shown["grading"]["imported"] is True
    assert shown["grading"]["rationale"] == "two sources and a declared strike"
    assert shown["location"]["name"] == "الموصل الجديدة"


@pytest.mark.slow
def test_generated_archive_round_trips(
    tmp_path: Path, store: Store, second_store: Store
) -> None:
    count = PARALLEL_ROWS  # the parallel path is the one exercised here
    file = write_lines(tmp_path / "archive.jsonl", list(archive(count)))
    first = store
    imported = first.run("import", str(file), "--json")
    assert imported.exit_code == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert summary["imported"] == count and summary["refused"] == []
    assert summary["warnings"] == []
    stored = first.events()
    assert summary["events"] == stored

    again = json.loads(first.run("import", str(file), "--json").stdout)
    assert (again["imported"], again["events"], again["already_stored"]) == (0, 0, count)
    assert first.events() == stored

    exported = tmp_path / "export.jsonl"
    assert first.run("export", "-o", str(exported)).exit_code == 0
    second = second_store
    assert second.run("import", str(exported)).exit_code == 0
    re_exported = tmp_path / "export-again.jsonl"
    assert second.run("export", "-o", str(re_exported)).exit_code == 0
    assert exported.read_bytes() == re_exported.read_bytes()
    assert second.events() == stored


@POSTGRES_IN_CI
def test_only_required_fields_refuse_a_line_the_rest_is_kept_with_warnings(
    store: Store, tmp_path: Path
) -> None:
    def row(**changes: object) -> bytes:
        data = {**GOOD, **changes}
        return orjson.dumps({k: v for k, v in data.items() if v is not ...})

    lines = [
        row(code="CS1"),                                                       # 1 good
        row(code=...),                                                         # 2 no code
        row(code="CS3", date="2017-02-30"),                                    # 3 no such day
        row(code="CS4", civilians_killed="5-2"),                               # 4 kept
        row(code="CS5", location={"name": "x", "lat": 200, "lon": 1}),         # 5 kept
        row(code="CS6", grade={"grade": "excellent"}),                         # 6 kept
        b'{"code": "CS7", "date": ',                                           # 7 broken
        row(code="CS8", summary="x" * 1_000_000),                              # 8 kept
        row(code="CS9", civilians_killed={"min": 5, "max": 2}),                # 9 kept
        row(code="CS10"),                                                      # 10 good
        row(code="CS11", country="  "),                                        # 11 blank
        row(code="CS12", date="2999-01-01"),                                   # 12 future
    ]
    file = write_lines(tmp_path / "bad.jsonl", lines)
    result = store.run("import", str(file), "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    refused = {problem["line"]: problem["reason"] for problem in report["refused"]}
    assert sorted(refused) == [2, 3, 7, 11, 12]
    assert refused[2].startswith("code: missing")
    assert refused[3].startswith("date:") and "no such day" in refused[3]
    assert "not valid JSON" in refused[7]
    assert refused[11].startswith("country: missing")
    assert refused[12] == "date: the value is after today (UTC)"
    warned = {(w["line"], w["field"]) for w in report["warnings"]}
    assert {(4, "civilians_killed"), (5, "location.coordinates_text"), (6, "grade"),
            (8, "summary"), (9, "civilians_killed")} <= warned
    assert report["imported"] == 7
    assert "Traceback" not in result.stderr
    for line in result.stderr.strip().splitlines():
        assert line.startswith("line "), line
    shown = json.loads(store.run("show", "CS4", "--json").output)
    assert shown["civilians_killed"] == {"min": None, "max": None, "text": "5-2"}
    shown = json.loads(store.run("show", "CS5", "--json").output)
    assert shown["location"]["coordinates_text"] == "200, 1"
    assert shown["location"]["lat"] is None
    shown = json.loads(store.run("show", "CS6", "--json").output)
    assert shown["grade"] is None and json.loads(shown["unread"]["grade"]) == {
        "grade": "excellent"}
    assert len(json.loads(store.run("show", "CS8", "--json").output)["unread"]["summary"]) \
        == 1_000_000


@POSTGRES_IN_CI
def test_a_row_that_differs_from_the_store_is_reported_not_merged(
    store: Store, tmp_path: Path
) -> None:
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(GOOD)])
    store.run("import", str(tmp_path / "a.jsonl"))
    before = store.events()
    changed = {**GOOD, "civilians_killed": {"min": 1, "max": 2}}
    write_lines(tmp_path / "b.jsonl", [orjson.dumps(changed)])
    result = store.run("import", str(tmp_path / "b.jsonl"))
    assert result.exit_code == 0  # reported, not refused: the line breaks no rule
    assert "line 1: CI1050 differs from the store in civilians_killed; not merged" in result.stderr
    assert store.events() == before


@POSTGRES_IN_CI
def test_repeated_code_in_one_file(store: Store, tmp_path: Path) -> None:
    other = {**GOOD, "summary": "another account"}
    file = write_lines(tmp_path / "twice.jsonl",
                       [orjson.dumps(GOOD), orjson.dumps(GOOD), orjson.dumps(other)])
    result = store.run("import", str(file), "--json")
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["already_stored"], summary["differ"]) == (1, 1, 1)
    assert "differs from line 1 in summary" in summary["differences"][0]["reason"]


@POSTGRES_IN_CI
def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "a.jsonl", [orjson.dumps(GOOD), b"{"])
    before = store.events()
    result = store.run("import", str(file), "--dry-run")
    assert result.exit_code == 2
    assert "would import 1 incident (" in result.stdout
    assert store.events() == before


@POSTGRES_IN_CI
def test_a_refused_row_names_the_rule(store: Store, tmp_path: Path) -> None:
    graded_without_source = {**GOOD, "code": "CS2", "sources": []}
    file = write_lines(tmp_path / "a.jsonl", [orjson.dumps(graded_without_source)])
    result = store.run("import", str(file))
    assert result.exit_code == 2
    assert "line 1: incident CS2 cannot be graded: it has no source" in result.stderr
    assert store.events() == 0


@POSTGRES_IN_CI
def test_duplicates_are_linked_even_when_the_original_comes_later(
    store: Store, tmp_path: Path
) -> None:
    duplicate = {**GOOD, "code": "CS1", "duplicate_of": "cs2", "grade": None}
    original = {**GOOD, "code": "CS2"}
    file = write_lines(tmp_path / "a.jsonl", [orjson.dumps(duplicate), orjson.dumps(original)])
    assert store.run("import", str(file)).exit_code == 0
    assert json.loads(store.run("show", "CS1", "--json").output)["duplicate_of"] == "CS2"


@POSTGRES_IN_CI
def test_public_export_leaves_protected_sources_and_notes_out(store: Store, tmp_path: Path) -> None:
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(GOOD)])
    store.run("import", str(tmp_path / "a.jsonl"))
    for format_ in ("jsonl", "csv", "geojson"):
        public = store.run("export", "--format", format_, "--public").stdout
        for secret in ("secret-witness", "Witness Abu Karim", "call the hospital"):
            assert secret not in public, (format_, secret)
    internal = store.run("export").stdout
    assert "Witness Abu Karim" in internal and "call the hospital" in internal
    document = json.loads(store.run("export", "--public").stdout)
    assert [s["publisher"] for s in document["sources"]] == ["Amnesty International"]
    assert "notes" in document and document["notes"] == []
    assert "files" not in document  # an incident without files has no list of them
    assert not {"assignee", "tags", "comments"} & set(document)  # nor casework


@POSTGRES_IN_CI
def test_a_row_with_casework_re_imports_as_exported(
    store: Store, second_store: Store, tmp_path: Path
) -> None:
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(DISCUSSED)])
    report = json.loads(store.run("import", str(tmp_path / "a.jsonl"), "--json").stdout)
    assert (report["imported"], report["warnings"]) == (1, [])
    history = json.loads(store.run("history", "CI1052", "--json").output)
    assert [h["event"] for h in history][-5:] == [
        "NoteAdded", "Tagged", "Assigned", "Commented", "Commented"]
    (document,) = [json.loads(line) for line in store.run("export").stdout.splitlines()]
    assert {key: document[key] for key in ("assignee", "tags", "comments")} == {
        key: DISCUSSED[key] for key in ("assignee", "tags", "comments")}
    exported = tmp_path / "export.jsonl"
    assert store.run("export", "-o", str(exported)).exit_code == 0
    assert second_store.run("import", str(exported)).exit_code == 0
    assert second_store.run("export").stdout == exported.read_text(encoding="utf-8")
    for format_ in ("jsonl", "csv"):
        public = store.run("export", "--public", "--format", format_).stdout
        for secret in ("أمينة", "jonas", "needs-geolocation", "شاهد", "Checked on the map"):
            assert secret not in public, (format_, secret)


@POSTGRES_IN_CI
def test_a_row_with_files_re_imports_as_exported(
    store: Store, second_store: Store, tmp_path: Path
) -> None:
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(FILED)])
    report = json.loads(store.run("import", str(tmp_path / "a.jsonl"), "--json").stdout)
    assert (report["imported"], report["warnings"]) == (1, [])
    (document,) = [json.loads(line) for line in store.run("export").stdout.splitlines()]
    assert document["files"] == FILED["files"]
    exported = tmp_path / "export.jsonl"
    assert store.run("export", "-o", str(exported)).exit_code == 0
    assert second_store.run("import", str(exported)).exit_code == 0
    assert second_store.run("export").stdout == exported.read_text(encoding="utf-8")
    public = json.loads(store.run("export", "--public").stdout)
    assert public["files"] == [{key: FILED["files"][0][key]
                                for key in ("sha256", "media_type", "description")}]


@POSTGRES_IN_CI
def test_csv_export_re_imports_unchanged(
    store: Store, second_store: Store, tmp_path: Path
) -> None:
    lines = [orjson.dumps(GOOD), orjson.dumps(FILED), orjson.dumps(DISCUSSED),
             *list(archive(50))]
    write_lines(tmp_path / "a.jsonl", lines)
    store.run("import", str(tmp_path / "a.jsonl"))
    exported = tmp_path / "export.csv"
    assert store.run("export", "--format", "csv", "-o", str(exported)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert len(rows) == 53 and rows[0]["location_name"] == "الموصل الجديدة"
    assert rows[0]["civilians_killed_min"] == "100"
    assert rows[0]["files"] == "" and json.loads(rows[1]["files"]) == FILED["files"]
    assert (rows[0]["assignee"], rows[0]["tags"], rows[0]["comments"]) == ("", "", "")
    assert rows[2]["assignee"] == "أمينة"
    assert json.loads(rows[2]["tags"]) == DISCUSSED["tags"]
    assert json.loads(rows[2]["comments"]) == DISCUSSED["comments"]
    other = second_store
    result = other.run("import", str(exported))
    assert result.exit_code == 0, result.stderr
    assert other.run("export").stdout == store.run("export").stdout


@POSTGRES_IN_CI
def test_geojson_is_a_feature_collection_of_located_incidents(store: Store, tmp_path: Path) -> None:
    unlocated = {**GOOD, "code": "CS2", "location": {"name": "somewhere"}}
    write_lines(tmp_path / "a.jsonl", [orjson.dumps(GOOD), orjson.dumps(unlocated)])
    store.run("import", str(tmp_path / "a.jsonl"))
    document = json.loads(store.run("export", "--format", "geojson").stdout)
    assert document["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in document["features"]] == ["CI1050"]
    assert document["features"][0]["geometry"] == {"type": "Point", "coordinates": [43.1, 36.34]}


@POSTGRES_IN_CI
def test_arabic_survives_byte_for_byte(store: Store, tmp_path: Path) -> None:
    arabic = {**GOOD, "summary": "قُتل مدنيون في غارة على حي الموصل الجديدة، ونُقلت الجثث"}
    line = orjson.dumps(arabic)
    write_lines(tmp_path / "a.jsonl", [line])
    store.run("import", str(tmp_path / "a.jsonl"))
    exported = store.run("export").stdout_bytes
    assert arabic["summary"].encode() in exported  # type: ignore[union-attr]


@POSTGRES_IN_CI
def test_export_to_a_missing_folder_is_one_sentence(store: Store, tmp_path: Path) -> None:
    result = store.run("export", "-o", str(tmp_path / "nowhere" / "x.jsonl"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


@POSTGRES_IN_CI
def test_unknown_csv_columns_are_kept_verbatim_with_a_warning(
    store: Store, tmp_path: Path
) -> None:
    file = tmp_path / "a.csv"
    file.write_text("code,date,country,location_name,colour\nCS1,2017-03-17,Iraq,Mosul,red\n",
                    encoding="utf-8")
    result = store.run("import", str(file))
    assert result.exit_code == 0, result.stderr
    assert "line 2: warning: colour: not a field of the format; kept verbatim" in result.stderr
    assert json.loads(store.run("show", "CS1", "--json").stdout)["unread"] == {"colour": "red"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                      max_size=4),
    max_leaves=20,
)


@pytest.mark.slow  # two seconds; the inner loop's parser properties are in test_archives
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(GOOD)), json_values, max_size=8)
       | st.binary(max_size=200).map(lambda raw: raw))
def test_the_line_parser_never_raises(data: object) -> None:
    if isinstance(data, bytes):
        raw = data
    else:
        raw = json.dumps({**GOOD, **data}, ensure_ascii=False).encode()  # type: ignore[dict-item]
    intake = Intake(today=today_utc())
    for row in read_jsonl(io.BytesIO(raw.replace(b"\n", b" ") + b"\n"), intake):
        assert (row.record is None) != (row.error is None)


def test_reimporting_a_file_with_new_rows_stores_the_new_ones(store: Store, tmp_path: Path) -> None:
    """A batch that meets an existing code falls back row by row and loses nothing."""
    first = [orjson.dumps({**GOOD, "code": f"CS{n}"}) for n in (1, 2)]
    write_lines(tmp_path / "a.jsonl", first)
    assert store.run("import", str(tmp_path / "a.jsonl")).exit_code == 0
    before = store.events()
    more = [*first, orjson.dumps({**GOOD, "code": "CS3"}), orjson.dumps({**GOOD, "code": "CS4"})]
    write_lines(tmp_path / "b.jsonl", more)
    summary = json.loads(store.run("import", str(tmp_path / "b.jsonl"), "--json").stdout)
    assert (summary["imported"], summary["already_stored"]) == (2, 2)
    per_incident = (before) // 2
    assert store.events() == before + summary["events"] == before + 2 * per_incident
    for code in ("CS3", "CS4"):
        history = json.loads(store.run("history", code, "--json").stdout)
        assert history[-1]["event"] == "NoteAdded" and len(history) == per_incident

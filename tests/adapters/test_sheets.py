"""Spreadsheets as analysts keep them read into the JSON Lines shape, no cell lost."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.adapters.interchange import CSV_HEADER, MAX_CSV_CELL, write_csv
from verify.adapters.sheets import SheetRow, detect_delimiter, load_column_map, read_sheet
from verify.application.records import IncidentRecord
from verify.domain.errors import InvalidInput


def sheet(text: str, columns: dict[str, str] | None = None) -> list[SheetRow]:
    return list(read_sheet(io.StringIO(text, newline=""), columns=columns))


def incidents(text: str, columns: dict[str, str] | None = None) -> list[dict[str, Any]]:
    rows = sheet(text, columns)
    assert all(row.error is None and row.data is not None for row in rows), rows
    return [row.data for row in rows if row.data is not None]


def table(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


# ------------------------------------------------------------------ delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_detected_and_cells_read(delimiter: str) -> None:
    text = table([["code", "date", "summary", "belligerents"],
                  ["CS1", "2024-01-02", "a, b; c\td", "A ; B;; "]], delimiter)
    assert detect_delimiter(text) == delimiter
    assert incidents(text) == [{"code": "CS1", "date": "2024-01-02", "summary": "a, b; c\td",
                                "belligerents": ["A", "B"]}]


def test_detection_counts_outside_quotes_only_on_the_header_line() -> None:
    assert detect_delimiter('"a;b;c;d",code,x\n1;2;3;4;5;6;7\n') == ","
    assert detect_delimiter('\n  \n"say ""a,b,c""";code\n') == ";"
    assert detect_delimiter("code\n") == ","
    assert detect_delimiter("") == ","


def test_a_bom_and_crlf_line_ends() -> None:
    text = "\ufeffCode;Country\r\nCS1;Syria\r\nCS2;Iraq\r\n"
    rows = sheet(text)
    assert [(row.line, row.data) for row in rows] == [
        (2, {"code": "CS1", "country": "Syria"}), (3, {"code": "CS2", "country": "Iraq"})]


def test_quoted_cells_with_delimiters_and_newlines_keep_the_rows_first_line() -> None:
    text = 'code;summary;notes\r\nCS1;"one;\r\ntwo\r\nthree";"[""n""]"\r\nCS2;"x,y";\r\n'
    rows = sheet(text)
    assert [row.line for row in rows] == [2, 5]
    assert rows[0].data == {"code": "CS1", "summary": "one;\r\ntwo\r\nthree", "notes": ["n"]}
    assert rows[1].data == {"code": "CS2", "summary": "x,y"}


def test_a_file_with_a_bom_through_csv_text(tmp_path: Path) -> None:
    from verify.adapters.interchange import csv_text

    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeffcode\tcountry\r\nCS1\tSyria\r\n".encode())
    with csv_text(path) as text:
        assert [row.data for row in read_sheet(text)] == [{"code": "CS1", "country": "Syria"}]


# ------------------------------------------------------------------ cells


def test_headers_match_in_any_case_and_with_invisible_characters() -> None:
    text = "\u200bCODE ,Location_Name,  civilians_killed_MIN\nCS1,Aleppo,3\n"
    assert incidents(text) == [{"code": "CS1", "location": {"name": "Aleppo"},
                                "civilians_killed": {"min": "3"}}]


def test_text_is_kept_exactly_and_json_that_does_not_parse_is_kept_as_the_cell() -> None:
    text = table([["code", "summary", "sources", "notes"],
                  ["CS1", "  spaced  ", "[{", '["kept"]']])
    assert incidents(text) == [{"code": "CS1", "summary": "  spaced  ", "sources": "[{",
                                "notes": ["kept"]}]


def test_plain_counts_go_whole_or_beside_a_min_or_max() -> None:
    text = table([["code", "civilians_killed", "civilians_injured", "civilians_injured_max"],
                  ["CS1", "at least 30", "dozens", "40"],
                  ["CS2", "30+", "", ""]])
    assert incidents(text) == [
        {"code": "CS1", "civilians_killed": "at least 30",
         "civilians_injured": {"max": "40", "text": "dozens"}},
        {"code": "CS2", "civilians_killed": "30+"},
    ]


def test_a_plain_count_beside_a_different_text_column_is_kept_by_its_line() -> None:
    text = table([["code", "civilians_killed_text", "civilians_killed"],
                  ["CS1", "many", "at least 30"]])
    assert incidents(text) == [{"code": "CS1", "civilians_killed": {"text": "many"},
                                "civilians_killed (line 2)": "at least 30"}]


def test_unknown_columns_extra_cells_and_duplicate_headers_are_kept() -> None:
    text = table([["code", "Analyst", "analyst", "code", "", "location"],
                  ["CS1", "me", "you", "CS9", "unnamed", "Aleppo", "more", "", "most"]])
    assert incidents(text) == [{
        "code": "CS1", "Analyst": "me", "analyst (2)": "you", "code (2)": "CS9",
        "column 5": "unnamed", "location (2)": "Aleppo", "extra cells": ["more", "most"]}]


def test_blank_rows_are_skipped_and_a_blank_code_still_yields() -> None:
    text = "\n\ncode,summary\n,,\n  ,\t\n\n,no code\nCS1,x\n"
    rows = sheet(text)
    assert [(row.line, row.data) for row in rows] == [(7, {"summary": "no code"}),
                                                      (8, {"code": "CS1", "summary": "x"})]


def test_no_code_column_is_one_sentence_naming_the_columns() -> None:
    headers = [f"col{n}" for n in range(14)]
    with pytest.raises(InvalidInput) as caught:
        sheet(table([headers, ["1"] * 14]))
    message = str(caught.value)
    assert "no code column" in message and "col0, col1" in message and "and 4 more" in message
    assert "col13" not in message and "\n" not in message
    with pytest.raises(InvalidInput, match="no header row"):
        sheet("\n\n")


@pytest.mark.slow  # cells of the largest size (MAX_CSV_CELL): half a second
def test_a_cell_of_the_largest_size_reads_and_a_larger_one_ends_the_sheet() -> None:
    text = f"code,summary\nCS1,{'x' * MAX_CSV_CELL}\nCS2,{'y' * (MAX_CSV_CELL + 1)}\nCS3,z\n"
    rows = sheet(text)
    assert len(rows) == 2 and rows[0].data is not None
    assert len(rows[0].data["summary"]) == MAX_CSV_CELL
    assert rows[1].line == 3 and rows[1].data is None
    assert rows[1].error is not None and "the rest of the file is not read" in rows[1].error


# ------------------------------------------------------------------ sources


FLAT = ["code", "date", "summary", "source_url", "source_publisher", "source_kind"]


def test_flat_sources_over_rows_with_the_same_code_in_any_case_and_order() -> None:
    text = table([
        FLAT,
        ["cs1", "2024-01-02", "Strike", "https://a", "A", "ngo"],
        ["TI2a", "2024-02-01", "Other", "https://c", "C", "media"],
        ["CS1", "", "", "https://b", "B", ""],
        ["ti2A", "2024-02-01", " Other ", "", "", ""],
        ["Cs1", "2024-01-02", "", "https://d", "D", "official"],
    ])
    rows = sheet(text)
    assert [row.line for row in rows] == [2, 3]
    assert rows[0].data == {
        "code": "cs1", "date": "2024-01-02", "summary": "Strike",
        "sources": [{"url": "https://a", "publisher": "A", "kind": "ngo"},
                    {"url": "https://b", "publisher": "B"},
                    {"url": "https://d", "publisher": "D", "kind": "official"}]}
    assert rows[1].data == {"code": "TI2a", "date": "2024-02-01", "summary": "Other",
                            "sources": [{"url": "https://c", "publisher": "C",
                                         "kind": "media"}]}


def test_a_later_rows_differing_cell_is_kept_under_its_line() -> None:
    text = table([
        [*FLAT, "Analyst"],
        ["CS1", "2024-01-02", "", "https://a", "A", "ngo", "me"],
        ["CS1", "2024-01-03", "Said later", "https://b", "B", "ngo", "me", "stray"],
    ])
    assert incidents(text) == [{
        "code": "CS1", "date": "2024-01-02", "Analyst": "me",
        "date (line 3)": "2024-01-03", "summary (line 3)": "Said later",
        "extra cells (line 3)": ["stray"],
        "sources": [{"url": "https://a", "publisher": "A", "kind": "ngo"},
                    {"url": "https://b", "publisher": "B", "kind": "ngo"}]}]


def test_rows_with_a_blank_code_are_not_grouped() -> None:
    text = table([FLAT, ["", "2024-01-02", "", "https://a", "A", "ngo"],
                  ["", "", "", "https://b", "B", "ngo"]])
    assert [row.line for row in sheet(text)] == [2, 3]


def test_numbered_sources_in_number_order_after_the_sources_cell() -> None:
    text = table([
        ["code", "source10_url", "Source2_URL", "source2_publisher", "sources", "source_url",
         "source1_withdrawn"],
        ["CS1", "https://ten", "https://two", "Two", '[{"url": "https://json"}]',
         "https://flat", ""],
        ["CS1", "", "", "", "", "https://flat2", "yes"],
    ])
    assert incidents(text) == [{"code": "CS1", "sources": [
        {"url": "https://json"}, {"url": "https://two", "publisher": "Two"},
        {"url": "https://ten"}, {"withdrawn": "yes"},
        {"url": "https://flat"}, {"url": "https://flat2"}]}]


def test_a_sources_cell_that_is_not_a_list_moves_aside_for_the_sheets_sources() -> None:
    text = table([["code", "sources", "source1_url"], ["CS1", "[{", "https://one"]])
    assert incidents(text) == [{"code": "CS1", "sources (line 2)": "[{",
                                "sources": [{"url": "https://one"}]}]


# ------------------------------------------------------------------ column maps


def test_a_column_map_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('"Ref" = "code"\n[columns]\n"Killed" = "civilians_killed"\n'
                    '"Link" = "Source_URL"\n"Outlet" = "source3_publisher"\n', encoding="utf-8")
    mapping = load_column_map(path)
    assert mapping == {"Killed": "civilians_killed", "Link": "source_url",
                       "Outlet": "source3_publisher", "Ref": "code"}
    text = table([["REF", "killed", "link", "outlet"], ["CS1", "30+", "https://a", "A"]])
    assert incidents(text, mapping) == [{"code": "CS1", "civilians_killed": "30+",
                                         "sources": [{"publisher": "A"}, {"url": "https://a"}]}]


@pytest.mark.parametrize(("content", "problem"), [
    ('"Ref" = "kode"\n', "maps 'Ref' to 'kode', which is not a column"),
    ('[columns]\n"Ref" = 3\n', "maps 'Ref' to 3"),
    ('[other]\n"Ref" = "code"\n', "maps 'other' to a table"),
    ('"Ref" = \n', "is not valid TOML (at line 1, column 9)"),
    ('"Ref" = "code"\n"ref" = "date"\n', "maps 'ref' twice"),
    (b"\xff = 1", "is not UTF-8 text"),
])
def test_a_bad_column_map_is_one_sentence(
        tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = tmp_path / "map.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidInput) as caught:
        load_column_map(path)
    assert str(caught.value).startswith("the column map map.toml ")
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_column_map_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"cannot read the column map none\.toml"):
        load_column_map(tmp_path / "none.toml")


def test_a_column_map_given_directly_is_checked() -> None:
    with pytest.raises(InvalidInput, match="maps 'Ref' to 'nothing'"):
        sheet("Ref\nCS1\n", {"Ref": "nothing"})


# ------------------------------------------------------------------ round trips


RECORDS = [
    {"code": "CS1", "date": "2024-01-02", "country": "Syria",
     "location": {"name": "Aleppo; old city", "lat": 36.2, "lon": 37.15, "precision": "exact"},
     "belligerents": ["Russia", "Syrian government"],
     "civilians_killed": {"min": 3, "max": 5}, "summary": 'A "quoted", multi\nline; summary',
     "sources": [{"url": "https://example.org/a", "publisher": "Amnesty International",
                  "kind": "ngo", "reliability": "B", "credibility": 2}],
     "notes": ["first", "second"]},
    {"code": "TI38c", "date": "2023-05-06", "country": "Iraq", "location": {"name": "Mosul"}},
]


def test_a_csv_export_reads_back_as_the_same_records() -> None:
    records = [IncidentRecord.model_validate(record) for record in RECORDS]
    out = io.BytesIO()
    write_csv(records, out)
    read = incidents(out.getvalue().decode("utf-8"))
    assert [IncidentRecord.model_validate(data) for data in read] == records
    assert read[0]["location"]["name"] == "Aleppo; old city"


def test_rows_in_the_export_header_read_back_nested() -> None:
    row = {name: "" for name in CSV_HEADER} | {
        "code": "CS2", "belligerents": " A ;B ;", "civilians_injured_text": "some",
        "other_strikes": '[{"status": "declared"}]', "grade": "fair", "dispute_by": "x"}
    text = table([CSV_HEADER, [row[name] for name in CSV_HEADER]], ";")
    assert incidents(text) == [{
        "code": "CS2", "belligerents": ["A", "B"], "civilians_injured": {"text": "some"},
        "other_strikes": [{"status": "declared"}], "grade": {"grade": "fair"},
        "dispute": {"by": "x"}}]


CELL = st.text(st.one_of(
    st.sampled_from([";", ",", "\t", '"', "\n", "\r", " ", "'"]),
    st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")),
), max_size=12)


@pytest.mark.slow  # 150 tables drawn; the cases above stay in the inner loop
@settings(max_examples=150, deadline=None)
@given(width=st.integers(1, 4), data=st.data(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_any_table_reads_back_with_its_non_blank_cells(
        width: int, data: st.DataObject, delimiter: str) -> None:
    header = ["code"] + [f"column {n}" for n in range(width)]
    body = data.draw(st.lists(st.lists(CELL, min_size=width + 1, max_size=width + 1),
                              max_size=6))
    rows = sheet(table([header, *body], delimiter))
    expected = [{name: cell for name, cell in zip(header, cells, strict=True) if cell.strip()}
                for cells in body if any(cell.strip() for cell in cells)]
    assert [row.data for row in rows] == expected

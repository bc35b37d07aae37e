"""Hostile input: the import parser and every command-line option, fuzzed.

Property-based tests (hypothesis) feed the import parser and every option of
every command random Unicode (right-to-left text, U+202E, control characters),
huge and negative numbers, SQL and shell metacharacters, malformed JSON and
CSV and dates out of range. The contract they hold the program to (SPEC
section 4): exit code 0, 1 (refused by a rule) or 2 (bad input); an error is
one plain sentence on stderr; never a Python traceback; nothing appended to
the event log when a command is refused. Store paths and PostgreSQL URLs are
never interpolated into SQL, and no shell is ever run.

The command tree is walked at collection time, so a command added later is
fuzzed without a change here; `test_every_command_is_fuzzed` fails if one
could escape. The example counts below are quoted in docs/security.md.
"""

from __future__ import annotations

import ast
import copy
import csv
import datetime as dt
import io
import json
import os
import re
import signal
import sqlite3
import string
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st

from verify.adapters.interchange import (
    CSV_HEADER,
    MAX_LINE_BYTES,
    decode_json_line,
    parse_json_line,
    read_csv,
    read_rows,
    write_csv,
    write_jsonl,
)
from verify.adapters.store import parse_store
from verify.adapters.strike_files import read_reports
from verify.application.app import VerifyApp
from verify.application.importing import Row, incident_from_record, validate_row
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.records import IncidentRecord
from verify.demo.tour import DEMO_CODES
from verify.domain.errors import InvalidInput, VerifyError
from verify.entrypoints.cli import cli

from conftest import POSTGRES_SERVER, postgres_unreachable

# Hostile examples are large on purpose; hypothesis need not say so on every failure.
pytestmark = [
    pytest.mark.slow,  # thousands of fuzzed examples
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

# ---------------------------------------------------------------- the budget

PARSER_EXAMPLES = 300
"""Examples for each property of the import parser (pure functions, no store)."""

IMPORT_FILE_EXAMPLES_SQLITE = 60
IMPORT_FILE_EXAMPLES_POSTGRES = 15
"""Whole hostile files through `verify import`, per store kind."""

CLI_EXAMPLES_SQLITE = 90
CLI_EXAMPLES_POSTGRES = 12
"""Random invocations of each command, per store kind."""

UNDECODABLE_ARGV_EXAMPLES = 20
"""Invocations of each command with bytes that are not UTF-8 in its arguments (SQLite)."""

ROOT_ARGV_EXAMPLES = 200
"""Random token lists given to `verify` itself."""

STORE_NAME_EXAMPLES = 60
POSTGRES_URL_EXAMPLES = 25
"""Hostile store file names, and hostile PostgreSQL URLs."""

COMMAND_TIMEOUT_SECONDS = 30
"""One invocation taking longer than this has hung: the test says so instead of waiting."""

EXCLUDED_COMMANDS = {
    ("serve",): "runs a web server until interrupted (SPEC section 8); not a one-shot command",
}
"""Commands the fuzzer leaves out, and why; every other command in the tree is fuzzed."""

BOUNDED_OPTIONS: dict[tuple[str, ...], dict[str, Sequence[str]]] = {
    # `projections run` runs until --stop-after; it is fuzzed, but always told to stop
    # (or given a value it must refuse or survive), and never to sleep for long.
    ("projections", "run"): {
        "--stop-after": ("0", "0.01", "0.2", "-1", "nan", "1e-9", "x", ""),
        "--interval": ("0.05", "0.1", "0.01", "-1", "nan", "inf", "1e30", "x", "", "1e-300"),
    },
    # `audit seal --tsa` asks an authority over the network: fuzzed with addresses that
    # reach nobody (a closed loopback port) or that it must refuse, never an outside one.
    ("audit", "seal"): {
        "--tsa": ("http://127.0.0.1:1/", "https://127.0.0.1:1/tsa", "http://u:p@127.0.0.1:1/",
                  "ftp://127.0.0.1/", "127.0.0.1", "", "x", "http://", "http://[::1",
                  "http://127.0.0.1:99999/", "http://127.0.0.1:0/", "\u202ehttp://x"),
    },
}
"""Options that always get a value from a bounded list, so an invocation ends promptly."""

PARTIAL_COMMANDS = {("import",), ("strikes", "import")}
"""Commands that import the good lines of a file and exit 2 (or 1) for the bad ones: they
may append events with a non-zero exit code, but only when they report rows imported."""

COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    # No shrinking: it can cost minutes per failure. A failure is reported as found, and
    # the minimal cases found so far are kept in KNOWN_CASES below.
    phases=[Phase.explicit, Phase.generate],
    # The bench (a store, a folder) is shared by the examples of one test on purpose.
    suppress_health_check=list(HealthCheck),
)


def budget(examples: int) -> settings:
    """The common settings with this many examples."""
    return settings(COMMON, max_examples=examples)


INTAKE = Intake(today=today_utc())
"""How `verify import` reads rows: strict on four fields, lenient on the rest."""

EXAMPLES_RUN: Counter[str] = Counter()
"""How many examples each fuzz target actually ran (see `test_examples_ran`)."""

# ------------------------------------------------------------ hostile values

RTL = [
    "\u0645\u062f\u064a\u0646\u0629 \u0627\u0644\u0645\u0648\u0635\u0644",  # Arabic: Mosul city
    "\u05d9\u05e8\u05d5\u05e9\u05dc\u05d9\u05dd",  # Hebrew
    "\u202eevil.exe\u202c",  # right-to-left override
    "\u200f\u200e\u2066x\u2069\u2067y\u2069",  # marks and isolates
    "Mosul \u202e\u0627\u0644\u0645\u0648\u0635\u0644\u202c al-Jadida",
    "\ufdfd\ufdfa",  # Arabic ligatures
]
CONTROL = [
    "\x01\x02\x03", "\x1b[31mred\x1b[0m", "\r", "\n", "a\nb", "tab\there", "\x7f", "\x85",
    "\u2028\u2029", "\ufeff", "\ufffd", "\x0b\x0c", "\x08\x08\x08overwritten",
]
SQL = [
    "'); DROP TABLE stored_events;--", "\" OR 1=1 --", "%' OR '%'='", "_%", "%", "\\",
    "x' UNION SELECT state FROM stored_events --", "*", "\"\"", "'", "NEAR(a b)",
    "a AND b OR c NOT d", "incident_search MATCH 'x'", "{x}", "%s", "?", "$1", ":name",
]
SHELL = [
    "$(rm -rf /)", "`rm -rf /`", "; rm -rf / #", "| cat /etc/passwd", "&& touch pwned",
    "${IFS}cat${IFS}/etc/passwd", "~root", "../../../../etc/passwd", "-", "--", "--help",
    "-h", "--json", "--version", "-o", "CON", "NUL", "*.sqlite", ">out", "<in",
]
SIZES = ["", " ", "   ", "x" * 501, "y" * 20_001, "z" * 200_000, "\U0001d54f\U0001f600" * 300]
NUMBERS = [
    "0", "-1", "-0", "1", "6", "7", "99999999999999999999999", "-99999999999999999999999",
    "1e3", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "Infinity", "1_000", "0x10",
    "\u0661\u0662\u0663", "\u00b2", "\uff15", "1.5", "1,5", " 3 ", "+5", "1e-400", "9" * 400,
]
DATES = [
    "2017-03-17", "0000-01-01", "0001-01-01", "1899-12-31", "1900-01-01", "9999-12-31",
    "10000-01-01", "2017-02-30", "2016-02-29", "2017-02-29", "2017-13-01", "2017-00-10",
    "17-03-2017", "2017/03/17", "20170317", "2017-W11-5", "2017-076", " 2017-03-17 ",
    "\u0662\u0660\u0661\u0667-\u0660\u0663-\u0661\u0667", "2017-03-17T00:00", "today",
]
MOMENTS = [
    "2017-03-20", "2017-03-20T14:00:00Z", "2017-03-20T14:00:00+03:00",
    "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59.999999+23:59", "9999-12-31", "0001-01-01", "2017-03-20T25:00",
    "2017-03-20T14:00:00+99:00", "1969-12-31T23:59:59Z", "2017-03-20 14:00", "now",
    "2017-03-20T14:00:00.123456789Z", "T14:00",
]
COUNTS = [
    "0", "5", "5-2", "2-5", "99999999", "100000000", "10000001", "1-99999999", "-1", "1--2",
    "\u0663", "\u0663-\u0665", "\uff15", " 3 - 4 ", "3-", "-", "1e3", "nan", "00000003",
]
HOSTILE_TEXT = RTL + CONTROL + SQL + SHELL + SIZES + NUMBERS[:6] + DATES[:4] + MOMENTS[:2]

SENSIBLE_TEXT = [
    "Mosul", "Iraq", "Syria", "US-led Coalition", "Iraqi ground forces", "Russia",
    "https://example.org/a", "Amnesty International", "s1", "s2", "s3", "s99", "v1", "v2",
    "Strike on a house.", "amira", "badr", "Because the munition was found.",
]

UNKNOWN_CODES = ["ZZ404", "CS1", "A1", "ABCDEFGHIJKL123456789z", "CI1050aa", "1050", "CI"]


def argv_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text a terminal can pass: any Unicode but NUL (argv cannot carry it) and lone
    surrogates (those come from bytes that are not UTF-8; see the undecodable test)."""
    return st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        max_size=max_size,
    )


def mixed(pool: Sequence[str]) -> st.SearchStrategy[str]:
    """A value from the pool, alone or with hostile text around it."""
    base = st.sampled_from(list(pool))
    return st.one_of(
        base,
        st.builds(lambda a, b: a + b, base, st.sampled_from(HOSTILE_TEXT[:60])),
        st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE_TEXT[:60]), base),
    )


TEXT = st.one_of(
    st.sampled_from(SENSIBLE_TEXT), st.sampled_from(HOSTILE_TEXT), mixed(SENSIBLE_TEXT),
    argv_text(),
)

# ================================================================== the parser


def _is_row(value: object, line: int) -> bool:
    return (isinstance(value, Row) and value.line == line
            and (value.record is None) != (value.error is None)
            and (value.error is None or (isinstance(value.error, str) and value.error != "")))


def json_values(leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value, hostile where it can be."""
    scalars = st.one_of(
        st.none(), st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 2**64, 0, -1]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(HOSTILE_TEXT + DATES + COUNTS + UNKNOWN_CODES),
        st.text(max_size=30),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(["min", "max", "name", "url", "grade", "x"])
                            | st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=leaves,
    )


JSON_VALUES = json_values()
SMALL_JSON_VALUES = json_values(3)


SOURCE_TEMPLATE = {"url": "https://example.org/a", "publisher": "Amnesty International",
                   "kind": "ngo", "reliability": "B", "credibility": 2}
FIELD_PATHS: list[tuple[str, ...]] = [
    ("code",), ("date",), ("country",), ("location",), ("location", "name"),
    ("location", "lat"), ("location", "lon"), ("location", "precision"), ("belligerents",),
    ("civilians_killed",), ("civilians_killed", "min"), ("civilians_killed", "max"),
    ("civilians_injured", "min"), ("summary",), ("sources",), ("strike",), ("other_strikes",),
    ("contested_by",), ("assessments",), ("discounts",), ("grade",), ("grade", "grade"),
    ("dispute",), ("duplicate_of",), ("notes",), ("unknown_field",), ("",), ("sources", "0"),
]


HOSTILE_FIELD_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(HOSTILE_TEXT + DATES + MOMENTS),
    st.lists(st.sampled_from(HOSTILE_TEXT), max_size=3),
    st.builds(lambda key, value: [{**SOURCE_TEMPLATE, key: value}],
              st.sampled_from([*SOURCE_TEMPLATE, "published", "group", "protected",
                               "withdrawn", "extra"]), SMALL_JSON_VALUES),
    st.just({"grade": "fair", "rationale": "'); DROP TABLE stored_events;--"}),
    st.just({"by": "$(rm -rf /)", "reason": "\u202eevil"}),
    st.just({"status": "declared", "belligerent": "US-led Coalition", "distance_km": 1e308}),
    st.just({"min": 10**30, "max": -1}),
    st.just({"min": None, "max": 10_000_001}),
    st.just({"name": "Mosul", "lat": 90.0000001, "lon": -180}),
)


@st.composite
def hostile_documents(draw: st.DrawFn, code: str | None = None) -> dict[str, Any]:
    """A structurally valid incident row whose values are then made hostile."""
    document: dict[str, Any] = {
        "code": code or draw(st.sampled_from(["HX1", "hx2B", "HX3"])),
        "date": "2017-03-17", "country": "Iraq",
        "location": {"name": draw(st.sampled_from([*RTL, "Mosul"]))},
        "belligerents": ["US-led Coalition"],
    }
    if draw(st.booleans()):
        document["sources"] = [dict(SOURCE_TEMPLATE)]
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        path = draw(st.sampled_from(FIELD_PATHS))
        value = copy.deepcopy(draw(HOSTILE_FIELD_VALUES))
        target = document
        for key in path[:-1]:
            if isinstance(target, dict):
                target = target.setdefault(key, {})
            elif isinstance(target, list) and target:
                target = target[0]
        if isinstance(target, dict):
            target[path[-1]] = value
    return document


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    """One line of a JSON Lines file: a hostile document, encoded in a hostile way, or junk."""
    kind = draw(st.sampled_from(["document", "document", "document", "bytes", "truncated",
                                 "surrogate", "non-object", "huge"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "non-object":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "huge":
        return b'{"code": "HX9", "summary": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}'
    document = draw(hostile_documents())
    if kind == "surrogate":
        document["country"] = draw(st.sampled_from(["\ud800", "\udfff", "a\udc80b"]))
    text = json.dumps(document, ensure_ascii=draw(st.booleans()), allow_nan=True)
    raw = text.encode("utf-8", "surrogatepass")
    if kind == "truncated":
        raw = raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
    return raw + draw(st.sampled_from([b"", b"\n", b"\r\n", b" \t", b"\x00", b"\xff"]))


@budget(PARSER_EXAMPLES)
@given(raw=st.one_of(st.binary(max_size=300), json_lines()))
def test_decode_json_line_returns_an_object_a_reason_or_nothing(raw: bytes) -> None:
    EXAMPLES_RUN["parser: decode_json_line"] += 1
    decoded = decode_json_line(raw)
    assert decoded is None or isinstance(decoded, dict | str)
    if isinstance(decoded, str):
        assert decoded and "\n" not in decoded


@budget(PARSER_EXAMPLES)
@given(line=st.integers(min_value=1, max_value=10**9), raw=json_lines())
def test_parse_json_line_gives_a_row_or_a_reason_never_an_exception(line: int, raw: bytes
                                                                    ) -> None:
    EXAMPLES_RUN["parser: parse_json_line"] += 1
    row = parse_json_line(line, raw, INTAKE)
    assert row is None or _is_row(row, line), row


@budget(PARSER_EXAMPLES)
@given(data=st.one_of(JSON_VALUES, hostile_documents()))
def test_validate_row_accepts_or_explains_any_json_value(data: Any) -> None:
    EXAMPLES_RUN["parser: validate_row"] += 1
    row = validate_row(7, data, INTAKE)
    assert _is_row(row, 7), row


VALID_TEXT = st.one_of(
    st.sampled_from([text for text in RTL + CONTROL + SQL + SHELL if text.strip()]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
    .filter(lambda text: text.strip() != ""),
)
"""Text a row may carry (not blank, at most 500 characters), as hostile as it gets."""


@st.composite
def accepted_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A row the parser should accept, every text field hostile, every optional part
    present or not."""
    names = draw(st.lists(VALID_TEXT, min_size=1, max_size=3))
    sources = [{"url": draw(VALID_TEXT), "publisher": draw(VALID_TEXT),
                "kind": draw(st.sampled_from(["media", "ngo", "social", "witness"])),
                "reliability": draw(st.sampled_from("ABCDEF")),
                "credibility": draw(st.integers(1, 6)),
                "group": draw(st.none() | VALID_TEXT), "protected": draw(st.booleans()),
                "published": draw(st.none() | st.dates(max_value=today_utc()).map(
                    dt.date.isoformat)),
                "withdrawn": draw(st.booleans())}
               for _ in range(draw(st.integers(0, 3)))]
    low = draw(st.none() | st.integers(0, 10_000_000))
    document: dict[str, Any] = {
        "code": draw(st.sampled_from(["HX1", "hx2B", "ABCDEFGHIJKL123456789z"])),
        "date": draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=today_utc()).map(
            dt.date.isoformat)),
        "country": draw(VALID_TEXT),
        "location": {"name": draw(VALID_TEXT)},
        "belligerents": names,
        "civilians_killed": {"min": low, "max": None if low is None else draw(
            st.integers(low, 10_000_000))},
        "summary": draw(st.none() | VALID_TEXT),
        "sources": sources,
        "contested_by": [{"belligerent": draw(VALID_TEXT), "reason": draw(VALID_TEXT)}
                         for _ in range(draw(st.integers(0, 2)))],
        "notes": draw(st.lists(VALID_TEXT, max_size=2)),
    }
    if draw(st.booleans()):
        document["location"].update(lat=draw(st.floats(-90, 90)), lon=draw(st.floats(-180, 180)),
                                    precision=draw(st.sampled_from(["exact", "town", None])))
    if draw(st.booleans()):
        document["strike"] = {"status": draw(st.sampled_from(["declared", "likely"])),
                              "belligerent": draw(st.sampled_from(names)),
                              "report": draw(st.none() | VALID_TEXT),
                              "distance_km": draw(st.none() | st.floats(0, 20_000))}
    if draw(st.booleans()):
        document["assessments"] = [{"belligerent": draw(st.sampled_from(names)),
                                    "outcome": "credible", "reason": draw(VALID_TEXT)}]
    if sources and draw(st.booleans()):
        document["grade"] = {"grade": draw(st.sampled_from(["confirmed", "fair", "weak"])),
                             "rationale": draw(VALID_TEXT), "rule": draw(st.none() | VALID_TEXT)}
        if draw(st.booleans()):
            document["dispute"] = {"by": draw(VALID_TEXT), "reason": draw(VALID_TEXT)}
    return document


ROWS = st.one_of(accepted_documents(), accepted_documents(), hostile_documents())


@budget(PARSER_EXAMPLES)
@given(document=ROWS)
def test_an_accepted_row_is_stored_or_refused_and_exports_as_json_lines_unchanged(
    document: dict[str, Any],
) -> None:
    """What the parser accepts, the domain takes or refuses with a VerifyError, and its
    JSON Lines export reads back as the same record."""
    row = validate_row(1, document, INTAKE)
    assume(row.record is not None)
    EXAMPLES_RUN["parser: accepted rows, JSON Lines"] += 1
    record = row.record
    assert record is not None
    try:
        incident_from_record(record, "\u202eactor'); DROP TABLE stored_events;--")
    except VerifyError as error:
        assert str(error).strip()
    out = io.BytesIO()
    write_jsonl([record], out)
    again = parse_json_line(1, out.getvalue(), INTAKE)
    assert again is not None and again.record is not None, (again, out.getvalue())
    changed = changed_fields(record, again.record)
    assert not changed, f"a JSON Lines export reads back changed: {changed}"


@budget(PARSER_EXAMPLES)
@given(document=ROWS)
def test_an_accepted_row_exports_as_csv_unchanged(document: dict[str, Any]) -> None:
    """docs/formats.md: a CSV export re-imports unchanged, whatever the text holds."""
    row = validate_row(1, document, INTAKE)
    assume(row.record is not None)
    EXAMPLES_RUN["parser: accepted rows, CSV"] += 1
    record = row.record
    assert record is not None
    out = io.BytesIO()
    write_csv([record], out)
    rows = list(read_csv(io.StringIO(out.getvalue().decode("utf-8"), newline=""), INTAKE))
    assert len(rows) == 1 and rows[0].record is not None, (rows, out.getvalue())
    changed = changed_fields(record, rows[0].record)
    assert not changed, f"a CSV export reads back changed: {changed}"


def changed_fields(before: IncidentRecord, after: IncidentRecord) -> dict[str, Any]:
    return {name: (getattr(before, name), getattr(after, name))
            for name in IncidentRecord.model_fields
            if getattr(before, name) != getattr(after, name)}


CSV_CELLS = st.one_of(
    st.sampled_from(HOSTILE_TEXT + DATES + COUNTS + UNKNOWN_CODES + SENSIBLE_TEXT),
    st.just(json.dumps([SOURCE_TEMPLATE])), st.just("[{"), st.just('[{"url": "\u202e"}]'),
    st.just("y" * 140_000), argv_text(20),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    names = [*CSV_HEADER, "Code", "code ", "", "unknown", "\ufeffcode"]
    header = draw(st.lists(st.sampled_from(names), min_size=0, max_size=8, unique=True))
    if draw(st.booleans()) and "code" not in header:
        header.insert(0, "code")
    out = io.StringIO()
    writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerow(header)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        writer.writerow([draw(CSV_CELLS) for _ in range(max(width, 0))])
    text = out.getvalue()
    if draw(st.booleans()):
        text += draw(st.sampled_from(['"unterminated,quote\n', "a,b,c,d,e,f,g,h,i,j\n", "\x00\n",
                                      "\r", '"', ",,,,\n\n\n"]))
    return text


@budget(PARSER_EXAMPLES)
@given(text=csv_texts())
def test_the_csv_reader_gives_rows_or_one_invalid_input(text: str) -> None:
    EXAMPLES_RUN["parser: read_csv"] += 1
    try:
        rows = list(read_csv(io.StringIO(text, newline=""), INTAKE))
    except InvalidInput as error:
        assert str(error).strip()
        return
    for row in rows:
        assert isinstance(row, Row) and (row.record is None) != (row.error is None), row


FILE_SUFFIXES = [".jsonl", ".ndjson", ".json", ".csv", ".CSV", ".JSONL", ".txt", ""]


@st.composite
def file_bytes(draw: st.DrawFn) -> bytes:
    """The bytes of a hostile import file: JSON Lines, CSV, or neither."""
    kind = draw(st.sampled_from(["jsonl", "csv", "csv-latin1", "bytes"]))
    if kind == "jsonl":
        return b"\n".join(draw(st.lists(json_lines(), max_size=5)))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    text = draw(csv_texts())
    bom = draw(st.sampled_from(["", "\ufeff"]))
    if kind == "csv-latin1":
        return (bom + text).encode("latin-1", "replace") + b"\xe9\xff\n"
    return (bom + text).encode("utf-8")


@budget(PARSER_EXAMPLES)
@given(content=file_bytes(), suffix=st.sampled_from(FILE_SUFFIXES))
def test_reading_any_import_file_gives_rows_or_one_invalid_input(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    EXAMPLES_RUN["parser: read_rows"] += 1
    path = tmp_path / f"in{suffix}"
    path.write_bytes(content)
    try:
        rows = list(read_rows(path, INTAKE))
    except InvalidInput as error:
        assert str(error).strip()
        return
    for row in rows:
        assert isinstance(row, Row) and (row.record is None) != (row.error is None), row


@budget(PARSER_EXAMPLES)
@given(content=file_bytes(), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_reading_any_strike_report_file_gives_rows_or_one_invalid_input(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    EXAMPLES_RUN["parser: read_reports"] += 1
    path = tmp_path / f"reports{suffix}"
    path.write_bytes(content)
    try:
        rows = list(read_reports(path))
    except InvalidInput as error:
        assert str(error).strip()
        return
    for line, record, error in rows:
        assert isinstance(line, int) and (record is None) != (error is None)


# ============================================================ the command line


def command_tree(group: click.Group = cli, path: tuple[str, ...] = ()
                 ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every leaf command under the root, with its path of names, as click lists them
    (so a lazily loaded command is found too)."""
    context = click.Context(group, info_name=path[-1] if path else "verify",
                            **cli.context_settings)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from command_tree(command, (*path, name))
        else:
            yield (*path, name), command


ALL_COMMANDS = dict(command_tree())
FUZZED = sorted(path for path in ALL_COMMANDS if path not in EXCLUDED_COMMANDS)
EXERCISED: dict[tuple[str, ...], set[str]] = {}
"""For each command whose fuzzing finished, the parameters the examples used."""


def store_kind(url: str) -> str:
    return "postgres" if url.startswith(("postgresql://", "postgres://")) else "sqlite"


class CommandHung(Exception):
    """An invocation ran past COMMAND_TIMEOUT_SECONDS."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise CommandHung(f"the command ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


CLEAN_ENV = {name: None for name in (
    "VERIFY_STORE", "VERIFY_ACTOR", "VERIFY_TEAM", "VERIFY_CIPHER_KEY", "VERIFY_GAZETTEER",
)}


def invoke(argv: list[str]) -> Result:
    with time_limit(COMMAND_TIMEOUT_SECONDS):
        return CliRunner().invoke(cli, argv, env=CLEAN_ENV, catch_exceptions=True)


def describe_result(argv: Sequence[str], result: Result) -> str:
    shown = [arg if len(arg) < 200 else arg[:60] + f"...({len(arg)} chars)" for arg in argv]
    text = f"\nargv: {shown!r}\nexit: {result.exit_code}\nstdout: {result.stdout[-1500:]!r}" \
           f"\nstderr: {result.stderr[-1500:]!r}"
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        import traceback

        text += "\n" + "".join(traceback.format_exception(*result.exc_info))[-4000:]
    return text


LINE_REPORT = re.compile(r"line \d+: \S")


def imported_count(result: Result) -> int:
    """How many rows an import says it imported (from its summary, plain or --json)."""
    try:
        document = json.loads(result.stdout)
        return int(document.get("imported", 0)) if isinstance(document, dict) else 0
    except ValueError:
        found = re.search(r"\bimported (\d+)", result.stdout)
        return int(found.group(1)) if found else 0


def contract_problems(path: tuple[str, ...], argv: Sequence[str], result: Result,
                      appended: int, *, json_flag: bool = False, dry_run: bool = False,
                      healthy_store: bool = True, strict_lines: bool = False) -> list[str]:
    """Everything about one invocation that breaks the command-line contract.

    Unless ``strict_lines``, an error may run over more than one line when the input held
    a line break (echoed as typed) or when click lists the choices of an option on lines
    of their own: both are known (see KNOWN_CASES) and would otherwise stop the fuzzing
    of a command at its first example, hiding what else it does with hostile input."""
    problems = []
    exception = result.exception
    if exception is not None and not isinstance(exception, SystemExit):
        problems.append(f"raised {type(exception).__name__}: {exception} (a traceback)")
    if result.exit_code not in (0, 1, 2):
        problems.append(f"exit code {result.exit_code} is not 0, 1 or 2")
    if "Traceback (most recent call last)" in result.stdout + result.stderr:
        problems.append("printed a Python traceback")
    partial = path in PARTIAL_COMMANDS
    if result.exit_code != 0:
        lines = result.stderr.rstrip("\n").split("\n") if result.stderr.strip() else []
        if lines and not strict_lines:
            typed_break = any("\n" in arg for arg in argv)
            lines = [line for number, line in enumerate(lines)
                     if number == 0 or not (typed_break or line.startswith("\t"))]
        one_sentence = (len(lines) == 1 and lines[0].startswith("error: ")
                        and len(result.stderr.strip()) > len("error:"))
        line_reports = partial and lines and all(LINE_REPORT.match(line) for line in lines)
        if not (one_sentence or line_reports):
            problems.append(f"exit {result.exit_code} without one `error: ` sentence on stderr "
                            f"({len(lines)} lines)")
        if strict_lines and re.search(r"[\x00-\x08\x0b-\x1f\x7f\x9b]", result.stderr):
            problems.append("the error echoes control characters (terminal escapes) as typed")
        if healthy_store and "error: the store could not be used" in result.stderr:
            problems.append("a healthy store was reported unusable: the input reached the "
                            "database as an error")
        allowed = partial and not dry_run and imported_count(result) > 0
        if appended and not allowed:
            problems.append(f"{appended} events were appended although the command failed")
    if dry_run and appended:
        problems.append(f"--dry-run appended {appended} events")
    if appended < 0:
        problems.append("events disappeared from the log")
    if json_flag and result.exit_code == 0:
        try:
            json.loads(result.stdout)
        except ValueError:
            problems.append("--json did not print one JSON document on stdout")
    return problems


# --------------------------------------------------------------- the bench

GOOD_ROWS = [
    {"code": "HX1", "date": "2017-03-17", "country": "Iraq",
     "location": {"name": RTL[4], "lat": 36.34, "lon": 43.1, "precision": "town"},
     "belligerents": ["US-led Coalition"], "summary": SQL[0] + " " + SHELL[0],
     "sources": [SOURCE_TEMPLATE], "notes": [RTL[2]]},
    {"code": "HX2", "date": "2017-03-18", "country": "Syria", "location": {"name": "Raqqa"},
     "belligerents": ["Russia"], "civilians_killed": {"min": 0, "max": 10_000_000}},
]
NUL_ROW = {"code": "HX3", "date": "2017-03-19", "country": "Ir\x00aq",
           "location": {"name": "Mo\x00sul"}, "belligerents": ["US-led Coalition\x00"],
           "summary": "a NUL \x00 inside"}
REPORT_ROW = {"reference": "CJTF-OIR 2017-03-18 \u202e", "belligerent": "US-led Coalition",
              "report_date": "2017-03-18", "strike_date": "2017-03-17", "place": "Mosul",
              "lat": 36.34, "lon": 43.13, "strikes": 6, "text": SQL[0]}
HOSTILE_NAME = "in;put $(touch pwned) `touch pwned2` 'q' \"d\" \u202e\u0645\u0644\u0641"


def jsonl(*rows: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)


def csv_bytes(header: Sequence[str], *rows: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


PREPARED_FILES: dict[str, bytes] = {
    f"{HOSTILE_NAME} good.jsonl": jsonl(*GOOD_ROWS),
    "mixed.jsonl": jsonl(GOOD_ROWS[1]) + b"{not json\n\n[1,2]\n" + jsonl({"code": "'; --"}),
    "all-bad.jsonl": b'{"code": "HX7"}\n[]\n{"code": 1e999}\n\xff\xfe\n{"date": "2017-02-30"}\n',
    "nul.jsonl": jsonl(NUL_ROW),
    "far-dates.jsonl": jsonl({**GOOD_ROWS[1], "code": "HX4", "date": "9999-12-31"},
                             {**GOOD_ROWS[1], "code": "HX5", "date": "0001-01-01"}),
    "huge-line.jsonl": b'{"summary": "' + b"x" * (MAX_LINE_BYTES + 1) + b'"}\n',
    "good.csv": csv_bytes(["code", "date", "country", "location_name", "belligerents"],
                          ["HX6", "2017-03-20", "Iraq", RTL[0], "US-led Coalition; Russia"]),
    "latin1.csv": b"code,date,country,location_name\nHX8,2017-03-20,Iraq,Mossoul \xe9\xff\n",
    "big-field.csv": csv_bytes(["code", "summary"], ["HX9", "s" * 140_000]),
    "unknown-column.csv": csv_bytes(["code", "'); DROP TABLE stored_events;--"], ["HX9", "x"]),
    "empty.csv": b"",
    "empty.jsonl": b"",
    "reports.jsonl": jsonl(REPORT_ROW),
    "reports-bad.csv": b"reference,belligerent,strike_date,place\n\xff\xfe,x,2017-01-01,Mosul\n",
    "gazetteer.csv": "name,alternate_names,lat,lon\nMosul,\u0627\u0644\u0645\u0648\u0635\u0644,"
                     "36.34,43.13\n".encode(),
    "gazetteer-nan.csv": b"name,lat,lon\nMosul,nan,inf\nRaqqa,1e999,-1e999\n",
    "gazetteer-latin1.csv": b"name,lat,lon\nMossoul \xe9,36.3,43.1\n",
    "team.toml": b'[members.amira]\nrole = "analyst"\n[members.badr]\nrole = "reviewer"\n'
                 b'[members."\'); DROP TABLE stored_events;--"]\nrole = "auditor"\n',
    "team-bad.toml": b"[members\nrole = = \n\xff",
    "binary": bytes(range(256)),
}


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store, whatever its write-ahead log still holds."""
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


_SEEDED_FOLDER = tempfile.TemporaryDirectory(prefix="verify-hostile-")
SEEDED_SQLITE: dict[str, Path] = {}
"""The first SQLite bench's store once seeded (the same for every test: copied, not redone)."""
SEEDED_CODES: list[str] = []


@dataclass
class Bench:
    """A prepared store (the demo, plus a few hostile incidents) and hostile files."""

    url: str
    files: dict[str, Path]
    work: Path
    app: VerifyApp | None = None
    codes: list[str] = field(default_factory=list)
    strategies: dict[int, Values] = field(default_factory=dict)

    @classmethod
    def prepare(cls, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bench:
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)  # anything a command writes by a relative name lands here
        files = {}
        for name, content in PREPARED_FILES.items():
            files[name] = tmp_path / "files" / name
            files[name].parent.mkdir(exist_ok=True)
            files[name].write_bytes(content)
        bench = cls(url=url, files=files, work=work)
        bench.seed()
        bench.app = VerifyApp(env={**parse_store(url).env(), "CREATE_TABLE": "n"})
        return bench

    def run(self, *args: str) -> Result:
        return invoke(["--store", self.url, "--actor", "ann", *args])

    def seed(self) -> None:
        """The demo and the hostile incidents: made once, then copied for each SQLite test."""
        if store_kind(self.url) == "sqlite" and SEEDED_SQLITE:
            copy_sqlite(SEEDED_SQLITE["file"], Path(self.url))
            self.codes = list(SEEDED_CODES)
            return
        self._seed()
        if store_kind(self.url) == "sqlite":
            kept = Path(_SEEDED_FOLDER.name) / "seeded.sqlite"
            copy_sqlite(Path(self.url), kept)
            SEEDED_SQLITE["file"], SEEDED_CODES[:] = kept, self.codes

    def _seed(self) -> None:
        result = self.run("demo")
        assert result.exit_code == 0, describe_result(["demo"], result)
        # Hostile incidents the commands can reach, reported the way a user could (should
        # a rule come to refuse one, the fuzzing goes on without it).
        self.codes = list(DEMO_CODES)
        for args in (
            ["report", "ZZ1", "--date", "9999-12-31", "--location", "Mosul", "--country",
             "Iraq", "--belligerent", "US-led Coalition", "--lat", "36.34", "--lon", "43.13"],
            ["report", "ZZ2", "--date", "2017-03-17", "--location", RTL[4], "--country",
             SQL[0], "--belligerent", SHELL[0], "--belligerent", RTL[2], "--summary",
             CONTROL[1] + SQL[6]],
            ["source", "add", "ZZ2", "--url", SHELL[1], "--publisher", RTL[1], "--kind",
             "media", "--reliability", "B", "--credibility", "2", "--group", SQL[4]],
        ):
            if self.run(*args).exit_code == 0 and args[0] == "report":
                self.codes.append(args[1])
        self.run("strikes", "import", str(self.files["reports.jsonl"]))

    def events(self) -> int:
        assert self.app is not None
        return self.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        if self.app is not None:
            self.app.close()

    def assert_healthy(self) -> None:
        """After the fuzzing, every reading command still works on the store."""
        checks = [["queue", "--json"], ["search", "Mosul"], ["search", "a"], ["stats"],
                  ["stats", "--by", "belligerent"], ["export", "--format", "csv"],
                  ["export", "--format", "geojson"], ["audit", "verify"], ["show", "CI1050"],
                  ["history", self.codes[-1]], ["strikes", "list"], ["projections", "rebuild"]]
        failed = []
        for args in checks:
            result = self.run(*args)
            if result.exit_code != 0 or (result.exception is not None and not isinstance(
                    result.exception, SystemExit)):
                failed.append(describe_result(args, result))
        assert not failed, "the store no longer serves reading commands:" + "".join(failed)


@pytest.fixture
def bench(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    prepared = Bench.prepare(store_url, tmp_path, monkeypatch)
    yield prepared
    prepared.close()


# ---------------------------------------------------------- values by type


@dataclass(frozen=True)
class Values:
    """What to give one parameter: values it should take (free text is hostile already:
    right-to-left, control characters, SQL, shell) and values it should refuse."""

    sensible: st.SearchStrategy[str]
    hostile: st.SearchStrategy[str]


FREE_TEXT = st.one_of(
    st.sampled_from(SENSIBLE_TEXT), st.sampled_from(RTL + CONTROL + SQL + SHELL[:10]),
    mixed(SENSIBLE_TEXT), argv_text(),
)
BROKEN_TEXT = st.one_of(st.sampled_from(SIZES + SHELL[10:] + CONTROL), argv_text(5))
NEW_NAME = st.builds(
    lambda name, suffix: name + suffix,
    st.text(alphabet=st.sampled_from(string.ascii_letters + string.digits + " ';\"$()`&|<>*?#%!~"
                                     "{}[]=+,:@^\u202e\u0645\u05d0\U0001f600-_."),
            min_size=1, max_size=20).filter(lambda name: name not in (".", "..")),
    st.sampled_from([".png", ".svg", ".PNG", ".jsonl", ".csv", ".geojson", ".txt", ""]),
)
"""A new file name in the working folder (no separator: never outside tmp_path)."""
BAD_PATHS = st.sampled_from(["", ".", "..", "missing-folder/out.png", "missing-folder/x.jsonl",
                             "\u202e", "--help", "-"])
"""Names a command must refuse; relative, so nothing is ever written outside tmp_path."""


def no_separator(text: str) -> str:
    """Hostile text made safe to use as a file name: no way out of the working folder
    (the tests run as whatever user runs them, perhaps root), and no /dev/zero to read."""
    return text.replace("/", "\u2215").replace("\x00", "")


PATH_TEXT = st.one_of(FREE_TEXT, BROKEN_TEXT).map(no_separator)


def prepared_files(bench: Bench) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(str(path) for path in bench.files.values()))


def filelike(param: click.Parameter) -> bool:
    """Whether a text parameter names a file (by its name or metavar)."""
    words = f"{param.name} {getattr(param, 'metavar', '') or ''}".lower()
    return any(word in words for word in ("file", "path", "team", "dir", "gazetteer", "out",
                                          "dest", "log", "chart"))


def values_for(param: click.Parameter, bench: Bench) -> Values:
    """Values for one parameter, chosen by its click type; unknown types get any text."""
    if id(param) not in bench.strategies:
        bench.strategies[id(param)] = _values_for(param, bench)
    return bench.strategies[id(param)]


def _values_for(param: click.Parameter, bench: Bench) -> Values:
    kind = param.type
    if isinstance(kind, click.Choice):
        choice = st.sampled_from([str(choice) for choice in kind.choices])
        return Values(st.one_of(choice, choice, choice.map(str.upper)),
                      st.one_of(choice.map(lambda c: f" {c}\u202e"), FREE_TEXT, BROKEN_TEXT))
    if isinstance(kind, click.types.IntParamType):
        return Values(st.integers(-1, 40).map(str), st.one_of(
            st.integers(-(10**25), 10**25).map(str), st.sampled_from(NUMBERS), FREE_TEXT))
    if isinstance(kind, click.types.FloatParamType):
        return Values(st.floats(-200, 600).map(str), st.one_of(
            st.floats().map(repr), st.sampled_from(NUMBERS), FREE_TEXT))
    if isinstance(kind, click.Path | click.File):
        exists = getattr(kind, "exists", False) or isinstance(kind, click.File)
        named = sorted(str(path) for name, path in bench.files.items()
                       if str(param.name) in name)  # gazetteer.csv for --gazetteer, say
        sensible = prepared_files(bench) if exists else NEW_NAME
        if named:
            sensible = st.one_of(st.sampled_from(named), sensible)
        return Values(sensible, st.one_of(BAD_PATHS, NEW_NAME, prepared_files(bench),
                                          PATH_TEXT))
    dates = st.one_of(st.sampled_from(["2017-03-17", "2017-03-16", "2017-03-18", "2016-02-29",
                                       "0001-01-01", "9999-12-31", "1900-01-01"]),
                      st.dates().map(dt.date.isoformat))
    moments = st.one_of(st.sampled_from(MOMENTS[:10]), st.datetimes().map(dt.datetime.isoformat),
                        dates)
    by_name = {
        "CODE": Values(st.sampled_from(bench.codes).flatmap(
            lambda code: st.sampled_from([code, code.lower(), f" {code}\t"])),
            st.one_of(st.sampled_from(UNKNOWN_CODES), FREE_TEXT, BROKEN_TEXT)),
        "YYYY-MM-DD": Values(dates, st.one_of(st.sampled_from(DATES), FREE_TEXT)),
        "WHEN": Values(moments, st.one_of(st.sampled_from(MOMENTS), FREE_TEXT)),
        "N|MIN-MAX": Values(
            st.one_of(st.integers(0, 10_000_000).map(str),
                      st.tuples(st.integers(0, 500), st.integers(0, 500)).map(
                          lambda pair: f"{min(pair)}-{max(pair)}")),
            st.one_of(st.sampled_from(COUNTS), st.integers(-5, 10**12).map(str), FREE_TEXT)),
    }
    if isinstance(kind, click.DateTime):
        return by_name["WHEN"]
    if kind.name in by_name:
        return by_name[kind.name]
    if filelike(param):
        named = sorted(str(path) for name, path in bench.files.items()
                       if str(param.name) in name)  # team.toml for --team, say
        sensible = [st.sampled_from(named)] * 2 if named else []
        return Values(st.one_of(*sensible, prepared_files(bench), NEW_NAME),
                      st.one_of(BAD_PATHS, PATH_TEXT))
    return Values(FREE_TEXT, BROKEN_TEXT)


ROOT_SKIPPED = {"store"}
"""Root options the bench sets itself (the store under test)."""


def fuzzable(param: click.Parameter) -> bool:
    return param.expose_value and not param.is_eager


@st.composite
def invocations(draw: st.DrawFn, path: tuple[str, ...], bench: Bench
                ) -> tuple[list[str], set[str], bool, bool]:
    """argv for one invocation of a command, the parameters it used, and whether it asked
    for --json and --dry-run. One or two parameters (or none) get values they should
    refuse; the others get values they should take, so the command runs deep enough."""
    command = ALL_COMMANDS[path]
    root_params = [param for param in cli.params
                   if fuzzable(param) and param.name not in ROOT_SKIPPED]
    params = [param for param in command.params if fuzzable(param)]
    names = [str(param.name) for param in root_params + params]
    spoilt = draw(st.sets(st.sampled_from(names), min_size=1, max_size=2)) if names and draw(
        st.integers(0, 4)) >= 2 else set()
    used: set[str] = set()

    def value(param: click.Parameter) -> str:
        values = values_for(param, bench)
        return draw(values.hostile if param.name in spoilt else values.sensible)

    argv = ["--store", bench.url]
    for param in root_params:
        if param.name in spoilt or draw(st.integers(0, 5)) == 0:
            if isinstance(param, click.Option) and param.is_flag:
                argv.append(param.opts[0])
            else:
                argv += [param.opts[0], value(param)]
            used.add(f"--root-{param.name}")
    argv += list(path)
    bounded = BOUNDED_OPTIONS.get(path, {})
    options: list[list[str]] = []
    positionals: list[str] = []
    json_flag = dry_run = False
    for param in params:
        spoil = param.name in spoilt
        if isinstance(param, click.Argument):
            count = param.nargs if param.nargs > 0 else draw(st.integers(0, 3))
            if spoil and draw(st.integers(0, 4)) == 0:
                count = 0 if param.required else count + 1  # missing, or one too many
            elif not param.required and draw(st.booleans()):
                count = 0
            positionals += [value(param) for _ in range(count)]
            if count:
                used.add(str(param.name))
            continue
        assert isinstance(param, click.Option)
        name = param.opts[0]
        if name in bounded:
            options.append([name, draw(st.sampled_from(list(bounded[name])))])
            used.add(str(param.name))
            continue
        if param.is_flag and not param.count:
            if spoil or draw(st.booleans()):
                chosen = draw(st.sampled_from([*param.opts, *param.secondary_opts]))
                options.append([chosen])
                if spoil and draw(st.booleans()):
                    options.append([chosen])  # the flag twice
                used.add(str(param.name))
                json_flag = json_flag or chosen == "--json"
                dry_run = dry_run or chosen == "--dry-run"
            continue
        if param.count:
            options += [[name]] * draw(st.integers(0, 3))
            continue
        if spoil:
            present = not param.required or draw(st.integers(0, 3)) > 0
        else:
            present = param.required or draw(st.booleans())
        if not present:
            continue
        repeats = draw(st.integers(1, 3)) if param.multiple or (spoil and draw(
            st.integers(0, 3)) == 0) else 1
        for _ in range(repeats):
            spelled = draw(st.sampled_from(param.opts))
            values = [value(param) for _ in range(max(param.nargs, 1))]
            if spelled.startswith("--") and param.nargs == 1 and draw(st.integers(0, 9)) == 0:
                options.append([f"{spelled}={values[0]}"])
            else:
                options.append([spelled, *values])
        used.add(str(param.name))
    options = draw(st.permutations(options)) if options else options
    for tokens in options:
        argv += tokens
    if positionals and (draw(st.integers(0, 3)) == 0 or any(
            value.startswith("-") for value in positionals)):
        argv.append("--")  # so a positional may start with "-"
    argv += positionals
    return argv, used, json_flag, dry_run


def check_invocation(bench: Bench, path: tuple[str, ...], argv: list[str], *,
                     json_flag: bool, dry_run: bool) -> None:
    note(f"argv = {argv!r}")
    before = bench.events()
    result = invoke(argv)
    appended = bench.events() - before
    problems = contract_problems(path, argv, result, appended, json_flag=json_flag,
                                 dry_run=dry_run)
    assert not problems, "; ".join(problems) + describe_result(argv, result)


def fuzz_examples(url: str) -> int:
    return CLI_EXAMPLES_POSTGRES if store_kind(url) == "postgres" else CLI_EXAMPLES_SQLITE


FUZZING_GROUP = pytest.mark.xdist_group("command-fuzzing")
"""The command fuzzing and its summary run in one worker (the suite runs with --dist
loadgroup): the summary reads what the fuzzing of every command exercised."""


@FUZZING_GROUP
@pytest.mark.parametrize("path", FUZZED, ids=["-".join(path) for path in FUZZED])
def test_every_command_keeps_the_contract_on_hostile_input(
    path: tuple[str, ...], bench: Bench
) -> None:
    """Random options and arguments for this command: exit 0, 1 or 2; one sentence on
    stderr; no traceback; nothing appended when refused; the store still readable after."""
    target = f"cli {store_kind(bench.url)}: {' '.join(path)}"
    used: set[str] = set()

    @budget(fuzz_examples(bench.url))
    @given(invocation=invocations(path, bench))
    def fuzz(invocation: tuple[list[str], set[str], bool, bool]) -> None:
        EXAMPLES_RUN[target] += 1
        argv, names, json_flag, dry_run = invocation
        used.update(names)
        check_invocation(bench, path, argv, json_flag=json_flag, dry_run=dry_run)

    fuzz()
    EXERCISED.setdefault(path, set()).update(used)
    bench.assert_healthy()


UNDECODABLE = st.sampled_from(["\udcff", "caf\udce9", "\udcc3\udca9t\udce9", "\udc80" * 3,
                               "Mosul \udcfe", "CI1050\udcff"])


@pytest.mark.parametrize("path", FUZZED, ids=["-".join(path) for path in FUZZED])
def test_arguments_that_are_not_utf8_are_one_sentence(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes that are not UTF-8 in argv reach Python as lone surrogates (PEP 383); a
    command must refuse them, or store and print them, but never crash on them."""
    prepared = Bench.prepare(str(tmp_path / "verify.sqlite"), tmp_path, monkeypatch)
    target = f"undecodable argv: {' '.join(path)}"

    @budget(UNDECODABLE_ARGV_EXAMPLES)
    @given(invocation=invocations(path, prepared), data=st.data())
    def fuzz(invocation: tuple[list[str], set[str], bool, bool], data: st.DataObject) -> None:
        EXAMPLES_RUN[target] += 1
        argv, _, json_flag, dry_run = invocation
        spoilt = [i for i in range(2, len(argv)) if argv[i] not in path and
                  not argv[i].startswith("-")]
        assume(spoilt)
        index = data.draw(st.sampled_from(spoilt))
        bad = data.draw(UNDECODABLE)
        argv = [*argv]
        argv[index] = bad if data.draw(st.booleans()) else argv[index] + bad
        check_invocation(prepared, path, argv, json_flag=json_flag, dry_run=dry_run)

    try:
        fuzz()
    finally:
        prepared.close()


def root_tokens() -> st.SearchStrategy[str]:
    names = sorted({name for path in ALL_COMMANDS for name in path} - {"run", "serve"})
    options = sorted({opt for command in ALL_COMMANDS.values() for param in command.params
                      for opt in getattr(param, "opts", [])} | {"--actor", "--team", "--help",
                                                                "--version", "-h"})
    # Any token may land where a file name is expected (-o, --chart, --team): no separators.
    return st.one_of(st.sampled_from(names), st.sampled_from(options), TEXT.map(no_separator),
                     st.sampled_from(list(DEMO_CODES)))


def test_any_token_list_keeps_the_contract(bench: Bench) -> None:
    """Arbitrary words after `verify`: unknown commands, options in the wrong place,
    options without values, values without options."""
    target = f"cli {store_kind(bench.url)}: random tokens"

    @budget(ROOT_ARGV_EXAMPLES if store_kind(bench.url) == "sqlite"
              else ROOT_ARGV_EXAMPLES // 5)
    @given(tokens=st.lists(root_tokens(), max_size=6))
    def fuzz(tokens: list[str]) -> None:
        EXAMPLES_RUN[target] += 1
        assume(not ("projections" in tokens and "run" in tokens))
        argv = ["--store", bench.url, *tokens]
        path = tuple(token for token in tokens if token in {n for p in ALL_COMMANDS for n in p})
        check_invocation(bench, path if path in PARTIAL_COMMANDS else (), argv,
                         json_flag=False, dry_run="--dry-run" in tokens)

    fuzz()
    bench.assert_healthy()


def test_every_command_is_fuzzed() -> None:
    """Every command in the tree is fuzzed, or excluded above with a reason: a command
    added later is picked up by the walk, so it cannot escape the fuzzing."""
    walked = dict(command_tree())
    assert walked, "the command tree is empty"
    assert set(walked) == set(ALL_COMMANDS)

    def leaves(info: dict[str, Any], path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
        if "commands" not in info:
            return {path}
        return set().union(*(leaves(sub, (*path, name))
                             for name, sub in info["commands"].items())) or {path}

    # As the real command line makes its context: a context without its settings would
    # leave each command a help option without -h, and docs/cli.md would differ.
    described = leaves(cli.to_info_dict(click.Context(cli, info_name="verify",
                                                      **cli.context_settings)))
    assert described == set(walked), "click describes commands the walk did not find"
    escaped = sorted(set(walked) - set(FUZZED) - set(EXCLUDED_COMMANDS))
    assert not escaped, f"commands nobody fuzzes: {escaped}"
    assert all(why.strip() for why in EXCLUDED_COMMANDS.values())
    for path in FUZZED:
        for name in BOUNDED_OPTIONS.get(path, {}):
            assert any(name in getattr(param, "opts", ()) for param in walked[path].params), (
                f"the bounded option {name} of {' '.join(path)} no longer exists")


@FUZZING_GROUP
def test_every_parameter_was_exercised() -> None:
    """Of the commands whose fuzzing ran to the end in this session, every option and
    argument was given at least once (so a parameter cannot escape the fuzzing)."""
    if not EXERCISED:
        pytest.skip("no command fuzzing ran to completion in this session")
    unexercised = {}
    for path, used in EXERCISED.items():
        names = {str(param.name) for param in ALL_COMMANDS[path].params if fuzzable(param)}
        if names - used:
            unexercised[" ".join(path)] = sorted(names - used)
    assert not unexercised, f"parameters no example used: {unexercised}"


# ================================================== whole files through import


@st.composite
def import_files(draw: st.DrawFn, *, all_bad: bool = False, csv_files: bool = False
                 ) -> tuple[str, bytes]:
    """(suffix, bytes) of a hostile import file: JSON Lines, or CSV; with all_bad, a JSON
    Lines file none of whose lines can import."""
    if all_bad:
        bad_line = st.one_of(
            st.binary(min_size=1, max_size=80).filter(lambda raw: raw.strip() != b""
                                                     and b"\n" not in raw and b"\r" not in raw),
            st.just(b"{not json"), st.just(b"[]"), st.just(b'"string"'), st.just(b"null"),
            st.just(b'{"code": "HX1"}'), st.just(b'{"code": "\\ud800", "date": 1}'),
            hostile_documents().map(lambda d: {**d, "date": "2017-02-30"}).map(
                lambda d: json.dumps(d).encode()),
            hostile_documents().map(lambda d: {**d, "unknown_field": SQL[0]}).map(
                lambda d: json.dumps(d).encode()),
        )
        lines = draw(st.lists(bad_line, min_size=1, max_size=6))
        assume(any(decode_json_line(line) is not None for line in lines))
        rows = [parse_json_line(1, line, INTAKE) for line in lines]
        assume(all(row is None or row.record is None for row in rows))
        return ".jsonl", b"\n".join(lines) + b"\n"
    if csv_files:
        return draw(st.sampled_from([".csv", ".CSV"])), draw(file_bytes())
    suffix = draw(st.sampled_from([".jsonl", ".ndjson", ".json", ".txt"]))
    lines = [draw(st.one_of(
        json_lines(),
        hostile_documents(f"HF{number}").map(
            lambda document: json.dumps(document, ensure_ascii=False).encode(
                "utf-8", "surrogatepass")),
    )) for number in range(draw(st.integers(min_value=0, max_value=6)))]
    return suffix, b"\n".join(lines)


def run_import(bench: Bench, suffix: str, content: bytes, flags: list[str]) -> None:
    path = bench.work / f"import-{uuid.uuid4().hex[:8]} {HOSTILE_NAME}{suffix}"
    path.write_bytes(content)
    argv = ["--store", bench.url, "--actor", "ann", "import", str(path), *flags]
    note(f"file {path.name!r}: {content[:2000]!r}")
    before = bench.events()
    result = invoke(argv)
    appended = bench.events() - before
    problems = contract_problems(("import",), argv, result, appended, json_flag=True,
                                 dry_run="--dry-run" in flags)
    if result.exit_code in (0, 1, 2) and result.stdout.strip().startswith("{"):
        summary = json.loads(result.stdout)
        expected = 2 if summary["refused"] else 0
        if result.exit_code != expected:
            problems.append(f"exit {result.exit_code} but the summary says exit {expected}")
        if summary["imported"] == 0 and appended:
            problems.append(f"nothing imported but {appended} events appended")
        if not summary["dry_run"] and appended < summary["events"]:
            problems.append(f"{summary['events']} events reported, {appended} appended")
    assert not problems, "; ".join(problems) + describe_result(argv, result)


def import_examples(url: str) -> int:
    return (IMPORT_FILE_EXAMPLES_POSTGRES if store_kind(url) == "postgres"
            else IMPORT_FILE_EXAMPLES_SQLITE)


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_hostile_files_import_in_part_or_are_refused(bench: Bench, kind: str) -> None:
    """Whole malformed JSON Lines and CSV files: exit 0, 1 or 2 as the summary says; the
    good lines are stored, the bad ones reported; the store still reads afterwards."""
    target = f"import {kind} files {store_kind(bench.url)}"

    @budget(import_examples(bench.url))
    @given(file=import_files(csv_files=kind == "csv"),
           flags=st.sampled_from([["--json"], ["--json", "--dry-run"]]))
    def fuzz(file: tuple[str, bytes], flags: list[str]) -> None:
        EXAMPLES_RUN[target] += 1
        run_import(bench, *file, flags)

    fuzz()
    bench.assert_healthy()


def test_a_file_of_bad_lines_appends_nothing(bench: Bench) -> None:
    target = f"import all-bad files {store_kind(bench.url)}"

    @budget(import_examples(bench.url))
    @given(file=import_files(all_bad=True))
    def fuzz(file: tuple[str, bytes]) -> None:
        EXAMPLES_RUN[target] += 1
        suffix, content = file
        path = bench.work / f"bad-{uuid.uuid4().hex[:8]}{suffix}"
        path.write_bytes(content)
        argv = ["--store", bench.url, "import", str(path)]
        before = bench.events()
        result = invoke(argv)
        appended = bench.events() - before
        problems = contract_problems(("import",), argv, result, appended)
        if appended:
            problems.append(f"{appended} events appended from a file of bad lines")
        if result.exit_code != 2:
            problems.append("a file with only bad lines must exit 2")
        assert not problems, "; ".join(problems) + describe_result(argv, result)

    fuzz()


# ============================================ known hostile cases, one by one

KNOWN_CASES = [
    pytest.param(["queue", "--limit", "99999999999999999999999"], id="queue-huge-limit"),
    pytest.param(["search", "Mosul", "--limit", "99999999999999999999999"],
                 id="search-huge-limit"),
    pytest.param(["show", "CI1050", "--version", "99999999999999999999999"],
                 id="show-huge-version"),
    pytest.param(["projections", "run", "--interval", "nan", "--stop-after", "0.2"],
                 id="projections-run-interval-nan"),
    pytest.param(["projections", "run", "--interval", "1e30", "--stop-after", "0.2"],
                 id="projections-run-interval-huge"),
    pytest.param(["show", "CI1050", "--as-of", "0001-01-01T00:00:00+01:00"],
                 id="show-as-of-year-one"),
    pytest.param(["show", "CI1050", "--as-of", "9999-12-31T23:59:59-23:59"],
                 id="show-as-of-year-9999"),
    pytest.param(["stats", "--from", "0001-01-01", "--to", "9999-12-31"], id="stats-far-dates"),
    pytest.param(["strikes", "match"], id="strikes-match-incident-on-9999-12-31"),
    pytest.param(["strikes", "match", "--days", "30", "--radius-km", "500"],
                 id="strikes-match-widest"),
    pytest.param(["strikes", "match", "--gazetteer", "{gazetteer-latin1.csv}"],
                 id="strikes-match-gazetteer-not-utf8"),
    pytest.param(["strikes", "match", "--gazetteer", "{gazetteer-nan.csv}"],
                 id="strikes-match-gazetteer-nan"),
    pytest.param(["strikes", "import", "{reports-bad.csv}"], id="strikes-import-csv-not-utf8"),
    pytest.param(["import", "{latin1.csv}"], id="import-csv-not-utf8"),
    pytest.param(["import", "{big-field.csv}"], id="import-csv-field-over-128k"),
    pytest.param(["import", "{huge-line.jsonl}"], id="import-line-over-2mb"),
    pytest.param(["import", "{far-dates.jsonl}"], id="import-far-dates"),
    pytest.param(["import", "{all-bad.jsonl}"], id="import-all-bad"),
    pytest.param(["--team", "{team-bad.toml}", "show", "CI1050"], id="team-file-not-toml"),
    pytest.param(["--team", "{binary}", "show", "CI1050"], id="team-file-binary"),
    pytest.param(["--team", "{team.toml}", "--actor", SQL[0], "note", "CI1050", "x"],
                 id="team-stranger-notes"),
    pytest.param(["note", "CI1050", "caf\udce9"], id="note-not-utf8"),
    pytest.param(["search", "\udcff"], id="search-not-utf8"),
    pytest.param(["--actor", "\udcfe", "note", "CI1050", "hello"], id="actor-not-utf8"),
    pytest.param(["report", "ZZ3", "--date", "2017-03-17", "--location", "Mosul", "--country",
                  "Iraq", "--belligerent", "B", "--lat", "nan", "--lon", "inf"],
                 id="report-nan-coordinates"),
    pytest.param(["strike", "confirm", "CI1050", "--belligerent", "US-led Coalition",
                  "--status", "likely", "--distance-km", "1e309"], id="strike-distance-inf"),
    pytest.param(["search", "\"" + SQL[0] + "*"], id="search-fts-syntax"),
    pytest.param(["search", "NEAR(a b) OR x*"], id="search-fts-operators"),
    pytest.param(["audit", "verify", "--seal", "sha256:" + "0" * 64 + " " + SQL[0]],
                 id="audit-verify-hostile-seal"),
    pytest.param(["audit", "regrade", "--rulebook", "../../etc/passwd"], id="regrade-path"),
    pytest.param(["export", "-o", "missing-folder/out.jsonl"], id="export-missing-folder"),
    pytest.param(["stats", "--chart", "chart.gif"], id="stats-chart-wrong-suffix"),
    pytest.param(["assess", "CI1050", "--belligerent", "US-led Coalition"],
                 id="missing-choice-option-in-one-line"),
    pytest.param(["strike", "confirm", "CS1070", "--belligerent", "a\nerror: forged line",
                  "--status", "declared"], id="line-break-in-a-value-in-one-line"),
    pytest.param(["strike", "confirm", "CS1070", "--belligerent", "\x1b[2J\x1b[31mred",
                  "--status", "declared"], id="terminal-escape-in-a-value-not-echoed"),
    pytest.param(["--team", "a\nb", "show", "CI1050"], id="line-break-in-team-path-in-one-line"),
    pytest.param(["--team", "\U0001d54f" * 300, "team", "list"], id="team-path-too-long"),
    pytest.param(["--team", "\U0001d54f" * 300, "team", "remove", "amira"],
                 id="team-path-too-long-remove"),
]


@pytest.mark.parametrize("args", KNOWN_CASES)
def test_known_hostile_cases_keep_the_contract(args: list[str], bench: Bench) -> None:
    """Cases the fuzzer found or that the issue names, kept as plain regression tests."""
    argv = ["--store", bench.url, "--actor", "ann",
            *[bench.files[arg[1:-1]].as_posix() if arg.startswith("{") and arg.endswith("}")
              and arg[1:-1] in bench.files else arg for arg in args]]
    path = tuple(arg for arg in args if arg in {n for p in ALL_COMMANDS for n in p})
    before = bench.events()
    result = invoke(argv)
    appended = bench.events() - before
    problems = contract_problems(path if path in PARTIAL_COMMANDS else (), argv, result,
                                 appended, json_flag="--json" in args, strict_lines=True)
    assert not problems, "; ".join(problems) + describe_result(argv, result)
    bench.assert_healthy()


def test_a_nul_character_in_an_imported_row_does_not_break_the_store(bench: Bench) -> None:
    """JSON may carry U+0000 inside a string; an import either refuses such a row or
    stores it so that every reading command still works (PostgreSQL text cannot hold it)."""
    argv = ["--store", bench.url, "import", str(bench.files["nul.jsonl"])]
    result = invoke(argv)
    problems = contract_problems(("import",), argv, result, 0)
    assert not problems, "; ".join(problems) + describe_result(argv, result)
    bench.assert_healthy()


# ======================================= hostile files through every file input

FILE_SHAPE_RANDOM_EXAMPLES_SQLITE = 60
FILE_SHAPE_RANDOM_EXAMPLES_POSTGRES = 15
"""Random mixes of hostile lines per file input, per store kind (every shape below runs
once per file input besides)."""

TERMINAL_ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b[31m\r\x9b1m\u202eevil\u2066x\u2069"
"""Clear the screen, retitle the window, recolour, overwrite the line, reorder the text."""

UNSAFE_ON_A_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_text(text: str) -> str:
    """Text as it stands inside a JSON (or TOML basic) string."""
    return json.dumps(text)[1:-1]


@dataclass(frozen=True)
class FileInput:
    """A file a command reads: where it goes on the command line, and lines of a good one.

    Good lines carry ``{T}`` where hostile text may stand inside a value."""

    name: str
    suffix: str
    argv: tuple[str, ...]
    """``{FILE}`` stands for the file; ``{SHEET}`` for a prepared sheet (column maps)."""
    good: tuple[str, ...]
    escape: Any = json_text
    env: str | None = None
    """Given through this environment variable rather than on the command line."""
    header: int = 0
    """Good lines that must come first (a CSV header)."""

    @property
    def command(self) -> tuple[str, ...]:
        return tuple(arg for arg in self.argv if arg in {n for p in ALL_COMMANDS for n in p})

    def lines(self, text: str = "") -> list[bytes]:
        return [line.replace("{T}", self.escape(text)).encode() for line in self.good]


IMPORT_ROW = ('{"code": "HF%d", "date": "2017-03-17", "country": "Iraq", "location": '
              '{"name": "Mosul{T}"}, "belligerents": ["US-led Coalition"], "summary": "s{T}"}')
REPORT_LINE = ('{"reference": "HF-R%d{T}", "belligerent": "US-led Coalition", '
               '"strike_date": "2017-03-17", "place": "Mosul{T}", "lat": 36.34, "lon": 43.13}')
FILE_INPUTS = [
    FileInput("import-jsonl", ".jsonl", ("import", "{FILE}", "--json"),
              tuple(IMPORT_ROW % n for n in range(1, 4))),
    FileInput("import-jsonl-dry-run", ".jsonl", ("import", "{FILE}", "--dry-run"),
              tuple(IMPORT_ROW % n for n in range(4, 6))),
    FileInput("import-csv", ".csv", ("import", "{FILE}"),
              ("code;date;country;location_name;summary",
               'HF6;2017-03-17;Iraq;"Mosul{T}";"s{T}"', 'HF7;2017-03-18;Iraq;Raqqa;"{T}"'),
              escape=str, header=1),
    FileInput("import-columns", ".toml", ("import", "{SHEET}", "--columns", "{FILE}"),
              ('[columns]', '"Ref{T}" = "code"', '"Day" = "date"', '"Land" = "country"',
               '"Place" = "location_name"')),
    FileInput("strikes-import-jsonl", ".jsonl", ("strikes", "import", "{FILE}"),
              tuple(REPORT_LINE % n for n in range(1, 3))),
    FileInput("strikes-import-csv", ".csv", ("strikes", "import", "{FILE}"),
              ("reference,belligerent,strike_date,place", '"HF-R3{T}",US-led Coalition,'
               '2017-03-17,"Mosul{T}"'), escape=str, header=1),
    FileInput("strikes-match-gazetteer", ".csv", ("strikes", "match", "--gazetteer", "{FILE}"),
              ("name,alternate_names,lat,lon", '"Mosul{T}",\u0627\u0644\u0645\u0648\u0635\u0644,'
               "36.34,43.13", '"Raqqa{T}",,35.95,39.01'), escape=str, header=1),
    FileInput("strikes-match-gazetteer-env", ".csv", ("strikes", "match", "--json"),
              ("name,lat,lon", '"Mosul{T}",36.34,43.13'), escape=str,
              env="VERIFY_GAZETTEER", header=1),
    FileInput("team", ".toml", ("--team", "{FILE}", "show", "CI1050"),
              ('[members.ann]', 'role = "analyst"', '[members."b{T}"]', 'role = "reviewer"')),
]
"""Every file a command reads (the evidence files of SPEC section 12 come with that
command), each through every shape below."""

NOT_REGULAR = {"dev-zero", "dev-null", "fifo", "folder", "folder-link", "link-to-dev-zero-link"}

NOT_YET_BOUNDED = {
    ("team", shape): "adapters/team_file.py still reads the team file whole, whatever it is "
    "(/dev/zero would exhaust this process's memory, a named pipe would hang it)"
    for shape in NOT_REGULAR
}
"""File inputs and shapes left out for now, and why (issue 15: every file read bounded)."""


def build_shape(shape: str, path: Path, spec: FileInput) -> None:
    """Write (or link, or make) a file of the given hostile shape at ``path``."""
    good = spec.lines()
    head, body = good[:spec.header], good[spec.header:]
    over = b"x" * (MAX_LINE_BYTES + 10)
    if shape == "dev-zero":
        path.symlink_to("/dev/zero")
    elif shape == "link-to-dev-zero-link":
        (path.parent / f"zero-{path.name}").symlink_to("/dev/zero")
        path.symlink_to(path.parent / f"zero-{path.name}")
    elif shape == "dev-null":
        path.symlink_to("/dev/null")
    elif shape == "fifo":
        os.mkfifo(path)
    elif shape == "folder":
        path.mkdir()
    elif shape == "folder-link":
        (path.parent / f"folder-{path.name}").mkdir()
        path.symlink_to(path.parent / f"folder-{path.name}")
    else:
        path.write_bytes(shape_bytes(shape, head, body, over, spec))


def shape_bytes(shape: str, head: list[bytes], body: list[bytes], over: bytes,
                spec: FileInput) -> bytes:
    if shape == "huge-line-last":  # a line over the cap that never ends
        return b"\n".join([*head, *body]) + b"\n" + over
    if shape == "huge-line-first":
        return over + b"\n" + b"\n".join([*head, *body]) + b"\n"
    if shape == "huge-line-middle":
        return b"\r\n".join([*head, body[0], over, *body[1:]]) + b"\r\n"
    if shape == "huge-csv-field":  # one quoted cell of 17 MiB, over many short lines
        cell = b'"' + (b"y" * (1 << 20) + b"\n") * 17 + b'"'
        return b"\n".join([*head, cell + b",2017-03-17", *body]) + b"\n"
    if shape == "nul-bytes":
        return b"\n".join([*head, b"\x00" * 64, *(line[:5] + b"\x00" + line[5:]
                                                   for line in body), b"\x00"])
    if shape == "not-utf8":
        return b"\n".join([*head, *body[:1], b"Mossoul \xe9\xff\xfe", *body[1:]]) + b"\n"
    if shape == "mixed-line-ends":
        ends = [b"\r\n", b"\r", b"\n"]
        return b"".join(line + ends[number % 3] for number, line in enumerate([*head, *body]))
    if shape == "escapes":
        return b"\n".join(spec.lines(TERMINAL_ESCAPES)) + b"\n" + TERMINAL_ESCAPES.encode()
    if shape == "bom":
        return b"\xef\xbb\xbf" + b"\n".join([*head, *body]) + b"\n"
    if shape == "empty":
        return b""
    if shape == "blank-lines":
        return b"\n\r\n \t\n" * 1000
    if shape == "binary":
        return bytes(range(256)) * 64
    raise AssertionError(shape)


FILE_SHAPES = sorted(NOT_REGULAR | {
    "huge-line-last", "huge-line-first", "huge-line-middle", "huge-csv-field", "nul-bytes",
    "not-utf8", "mixed-line-ends", "escapes", "bom", "empty", "blank-lines", "binary"})

HOSTILE_LINES = st.sampled_from([
    b"x" * (MAX_LINE_BYTES + 1), b"\x00" * 32, b"\xff\xfe\xe9", TERMINAL_ESCAPES.encode(),
    b'"unterminated', b"{not json", b"[]", b"", b" \t", b"\xef\xbb\xbf", b"a;b,c\td",
    b'"' + b"z" * 70_000 + b'"',
])
LINE_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r", b""])


@st.composite
def hostile_file_contents(draw: st.DrawFn, spec: FileInput) -> bytes:
    """A good file's lines mixed with hostile ones, each ended its own way."""
    good = spec.lines(draw(st.sampled_from(["", TERMINAL_ESCAPES, RTL[2], SQL[0]])))
    head, body = good[:spec.header], good[spec.header:]
    lines = draw(st.lists(st.one_of(st.sampled_from(body), HOSTILE_LINES), max_size=8))
    if draw(st.booleans()):
        lines = [*head, *lines]
    return b"".join(line + draw(LINE_ENDS) for line in lines)


def run_file_input(bench: Bench, spec: FileInput, path: Path) -> tuple[list[str], Result, int]:
    """Give ``path`` to the command as ``spec`` says; the argv, its result, events appended."""
    sheet = bench.work / "own-headers.csv"
    if not sheet.exists():
        sheet.write_text("Ref;Day;Land;Place\nHF9;17/03/2017;Iraq;Mosul\n", encoding="utf-8")
    argv = ["--store", bench.url, "--actor", "ann",
            *(str(path) if arg == "{FILE}" else str(sheet) if arg == "{SHEET}" else arg
              for arg in spec.argv)]
    env = {**CLEAN_ENV, **({spec.env: str(path)} if spec.env else {})}
    before = bench.events()
    with time_limit(COMMAND_TIMEOUT_SECONDS):
        result = CliRunner().invoke(cli, argv, env=env, catch_exceptions=True)
    return argv, result, bench.events() - before


def file_problems(spec: FileInput, shape: str, argv: list[str], result: Result,
                  appended: int) -> list[str]:
    """The command-line contract for one hostile file, and what its shape promises."""
    json_flag = "--json" in argv
    problems = contract_problems(spec.command, argv, result, appended, json_flag=json_flag,
                                 dry_run="--dry-run" in argv, strict_lines=True)
    shown = result.stderr + ("" if json_flag else result.stdout)
    if UNSAFE_ON_A_TERMINAL.search(shown):
        problems.append("printed control characters or bidi overrides as they came")
    if shape in NOT_REGULAR:
        if result.exit_code != 2:
            problems.append(f"a {shape} was not refused with exit 2")
        if not re.search(r"not a regular file|is a directory", result.stderr):
            problems.append(f"the refusal of a {shape} does not say why")
        if appended:
            problems.append(f"{appended} events appended from a {shape}")
    return problems


def file_input_examples(url: str) -> int:
    return (FILE_SHAPE_RANDOM_EXAMPLES_POSTGRES if store_kind(url) == "postgres"
            else FILE_SHAPE_RANDOM_EXAMPLES_SQLITE)


@pytest.mark.parametrize("spec", FILE_INPUTS, ids=[spec.name for spec in FILE_INPUTS])
def test_hostile_files_through_every_file_input_keep_the_contract(
        bench: Bench, spec: FileInput) -> None:
    """Every hostile shape (a line over the cap first, last or in the middle, a CSV cell
    of 17 MiB, NUL bytes, bytes that are not UTF-8, mixed line ends, terminal escapes,
    /dev/zero and /dev/null behind links, a named pipe, a folder, nothing at all), then
    random mixes of hostile lines: exit 0, 1 or 2; one sentence or line reports; no
    traceback; no control character printed raw; a file that is not a regular file is
    refused before anything is read or appended; the store still reads afterwards."""
    folder = bench.work / f"files-{spec.name}"
    folder.mkdir()
    failures = []
    for shape in FILE_SHAPES:
        if (spec.name, shape) in NOT_YET_BOUNDED:
            continue
        EXAMPLES_RUN[f"files {store_kind(bench.url)}: {spec.name}"] += 1
        path = folder / f"{shape} {HOSTILE_NAME}{spec.suffix}"
        build_shape(shape, path, spec)
        argv, result, appended = run_file_input(bench, spec, path)
        problems = file_problems(spec, shape, argv, result, appended)
        if problems:
            failures.append(f"\n[{shape}] " + "; ".join(problems) + describe_result(argv, result))
        if path.is_file() and not path.is_symlink():
            path.unlink()  # the large ones go at once
    assert not failures, "".join(failures)

    @budget(file_input_examples(bench.url))
    @given(content=hostile_file_contents(spec))
    def fuzz(content: bytes) -> None:
        EXAMPLES_RUN[f"files {store_kind(bench.url)}: {spec.name}"] += 1
        path = folder / f"random-{uuid.uuid4().hex[:8]}{spec.suffix}"
        path.write_bytes(content)
        note(f"content: {content[:300]!r}")
        argv, result, appended = run_file_input(bench, spec, path)
        problems = file_problems(spec, "random", argv, result, appended)
        path.unlink()
        assert not problems, "; ".join(problems) + describe_result(argv, result)

    fuzz()
    bench.assert_healthy()


def test_every_file_input_is_fuzzed() -> None:
    """Every option or argument that names a file read by a command has a FileInput above
    (a file a command writes, such as export -o or stats --chart, is fuzzed as a path)."""
    read = set()
    for path, command in ALL_COMMANDS.items():
        for param in command.params:
            kind = param.type
            if isinstance(kind, click.Path) and kind.exists:
                read.add((*path, str(param.name)))
    covered = {("import", "file"), ("import", "columns_file"), ("strikes", "import", "file"),
               ("strikes", "match", "gazetteer")}
    assert read <= covered, f"file inputs no FileInput covers: {sorted(read - covered)}"
    assert {spec.name.split("-")[0] for spec in FILE_INPUTS} >= {"import", "strikes", "team"}


# ============================================== store paths and PostgreSQL URLs

STORE_NAME_ALPHABET = (string.ascii_letters + string.digits + " '\";$()`&|<>*?#%!~{}[]=+,:@^\\"
                       "\u202e\u200f\u0645\u0648\u05d0\u00e9\U0001f600-_.")


class SqlTrace:
    """Every SQL statement text the program sends to SQLite or PostgreSQL (not the
    bound parameters: those are data, never code)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def add(self, statement: Any, connection: Any = None) -> None:
        if isinstance(statement, bytes):
            self.statements.append(statement.decode("utf-8", "replace"))
        elif isinstance(statement, str):
            self.statements.append(statement)
        else:  # psycopg.sql.Composable: render it as the server will see it
            self.statements.append(statement.as_string(connection))


@pytest.fixture
def sql_trace(monkeypatch: pytest.MonkeyPatch) -> SqlTrace:
    trace = SqlTrace()

    class TracingCursor(sqlite3.Cursor):
        def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().executemany(sql, *args)

        def executescript(self, sql: str) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().executescript(sql)

    class TracingConnection(sqlite3.Connection):
        def cursor(self, factory: Any = TracingCursor) -> Any:  # type: ignore[override]
            return super().cursor(factory)

        def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().execute(sql, *args)

        def executemany(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().executemany(sql, *args)

        def executescript(self, sql: str) -> Any:  # type: ignore[override]
            trace.add(sql)
            return super().executescript(sql)

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("factory", TracingConnection)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    try:
        import psycopg
    except ImportError:
        return trace
    for cls in (psycopg.Cursor, psycopg.ServerCursor, psycopg.Connection):
        for method in ("execute", "executemany"):
            original = getattr(cls, method, None)
            if original is None:
                continue

            def traced(self: Any, query: Any, *args: Any, __original: Any = original,
                       **kwargs: Any) -> Any:
                connection = self if isinstance(self, psycopg.Connection) else self.connection
                trace.add(query, connection)
                return __original(self, query, *args, **kwargs)

            monkeypatch.setattr(cls, method, traced)
    return trace


def store_works(url: str, label: str) -> list[str]:
    """init, report, show, search, export and audit a store; the problems met."""
    problems = []
    steps = [
        ["init"],
        ["report", "ZZ1", "--date", "2017-03-17", "--location", "Mosul", "--country", "Iraq",
         "--belligerent", "US-led Coalition"],
        ["show", "ZZ1", "--json"], ["search", "Mosul"], ["queue"], ["export"],
        ["audit", "verify"], ["init"],
    ]
    for step in steps:
        argv = ["--store", url, "--actor", "ann", *step]
        result = invoke(argv)
        if result.exit_code != 0 or (result.exception is not None
                                     and not isinstance(result.exception, SystemExit)):
            problems.append(f"`{' '.join(step[:2])}` failed on store {label!r}"
                            + describe_result(argv, result))
            break
    return problems


def store_name_problems(folder: Path, filename: str, form: str, trace: SqlTrace,
                        sentinel: str) -> list[str]:
    """Create and use a store called ``filename`` in ``folder`` (the working folder)."""
    url = {"relative": filename, "absolute": str(folder / filename),
           "sqlite-url": "sqlite:///" + str(folder / filename)}[form]
    trace.statements.clear()
    argv = ["--store", url, "init"]
    first = invoke(argv)
    problems = contract_problems((), argv, first, 0, strict_lines=True)
    if first.exit_code != 0:
        if first.exit_code != 2:
            problems.append("a store name init cannot use must be bad input (exit 2)")
        return [problem + describe_result(argv, first) for problem in problems]
    problems += store_works(url, filename)
    expected = {filename + ending for ending in ("", "-wal", "-shm", "-journal")}
    created = {path.name for path in folder.iterdir()}
    if filename not in created:
        problems.append(f"the store was not created as {filename!r}: found {sorted(created)}")
    if created - expected:
        problems.append(f"files other than the store appeared: {sorted(created - expected)}")
    if not trace.statements:
        problems.append("no SQL was traced: the tracing no longer sees the store's queries")
    problems += [f"the store path reached SQL text: {statement!r}"
                 for statement in trace.statements if sentinel in statement]
    if (folder / "pwned").exists() or (folder.parent / "pwned").exists():
        problems.append("a shell ran a command from the store name")
    return problems


@pytest.mark.parametrize("filename", [
    "quo'te\"; $(touch pwned) `touch pwned` x.sqlite",
    "sp ace \u202e\u0644\u0627 \U0001f600.sqlite",
    "a#b.sqlite",
    "q?mode=ro.sqlite",
    "pct%41.sqlite",
    "file:f.sqlite",
    "x;mode=memory.sqlite",
])
@pytest.mark.parametrize("form", ["relative", "absolute", "sqlite-url"])
def test_store_file_names_that_look_like_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql_trace: SqlTrace,
    filename: str, form: str,
) -> None:
    """Shell and SQL metacharacters, and the characters a SQLite URI gives a meaning
    (# ? % file: mode=memory), in a store's file name."""
    monkeypatch.chdir(tmp_path)
    problems = store_name_problems(tmp_path, filename, form, sql_trace, filename)
    assert not problems, "\n".join(problems)


@budget(STORE_NAME_EXAMPLES)
@given(name=st.text(alphabet=st.sampled_from(STORE_NAME_ALPHABET), min_size=1, max_size=24),
       suffix=st.sampled_from([".sqlite", ".db", ""]),
       form=st.sampled_from(["relative", "absolute", "sqlite-url"]))
def test_a_store_file_may_be_named_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sql_trace: SqlTrace,
    name: str, suffix: str, form: str,
) -> None:
    """Quotes, semicolons, $(...), backticks, spaces, # ? % and Unicode in a store's file
    name: the store works, or `init` refuses the name with exit 2 and one sentence. The
    name never reaches SQL text, no shell runs, and no other file appears."""
    EXAMPLES_RUN["store file names"] += 1
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    monkeypatch.chdir(folder)
    filename = "Qz7" + name + suffix  # the prefix makes the name findable in SQL text
    note(f"store file {filename!r} given as {form}")
    problems = store_name_problems(folder, filename, form, sql_trace, "Qz7" + name)
    assert not problems, "\n".join(problems)


def postgres_or_skip() -> None:
    reason = postgres_unreachable()
    if reason is not None:
        if os.environ.get("VERIFY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VERIFY_REQUIRE_POSTGRES=1 but no PostgreSQL server ({reason})")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_SERVER} ({reason})")


def create_schema() -> str:
    """A new, empty schema on the test server (the caller drops it)."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {name}")
    return name


def drop_schema(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def server_state() -> tuple[set[str], set[str]]:
    """The schemas on the test server, and the tables in `public`."""
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        schemas = {str(row[0]) for row in db.execute("SELECT nspname FROM pg_namespace")}
        tables = {str(row[0]) for row in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    return schemas, tables


HOSTILE_URL_PARTS = ["x;DROP SCHEMA public", "x'; DROP SCHEMA public CASCADE;--", "$(rm -rf /)",
                     "`touch pwned`", "a b", "a\"b", "\u202e\u0645", "x%3BDROP%20SCHEMA%20public",
                     "host=10.255.255.1", "x' host='10.255.255.1", "%00", "x#frag",
                     "x?schema=public", "\U0001f600"]


@pytest.mark.postgres
@pytest.mark.parametrize("part", HOSTILE_URL_PARTS)
@pytest.mark.parametrize("where", ["schema", "dbname", "user", "password"])
def test_a_hostile_postgresql_url_never_runs_sql(
    part: str, where: str, sql_trace: SqlTrace
) -> None:
    """A quote, semicolon, $(...), backtick, space or Unicode in any part of a postgresql://
    URL, percent-encoded or typed as is: the store works, or the command fails with exit 1
    (the server refuses the connection) or 2 (a bad address) and one sentence; the server
    is unchanged, and the part never appears in SQL text."""
    postgres_or_skip()
    from urllib.parse import quote

    before = server_state()
    schema = create_schema()
    try:
        plain = {"user": "postgres", "password": "", "dbname": "test", "schema": schema}
        plain[where] = part
        for spelling in ("encoded", "typed"):
            parts = dict(plain)
            if spelling == "encoded" and "%" not in part:
                parts[where] = quote(part, safe="")
            secret = f":{parts['password']}" if parts["password"] else ""
            url = (f"postgresql://{parts['user']}{secret}@127.0.0.1:5432/{parts['dbname']}"
                   f"?schema={parts['schema']}")
            sql_trace.statements.clear()
            for args in (["init"], ["queue"]):
                argv = ["--store", url, *args]
                result = invoke(argv)
                problems = contract_problems((), argv, result, 0, healthy_store=False)
                if result.exit_code == 1 and not re.search(
                        r"cannot use the PostgreSQL store|the store could not be used",
                        result.stderr):
                    problems.append("exit 1 is only for a store that cannot be used")
                if where == "password" and len(part) > 3 and part in result.output:
                    problems.append("the password was printed")
                assert not problems, "; ".join(problems) + describe_result(argv, result)
                if result.exit_code != 0:
                    break
            if len(part) >= 6:
                leaked = [statement for statement in sql_trace.statements if part in statement]
                assert not leaked, f"the URL reached SQL text: {leaked}"
    finally:
        drop_schema(schema)
    after = server_state()
    assert "public" in after[0]
    assert after[1] == before[1], f"tables in public changed: {after[1] ^ before[1]}"
    appeared = {name for name in after[0] - before[0]
                if part in name or (len(name) > 2 and name in part)}
    assert not appeared, f"schemas appeared: {appeared}"


SCHEMA_CHARACTERS = st.one_of(
    st.sampled_from(string.ascii_letters + string.digits + "_"),
    st.characters(categories=("Lu", "Ll", "Lo", "Nd")),
)


def schema_problems(schema: str, password: str, trace: SqlTrace) -> list[str]:
    """Use a store in schema ``schema`` (created here as a quoted identifier, then dropped)
    if `parse_store` accepts the name; the problems met."""
    from urllib.parse import quote

    import psycopg
    from psycopg import sql

    try:
        location = parse_store(f"{POSTGRES_SERVER}?schema={quote(schema)}")
    except InvalidInput:
        return []
    accepted = dict(location.settings)["POSTGRES_SCHEMA"]
    problems = []
    if not accepted.replace("_", "").isalnum() or '"' in accepted:
        problems.append(f"parse_store accepted the schema name {accepted!r}")
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(accepted)))
    secret = f":{quote(password, safe='')}" if password else ""
    url = f"postgresql://postgres{secret}@127.0.0.1:5432/test?schema={quote(accepted)}"
    trace.statements.clear()
    try:
        problems += store_works(url, accepted)
    finally:
        drop_schema(accepted)
    if not problems and not trace.statements:
        problems.append("no SQL was traced: the tracing no longer sees the store's queries")
    for statement in trace.statements:
        if accepted in statement.replace(f'"{accepted}"', ""):
            problems.append(f"the schema reached SQL text unquoted: {statement!r}")
        if password and len(password) > 3 and password in statement:
            problems.append(f"the password reached SQL text: {statement!r}")
    return problems


@pytest.mark.postgres
@pytest.mark.parametrize("schema", ["ABC", "Team_Cases", "0abc", "2017_cases", "\u00d1and\u00fa",
                                    "\u0645\u0648\u0635\u0644_1", "x" * 70])
def test_schema_names_the_url_accepts_work(sql_trace: SqlTrace, schema: str) -> None:
    """Upper case, a leading digit, other scripts, more than PostgreSQL's 63 bytes: names
    `?schema=` accepts must name a working store."""
    postgres_or_skip()
    problems = schema_problems(schema, "", sql_trace)
    assert not problems, "\n".join(problems)


SCHEMA_CHARACTERS = st.one_of(
    st.sampled_from(string.ascii_lowercase + string.digits + "_"),
    st.characters(categories=("Lu", "Ll", "Lo", "Nd")),
)


@pytest.mark.postgres
@budget(POSTGRES_URL_EXAMPLES)
@given(schema=st.text(alphabet=SCHEMA_CHARACTERS, min_size=1, max_size=30),
       password=st.sampled_from(["", *HOSTILE_URL_PARTS]))
def test_any_schema_name_the_url_accepts_is_a_working_store(
    sql_trace: SqlTrace, schema: str, password: str
) -> None:
    """Whatever `?schema=` accepts (letters, digits, _ in any script and case) names one
    schema that works end to end, only ever as a quoted identifier in SQL text; a hostile
    password never reaches SQL text."""
    postgres_or_skip()
    EXAMPLES_RUN["postgres schema names"] += 1
    tag = f"_{uuid.uuid4().hex[:6]}"  # unique per example: examples never share a schema
    note(f"schema = {schema + tag!r}, password = {password!r}")
    problems = schema_problems(schema + tag, password, sql_trace)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("url", [
    "postgresql://postgres@[::1/test",
    "postgresql://postgres@[zz]:5432/test",
    "postgresql://postgres@127.0.0.1:-1/test",
    "postgresql://postgres@127.0.0.1:5432/test?schema=a&colour=red",
    "postgresql://postgres@127.0.0.1:5432/%00?schema=x",
    "postgresql://%ZZ@127.0.0.1:5432/test?schema=x",
    "postgresql://",
    "postgres://:@:/",
    "sqlite://",
    "sqlite:///",
    "mysql://x';DROP TABLE stored_events;--@h/db",
    "file:///etc/passwd",
])
def test_a_malformed_store_address_is_one_sentence(url: str) -> None:
    argv = ["--store", url, "show", "CS1"]
    result = invoke(argv)
    problems = contract_problems((), argv, result, 0)
    if result.exit_code == 0:
        problems.append("a malformed address cannot work")
    assert not problems, "; ".join(problems) + describe_result(argv, result)


# ====================================================== the sources themselves

SOURCE_ROOT = Path(__file__).resolve().parents[2] / "src" / "verify"
SHELL_MODULES = {"subprocess", "pty", "commands", "popen2"}
SHELL_CALLS = {"system", "popen", "popen2", "popen3", "popen4", "execl", "execle", "execlp",
               "execlpe", "execv", "execve", "execvp", "execvpe", "spawnl", "spawnle",
               "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "posix_spawn",
               "posix_spawnp", "startfile"}


def source_files() -> list[Path]:
    files = sorted(SOURCE_ROOT.rglob("*.py"))
    assert files, SOURCE_ROOT
    return files


def test_no_shell_is_ever_run() -> None:
    """No subprocess, os.system, os.popen, exec*/spawn* or shell=True anywhere in src."""
    found = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SOURCE_ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                found += [f"{where} imports {alias.name}" for alias in node.names
                          if alias.name.split(".")[0] in SHELL_MODULES]
            elif isinstance(node, ast.ImportFrom):
                if (node.module or "").split(".")[0] in SHELL_MODULES:
                    found.append(f"{where} imports from {node.module}")
                if node.module == "os":
                    found += [f"{where} imports os.{alias.name}" for alias in node.names
                              if alias.name in SHELL_CALLS]
            elif isinstance(node, ast.Attribute) and node.attr in SHELL_CALLS and isinstance(
                    node.value, ast.Name) and node.value.id == "os":
                found.append(f"{where} calls os.{node.attr}")
            elif isinstance(node, ast.keyword) and node.arg == "shell":
                found.append(f"{where} passes shell=")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in {"eval", "exec"}:
                found.append(f"{where} calls {node.func.id}")
    assert not found, found


STORE_WORDS = re.compile(r"\b(path|db_?name|dbname|label|url|host|user|username|password|"
                         r"store|settings|location|POSTGRES_\w+|SQLITE_\w+)\b")


def sql_calls(tree: ast.AST) -> Iterator[ast.expr]:
    """The first argument of every execute/executemany/executescript/SQL(...) call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in {"execute", "executemany", "executescript", "SQL"}:
            yield node.args[0]


def interpolated(expression: ast.expr) -> list[str]:
    """The pieces of an f-string, %-format, .format() or + that are not literal text."""
    pieces: list[str] = []
    for node in ast.walk(expression):
        if isinstance(node, ast.FormattedValue):
            pieces.append(ast.unparse(node.value))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            pieces += [ast.unparse(side) for side in (node.left, node.right)
                       if not isinstance(side, ast.Constant | ast.JoinedStr | ast.BinOp)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "format" and not isinstance(node.func.value, ast.Call):
            pieces += [ast.unparse(arg) for arg in [*node.args, *node.keywords]]
    return pieces


def test_sql_text_is_never_built_from_a_store_path_or_url() -> None:
    """No SQL statement text interpolates a store path, URL, host, user, password or
    database name: those reach the database only as connection settings or bound
    parameters. (The PostgreSQL schema is interpolated as a double-quoted identifier,
    after `parse_store` allowed only letters, digits and _: see the schema test.)"""
    found = []
    calls = 0
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for argument in sql_calls(tree):
            calls += 1
            for piece in interpolated(argument):
                if STORE_WORDS.search(piece):
                    found.append(f"{path.relative_to(SOURCE_ROOT)}:{argument.lineno}: {piece}")
    assert calls > 10, "the scan no longer finds the SQL the program runs"
    assert not found, found


@budget(PARSER_EXAMPLES)
@given(schema=st.text(max_size=40))
def test_the_schema_in_a_url_is_letters_digits_and_underscore_or_refused(schema: str) -> None:
    """The only piece of a URL that is written into SQL text cannot carry a quote."""
    EXAMPLES_RUN["parse_store schema"] += 1
    from urllib.parse import quote

    try:
        location = parse_store(f"postgresql://u@h:5432/db?schema={quote(schema)}")
    except InvalidInput:
        return
    accepted = dict(location.settings)["POSTGRES_SCHEMA"]
    assert accepted.replace("_", "").isalnum(), accepted
    assert not set(accepted) & set("\"'`;\\ \x00."), accepted


# ================================================================== counting


def test_examples_ran() -> None:
    """Prints how many examples each fuzz target ran in this session (run with -s)."""
    if not EXAMPLES_RUN:
        pytest.skip("no fuzz target ran in this session")
    total = sum(EXAMPLES_RUN.values())
    print(f"\nhostile-input examples run: {total}")
    for target, count in sorted(EXAMPLES_RUN.items()):
        print(f"  {count:6d}  {target}")
    assert total > 0

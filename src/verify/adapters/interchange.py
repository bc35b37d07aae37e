"""Reading import files and writing exports: JSON Lines, CSV and GeoJSON.

Readers stream, one row at a time, and never raise for a bad row: each row
comes back as a record or as the reason it is not one, with its line number.
Writers take records one at a time, so memory stays flat for any store size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from verify.adapters.files import (
    LINE_TOO_LONG,
    MAX_LINE_BYTES,
    Overlong,
    TextLines,
    open_regular,
    read_lines,
)
from verify.application.importing import Row, validate_row
from verify.application.intake import Intake
from verify.application.records import IncidentRecord
from verify.domain.errors import InvalidInput

# ------------------------------------------------------------------ reading


def format_of(path: Path) -> str:
    """jsonl or csv, by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    raise InvalidInput(f"{path.name}: cannot tell the format; name it .jsonl or .csv")


IMPORT_FILE = "the import file"
"""How an import file is named in a sentence."""


def count_rows(path: Path) -> int:
    """Lines in the file, counted in blocks (cheap, for the progress bar)."""
    total = 0
    with open_regular(path, IMPORT_FILE) as stream:
        while block := stream.read(1 << 20):
            total += block.count(b"\n")
    return total


def read_jsonl(stream: IO[bytes], intake: Intake) -> Iterator[Row]:
    for number, raw in enumerate(read_lines(stream), start=1):
        row = parse_json_line(number, raw, intake)
        if row is not None:
            yield row


NOT_AN_OBJECT = "a row must be a JSON object"
"""Why a row that is JSON but no object (a list, a string, a number) is invalid."""


def decode_json_line(raw: bytes | Overlong) -> dict[str, Any] | str | None:
    """One JSON Lines line as an object, or why it is not one; None for a blank line.

    ``raw`` is OVERLONG for a line the reader skipped (see `verify.adapters.files`).
    """
    if isinstance(raw, Overlong) or len(raw) > MAX_LINE_BYTES:
        return LINE_TOO_LONG
    if not raw.strip():
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return f"not valid JSON: {error}"
    if not isinstance(data, dict):
        return NOT_AN_OBJECT
    return data


def parse_json_line(line: int, raw: bytes | Overlong, intake: Intake) -> Row | None:
    """One JSON Lines line as an incident row; None for a blank line."""
    data = decode_json_line(raw)
    if data is None:
        return None
    if isinstance(data, str):
        return Row(line, error=data)
    return validate_row(line, data, intake)



# CSV: the JSON fields, flattened. Lists of objects travel as JSON text in one cell.
CSV_COLUMNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("code", ("code",), "text"),
    ("date", ("date",), "text"),
    ("date_end", ("date_end",), "text"),
    ("time", ("time",), "text"),
    ("country", ("country",), "text"),
    ("location_name", ("location", "name"), "text"),
    ("location_lat", ("location", "lat"), "text"),
    ("location_lon", ("location", "lon"), "text"),
    ("location_precision", ("location", "precision"), "text"),
    ("location_coordinates_text", ("location", "coordinates_text"), "text"),
    ("belligerents", ("belligerents",), "names"),
    ("civilians_killed_min", ("civilians_killed", "min"), "text"),
    ("civilians_killed_max", ("civilians_killed", "max"), "text"),
    ("civilians_killed_text", ("civilians_killed", "text"), "text"),
    ("civilians_injured_min", ("civilians_injured", "min"), "text"),
    ("civilians_injured_max", ("civilians_injured", "max"), "text"),
    ("civilians_injured_text", ("civilians_injured", "text"), "text"),
    ("summary", ("summary",), "text"),
    ("sources", ("sources",), "json"),
    ("strike_status", ("strike", "status"), "text"),
    ("strike_belligerent", ("strike", "belligerent"), "text"),
    ("strike_report", ("strike", "report"), "text"),
    ("strike_distance_km", ("strike", "distance_km"), "text"),
    ("strike_day_offset", ("strike", "day_offset"), "text"),
    ("strike_rule", ("strike", "rule"), "text"),
    ("strike_reported", ("strike", "reported"), "text"),
    ("strike_placed", ("strike", "placed"), "json"),
    ("other_strikes", ("other_strikes",), "json"),
    ("contested_by", ("contested_by",), "json"),
    ("assessments", ("assessments",), "json"),
    ("discounts", ("discounts",), "json"),
    ("grade", ("grade", "grade"), "text"),
    ("grade_rule", ("grade", "rule"), "text"),
    ("grade_rationale", ("grade", "rationale"), "text"),
    ("dispute_by", ("dispute", "by"), "text"),
    ("dispute_reason", ("dispute", "reason"), "text"),
    ("duplicate_of", ("duplicate_of",), "text"),
    ("notes", ("notes",), "json"),
    ("assignee", ("assignee",), "text"),
    ("tags", ("tags",), "json"),
    ("comments", ("comments",), "json"),
    ("retracted", ("retracted",), "json"),
    ("victims", ("victims",), "json"),
    ("files", ("files",), "json"),
    ("unread", ("unread",), "json"),
)
CSV_HEADER = [name for name, _, _ in CSV_COLUMNS]
NAME_SEPARATOR = ";"


MAX_CSV_CELL = 16 * 1024 * 1024
"""The largest CSV cell read (the csv module's default is 128 KiB); rows validate lengths."""

csv.field_size_limit(MAX_CSV_CELL)


def check_utf8(path: Path, what: str = IMPORT_FILE) -> None:
    """Refuse a text file that is not UTF-8 before anything from it is used or stored."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open_regular(path, what) as stream:
        while True:
            block = stream.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                raise InvalidInput(
                    f"{path.name} is not UTF-8 text (byte {offset + error.start + 1} cannot be "
                    "read); save it as UTF-8 and import it again"
                ) from None
            if not block:
                return
            offset += len(block)


@contextmanager
def csv_text(path: Path, what: str = IMPORT_FILE) -> Iterator[TextLines]:
    """A CSV file's lines as UTF-8 text, checked whole first; a malformed file is one sentence.

    Lines end at \\n, \\r\\n or \\r; a line over the cap raises LineTooLong where
    it stands (see `verify.adapters.files`), and reading may go on after it.
    """
    check_utf8(path, what)
    try:
        with open_regular(path, what) as binary:
            yield TextLines(read_lines(binary, universal=True))
    except csv.Error as error:
        raise InvalidInput(f"{path.name} is not a readable CSV file: {error}") from None
    except UnicodeDecodeError:  # changed since it was checked
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None


def read_csv(lines: Iterable[str], intake: Intake,
             columns: dict[str, str] | None = None) -> Iterator[Row]:
    """The rows of a spreadsheet (see sheets.py), each read by the intake."""
    from verify.adapters.sheets import read_sheet

    for row in read_sheet(lines, columns=columns):
        if row.data is None:
            yield Row(row.line, error=row.error or "the row cannot be read")
        else:
            yield validate_row(row.line, row.data, intake)


def read_rows(path: Path, intake: Intake,
              columns: dict[str, str] | None = None) -> Iterator[Row]:
    """The rows of an import file, by its format; ``columns`` maps a sheet's own headers."""
    if format_of(path) == "csv":
        with csv_text(path) as text:
            yield from read_csv(text, intake, columns)
    else:
        with open_regular(path, IMPORT_FILE) as binary:
            yield from read_jsonl(binary, intake)


# ------------------------------------------------------------------ writing


def write_jsonl(records: Iterable[IncidentRecord], out: IO[bytes]) -> int:
    count = 0
    for record in records:
        out.write(orjson.dumps(record.document()) + b"\n")
        count += 1
    return count


def _flatten(document: dict[str, Any]) -> list[str]:
    row = []
    for _, path, kind in CSV_COLUMNS:
        value: Any = document
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or value == [] or value == {}:
            row.append("")
        elif kind == "json":
            row.append(orjson.dumps(value).decode())
        elif kind == "names":
            row.append(f"{NAME_SEPARATOR} ".join(value))
        else:
            row.append(str(value))
    return row


def write_csv(records: Iterable[IncidentRecord], out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(CSV_HEADER)
    count = 0
    for record in records:
        writer.writerow(_flatten(record.document()))
        count += 1
    text.detach()
    return count


def _feature(record: IncidentRecord, state: str) -> dict[str, Any] | None:
    place = record.location
    if place.lat is None or place.lon is None:
        return None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "properties": {
            "code": record.code,
            "date": record.date.isoformat(),
            "date_end": record.date_end.isoformat() if record.date_end else None,
            "time": record.time,
            "country": record.country,
            "location": place.name,
            "precision": place.precision.value if place.precision else None,
            "belligerents": record.belligerents,
            "civilians_killed_min": record.civilians_killed.min,
            "civilians_killed_max": record.civilians_killed.max,
            "civilians_injured_min": record.civilians_injured.min,
            "civilians_injured_max": record.civilians_injured.max,
            "grade": record.grade.grade.value if record.grade else None,
            "state": state,
            "summary": record.summary,
        },
    }


def write_geojson(records: Iterable[tuple[IncidentRecord, str]], out: IO[bytes]) -> int:
    """A FeatureCollection of the incidents that have coordinates, written as it goes."""
    out.write(b'{"type": "FeatureCollection", "features": [\n')
    count = 0
    for record, state in records:
        feature = _feature(record, state)
        if feature is None:
            continue
        out.write((b",\n" if count else b"") + orjson.dumps(feature))
        count += 1
    out.write(b"\n]}\n")
    return count

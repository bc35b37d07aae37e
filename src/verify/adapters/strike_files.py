"""Files of strike reports: read into records, a row at a time.

Reports come as JSON Lines or CSV. Days are read the way people write them,
none after today (UTC). Gazetteers are `verify.adapters.gazetteer`'s.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from verify.adapters.files import LINE_TOO_LONG, LineTooLong, open_regular, read_lines
from verify.adapters.interchange import NOT_AN_OBJECT, csv_text, decode_json_line
from verify.application.importing import describe
from verify.application.messages import today_utc
from verify.domain.dates import UnreadableDay, read_day
from verify.domain.errors import InvalidInput
from verify.domain.strikes import StrikeReportRecord
from verify.domain.values import refuse_nul

RECORD_FIELDS = list(StrikeReportRecord.model_fields)
REPORTS_FILE = "the strike report file"


# -------------------------------------------------------------------- reading


def read_reports(path: Path) -> Iterator[tuple[int, StrikeReportRecord | None, str | None]]:
    """(line, record or None, error or None) for each row of a .jsonl or .csv file."""
    if path.suffix.lower() == ".csv":
        with csv_text(path, REPORTS_FILE) as lines:
            reader = csv.DictReader(lines)
            try:
                header = reader.fieldnames or []
            except LineTooLong as too_long:
                raise InvalidInput(f"{path.name}: the header row cannot be read: line "
                                   f"{too_long.line}: {LINE_TOO_LONG}") from None
            unknown = [name for name in header if name not in RECORD_FIELDS]
            if unknown:
                raise InvalidInput(f"unknown CSV column {unknown[0]}; the columns are "
                                   + ", ".join(RECORD_FIELDS))
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except LineTooLong as too_long:
                    yield too_long.line, None, LINE_TOO_LONG
                    continue
                data = {key: value for key, value in cells.items() if value not in ("", None)}
                yield _validated(lines.number, data)
        return
    with open_regular(path, REPORTS_FILE) as stream:
        for number, raw in enumerate(read_lines(stream), start=1):
            decoded = decode_json_line(raw)
            if decoded is None:
                continue
            if isinstance(decoded, str):
                yield number, None, decoded
            else:
                yield _validated(number, decoded)


def read_report_rows(rows: Iterable[object]
                     ) -> Iterator[tuple[int, StrikeReportRecord | None, str | None]]:
    """(row number from 1, record or None, error or None) for each row already decoded from
    JSON (the API's body), each read as a line of a .jsonl file is."""
    for number, data in enumerate(rows, start=1):
        if isinstance(data, dict):
            yield _validated(number, data)
        else:
            yield number, None, NOT_AN_OBJECT


def _validated(line: int, data: dict[str, Any]) -> tuple[int, StrikeReportRecord | None,
                                                         str | None]:
    """A report; its days read as people write them, and none after today (UTC)."""
    for key in ("strike_date", "report_date"):
        if isinstance(data.get(key), str) and data[key].strip():
            try:
                data = {**data, key: read_day(data[key], today=today_utc()).isoformat()}
            except UnreadableDay as problem:
                return line, None, f"{key}: {problem.reason}"
    try:
        record = StrikeReportRecord.model_validate(data)
        # What the report would refuse to record refuses the line, not the whole file.
        refuse_nul(record.model_dump(mode="json"))
    except ValidationError as error:
        return line, None, describe(error)
    except InvalidInput as error:
        return line, None, str(error)
    return line, record, None



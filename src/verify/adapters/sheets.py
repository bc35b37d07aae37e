"""Spreadsheets as analysts keep them, read into the JSON Lines shape.

An export's CSV is tidy; a team's sheet is not. Its delimiter may be a
semicolon or a tab, its headers typed in any case or named their own way
(``--columns MAP.toml``), its sources given one per row under a repeated code
or numbered across the row, and it may carry columns of its own. This module
only reshapes: every row becomes the nested dict a JSON Lines line would be,
and no cell is judged. The intake validates each dict, keeps what it cannot
read verbatim and warns, so nothing here drops a non-blank cell or fails a
row over what a cell holds: a cell with no place of its own goes to a key
that names it (``"summary (line 7)"``, ``"extra cells"``) for the intake to
report.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from verify.adapters.files import (
    LINE_TOO_LONG,
    MAX_LINE_BYTES,
    LineTooLong,
    TextLines,
    read_small,
)
from verify.adapters.interchange import CSV_COLUMNS, NAME_SEPARATOR
from verify.domain.errors import InvalidInput
from verify.domain.text import fold, tidy
from verify.domain.values import canonical_code

if TYPE_CHECKING:
    from _csv import Reader

SOURCE_FIELDS = (
    "url", "publisher", "kind", "reliability", "credibility", "group",
    "published", "published_text", "protected", "withdrawn",
)
"""A source's fields, as flat (``source_url``) and numbered (``source1_url``) columns."""

FLAT_SOURCE_COLUMNS = tuple(f"source_{name}" for name in SOURCE_FIELDS)
COUNT_COLUMNS = ("civilians_killed", "civilians_injured")
"""Counts given as one cell (``at least 30``) rather than as min and max."""

EXTRA_CELLS = "extra cells"
"""Where the cells of a row beyond its header's last column are kept."""

DELIMITERS = (",", ";", "\t")

_FORMAT = {name: (path, kind) for name, path, kind in CSV_COLUMNS}
_NUMBERED = re.compile(rf"source([0-9]{{1,6}})_({'|'.join(SOURCE_FIELDS)})")
_RESERVED = frozenset({path[0] for _, path, _ in CSV_COLUMNS} | {EXTRA_CELLS})
"""Top-level keys the format fills; a sheet's own column never takes one of them."""

_BLANK_LINES = re.compile(r"(?:[^\S\r\n]*(?:\r\n?|\n))*")
_WHERE = re.compile(r"\(at [^)]*\)")
_SAMPLE = 64 * 1024
_SHOWN = 10


@dataclass(frozen=True)
class SheetRow:
    """One incident read from a sheet, or the reason a row could not be read."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None


# ------------------------------------------------------------------ delimiter


def detect_delimiter(sample: str) -> str:
    """',', ';' or a tab: whichever the header line holds most of outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    for char in _header_outside_quotes(sample):
        if char in counts:
            counts[char] += 1
    return max(DELIMITERS, key=counts.__getitem__)


def _header_outside_quotes(sample: str) -> Iterator[str]:
    """The characters of the first non-blank line that stand outside quoted cells."""
    blank = _BLANK_LINES.match(sample)
    index = blank.end() if blank else 0
    quoted, cell_start = False, True
    while index < len(sample):
        char = sample[index]
        if quoted:
            if char == '"' and sample[index + 1:index + 2] == '"':
                index += 1  # an escaped quote
            elif char == '"':
                quoted = False
        elif char == '"' and cell_start:
            quoted = True
        elif char in "\r\n":
            return
        else:
            yield char
        cell_start = not quoted and char in DELIMITERS
        index += 1


# ------------------------------------------------------------------ column map


MAX_COLUMN_MAP_BYTES = 1 << 20
"""A column map names a sheet's columns: a larger file is not one."""


def load_column_map(path: Path) -> dict[str, str]:
    """A sheet's own headers and the format's columns they stand for, from a TOML file."""
    content = read_small(path, "the column map", MAX_COLUMN_MAP_BYTES)
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"the column map {path.name} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        where = _WHERE.search(str(error))
        raise InvalidInput(
            f"the column map {path.name} is not valid TOML"
            + (f" {where.group(0)}" if where else "")
        ) from None
    pairs = chain(
        document["columns"].items() if isinstance(document.get("columns"), dict) else (),
        ((key, value) for key, value in document.items()
         if not (key == "columns" and isinstance(value, dict))),
    )
    return _column_map(pairs, f"the column map {path.name}")


def _column_map(pairs: Iterable[tuple[str, Any]], where: str) -> dict[str, str]:
    """Headers (tidied) and their targets (checked); one sentence for anything wrong."""
    mapped: dict[str, str] = {}
    for header, target in pairs:
        name = _target(target)
        if name is None:
            shown = "a table" if isinstance(target, dict) else repr(target)
            raise InvalidInput(
                f"{where} maps {header!r} to {shown}, which is not a column of the format "
                "(such as code, date, location_name, civilians_killed, source_url or "
                "source1_url)"
            )
        earlier = next((key for key in mapped if fold(key) == fold(header)), None)
        if earlier is not None and mapped[earlier] != name:
            raise InvalidInput(f"{where} maps {header!r} twice, to {mapped[earlier]} and {name}")
        mapped[tidy(header)] = name
    return mapped


def _target(name: Any) -> str | None:
    """The format's column a header names (in any case), or None."""
    if not isinstance(name, str):
        return None
    folded = fold(name)
    if folded in _FORMAT or folded in COUNT_COLUMNS or folded in FLAT_SOURCE_COLUMNS:
        return folded
    numbered = _NUMBERED.fullmatch(folded)
    if numbered is None:
        return None
    return f"source{int(numbered.group(1))}_{numbered.group(2)}"


# ------------------------------------------------------------------ header


@dataclass(frozen=True)
class _Column:
    """What one column of the sheet holds."""

    name: str
    """The format's column, or the key a column of the sheet's own is kept under."""
    source: int | None = None
    """For a source's column: 0 for flat, N for numbered; None otherwise."""
    field: str = ""


@dataclass(frozen=True)
class _Layout:
    columns: tuple[_Column, ...]
    grouped: bool
    """Flat source columns: rows with the same code are one incident."""


def _layout(header: list[str], columns: Mapping[str, str] | None) -> _Layout:
    """Each header cell matched to the format's column it names, or kept as the sheet's own."""
    mapped = {fold(key): value for key, value in
              _column_map((columns or {}).items(), "the column map").items()}
    taken: set[str] = set()
    own: set[str] = set(_RESERVED)
    layout: list[_Column] = []
    for position, raw in enumerate(header, start=1):
        title = tidy(raw) or f"column {position}"
        name = mapped.get(fold(title)) or _target(title)
        if name is None or name in taken:
            layout.append(_Column(_free(title, own)))
            own.add(fold(layout[-1].name))
            continue
        taken.add(name)
        own.update((name, fold(title)))
        layout.append(_known_column(name))
    if "code" not in taken:
        raise InvalidInput(_no_code(header))
    return _Layout(tuple(layout), grouped=any(c.source == 0 for c in layout))


def _known_column(name: str) -> _Column:
    """A column of the format; a source's column says which source and field."""
    if name in FLAT_SOURCE_COLUMNS:
        return _Column(name, source=0, field=name.removeprefix("source_"))
    numbered = _NUMBERED.fullmatch(name)
    if numbered is not None:
        return _Column(name, source=int(numbered.group(1)), field=numbered.group(2))
    return _Column(name)


def _free(title: str, used: set[str]) -> str:
    """The title, or the title numbered (2), (3)… when its name is used already."""
    name, number = title, 1
    while fold(name) in used:
        number += 1
        name = f"{title} ({number})"
    return name


def _no_code(header: list[str]) -> str:
    titles = [tidy(cell) for cell in header if tidy(cell)]
    more = f" and {len(titles) - _SHOWN} more" if len(titles) > _SHOWN else ""
    return (
        f"the sheet has no code column (its columns are {', '.join(titles[:_SHOWN])}{more}); "
        "name one code, or map one to code with --columns"
    )


# ------------------------------------------------------------------ rows


@dataclass
class _Row:
    """A row's non-blank cells, sorted by what they are."""

    line: int
    cells: dict[str, str] = field(default_factory=dict)
    numbered: dict[int, dict[str, str]] = field(default_factory=dict)
    flat: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)


def _blank(cell: str) -> bool:
    return not cell.strip()


def _row(layout: _Layout, line: int, cells: list[str]) -> _Row:
    row = _Row(line, extra=[cell for cell in cells[len(layout.columns):] if not _blank(cell)])
    for column, cell in zip(layout.columns, cells, strict=False):
        if _blank(cell):
            continue
        if column.source == 0:
            row.flat[column.field] = cell
        elif column.source is not None:
            row.numbered.setdefault(column.source, {})[column.field] = cell
        else:
            row.cells[column.name] = cell
    return row


def _incident(rows: list[_Row]) -> dict[str, Any]:
    """The nested dict of one incident: its first row's cells, the others' sources."""
    first = rows[0]
    data = _nested(first.cells, first.line)
    if first.extra:
        data[EXTRA_CELLS] = first.extra
    for later in rows[1:]:
        _keep_differences(data, first, later)
    numbered = [row.numbered[n] for row in rows for n in sorted(row.numbered)]
    _add_sources(data, numbered + [row.flat for row in rows if row.flat], first.line)
    return data


def _nested(cells: Mapping[str, str], line: int) -> dict[str, Any]:
    """One row's incident cells at their places in the JSON Lines shape."""
    data: dict[str, Any] = {}
    for name, (path, kind) in _FORMAT.items():
        if name in cells:
            target = data
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = _value(kind, cells[name])
    for name in COUNT_COLUMNS:
        if name in cells:
            _put_count(data, name, cells[name], line)
    for name, cell in cells.items():
        if name not in _FORMAT and name not in COUNT_COLUMNS:
            data[name] = cell
    return data


def _value(kind: str, cell: str) -> Any:
    """A cell as its column's kind; JSON that does not parse stays the cell, for the intake."""
    if kind == "names":
        return [part.strip(" \t") for part in cell.split(NAME_SEPARATOR) if part.strip(" \t")]
    if kind == "json":
        try:
            return orjson.loads(cell)
        except orjson.JSONDecodeError:
            return cell
    return cell


def _put_count(data: dict[str, Any], name: str, cell: str, line: int) -> None:
    """A count typed as text: the count itself, or its text beside a min or max."""
    count = data.get(name)
    if count is None:
        data[name] = cell
    elif "text" not in count:
        count["text"] = cell
    elif tidy(count["text"]) != tidy(cell):
        data[_free(f"{name} (line {line})", set(map(fold, data)))] = cell


def _keep_differences(data: dict[str, Any], first: _Row, later: _Row) -> None:
    """A later row's incident cells that differ from the first row's, each under its line."""
    for name, cell in later.cells.items():
        given = first.cells.get(name)
        if name == "code" or (given is not None and tidy(given) == tidy(cell)):
            continue
        data[_free(f"{name} (line {later.line})", set(map(fold, data)))] = cell
    if later.extra:
        data[_free(f"{EXTRA_CELLS} (line {later.line})", set(map(fold, data)))] = later.extra


def _add_sources(data: dict[str, Any], sources: list[dict[str, str]], line: int) -> None:
    """Sources after the sources cell's list; a sources cell that is not a list moves aside."""
    if not sources:
        return
    listed = data.get("sources")
    if isinstance(listed, list):
        listed.extend(sources)
        return
    if listed is not None:
        data[_free(f"sources (line {line})", set(map(fold, data)))] = listed
    data["sources"] = sources


# ------------------------------------------------------------------ reading


def read_sheet(
    lines: Iterable[str], *, columns: Mapping[str, str] | None = None
) -> Iterator[SheetRow]:
    """Each incident of a sheet as a raw nested dict, in the order of its first row.

    ``lines`` are the sheet's text lines (a text stream, or `csv_text`'s bounded
    lines); a line over the cap is refused as a row of its own, and the delimiter
    is found without reading one.
    """
    text = lines if isinstance(lines, TextLines) else TextLines(lines)
    reader = csv.reader(text, delimiter=detect_delimiter(text.peek(_SAMPLE)))
    layout = _layout(_header(reader), columns)
    rows = _rows(reader, text, layout)
    if not layout.grouped:
        for row in rows:
            yield row if isinstance(row, SheetRow) else SheetRow(row.line, _incident([row]))
        return
    for entry in _grouped(rows):
        yield entry if isinstance(entry, SheetRow) else SheetRow(entry[0].line, _incident(entry))


def _header(reader: Reader) -> list[str]:
    """The first row with a non-blank cell."""
    try:
        for cells in reader:
            if not all(_blank(cell) for cell in cells):
                return cells
    except csv.Error as error:
        raise InvalidInput(f"the sheet's header row cannot be read: {error}") from None
    except LineTooLong as too_long:
        raise InvalidInput(f"the sheet's header row cannot be read: line {too_long.line} "
                           f"is longer than {MAX_LINE_BYTES:,} bytes") from None
    raise InvalidInput("the sheet is empty: it has no header row")


def _rows(reader: Reader, text: TextLines, layout: _Layout) -> Iterator[_Row | SheetRow]:
    """The sheet's non-blank rows; a line over the cap is refused, the rows after it read;
    a row the csv module cannot read ends the sheet."""
    while True:
        line = text.number + 1
        try:
            cells: list[str] = next(reader)
        except StopIteration:
            return
        except LineTooLong as too_long:
            yield SheetRow(too_long.line, None, LINE_TOO_LONG)
            continue
        except csv.Error as error:
            yield SheetRow(line, None, f"the row cannot be read ({error}); "
                                       "the rest of the file is not read")
            return
        if not all(_blank(cell) for cell in cells):
            yield _row(layout, line, cells)


def _grouped(rows: Iterable[_Row | SheetRow]) -> Iterator[list[_Row] | SheetRow]:
    """Rows with the same code as one incident, in the order codes first appear."""
    order: list[list[_Row] | SheetRow] = []
    incidents: dict[str, list[_Row]] = {}
    for row in rows:
        if isinstance(row, SheetRow):
            order.append(row)
            continue
        code = row.cells.get("code")
        if code is None:
            order.append([row])
            continue
        key = _code_key(code)
        if key not in incidents:
            incidents[key] = []
            order.append(incidents[key])
        incidents[key].append(row)
    yield from order


def _code_key(cell: str) -> str:
    """Codes compare canonically (CS1 and cs001 differ; cs1 and CS1 do not)."""
    try:
        return "code:" + canonical_code(cell)
    except ValueError:
        return "text:" + fold(cell)


__all__ = [
    "COUNT_COLUMNS",
    "DELIMITERS",
    "EXTRA_CELLS",
    "FLAT_SOURCE_COLUMNS",
    "SOURCE_FIELDS",
    "SheetRow",
    "detect_delimiter",
    "load_column_map",
    "read_sheet",
]

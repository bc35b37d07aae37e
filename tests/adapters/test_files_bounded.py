"""Every file read within bounds: regular files only, and no line held whole past its cap.

docs/formats.md promises a line over 2 MB is refused unread and the rest of the
file still imports; these tests hold the one reader every file input shares
(`verify.adapters.files`) and each reader built on it (JSON Lines, sheets,
strike reports, gazetteers, column maps, the workers' chunks) to that, with
small caps so the cases stay fast. The memory figures of the real cap (a 1 GiB
line, `/dev/zero`) are measured in tests/entrypoints/test_files_cli.py.
"""

from __future__ import annotations

import io
import os
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verify.adapters.files as files
from verify.adapters.bulk_import import read_chunks
from verify.adapters.files import (
    LINE_TOO_LONG,
    MAX_LINE_BYTES,
    OVERLONG,
    LineTooLong,
    Overlong,
    TextLines,
    open_regular,
    read_lines,
    read_small,
)
from verify.adapters.gazetteer import load_gazetteer
from verify.adapters.interchange import count_rows, read_rows
from verify.adapters.sheets import load_column_map, read_sheet
from verify.adapters.strike_files import read_reports
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.domain.errors import InvalidInput

INTAKE = Intake(today=today_utc())
ROW = b'{"code": "CS%d", "date": "2017-03-17", "country": "Iraq", "location": "Mosul"}\n'
OVER = b"x" * (MAX_LINE_BYTES + 1)


# ------------------------------------------------------------------ lines


def reference_lines(data: bytes, limit: int, universal: bool) -> list[bytes | Overlong]:
    """What the reader must give: lines split at their ends, those over the cap OVERLONG."""
    ends = re.compile(rb"\r\n|\r|\n" if universal else rb"\n")
    lines: list[bytes | Overlong] = []
    start = 0
    for found in ends.finditer(data):
        lines.append(data[start:found.end()])
        start = found.end()
    if start < len(data):
        lines.append(data[start:])
    return [OVERLONG if len(line) > limit else line for line in lines]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=80) | st.lists(st.sampled_from([b"ab", b"\r", b"\n", b"\r\n",
                                                               b"xyzw"])).map(b"".join),
       limit=st.integers(1, 12), block=st.integers(1, 9), skip=st.integers(1, 5),
       universal=st.booleans())
def test_lines_split_as_their_ends_say_and_over_long_ones_stand_apart(
        data: bytes, limit: int, block: int, skip: int, universal: bool) -> None:
    """Small caps and blocks put every line end, and every cap, across block boundaries."""
    with mock.patch.object(files, "_BLOCK", block), mock.patch.object(files, "_SKIP_BLOCK", skip):
        stream = io.BufferedReader(io.BytesIO(data), buffer_size=max(block, 1))
        got = list(read_lines(stream, universal=universal, limit=limit))
    assert got == reference_lines(data, limit, universal)


class EndlessLine(io.RawIOBase):
    """``total`` NUL bytes with no line end (as a sparse file reads), then ``tail``."""

    def __init__(self, total: int, tail: bytes) -> None:
        self.left = total
        self.tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            size = min(len(buffer), len(self.tail))
            buffer[:size] = self.tail[:size]
            self.tail = self.tail[size:]
            return size
        size = min(len(buffer), self.left)
        buffer[:size] = bytes(size)
        self.left -= size
        return size


@pytest.mark.parametrize("universal", [False, True])
def test_a_line_over_the_cap_is_skipped_in_pieces_and_the_next_one_read(universal: bool
                                                                        ) -> None:
    """64 MB with no line end, then a line: the reader never holds much more than the cap."""
    stream = io.BufferedReader(EndlessLine(64 << 20, tail=b"\n" + ROW % 1))
    tracemalloc.start()
    try:
        lines = list(read_lines(stream, universal=universal))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [OVERLONG, ROW % 1]
    assert peak < 3 * MAX_LINE_BYTES, f"peak {peak:,} bytes"


def test_a_line_of_exactly_the_cap_is_read_and_one_byte_more_is_not() -> None:
    fits = b"x" * (MAX_LINE_BYTES - 1) + b"\n"
    over = b"x" * MAX_LINE_BYTES + b"\n"
    for universal in (False, True):
        assert list(read_lines(io.BytesIO(fits + over), universal=universal)) == [fits, OVERLONG]


def test_overlong_is_one_value_across_processes() -> None:
    import pickle

    assert pickle.loads(pickle.dumps([(3, OVERLONG)])) == [(3, OVERLONG)]
    assert pickle.loads(pickle.dumps(OVERLONG)) is OVERLONG


def test_text_lines_number_every_line_and_go_on_after_an_over_long_one() -> None:
    text = TextLines([b"\xef\xbb\xbfcode\n", OVERLONG, "CS1\r\n"])
    assert text.peek(100) == "code\n"
    assert next(text) == "code\n"
    with pytest.raises(LineTooLong) as caught:
        next(text)
    assert caught.value.line == 2 and text.number == 2
    assert next(text) == "CS1\r\n" and text.number == 3
    with pytest.raises(StopIteration):
        next(text)


# ------------------------------------------------------------------ opening


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """Paths that name something other than a regular file, under ordinary names."""
    paths = {
        "dev-zero": tmp_path / "zero.jsonl",
        "dev-null": tmp_path / "null.csv",
        "fifo": tmp_path / "fifo.jsonl",
        "folder": tmp_path / "folder.csv",
    }
    paths["dev-zero"].symlink_to("/dev/zero")
    paths["dev-null"].symlink_to("/dev/null")
    os.mkfifo(paths["fifo"])
    paths["folder"].mkdir()
    return paths


KINDS = {"dev-zero": "a device", "dev-null": "a device", "fifo": "a pipe", "folder": "a folder"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_only_regular_files_are_opened(hostile: dict[str, Path], kind: str) -> None:
    """Refused before a byte is read; a pipe with no writer does not hold the open."""
    with pytest.raises(InvalidInput) as caught:
        open_regular(hostile[kind], "the import file")
    sentence = str(caught.value)
    assert sentence == (f"the import file {hostile[kind].name} is {KINDS[kind]}, not a "
                        "regular file; give the path of a file")


def test_a_link_to_a_regular_file_is_a_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "rows.jsonl"
    target.write_bytes(ROW % 1)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with open_regular(link, "the import file") as stream:
        assert stream.read() == ROW % 1


@pytest.mark.parametrize("name", ["missing.jsonl", "x" * 300 + ".jsonl"])
def test_a_path_the_system_refuses_is_one_sentence(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match=r"^cannot read the import file .*: (No such file or "
                                           r"directory|File name too long)$"):
        open_regular(tmp_path / name, "the import file")


def test_a_small_file_is_read_whole_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_bytes(b"a" * 10)
    assert read_small(path, "the column map", 10) == b"a" * 10
    with pytest.raises(InvalidInput, match=r"the column map map\.toml is larger than 9 bytes"):
        read_small(path, "the column map", 9)


# ------------------------------------------------------- every file input


READERS: dict[str, Callable[[Path], object]] = {
    "count_rows": count_rows,
    "read_rows jsonl": lambda path: list(read_rows(path.with_suffix(".jsonl"), INTAKE)),
    "read_rows csv": lambda path: list(read_rows(path.with_suffix(".csv"), INTAKE)),
    "read_reports jsonl": lambda path: list(read_reports(path.with_suffix(".jsonl"))),
    "read_reports csv": lambda path: list(read_reports(path.with_suffix(".csv"))),
    "read_chunks": lambda path: list(read_chunks(path.with_suffix(".jsonl"), 10)),
    "load_gazetteer": lambda path: load_gazetteer(path.with_suffix(".csv")),
    "load_column_map": lambda path: load_column_map(path.with_suffix(".toml")),
}
"""Each reader of a file a command takes, run to its end."""

MAKE: dict[str, Callable[[Path], object]] = {
    "dev-zero": lambda path: path.symlink_to("/dev/zero"),
    "dev-null": lambda path: path.symlink_to("/dev/null"),
    "fifo": os.mkfifo,
    "folder": Path.mkdir,
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_file_input_refuses_what_is_not_a_regular_file(
        tmp_path: Path, kind: str, reader: str) -> None:
    for suffix in (".jsonl", ".csv", ".toml"):
        MAKE[kind](tmp_path / f"input{suffix}")
    with pytest.raises(InvalidInput, match=f"is {KINDS[kind]}, not a regular file"):
        READERS[reader](tmp_path / "input.jsonl")


def test_an_over_long_json_line_is_refused_as_that_line_and_the_rest_imports(
        tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(ROW % 1 + OVER + b"\n" + ROW % 3 + OVER)
    rows = list(read_rows(path, INTAKE))
    assert [(row.line, row.error) for row in rows] == [
        (1, None), (2, LINE_TOO_LONG), (3, None), (4, LINE_TOO_LONG)]
    chunks = [item for chunk in read_chunks(path, 2) for item in chunk]
    assert [(line, raw) for line, raw in chunks] == [
        (1, ROW % 1), (2, OVERLONG), (3, ROW % 3), (4, OVERLONG)]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_an_over_long_sheet_line_is_refused_as_that_line_and_the_rest_imports(
        tmp_path: Path, ending: bytes) -> None:
    path = tmp_path / "sheet.csv"
    lines = [b"code;date;country;location_name", b"CS1;2017-03-17;Iraq;Mosul", OVER,
             b"CS3;2017-03-17;Iraq;Mosul"]
    path.write_bytes(ending.join(lines) + ending)
    rows = list(read_rows(path, INTAKE))
    assert [(row.line, row.error, row.record and row.record.code) for row in rows] == [
        (2, None, "CS1"), (3, LINE_TOO_LONG, None), (4, None, "CS3")]


def test_a_sheet_whose_header_is_over_long_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\n" + OVER + b"\nCS1\n")
    with pytest.raises(InvalidInput, match="header row cannot be read: line 2 is longer than "
                                           "2,000,000 bytes"):
        list(read_rows(path, INTAKE))


def test_the_delimiter_is_found_without_reading_an_over_long_line() -> None:
    rows = list(read_sheet(TextLines([b"code;country\n", OVERLONG, b"CS1;Iraq\n"])))
    assert [(row.line, row.error, row.data) for row in rows] == [
        (2, LINE_TOO_LONG, None), (3, None, {"code": "CS1", "country": "Iraq"})]


def test_over_long_strike_report_lines_are_refused_by_line(tmp_path: Path) -> None:
    report = (b'{"reference": "R1", "belligerent": "B", "strike_date": "2017-03-17", '
              b'"place": "Mosul"}\n')
    (tmp_path / "r.jsonl").write_bytes(OVER + b"\n" + report)
    (tmp_path / "r.csv").write_bytes(b"reference,belligerent,strike_date,place\r\n" + OVER
                                     + b"\r\nR1,B,2017-03-17,Mosul\r\n")
    for name, first in (("r.jsonl", 1), ("r.csv", 2)):
        rows = list(read_reports(tmp_path / name))
        assert [(line, error) for line, _, error in rows] == [
            (first, LINE_TOO_LONG), (first + 1, None)], name


@pytest.mark.slow  # reads the whole built-in gazetteer: two seconds
def test_an_over_long_gazetteer_line_refuses_the_gazetteer(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_bytes(b"name,lat,lon\nMosul,36.3,43.1\n" + OVER)
    with pytest.raises(InvalidInput, match=r"places\.csv, line 3: the line is longer than"):
        load_gazetteer(path)
    path.write_bytes(b"name,lat,lon\rMosul,36.3,43.1\rRaqqa,35.9,39.0")
    gazetteer = load_gazetteer(path)
    assert gazetteer.locate("Raqqa") is not None


def test_a_column_map_over_a_megabyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_bytes(b"# " + b"x" * (1 << 20) + b'\n"Ref" = "code"\n')
    with pytest.raises(InvalidInput, match=r"the column map map\.toml is larger than 1,048,576"):
        load_column_map(path)

"""Files a command reads, read within bounds: regular files only, no line held past its cap.

Every file a command takes in (an import, a sheet, a column map, strike reports,
a gazetteer) is opened here. A device, a pipe or a folder is refused before a
byte of it is read: ``/dev/zero`` never ends, and a pipe may never close. Lines
are cut at MAX_LINE_BYTES while they are read, so a line over the cap is skipped
unread (counted, never held whole in memory), and the rest of the file still reads.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from verify.domain.errors import InvalidInput

MAX_LINE_BYTES = 2_000_000
"""A longer line is refused unread: no incident needs it, and it protects memory."""

LINE_TOO_LONG = f"the line is longer than {MAX_LINE_BYTES:,} bytes"
"""Why a line over the cap is refused."""

_SKIP_BLOCK = 1 << 20
"""Bytes read at a time while skipping the rest of an over-long line."""

_BLOCK = 1 << 16
"""Bytes read at a time when lines may also end at a carriage return."""



# ------------------------------------------------------------------ opening


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _named(path: Path) -> str:
    return path.name or str(path)


def _not_regular(what: str, path: Path, mode: int) -> InvalidInput:
    return InvalidInput(f"{what} {_named(path)} is {_kind(mode)}, not a regular file; give "
                        "the path of a file")


def open_regular(path: Path, what: str) -> IO[bytes]:
    """``path`` opened for reading in binary, refused with one sentence unless a regular file.

    ``what`` names the file for a person ("the import file"). The path is checked
    once resolved (a link to ``/dev/zero`` is a device), then checked again on the
    open file itself, so a file swapped for a pipe in between is refused too;
    the open never waits for a pipe's writer.
    """
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(what, path, mode)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InvalidInput(
            f"cannot read {what} {_named(path)}: {error.strerror or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(what, path, mode)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_small(path: Path, what: str, limit: int) -> bytes:
    """A whole file of at most ``limit`` bytes (a column map, say); a larger one is refused."""
    with open_regular(path, what) as stream:
        content = stream.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(f"{what} {_named(path)} is larger than {limit:,} bytes")
    return content


# ------------------------------------------------------------------ lines


class Overlong:
    """Stands in for a line over the cap: it was skipped unread."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OVERLONG"

    def __reduce__(self) -> str:
        return "OVERLONG"  # one instance, in worker processes too


OVERLONG = Overlong()


def read_lines(stream: IO[bytes], *, universal: bool = False,
               limit: int = MAX_LINE_BYTES) -> Iterator[bytes | Overlong]:
    """Each line of ``stream`` with its line end; OVERLONG for a line over ``limit`` bytes.

    JSON Lines end a line at ``\\n`` only. With ``universal`` (sheets), ``\\r\\n``
    and a lone ``\\r`` end one too, as spreadsheets saved on any system write them.
    Memory stays within about ``limit`` bytes whatever the file holds.
    """
    if universal:
        yield from _universal_lines(stream, limit)
        return
    while line := stream.readline(limit + 1):
        if len(line) <= limit:
            yield line
            continue
        while not line.endswith(b"\n") and (line := stream.readline(_SKIP_BLOCK)):
            pass
        yield OVERLONG


def _universal_lines(stream: IO[bytes], limit: int) -> Iterator[bytes | Overlong]:
    buffer = b""
    start = 0  # where the current line starts in the buffer
    newline = carriage = 0  # the next \n and \r from there (len(buffer): none)
    skipping = False  # the current line is over the cap: its bytes are dropped as they come
    at_end = False
    while True:
        if newline < start:
            newline = _find(buffer, b"\n", start)
        if carriage < start:
            carriage = _find(buffer, b"\r", start)
        end = min(newline, carriage)
        # A carriage return at the very end may be the first half of \r\n: wait for more.
        if end < len(buffer) and (end == newline or end + 1 < len(buffer) or at_end):
            end += 2 if end == carriage and buffer[end + 1:end + 2] == b"\n" else 1
            yield OVERLONG if skipping or end - start > limit else buffer[start:end]
            skipping, start = False, end
            continue
        if at_end:
            if skipping or start < len(buffer):
                yield OVERLONG if skipping or len(buffer) - start > limit else buffer[start:]
            return
        rest = buffer[start:]
        if len(rest) > limit:
            skipping = True
            rest = b"\r" if rest.endswith(b"\r") else b""
        block = stream.read(_BLOCK)
        at_end = not block
        buffer, start = rest + block, 0
        # The rest holds no line end, but perhaps a \r at its very end: look from there.
        seen = len(rest) - 1 if rest.endswith(b"\r") else len(rest)
        newline, carriage = _find(buffer, b"\n", seen), _find(buffer, b"\r", seen)


def _find(buffer: bytes, char: bytes, start: int) -> int:
    found = buffer.find(char, start)
    return len(buffer) if found < 0 else found


class LineTooLong(Exception):
    """A line over the cap, skipped; reading may go on after it."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}: {LINE_TOO_LONG}")
        self.line = line


class TextLines:
    """The lines of a sheet as text, for the csv module, numbered as they are read.

    Takes lines as bytes (UTF-8, a byte order mark dropped from the first) or as
    text. A line over the cap raises LineTooLong where it stands; reading goes
    on with the next line. ``number`` is the number of lines given out so far,
    the over-long ones included. ``peek`` reads the first lines ahead, for a
    look at the header, and gives them out again.
    """

    def __init__(self, lines: Iterable[bytes | str | Overlong]) -> None:
        self._lines = iter(lines)
        self._ahead: deque[str | Overlong] = deque()
        self._started = False
        self.number = 0

    def __iter__(self) -> TextLines:
        return self

    def __next__(self) -> str:
        line = self._ahead.popleft() if self._ahead else self._read()
        self.number += 1
        if isinstance(line, Overlong):
            raise LineTooLong(self.number)
        return line

    def _read(self) -> str | Overlong:
        line = next(self._lines)
        first, self._started = not self._started, True
        if isinstance(line, bytes):
            text = line.decode("utf-8")
            return text.removeprefix("\ufeff") if first else text
        return line

    def peek(self, size: int) -> str:
        """The first lines, up to about ``size`` characters or an over-long line, kept to read."""
        taken: list[str] = []
        total = 0
        while total < size:
            try:
                line = self._read()
            except StopIteration:
                break
            self._ahead.append(line)
            if isinstance(line, Overlong):
                break
            taken.append(line)
            total += len(line)
        return "".join(taken)


__all__ = [
    "LINE_TOO_LONG",
    "MAX_LINE_BYTES",
    "OVERLONG",
    "LineTooLong",
    "Overlong",
    "TextLines",
    "open_regular",
    "read_lines",
    "read_small",
]

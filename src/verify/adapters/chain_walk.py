"""The audit's quick walk of a SQLite store's hash chain, on both cores.

`verify_chain` is the reference: it walks the events beside their chain rows
and names the first event that does not fit. Most stores audited are intact,
and proving that needs less per row: the events and the chain joined by
SQLite on id and fields, each link recomputed from the stored bytes. Link n
depends only on the stored link n-1 and event n, so the log splits into two
ranges checked at once in two processes, the second starting from the stored
link where the first ends (the first must end on exactly that link). The
second process also runs SQLite's `integrity_check` over the events table,
which proves its indexes hold exactly its rows: loading then reads back what
the log stores, as the audit's read-back asks.

Whatever is not as an intact store has it (a count, a link, a type, a seal,
an error) makes the walk answer None, and the caller walks the reference way
from the start: every report of a tampered store, and its first bad
position, comes from `verify_chain` alone.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import signal
import sqlite3
import struct
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from verify.adapters.sqlite import read_only_uri
from verify.application.workers import start_method
from verify.domain.chain import GENESIS, PROGRESS_EVERY, ChainReport, Seal

PARALLEL_FROM = 50_000
"""Events from which the walk forks a second process: below, one process is quicker."""

FIRST_SHARE = 0.7
"""The first range's share of the ids: the second process also runs the integrity check,
which costs about 0.4 of the walk per event (measured here)."""

_JOINED = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state, c.link"
    " FROM stored_events AS e JOIN event_chain AS c ON c.notification_id = e.rowid"
    " AND +c.originator_id IS +e.originator_id COLLATE BINARY"
    " AND +c.originator_version IS +e.originator_version"
    " AND +c.topic IS +e.topic COLLATE BINARY"
    " WHERE e.rowid {0} ? ORDER BY e.rowid")
"""Each event beside its chain row when their record, version and topic agree, the
operands stripped of affinity so that no value is converted to match (2 and '2' differ);
an event left out is counted missing by the caller."""

_pack = struct.Struct(">Q").pack
_sha256 = hashlib.sha256
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Walked:
    """An intact chain's report, and whether the events table's indexes hold its rows."""

    report: ChainReport
    index_intact: bool | None
    """None when not checked (``index=False``)."""


@dataclass(frozen=True)
class _Range:
    """One range of the log as walked: its events, the link it ended on, its content sum."""

    events: int
    last: bytes
    content: int


class SQLiteChainWalk:
    """Proves a SQLite store's chain intact quickly, or says it cannot (then walk carefully)."""

    def __init__(self, path: str, *, parallel_from: int = PARALLEL_FROM) -> None:
        self.uri = read_only_uri(path)
        self.parallel_from = parallel_from

    def audit(self, seal: Seal | None = None, progress: Progress | None = None, *,
              content: bool = False, index: bool = True) -> Walked | None:
        """The report of an intact chain (with ``content``, its read-back sum as
        `verify_chain` makes it) and, with ``index``, the integrity check's verdict;
        None when anything is amiss."""
        try:
            return self._audit(seal, progress, content, index)
        except Exception:  # a value of another type, say: the careful walk tells
            return None

    def _audit(self, seal: Seal | None, progress: Progress | None, content: bool,
               index: bool) -> Walked | None:
        with closing(sqlite3.connect(self.uri, uri=True)) as db:
            (events, low, high), = db.execute(
                "SELECT count(*), min(rowid), max(rowid) FROM stored_events")
            (links,), = db.execute("SELECT count(*) FROM event_chain")
        if events == 0 or events != links:
            return None
        share = FIRST_SHARE if index else 0.5
        split = low + int((high - low) * share) if events >= self.parallel_from else high
        if split < high and start_method() == "fork":
            second = _Second(self.uri, split, content, index)
            try:
                first = _walk(self.uri, "<=", split, GENESIS, progress, content)
            except BaseException:
                second.stop()
                raise
            later, index_intact = second.result()
        else:
            first = _walk(self.uri, "<=", split, GENESIS, progress, content)
            later = _walk_after(self.uri, split, content) if split < high else \
                _Range(0, first.last, 0)
            index_intact = _index_intact(self.uri) if index else None
        if later is None or first.events + later.events != events:
            return None
        if split < high and first.last != _link_at(self.uri, split):
            return None
        if progress is not None and later.events:
            progress(later.events)
        head = later.last if later.events else first.last
        seal_checked = False
        if seal is not None:
            if not 0 < seal.events <= events or _link_of(self.uri, seal.events) != seal.head:
                return None
            seal_checked = True
        return Walked(ChainReport(events, head, None, seal_checked,
                                  first.content + later.content), index_intact)


class _Second:
    """The second range and the integrity check, in a forked process: it shares this
    process's hash key, so its content sum adds to the first's."""

    def __init__(self, uri: str, split: int, content: bool, index: bool) -> None:
        context = multiprocessing.get_context("fork")
        self.receive, send = context.Pipe(duplex=False)
        self.process = context.Process(target=_second, args=(send, uri, split, content, index),
                                       daemon=True)
        self.process.start()
        send.close()

    def stop(self) -> None:
        """The first range failed: the careful walk starts over, so this one is not waited for."""
        self.process.terminate()
        self.process.join()
        self.receive.close()

    def result(self) -> tuple[_Range | None, bool | None]:
        try:
            found: tuple[_Range | None, bool | None] = self.receive.recv()
        except EOFError:  # it died: the careful walk tells why, if the store is why
            found = (None, None)
        finally:
            self.receive.close()
            self.process.join()
        return found


def _second(send: Any, uri: str, split: int, content: bool, index: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the first's to handle
    try:
        walked = _walk_after(uri, split, content)
        found = (walked, _index_intact(uri) if index and walked is not None else None)
    except Exception:
        found = (None, None)
    send.send(found)
    send.close()


def _walk_after(uri: str, split: int, content: bool) -> _Range | None:
    """The events after id ``split``, from the stored link at ``split``."""
    previous = _link_at(uri, split)
    if not isinstance(previous, bytes):
        return None
    return _walk(uri, ">", split, previous, None, content)


def _link_at(uri: str, split: int) -> Any:
    """The stored link of the last chain row at or before id ``split``."""
    with closing(sqlite3.connect(uri, uri=True)) as db:
        found = db.execute("SELECT link FROM event_chain WHERE notification_id <= ?"
                           " ORDER BY notification_id DESC LIMIT 1", (split,)).fetchone()
    return GENESIS if found is None else found[0]


def _link_of(uri: str, position: int) -> Any:
    """The stored link of the chain's row at a position (from 1), in id order."""
    with closing(sqlite3.connect(uri, uri=True)) as db:
        found = db.execute("SELECT link FROM event_chain ORDER BY notification_id"
                           " LIMIT 1 OFFSET ?", (position - 1,)).fetchone()
    return None if found is None else found[0]


def _index_intact(uri: str) -> bool:
    """SQLite's own check that the events table's indexes hold exactly its rows."""
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute("PRAGMA integrity_check(stored_events)").fetchall() == [("ok",)]


class _Broken(Exception):
    """A link did not hold."""


def _walk(uri: str, compare: str, split: int, previous: bytes, progress: Progress | None,
          content: bool) -> _Range:
    """Recompute the links of the events on one side of ``split``, from ``previous``.

    One loop with the forms built inline, as `chain.links_after` builds them;
    raises at the first link that does not hold."""
    pack, sha256 = _pack, _sha256
    topics: dict[str, bytes] = {}
    last_originator: str | None = None
    prefix = b""
    summed = events = 0
    told = PROGRESS_EVERY if progress is not None else -1
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute(_JOINED.format(compare), (split,))
        for originator, version, topic, state, stored in rows:
            if originator != last_originator:
                encoded = originator.encode()
                last_originator, prefix = originator, pack(len(encoded)) + encoded
            kind = topics.get(topic)
            if kind is None:
                encoded = topic.encode()
                kind = topics[topic] = pack(len(encoded)) + encoded
            form = b"".join((prefix, pack(version), kind, pack(len(state)), state))
            linked = sha256(previous)
            linked.update(form)
            previous = linked.digest()
            if previous != stored:
                raise _Broken(events)
            if content:
                summed += hash(form)
            events += 1
            if events == told:
                assert progress is not None
                progress(PROGRESS_EVERY)
                told += PROGRESS_EVERY
    return _Range(events, previous, summed)

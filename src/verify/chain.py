"""The hash chain: every stored event linked to the one before it, in log order.

Link n is SHA-256 over link n-1 and the stored event's own bytes: originator
id, version, topic and state, each length-prefixed so no two different events
hash alike. The chain is written by the recorder in the same transaction as
the events, so it cannot drift from them; `verify audit verify` recomputes it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

GENESIS = bytes(32)
"""The link before the first event."""

_pack = struct.Struct(">Q").pack
_sha256 = hashlib.sha256


def link(previous: bytes, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The next link of the chain, for one stored event."""
    originator = originator_id.encode()
    kind = topic.encode()
    return _sha256(b"".join((
        previous, _pack(len(originator)), originator, _pack(version),
        _pack(len(kind)), kind, _pack(len(state)), state,
    ))).digest()


def originator_text(originator_id: UUID | str) -> str:
    """An originator id as the chain hashes it: 32 hex digits for a UUID."""
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def chain_links(
    previous: bytes, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
) -> list[tuple[int, str, int, str, bytes]]:
    """The chain rows for newly inserted events, continuing from the previous link."""
    rows = []
    for event, notification_id in zip(stored_events, notification_ids, strict=True):
        originator = originator_text(event.originator_id)
        previous = link(previous, originator, event.originator_version, event.topic,
                        bytes(event.state))
        rows.append((notification_id, originator, event.originator_version, event.topic,
                     previous))
    return rows


def format_head(head: bytes) -> str:
    return "sha256:" + head.hex()


def read_only_uri(path: Path | str) -> str:
    """A SQLite URI that opens the file read-only, whatever characters its name holds."""
    return f"file:{quote(str(Path(path).absolute()))}?mode=ro"


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, plus a hash chain row for each event."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain ("
            " notification_id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL,"
            " originator_version INTEGER NOT NULL, topic TEXT NOT NULL, link BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events:
            return notification_ids
        assert notification_ids is not None
        # The inserts above hold SQLite's write lock, so no other writer can
        # append between reading the head and writing the new links.
        c.execute("SELECT link FROM event_chain ORDER BY notification_id DESC LIMIT 1")
        found = c.fetchone()
        previous = bytes(found[0]) if found else GENESIS
        c.executemany("INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)",
                      chain_links(previous, stored_events, notification_ids))
        return notification_ids

    def chain_rows(self, batch: int = 20_000) -> Iterator[ChainRow]:
        """Every stored event beside its chain row, in log order, read straight from the file."""
        with sqlite3.connect(read_only_uri(self.datastore.pool.db_name), uri=True) as db:
            events = db.execute("SELECT rowid, originator_id, originator_version, topic, state"
                                " FROM stored_events ORDER BY rowid")
            links = db.cursor().execute(
                "SELECT notification_id, originator_id, originator_version, topic, link"
                " FROM event_chain ORDER BY notification_id")
            yield from merge_chain(_batched(events, batch), _batched(links, batch))

    def snapshot_rows(self) -> list[tuple[str, int, str, bytes]]:
        """Every stored snapshot, to check it against the events it summarises."""
        with sqlite3.connect(read_only_uri(self.datastore.pool.db_name), uri=True) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE name='stored_snapshots'")
            if found.fetchone() is None:
                return []
            return [(str(o), int(v), str(t), bytes(s)) for o, v, t, s in db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"
                " ORDER BY originator_id, originator_version")]


ChainRow = tuple[Any, ...]
"""(event id, originator, version, topic, state, chain id, chain originator, chain
version, chain topic, link); a side is all None where that row is missing."""

_MISSING = (None, None, None, None, None)


def merge_chain(events: Iterable[tuple[Any, ...]],
                links: Iterable[tuple[Any, ...]]) -> Iterator[ChainRow]:
    """Walk the events and the chain, each in id order, side by side: nothing is sorted."""
    event_rows, link_rows = iter(events), iter(links)
    event = next(event_rows, None)
    chained = next(link_rows, None)
    while event is not None or chained is not None:
        if chained is None or (event is not None and event[0] < chained[0]):
            assert event is not None
            yield (*event, *_MISSING)
            event = next(event_rows, None)
        elif event is None or chained[0] < event[0]:
            yield (*_MISSING, *chained)
            chained = next(link_rows, None)
        else:
            yield (*event, *chained)
            event = next(event_rows, None)
            chained = next(link_rows, None)


def _batched(cursor: Any, size: int) -> Iterator[tuple[Any, ...]]:
    while rows := cursor.fetchmany(size):
        yield from rows

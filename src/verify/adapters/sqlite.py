"""SQLite persistence for the embedded store: events with their hash chain, and the read model.

Both extend the library's SQLite recorders, so the chain links (see
`verify.domain.chain`), the read-model rows and the tracking position are
written in the transactions the library already uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteTrackingRecorder

from verify.adapters.readmodel import (
    AlsoInTransaction,
    ChangedRows,
    ReadModelQueries,
    like_pattern,
    schema,
)
from verify.adapters.victim_keys import KEY_TABLE, VictimKeyTable
from verify.domain.chain import (
    GENESIS,
    ChainRow,
    EventRow,
    RecordRow,
    links_after,
    merge_chain,
    originator_text,
)
from verify.domain.text import search_key

if TYPE_CHECKING:
    from verify.adapters.chain_walk import SQLiteChainWalk


def read_only_uri(path: Path | str) -> str:
    """A SQLite URI that opens the file read-only, whatever characters its name holds."""
    return f"file:{quote(str(Path(path).absolute()))}?mode=ro"


_KEY_TABLE_STATEMENT = (f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} ("
                        " key_id TEXT PRIMARY KEY, key BLOB NOT NULL)")


class ChainedSQLiteRecorder(VictimKeyTable, SQLiteApplicationRecorder):
    """The library's SQLite application recorder, plus a hash chain row for each event, and
    the table of victims' keys (`verify.adapters.victim_keys`)."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain ("
            " notification_id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL,"
            " originator_version INTEGER NOT NULL, topic TEXT NOT NULL, link BLOB NOT NULL)",
            _KEY_TABLE_STATEMENT,
        ]

    def _store_keys(self, keys: list[tuple[str, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(_KEY_TABLE_STATEMENT)  # a store made before victims were recorded
            c.executemany(f"INSERT INTO {KEY_TABLE} VALUES (?, ?)", keys)

    def _read_key(self, key_id: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            try:
                c.execute(f"SELECT key FROM {KEY_TABLE} WHERE key_id = ?", (key_id,))
            except sqlite3.OperationalError:  # no table: no victim recorded yet
                return None
            found = c.fetchone()
        return bytes(found[0]) if found else None

    def _destroy_key(self, key_id: str) -> bool:
        """Delete the key's row with its bytes overwritten, then empty the write-ahead log,
        which may still hold the page as it was."""
        with self.datastore.get_connection(commit=True) as conn:
            settings = conn.cursor()
            settings.execute("PRAGMA secure_delete = ON")
            with conn.transaction(commit=True) as c:
                c.execute(_KEY_TABLE_STATEMENT)
                c.execute(f"DELETE FROM {KEY_TABLE} WHERE key_id = ?", (key_id,))
            settings.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._store_keys_in(c, kwargs.pop("victim_keys", None))
        return self._insert_rows(c, [
            (originator_text(event.originator_id), event.originator_version, event.topic,
             bytes(event.state)) for event in stored_events])

    def insert_rows(self, rows: Sequence[EventRow], *,
                    victim_keys: Sequence[tuple[str, bytes]] = (),
                    then: AlsoInTransaction | None = None) -> Sequence[int]:
        """Append events already in the table's shape (an import's workers encoded them),
        with their chain links and the victims' keys, in one transaction; ``then`` writes
        more in it, given the new events' notification ids."""
        with self.datastore.transaction(commit=True) as c:
            self._store_keys_in(c, victim_keys)
            numbers = self._insert_rows(c, rows)
            if then is not None and numbers:
                then(c, numbers)
            return numbers

    def _store_keys_in(self, c: SQLiteCursor,
                       keys: Sequence[tuple[str, bytes]] | None) -> None:
        if keys:  # victims' keys sealed by an import's workers: in the events' transaction
            c.execute(_KEY_TABLE_STATEMENT)
            c.executemany(f"INSERT INTO {KEY_TABLE} VALUES (?, ?)", keys)

    def _insert_rows(self, c: SQLiteCursor, rows: Sequence[EventRow]) -> list[int]:
        """Insert the events in one statement, then their chain links in another.

        The first insert takes SQLite's write lock, held to the commit, so no
        other writer appends between reading the chain's head and writing the
        new links, and each new row's id is one more than the last (SQLite
        gives a new row the largest id plus one); the first is checked anyway.
        """
        if not rows:
            return []
        c.executemany(self.insert_events_statement, rows)
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        first = last - len(rows) + 1
        c.execute(f"SELECT originator_id, originator_version FROM {self.events_table_name}"
                  " WHERE rowid = ?", (first,))
        found = c.fetchone()
        if found is None or tuple(found) != rows[0][:2]:
            raise ProgrammingError("new events were not given consecutive notification ids")
        c.execute("SELECT link FROM event_chain ORDER BY notification_id DESC LIMIT 1")
        head = c.fetchone()
        c.executemany("INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)",
                      links_after(bytes(head[0]) if head else GENESIS, first, rows))
        return list(range(first, last + 1))

    def chain_walk(self) -> SQLiteChainWalk:
        """The audit's quick walk over this file (`verify.adapters.chain_walk`)."""
        from verify.adapters.chain_walk import SQLiteChainWalk  # it imports this module

        return SQLiteChainWalk(self.datastore.pool.db_name)

    def chain_rows(self, batch: int = 20_000) -> Iterator[ChainRow]:
        """Every stored event beside its chain row, in log order, read straight from the file."""
        with sqlite3.connect(read_only_uri(self.datastore.pool.db_name), uri=True) as db:
            events = db.execute("SELECT rowid, originator_id, originator_version, topic, state"
                                " FROM stored_events ORDER BY rowid")
            links = db.cursor().execute(
                "SELECT notification_id, originator_id, originator_version, topic, link"
                " FROM event_chain ORDER BY notification_id")
            events.arraysize = links.arraysize = batch
            yield from merge_chain(events, links)  # a cursor's rows come from C, a page at once

    def events_by_record(self, batch: int = 20_000) -> Iterator[tuple[str, int, str, bytes]]:
        """Every event, a record's in version order, read through the index loading uses."""
        with sqlite3.connect(read_only_uri(self.datastore.pool.db_name), uri=True) as db:
            rows = db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events"
                " INDEXED BY sqlite_autoindex_stored_events_1"
                " ORDER BY originator_id, originator_version")
            yield from _batched(rows, batch)  # (str, int, str, bytes): the columns' own types

    def records(self, ids: Sequence[UUID]) -> tuple[list[RecordRow], list[RecordRow]]:
        """The stored snapshots and events of many records, in one query each: loading
        incidents by the thousand (`grade --all`, exports) instead of two queries each.
        Rows keyed by the id's number (this file holds it as 32 hex digits)."""
        keys = [identity.hex for identity in ids]
        marks = ",".join("?" * len(keys))
        found: list[list[RecordRow]] = []
        with self.datastore.transaction(commit=False) as cursor:
            for table in ("stored_snapshots", self.events_table_name):
                if table == "stored_snapshots":
                    cursor.execute("SELECT 1 FROM sqlite_master WHERE name='stored_snapshots'")
                    if not cursor.fetchone():
                        found.append([])
                        continue
                cursor.execute(  # the table names are the recorder's own
                    f"SELECT originator_id, originator_version, topic, state FROM {table}"
                    f" WHERE originator_id IN ({marks}) ORDER BY originator_id,"
                    " originator_version", keys)
                found.append([(int(originator, 16), version, topic, state)
                              for originator, version, topic, state in cursor.fetchall()])
        return found[0], found[1]

    def snapshot_rows(self) -> list[tuple[str, int, str, bytes]]:
        """Every stored snapshot, to check it against the events it summarises."""
        with sqlite3.connect(read_only_uri(self.datastore.pool.db_name), uri=True) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE name='stored_snapshots'")
            if found.fetchone() is None:
                return []
            return [(str(o), int(v), str(t), bytes(s)) for o, v, t, s in db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"
                " ORDER BY originator_id, originator_version")]


def _batched(cursor: Any, size: int) -> Iterator[tuple[Any, ...]]:
    while rows := cursor.fetchmany(size):
        yield from rows


class SQLiteReadModel(ReadModelQueries, SQLiteTrackingRecorder):
    """Read-model tables in the store's own SQLite file, tracked by notification id."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                *schema(lambda name: name, sqlite=True)]

    def transaction(self) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=True)

    def write_changed(self, c: Any, changed: ChangedRows) -> None:
        """A batch's rows, through a transaction that has claimed the position."""
        if changed.cleared:  # amended incidents: their index rows are written anew
            c.executemany("DELETE FROM incident_belligerent WHERE code = ?", changed.cleared)
            c.executemany("DELETE FROM incident_search WHERE code = ?", changed.cleared)
        if changed.victims:  # a victim's names go with their bytes overwritten
            c.execute("PRAGMA secure_delete = ON")
            c.executemany("DELETE FROM incident_victim WHERE code = ? AND victim = ?",
                          changed.victims)
            c.executemany("INSERT INTO incident_victim VALUES (?, ?, ?)", changed.names)
        c.executemany("INSERT OR IGNORE INTO incident_belligerent VALUES (?, ?, ?)",
                      changed.belligerents)
        if self.text_seal.cipher is None:  # with a key, no text index: see readmodel
            c.executemany(
                "INSERT INTO incident_search (code, location, summary) VALUES (?,?,?)",
                [(row["code"], search_key(row["location"]), search_key(row["summary"] or ""))
                 for row in changed.indexed])
        c.executemany(self.upsert(), changed.values)

    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement, params in statements:
                c.execute(statement, params)

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(row) for row in c.fetchall()]

    def _select_rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            names = [column[0] for column in c.sqlite_cursor.description]
            return [dict(zip(names, row, strict=True)) for row in c.fetchall()]

    def index_hint(self, name: str) -> str:
        """Walk the listing order's own index: without statistics SQLite would rather take
        a filter's index (a country's) and sort every incident it keeps."""
        return f" INDEXED BY {name}"

    def search_match(self, text: str) -> tuple[str, list[Any]]:
        """Use the trigram index for three characters or more; scan for less.

        The codes found each way are gathered first, then looked up by code: a
        third or less of the time of testing every row against each way.
        """
        needle = search_key(text)
        if len(needle) < 3:
            return super().search_match(text)
        quoted = '"' + needle.replace('"', '""') + '"'
        like = "LIKE ? ESCAPE '\\'"
        return ("v.code IN (SELECT s.code FROM incident_search s WHERE incident_search MATCH ?"
                f" UNION SELECT c.code FROM incident_view c WHERE c.code {like}"
                f" UNION SELECT n.code FROM incident_victim n WHERE n.name_key {like})",
                [quoted, like_pattern(text), like_pattern(needle)])

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = super().dump()
        tables["incident_search"] = self._select(
            "SELECT code, location, summary FROM incident_search ORDER BY code")
        return tables

"""PostgreSQL persistence for team stores: the hash chain and the read model.

Both extend the library's PostgreSQL recorders, so events, chain links, read
models and tracking positions live in one database and one schema, and are
written in the transactions the library already uses. Imported only when a
store is ``postgresql://``; it needs the `postgres` extra (psycopg).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresTrackingRecorder,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.errors import LockNotAvailable
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg.sql import SQL, Identifier, Literal

from verify.adapters.readmodel import (
    TABLES,
    AlsoInTransaction,
    ChangedRows,
    ReadModelQueries,
    schema,
)
from verify.adapters.victim_keys import KEY_TABLE, VictimKeyTable
from verify.domain.chain import (
    GENESIS,
    ChainRow,
    EventRow,
    RecordRow,
    chain_links,
    links_after,
    merge_chain,
    originator_text,
)

CHAIN_TABLE = "verify_event_chain"

COPY_FROM_EVENTS = 100
"""Batches of this many events or more are written with ``COPY``: measured here, 600 events
took 24 ms that way and 68 ms through the library's insert, 30 events 8 and 12 ms; below it,
a command's one or few events keep the library's pipelined insert, fewer round trips to a
distant server."""


class ChainedPostgresRecorder(VictimKeyTable, PostgresApplicationRecorder):
    """The library's PostgreSQL application recorder, plus a hash chain row for each event,
    and the table of victims' keys (`verify.adapters.victim_keys`)."""

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0}.{1} ("
            "notification_id bigint PRIMARY KEY, originator_id text NOT NULL, "
            "originator_version bigint NOT NULL, topic text NOT NULL, link bytea NOT NULL)"
        ).format(Identifier(datastore.schema), Identifier(CHAIN_TABLE)))
        self.sql_create_statements.append(self._key_table_statement())

    def _keys(self) -> Any:
        return SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(KEY_TABLE))

    def _key_table_statement(self) -> Any:
        return SQL("CREATE TABLE IF NOT EXISTS {0} (key_id text PRIMARY KEY, key bytea NOT NULL)"
                   ).format(self._keys())

    def _store_keys(self, keys: list[tuple[str, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._key_table_statement())  # a store made before victims existed
            curs.executemany(SQL("INSERT INTO {0} VALUES (%s, %s)").format(self._keys()), keys)

    def _read_key(self, key_id: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT to_regclass(%s) AS found"),
                         (f"{self.datastore.schema}.{KEY_TABLE}",))
            found = curs.fetchone()
            if not found or found["found"] is None:
                return None
            curs.execute(SQL("SELECT key FROM {0} WHERE key_id = %s").format(self._keys()),
                         (key_id,))
            row = curs.fetchone()
        return bytes(row["key"]) if row else None

    def _destroy_key(self, key_id: str) -> bool:
        """Delete the key's row, then rewrite the table so no file keeps the old row."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._key_table_statement())
            curs.execute(SQL("DELETE FROM {0} WHERE key_id = %s").format(self._keys()),
                         (key_id,))
        return rewrite_table(self.datastore, self._keys())

    def _chain(self) -> Any:
        return SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(CHAIN_TABLE))

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        keys = kwargs.get("victim_keys")
        if keys:  # victims' keys sealed by an import's workers: in the events' transaction
            curs.execute(self._key_table_statement())
            curs.executemany(SQL("INSERT INTO {0} VALUES (%s, %s)").format(self._keys()), keys)
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if not stored_events:
            return notification_ids
        assert notification_ids is not None
        # The library holds an EXCLUSIVE lock on the events table for this
        # transaction, so no other writer appends between our read and write.
        curs.execute(SQL("SELECT link FROM {0} ORDER BY notification_id DESC LIMIT 1")
                     .format(self._chain()))
        found = curs.fetchone()
        previous = bytes(found["link"]) if found else GENESIS
        curs.executemany(SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s, %s)").format(self._chain()),
                         chain_links(previous, stored_events, notification_ids))
        return notification_ids

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """A command's few events through the library's pipelined insert (fewer round
        trips); a batch through ``COPY`` (`insert_rows`), which costs less from
        COPY_FROM_EVENTS events on (docs/performance.md)."""
        if len(stored_events) < COPY_FROM_EVENTS:
            inserted: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return inserted
        copied: Sequence[int] = self.insert_rows(
            [(originator_text(event.originator_id), event.originator_version, event.topic,
              bytes(event.state)) for event in stored_events],
            victim_keys=kwargs.get("victim_keys") or ())
        return copied

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_rows(self, rows: Sequence[EventRow], *,
                    victim_keys: Sequence[tuple[str, bytes]] = (),
                    then: AlsoInTransaction | None = None) -> Sequence[int]:
        """Append events already in the table's shape (an import's workers encoded them)
        with ``COPY``, their chain links too, and the victims' keys, in one transaction;
        ``then`` writes more in it, given the new events' notification ids.

        The transaction takes the library's lock on the events table first (see
        `PostgresApplicationRecorder._lock_table`), so the log's order is the
        commit order and no other writer appends between reading the chain's
        head and writing the new links; its listeners are notified as on any
        insert.
        """
        if not rows:
            return []
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            if victim_keys:
                curs.execute(self._key_table_statement())
                curs.executemany(SQL("INSERT INTO {0} VALUES (%s, %s)").format(self._keys()),
                                 victim_keys)
            self._lock_table(curs)
            self._notify_channel(curs)
            events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                           Identifier(self.events_table_name))
            curs.execute(SQL("SELECT coalesce(max(notification_id), 0) AS last FROM {0}")
                         .format(events))
            before = _one(curs)["last"]
            with curs.copy(SQL("COPY {0} (originator_id, originator_version, topic, state)"
                               " FROM STDIN (FORMAT BINARY)").format(events)) as copy:
                copy.write(_copy_events(rows))
            # COPY numbers its rows in order, and no one else can insert meanwhile.
            curs.execute(SQL("SELECT count(*) AS count, min(notification_id) AS first,"
                             " max(notification_id) AS last FROM {0}"
                             " WHERE notification_id > %s").format(events), (before,))
            found = _one(curs)
            first, last = found["first"], found["last"]
            if found["count"] != len(rows) or last - first + 1 != len(rows):
                raise ProgrammingError("new events were not given consecutive notification ids")
            curs.execute(SQL("SELECT link FROM {0} ORDER BY notification_id DESC LIMIT 1")
                         .format(self._chain()))
            head = curs.fetchone()
            with curs.copy(SQL("COPY {0} (notification_id, originator_id, originator_version,"
                               " topic, link) FROM STDIN (FORMAT BINARY)")
                           .format(self._chain())) as copy:
                copy.write(_copy_links(
                    links_after(bytes(head["link"]) if head else GENESIS, first, rows)))
            if then is not None:
                then(curs, range(first, last + 1))
        return range(first, last + 1)

    def chain_rows(self, batch: int = 20_000) -> Iterator[ChainRow]:
        """Every event beside its chain row, in log order, streamed by server-side cursors."""
        schema = Identifier(self.datastore.schema)
        events_sql = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM {0}.{1} ORDER BY notification_id"
        ).format(schema, Identifier(self.events_table_name))
        chain_sql = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, link"
            " FROM {0} ORDER BY notification_id"
        ).format(self._chain())
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(name="verify_events") as events, \
                conn.cursor(name="verify_chain") as links:
            events.execute(events_sql)
            links.execute(chain_sql)
            yield from merge_chain(
                ((r["notification_id"], originator_text(r["originator_id"]),
                  r["originator_version"], r["topic"], bytes(r["state"]))
                 for r in _stream(events, batch)),
                ((r["notification_id"], r["originator_id"], r["originator_version"],
                  r["topic"], bytes(r["link"])) for r in _stream(links, batch)),
            )

    def events_by_record(self, batch: int = 20_000) -> Iterator[tuple[str, int, str, bytes]]:
        """Every event, a record's in version order, read through the index loading uses."""
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
            " ORDER BY originator_id, originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.transaction():
            # The primary-key index, not a scan and a sort: the path loading reads.
            conn.execute("SET LOCAL enable_seqscan = off")
            conn.execute("SET LOCAL enable_sort = off")
            with conn.cursor(name="verify_by_record") as rows:
                rows.execute(statement)
                for row in _stream(rows, batch):
                    yield (originator_text(row["originator_id"]), int(row["originator_version"]),
                           str(row["topic"]), bytes(row["state"]))

    def records(self, ids: Sequence[UUID]) -> tuple[list[RecordRow], list[RecordRow]]:
        """The stored snapshots and events of many records, in one query each: loading
        incidents by the thousand (`grade --all`, exports) instead of two queries each.
        Rows keyed by the id's number."""
        snapshots = self.events_table_name.removesuffix("_events") + "_snapshots"
        found: list[list[RecordRow]] = []
        with self.datastore.transaction(commit=False) as curs:
            for table in (snapshots, self.events_table_name):
                if table == snapshots:
                    curs.execute(SQL("SELECT to_regclass(%s) AS found"),
                                 (f"{self.datastore.schema}.{table}",))
                    exists = curs.fetchone()
                    if not exists or exists["found"] is None:
                        found.append([])
                        continue
                curs.execute(SQL(
                    "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
                    " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
                ).format(Identifier(self.datastore.schema), Identifier(table)), (list(ids),))
                found.append([(row["originator_id"].int, row["originator_version"],
                               row["topic"], bytes(row["state"])) for row in curs.fetchall()])
        return found[0], found[1]

    def snapshot_rows(self) -> list[tuple[str, int, str, bytes]]:
        table = self.events_table_name.removesuffix("_events") + "_snapshots"
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT to_regclass(%s) AS found"),
                         (f"{self.datastore.schema}.{table}",))
            found = curs.fetchone()
            if not found or found["found"] is None:
                return []
            curs.execute(SQL(
                "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
                " ORDER BY originator_id, originator_version"
            ).format(Identifier(self.datastore.schema), Identifier(table)))
            return [(originator_text(r["originator_id"]), r["originator_version"], r["topic"],
                     bytes(r["state"])) for r in curs.fetchall()]


REWRITE_WAIT = "10s"
"""How long a rewrite waits for a table another session holds before giving up."""


def rewrite_table(datastore: PostgresDatastore, table: Any) -> bool:
    """Rewrite a table (``VACUUM FULL``) so rows deleted from it leave its file; False when
    another session held the table past REWRITE_WAIT (the rows then leave at the next
    vacuum). Rows that a transaction still open elsewhere may see are kept by the server
    until it ends, whatever is asked: docs/security.md says so."""
    with datastore.get_connection() as conn:
        autocommit = conn.autocommit
        conn.autocommit = True  # VACUUM runs outside a transaction
        try:
            conn.execute(SQL("SET lock_timeout = {0}").format(Literal(REWRITE_WAIT)))
            conn.execute(SQL("VACUUM FULL {0}").format(table))
        except LockNotAvailable:
            return False
        finally:
            conn.execute("RESET lock_timeout")
            conn.autocommit = autocommit
    return True


# COPY's binary format (PostgreSQL's documentation, "COPY", "Binary Format"): a
# signature, then each row as its number of fields and each field as its length and
# bytes in the column type's binary form, then a trailer. Made here in one pass, which
# costs a few times less than psycopg's writer row by row (a bulk import writes a
# million rows or more).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_EVENT_START = struct.Struct(">hi16siq").pack  # 4 fields; a uuid; a bigint
_LINK_START = struct.Struct(">hiqi").pack  # 5 fields; a bigint; the length of a text
_VERSION = struct.Struct(">iq").pack  # a bigint, with its length
_LENGTH = struct.Struct(">i").pack
_TOPICS: dict[str, bytes] = {}


def _topic_field(topic: str) -> bytes:
    field = _TOPICS.get(topic)
    if field is None:
        encoded = topic.encode()
        field = _LENGTH(len(encoded)) + encoded
        if len(_TOPICS) < 1000:
            _TOPICS[topic] = field
    return field


def _uuid_bytes(originator: str) -> bytes:
    return bytes.fromhex(originator) if len(originator) == 32 else UUID(originator).bytes


def _copy_events(rows: Iterable[EventRow]) -> bytes:
    """Events (originator_id, originator_version, topic, state) in COPY's binary format."""
    parts = [_COPY_SIGNATURE]
    append = parts.append
    for originator, version, topic, state in rows:
        append(_EVENT_START(4, 16, _uuid_bytes(originator), 8, version))
        append(_topic_field(topic))
        append(_LENGTH(len(state)))
        append(state)
    append(_COPY_TRAILER)
    return b"".join(parts)


def _copy_links(links: Iterable[tuple[int, str, int, str, bytes]]) -> bytes:
    """Chain rows (notification_id, originator_id, originator_version, topic, link) in COPY's
    binary format."""
    parts = [_COPY_SIGNATURE]
    append = parts.append
    for notification_id, originator, version, topic, link in links:
        encoded = originator.encode()
        append(_LINK_START(5, 8, notification_id, len(encoded)))
        append(encoded)
        append(_VERSION(8, version))
        append(_topic_field(topic))
        append(_LENGTH(len(link)))
        append(link)
    append(_COPY_TRAILER)
    return b"".join(parts)


def _one(cursor: Cursor[DictRow]) -> DictRow:
    """The one row an aggregate query returns."""
    row = cursor.fetchone()
    if row is None:
        raise ProgrammingError("an aggregate query returned no row")
    return row


def _stream(cursor: Any, size: int) -> Iterator[Any]:
    while rows := cursor.fetchmany(size):
        yield from rows


class PostgresReadModel(ReadModelQueries, PostgresTrackingRecorder):
    """The read-model tables in the store's PostgreSQL schema, tracked by notification id."""

    placeholder = "%s"
    like = "ILIKE"
    tables = tuple(name for name in TABLES if name != "incident_search")  # SQLite's text index
    byte_order = ' COLLATE "C"'

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # The schema name is a checked identifier (adapters.store), quoted by `table`.
        self.sql_create_statements.extend(
            SQL(statement).format()
            for statement in schema(self.table, sqlite=False))

    def table(self, name: str) -> str:
        return f'"{self.datastore.schema}".{name}'

    def forget_deleted(self) -> bool:
        """Rewrite the victims' names table so deleted names leave its file (after erasure);
        SQLite overwrites them as it deletes them (``secure_delete``)."""
        return rewrite_table(self.datastore, SQL(self.table("incident_victim")))

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement.encode(), params)
            return curs.fetchall()

    def _select_rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=dict_row) as curs:
            curs.execute(statement.encode(), params)
            return curs.fetchall()

    def tracking_table(self) -> str:
        return self.table(self.tracking_table_name)

    def transaction(self) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=True)

    def write_changed(self, curs: Any, changed: ChangedRows) -> None:
        """A batch's rows, through a transaction that has claimed the position."""
        if changed.cleared:  # amended incidents: their belligerents' rows are written anew
            curs.executemany(
                f"DELETE FROM {self.table('incident_belligerent')} WHERE code = %s".encode(),
                changed.cleared)
        if changed.victims:
            curs.executemany(
                f"DELETE FROM {self.table('incident_victim')}"
                " WHERE code = %s AND victim = %s".encode(), changed.victims)
            if changed.names:
                curs.executemany(
                    f"INSERT INTO {self.table('incident_victim')} VALUES (%s, %s, %s)"
                    .encode(), changed.names)
        if changed.belligerents:
            curs.executemany(
                f"INSERT INTO {self.table('incident_belligerent')} VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING".encode(), changed.belligerents)
        if changed.values:
            curs.executemany(self.upsert().encode(), changed.values)

    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement, params in statements:
                curs.execute(statement.encode(), params)

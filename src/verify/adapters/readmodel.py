"""The read model's tables and the questions they answer, in SQL both dialects share.

The SQLite and PostgreSQL read models (`verify.adapters.sqlite`,
`verify.adapters.postgres`) extend the library's tracking recorders, so the
position in the event log is recorded in the same transaction as the rows it
produced, and a batch is only written if the position is still the one the
batch started from (`claim_position`): each event is applied exactly once,
however many catch-ups run at once, and a catch-up interrupted at any point
resumes where the last committed batch ended. The tables are
declared once, here, for both dialects; answers come as rows named by column.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Cipher, Tracking

from verify.application.projection import PROJECTION_NAME, REINDEX, VICTIM_NAMES, IncidentRow
from verify.application.readmodels import UNGRADED, Filters, PageSpec, PositionMoved
from verify.domain.text import fold, search_key
from verify.domain.values import Grade

STATS_KEYS = {
    "month": ("v.month", "v.month"),
    "grade": ("COALESCE(v.grade, 'ungraded')", "COALESCE(v.grade, 'ungraded')"),
    "country": ("v.country_key", "MIN(v.country)"),
    "belligerent": ("b.belligerent_key", "MIN(b.belligerent)"),
}
"""Per grouping (see `application.readmodels.STATS_GROUPINGS`): what groups, and what names
the group (names group by their folded form)."""

STATS_FIGURES = (
    "COUNT(*) AS incidents, "
    + "".join(f"COUNT(CASE WHEN v.grade = '{grade.value}' THEN 1 END) AS {grade.value}, "
              for grade in Grade)
    + "COUNT(CASE WHEN v.grade IS NULL THEN 1 END) AS ungraded,"
    " CAST(COALESCE(SUM(v.killed_min), 0) AS BIGINT) AS killed_min,"
    " CAST(COALESCE(SUM(v.killed_max), 0) AS BIGINT) AS killed_max,"
    " CAST(COALESCE(SUM(v.named_killed), 0) AS BIGINT) AS named_killed,"
    " CAST(COALESCE(SUM(v.children_killed), 0) AS BIGINT) AS children_killed,"
    " CAST(COALESCE(SUM(v.women_killed), 0) AS BIGINT) AS women_killed")
"""What the statistics count of the incidents (``v``) in a group, or in all of them."""

VIEW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "text NOT NULL UNIQUE"), ("code", "text PRIMARY KEY"), ("date", "text"),
    ("month", "text"), ("country", "text"), ("country_key", "text"), ("belligerents", "text"),
    ("location", "text"), ("summary", "text"), ("search_text", "text"), ("killed_min", "bigint"),
    ("killed_max", "bigint"), ("active_sources", "integer"), ("corroborated", "integer"),
    ("strikes", "integer"), ("grade", "text"), ("proposed_grade", "text"),
    ("dispute_since", "text"), ("duplicate_of", "text"), ("regrade_due", "text"),
    ("victims", "text"), ("named_killed", "integer"), ("children_killed", "integer"),
    ("women_killed", "integer"), ("casualties_consistent", "integer"), ("state", "text"),
    ("state_since", "text"), ("waiting_for", "text"), ("reported_at", "text"),
    ("updated_at", "text"), ("version", "bigint"), ("assignee", "text"), ("tags", "text"),
    ("listing_keys", "text"),
)
"""incident_view: one row an incident, as `application.projection` keeps it, and
``listing_keys``: the folded names the listings filter by, as a JSON list of
``"country:<key>"`` and ``"belligerent:<key>"`` (see `listing_keys`)."""

LISTING_ORDERS: dict[str, tuple[str, ...]] = {
    "waiting": ("state_since", "code"), "date": ("date", "code"), "code": ("code",)}
"""The columns each listing order sorts by (see `application.readmodels.SORTS`). The code
comes last, so the order is total and a row's values say where the next page starts."""

LISTING_FILTERS = ("state", "grade", "regrade_due", "casualties_consistent", "assignee", "date",
                   "tags", "listing_keys")
"""The incident_view columns the listings filter on. On SQLite each order's index holds them
too, so a filtered page reads that index alone, in order, until it has its rows: a page costs
at most one pass over the index, whatever the filters, and never a sort."""

QUEUE_COLUMNS = ("v.code, v.state, v.waiting_for, v.state_since AS since, v.date, v.location,"
                 " v.country, v.grade, v.assignee, v.tags")
SEARCH_COLUMNS = ("v.code, v.date, v.location, v.country, v.state, v.grade, v.summary,"
                  " v.duplicate_of")

_COLUMNS = tuple(name for name, _ in VIEW_COLUMNS)
_DERIVED = ("listing_keys",)
"""Columns written from others (`row_values`), not part of the projection's row."""
SEALED_COLUMNS = ("location", "summary", "search_text")
"""The free text of incident_view, encrypted when the store has a cipher key."""
SEALED = "sealed:"
"""The prefix of an encrypted value (base64 after it)."""
TABLES = ("incident_view", "incident_belligerent", "incident_victim", "incident_search")


def listing_index(order: str) -> str:
    """The name of the index a listing in this order walks."""
    return f"incident_view_by_{order}"


def schema(table: Callable[[str], str], *, sqlite: bool) -> list[str]:
    """The statements that create the read model's tables, in either dialect.

    ``table`` names a table as the dialect needs it (schema-qualified on
    PostgreSQL). SQLite adds a full-text (trigram) index for search; PostgreSQL
    searches with ILIKE instead. Each listing order has an index in that order;
    on SQLite it holds the filtered columns too (LISTING_FILTERS). PostgreSQL's
    indexes keep to the order's columns: a key there may not pass 2,704 bytes,
    which a long list of tags would, and its planner weighs filters by the
    table's statistics instead.
    """
    listings = []
    for order, keys in LISTING_ORDERS.items():
        columns = [*keys, *(c for c in LISTING_FILTERS if c not in keys)] if sqlite else keys
        listings.append(f"CREATE INDEX IF NOT EXISTS {listing_index(order)}"
                        f" ON {table('incident_view')} ({', '.join(columns)})"
                        " WHERE duplicate_of IS NULL")
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table('incident_view')} ("
        + ", ".join(f"{name} {kind}" for name, kind in VIEW_COLUMNS) + ")",
        *listings,
        f"CREATE INDEX IF NOT EXISTS incident_view_month ON {table('incident_view')} (month)",
        # An incident's page lists its duplicates: found at once, not by reading every row.
        f"CREATE INDEX IF NOT EXISTS incident_view_duplicate ON {table('incident_view')}"
        " (duplicate_of) WHERE duplicate_of IS NOT NULL",
        f"CREATE INDEX IF NOT EXISTS incident_view_country ON {table('incident_view')}"
        " (country_key)",
        f"CREATE TABLE IF NOT EXISTS {table('incident_belligerent')} ("
        " code text NOT NULL, belligerent text NOT NULL, belligerent_key text NOT NULL,"
        " PRIMARY KEY (belligerent_key, code, belligerent))" + (" WITHOUT ROWID" if sqlite else ""),
        # Victims' names as searched: forgotten when a victim is withdrawn or erased.
        f"CREATE TABLE IF NOT EXISTS {table('incident_victim')} ("
        " code text NOT NULL, victim text NOT NULL, name_key text NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS incident_victim_code ON {table('incident_victim')}"
        " (code, victim)",
    ]
    if sqlite:
        statements.append("CREATE VIRTUAL TABLE IF NOT EXISTS incident_search USING fts5("
                          " code, location, summary, tokenize='trigram')")
    return statements


@dataclass(frozen=True)
class ChangedRows:
    """What one batch of the projection writes (see `ReadModelQueries.changed_rows`)."""

    values: list[tuple[Any, ...]]
    indexed: list[IncidentRow]
    belligerents: list[tuple[Any, ...]]
    cleared: list[tuple[str]]
    victims: list[tuple[str, str]]
    """(code, victim): the victims whose indexed names are deleted first."""
    names: list[tuple[str, str, str | None]]
    """(code, victim, name as searched) to insert."""


def changed_rows(rows: Iterable[IncidentRow], new_codes: set[str], ids: dict[str, str],
                 seal: TextSeal) -> ChangedRows:
    """What a batch writes: view rows, the incidents to index (new or amended), their
    belligerents' rows, the amended incidents whose index rows go first, and the
    victims whose names are indexed anew.

    In one global order (by code): two processes writing overlapping
    batches then lock rows in the same order and cannot deadlock.
    """
    ordered = sorted(rows, key=lambda row: str(row["code"]))
    indexed = [row for row in ordered if row["code"] in new_codes or row.get(REINDEX)]
    cleared = [(row["code"],) for row in indexed if row["code"] not in new_codes]
    belligerents = [(row["code"], name, fold(name)) for row in indexed
                    for name in row["belligerents"]]
    victims = [(row["code"], victim) for row in ordered
               for victim in sorted(row.get(VICTIM_NAMES, {}))]
    names = [(row["code"], victim, seal.seal(name))
             for row in ordered for victim, found in sorted(row.get(VICTIM_NAMES, {}).items())
             for name in found]
    return ChangedRows(
        [row_values(row, ids[row["code"]], seal) for row in ordered], indexed,
        belligerents, cleared, victims, names)


class TextSeal:
    """Encrypts the read model's free text with the store's cipher, if it has one."""

    def __init__(self, cipher: Cipher | None) -> None:
        self.cipher = cipher

    def seal(self, text: str | None) -> str | None:
        if text is None or self.cipher is None:
            return text
        return SEALED + base64.b64encode(self.cipher.encrypt(text.encode())).decode()

    def open(self, stored: str | None) -> str | None:
        if stored is None or self.cipher is None or not stored.startswith(SEALED):
            return stored
        return self.cipher.decrypt(base64.b64decode(stored[len(SEALED):])).decode()

    def open_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its sealed columns decrypted (in place)."""
        if self.cipher is not None:
            for column in SEALED_COLUMNS:
                if column in row:
                    row[column] = self.open(row[column])
        return row


NO_SEAL = TextSeal(None)


def row_values(row: IncidentRow, incident_id: str, seal: TextSeal = NO_SEAL) -> tuple[Any, ...]:
    """A projection row as the incident_view columns store it."""
    data = {**row, "id": incident_id,
            "belligerents": json.dumps(row["belligerents"], ensure_ascii=False),
            "victims": json.dumps(row["victims"]),
            "tags": json.dumps(row["tags"], ensure_ascii=False),
            "listing_keys": listing_keys(row),
            "corroborated": int(row["corroborated"]),
            "casualties_consistent": int(row["casualties_consistent"])}
    for column in SEALED_COLUMNS:
        data[column] = seal.seal(data[column])
    return tuple(data[column] for column in _COLUMNS)


def listing_keys(row: IncidentRow) -> str:
    """The folded names a listing filters an incident by, as a JSON list.

    The country is in its own column too (``country_key``, which statistics group
    by and its own index serves); this copy sits beside the belligerents (kept
    one a row in incident_belligerent), so each listing order's index holds every
    name filtered on in one column (see LISTING_FILTERS).
    """
    keys = [f"country:{row['country_key']}",
            *(f"belligerent:{fold(name)}" for name in row["belligerents"])]
    return json.dumps(keys, ensure_ascii=False)


def _tags_read(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = json.loads(row["tags"]) if row.get("tags") else []
    return row


def like_pattern(text: str) -> str:
    """A LIKE pattern finding the text anywhere, its wildcards escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def row_from(values: tuple[Any, ...], seal: TextSeal = NO_SEAL) -> IncidentRow:
    """An incident_view row back as the projection's row."""
    row = seal.open_row(dict(zip(_COLUMNS, values, strict=True)))
    for column in _DERIVED:
        del row[column]
    row["belligerents"] = json.loads(row["belligerents"])
    row["victims"] = json.loads(row["victims"])
    row["tags"] = json.loads(row["tags"])
    row["corroborated"] = bool(row["corroborated"])
    row["casualties_consistent"] = bool(row["casualties_consistent"])
    return row


if TYPE_CHECKING:
    class _TrackingRecorder:
        """What the library's tracking recorder (each dialect's class extends one) gives."""

        def create_table(self) -> None: ...

        def max_tracking_id(self, application_name: str) -> int | None: ...
else:
    class _TrackingRecorder:
        """The library's tracking recorder comes after this class in each dialect's bases."""


AlsoInTransaction = Callable[[Any, Sequence[int]], None]
"""More that a bulk insert writes in its events' own transaction (the read model's rows for
them), given the transaction's cursor and the new events' notification ids."""


class ReadModelQueries(_TrackingRecorder, ABC):
    """The questions the read model answers, and the writes they share, in either dialect."""

    placeholder = "?"
    like = "LIKE"
    byte_order = ""
    text_seal: TextSeal = NO_SEAL
    """Set by the application when the store has a cipher key (see `encrypt_text_with`)."""

    def encrypt_text_with(self, cipher: Cipher | None) -> None:
        """Keep the tables' free text encrypted with this cipher (None: in clear)."""
        self.text_seal = TextSeal(cipher)

    def table(self, name: str) -> str:
        return name

    tables: tuple[str, ...] = TABLES
    """The read model's tables in this dialect."""

    @abstractmethod
    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run statements (text and parameters) in one transaction of their own."""

    def create_table(self) -> None:
        """Create the tables; tables of an earlier shape are made anew (see replace_tables)."""
        if self.is_current():
            super().create_table()
        else:
            self.replace_tables()

    def replace_tables(self) -> None:
        """Drop the tables of an earlier shape and make them anew, empty (rebuilt on catch-up)."""
        self._write([(f"DROP TABLE IF EXISTS {self.table(name)}", ()) for name in self.tables])
        super().create_table()
        self._write([self._forget_position()])

    def reset(self) -> None:
        """Empty every read-model table and forget the position (for a rebuild)."""
        self._write([*((f"DELETE FROM {self.table(name)}", ()) for name in self.tables),
                     self._forget_position()])

    def _forget_position(self) -> tuple[str, Sequence[Any]]:
        return (f"DELETE FROM {self.tracking_table()} WHERE application_name={self.placeholder}",
                (PROJECTION_NAME,))

    @abstractmethod
    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on the store's own connection."""

    def position(self) -> int:
        """The last notification id applied (0 before the first)."""
        return self.max_tracking_id(PROJECTION_NAME) or 0

    def load_row(self, incident_id: str) -> IncidentRow | None:
        found = self._select(
            f"SELECT {', '.join(_COLUMNS)} FROM {self.table('incident_view')}"
            f" WHERE id={self.placeholder}", (incident_id,))
        return row_from(found[0], self.text_seal) if found else None

    def tracking_table(self) -> str:
        """The library's tracking table, as the dialect names it."""
        return "tracking"

    def claim_position(self, cursor: Any, after: int, to: int) -> None:
        """Move the position from ``after`` to ``to`` first in a batch's transaction, or refuse.

        A compare-and-set: if another catch-up has moved the position since
        this batch read it (and so wrote rows this batch did not see), the
        update matches no row and `PositionMoved` is raised; the caller's
        transaction then rolls back and the batch is read again. Being the
        first write, it also takes the lock that orders all catch-ups' writes.
        """
        p = self.placeholder
        table = self.tracking_table()
        if after == 0:  # no row yet (a new store, or just reset), or a row at 0
            statement = (f"INSERT INTO {table} VALUES ({p}, {p}) ON CONFLICT (application_name)"
                         f" DO UPDATE SET notification_id = {p}"
                         f" WHERE {table}.notification_id = 0 RETURNING notification_id")
            params: tuple[Any, ...] = (PROJECTION_NAME, to, to)
        else:
            statement = (f"UPDATE {table} SET notification_id = {p}"
                         f" WHERE application_name = {p} AND notification_id = {p}"
                         " RETURNING notification_id")
            params = (to, PROJECTION_NAME, after)
        cursor.execute(statement if p == "?" else statement.encode(), params)
        if cursor.fetchone() is None:
            raise PositionMoved(f"the read model moved past {after} meanwhile")

    def save(self, rows: Iterable[IncidentRow], new_codes: set[str],
             ids: dict[str, str], tracking: Tracking, *, after: int) -> None:
        """Write changed rows and the new position in one transaction, if still at ``after``."""
        changed = self.changed_rows(rows, new_codes, ids)
        with self.transaction() as cursor:
            self.claim_position(cursor, after, tracking.notification_id)
            self.write_changed(cursor, changed)

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction on the store's own connection, committed at its end; its cursor."""

    def save_with(self, cursor: Any, changed: ChangedRows, tracking: Tracking, *,
                  after: int) -> bool:
        """Write a batch's rows (`changed_rows`, made where its events were) and the new
        position through a transaction the caller holds (an import's, with those events),
        if the position is still ``after``; else write nothing and say so (False): the
        catch-up applies the events later."""
        try:
            self.claim_position(cursor, after, tracking.notification_id)
        except PositionMoved:  # the claim matched no row: nothing was written
            return False
        self.write_changed(cursor, changed)
        return True

    @abstractmethod
    def write_changed(self, cursor: Any, changed: ChangedRows) -> None:
        """A batch's rows, through a transaction that has claimed the position."""

    def upsert(self) -> str:
        """The statement that writes an incident_view row, new or changed."""
        return (
            f"INSERT INTO {self.table('incident_view')} ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join(self.placeholder for _ in _COLUMNS)}) "
            "ON CONFLICT (code) DO UPDATE SET "
            + ", ".join(f"{column}=excluded.{column}" for column in _COLUMNS if column != "code")
        )

    def changed_rows(self, rows: Iterable[IncidentRow], new_codes: set[str], ids: dict[str, str]
                     ) -> ChangedRows:
        """What a batch writes (`changed_rows`), sealed with this read model's cipher."""
        return changed_rows(rows, new_codes, ids, self.text_seal)

    @abstractmethod
    def _select_rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only query; each row by column name."""

    def index_hint(self, name: str) -> str:
        """What makes a query walk the named index (SQLite's INDEXED BY); nothing where the
        planner is left to choose."""
        return ""

    def _filter_terms(self, filters: Filters) -> tuple[list[str], list[Any]]:
        """The WHERE terms (on incident_view as ``v``) that keep what the filters ask for, and
        their parameters in order."""
        p = self.placeholder
        like = f"LIKE {p} ESCAPE '\\'"  # tags and keys are kept folded: no ILIKE
        terms: list[str] = []
        params: list[Any] = []
        if filters.states:
            term = f"v.state IN ({', '.join(p for _ in filters.states)})"
            if filters.regrade_due:  # and the incidents whose casualty figures need a look
                term = f"({term} OR v.regrade_due IS NOT NULL OR v.casualties_consistent = 0)"
            terms.append(term)
            params.extend(filters.states)
        if filters.grade == UNGRADED:
            terms.append("v.grade IS NULL")
        elif filters.grade is not None:
            terms.append(f"v.grade = {p}")
            params.append(filters.grade)
        for kind, names in (("country", filters.countries),
                            ("belligerent", filters.belligerents)):
            if names:  # any of the spellings, each quoted whole in the JSON list
                terms.append("(" + " OR ".join(f"v.listing_keys {like}" for _ in names) + ")")
                params.extend(like_pattern(json.dumps(f"{kind}:{name}", ensure_ascii=False))
                              for name in names)
        if filters.assignee is not None:
            terms.append(f"v.assignee = {p}")
            params.append(filters.assignee)
        if filters.tag is not None:  # tags are kept as a JSON list: each one quoted
            terms.append(f"v.tags {like}")
            params.append(like_pattern(json.dumps(filters.tag, ensure_ascii=False)))
        if filters.date_from is not None:
            terms.append(f"v.date >= {p}")
            params.append(filters.date_from)
        if filters.date_to is not None:
            terms.append(f"v.date <= {p}")
            params.append(filters.date_to)
        return terms, params

    def _keyset(self, keys: Sequence[str], page: PageSpec) -> tuple[list[str], list[Any], str]:
        """The condition that starts a page after (or ends it before) a row's key, its
        parameters, and the ORDER BY: a range on the order's index, never an OFFSET."""
        backwards = page.before is not None
        key = page.before if backwards else page.after
        terms: list[str] = []
        params: list[Any] = []
        if key is not None:
            terms.append(f"({', '.join(keys)}) {'<' if backwards else '>'}"
                         f" ({', '.join(self.placeholder for _ in keys)})")
            params.extend(key)
        return terms, params, ", ".join(column + (" DESC" if backwards else "")
                                         for column in keys)

    def listing(self, filters: Filters, page: PageSpec) -> list[dict[str, Any]]:
        """A page of the incidents the filters keep, duplicates left out, in the page's order
        (reversed when it ends before a key): the queue's columns."""
        p = self.placeholder
        where, params = self._filter_terms(filters)
        if page.until is not None:  # a walk leaves out what started waiting after it began
            where.append(f"v.state_since <= {p}")
            params.append(page.until)
        keyset, key_params, order = self._keyset(
            [f"v.{column}" for column in LISTING_ORDERS[page.order]], page)
        statement = (
            f"SELECT {QUEUE_COLUMNS} FROM {self.table('incident_view')} v"
            f"{self.index_hint(listing_index(page.order))}"
            f" WHERE {' AND '.join(['v.duplicate_of IS NULL', *where, *keyset])}"
            f" ORDER BY {order}")
        params.extend(key_params)
        if page.limit is not None:
            statement += f" LIMIT {p}"
            params.append(page.limit)
        return [_tags_read(self.text_seal.open_row(row))
                for row in self._select_rows(statement, params)]

    def latest_wait(self) -> str | None:
        """When the last incident to start waiting started (duplicates left out)."""
        found = self._select(
            f"SELECT v.state_since FROM {self.table('incident_view')} v"
            f"{self.index_hint(listing_index('waiting'))} WHERE v.duplicate_of IS NULL"
            " ORDER BY v.state_since DESC, v.code DESC LIMIT 1")
        return str(found[0][0]) if found else None

    def stats(self, *, by: str, date_from: str | None,
              date_to: str | None) -> list[dict[str, Any]]:
        """Per group: incidents, each grade's count, ungraded, and the casualty sums."""
        key, label = STATS_KEYS[by]
        where, params = self._stats_terms(date_from, date_to)
        join = ""
        if by == "belligerent":
            table = self.table("incident_belligerent")
            join = f"JOIN {table} b ON b.code = v.code"
            # An incident an earlier version recorded with two spellings of one belligerent
            # counts once in its group: by its first spelling only (a primary-key lookup).
            where += (f" AND NOT EXISTS (SELECT 1 FROM {table} o WHERE o.belligerent_key ="
                      " b.belligerent_key AND o.code = b.code AND o.belligerent < b.belligerent)")
        statement = (
            f"SELECT {label} AS key, {STATS_FIGURES}"
            f" FROM {self.table('incident_view')} v {join} WHERE {where}"
            f" GROUP BY {key} ORDER BY {label}{self.byte_order}"
        )
        return self._select_rows(statement, params)

    def stats_total(self, *, date_from: str | None, date_to: str | None) -> dict[str, Any]:
        """The same figures over every incident at once, each counted once (groups of
        belligerents overlap: their sum is no total)."""
        where, params = self._stats_terms(date_from, date_to)
        return self._select_rows(
            f"SELECT {STATS_FIGURES} FROM {self.table('incident_view')} v WHERE {where}",
            params)[0]

    def _stats_terms(self, date_from: str | None,
                     date_to: str | None) -> tuple[str, list[Any]]:
        """The WHERE condition (on incident_view as ``v``) of the statistics, and its
        parameters: duplicates left out, the incident's date within the range."""
        p = self.placeholder
        where = ["v.duplicate_of IS NULL"]
        params: list[Any] = []
        if date_from:
            where.append(f"v.date >= {p}")
            params.append(date_from)
        if date_to:
            where.append(f"v.date <= {p}")
            params.append(date_to)
        return " AND ".join(where), params

    def search_match(self, text: str) -> tuple[str, list[Any]]:
        """The WHERE term (on incident_view as ``v``) finding the text, and its parameters."""
        p = self.placeholder
        like = f"{self.like} {p} ESCAPE '\\'"
        key = like_pattern(search_key(text))
        return (f"(v.code {like} OR v.search_text {like}"
                f" OR v.code IN (SELECT n.code FROM {self.table('incident_victim')} n"
                f" WHERE n.name_key {like}))", [like_pattern(text), key, key])

    def search(self, text: str, filters: Filters, page: PageSpec) -> list[dict[str, Any]]:
        """A page of the incidents whose code contains the text, or whose place, summary or
        victims' names contain it as searched (domain.text.search_key), in any script, that
        the filters keep: the incident with that very code first, then in the page's order.

        Each row has ``later``: false for the incident with that very code (the first key of
        the order). Duplicates are found too.
        """
        p = self.placeholder
        sealed = self.text_seal.cipher is not None
        where, params = self._filter_terms(filters)
        if not sealed:  # encrypted text is compared here instead, see _sealed_matches
            match, match_params = self.search_match(text)
            where.insert(0, match)
            params[:0] = match_params
        found = (f"SELECT {SEARCH_COLUMNS}, v.code <> upper({p}) AS later"
                 f"{', v.search_text' if sealed else ''} FROM {self.table('incident_view')} v"
                 + (f" WHERE {' AND '.join(where)}" if where else ""))
        keyset, key_params, order = self._keyset(
            ["later", *LISTING_ORDERS[page.order]], page)
        statement = (f"SELECT * FROM ({found}) found"
                     + (f" WHERE {' AND '.join(keyset)}" if keyset else "") + f" ORDER BY {order}")
        params = [text, *params, *key_params]
        if page.limit is not None and not sealed:
            statement += f" LIMIT {p}"
            params.append(page.limit)
        rows = self._select_rows(statement, params)
        for row in rows:
            row["later"] = bool(row["later"])
        return self._sealed_matches(text, rows, page.limit) if sealed else rows

    def _sealed_matches(self, text: str, rows: list[dict[str, Any]], limit: int | None
                        ) -> list[dict[str, Any]]:
        """The rows (in order) whose encrypted text holds the text, each decrypted and
        compared here: every row is read (slower)."""
        code, needle = text.casefold(), search_key(text)
        named = {row["code"] for row in self._select_rows(
            f"SELECT n.code, n.name_key FROM {self.table('incident_victim')} n")
            if needle in (self.text_seal.open(row["name_key"]) or "")}
        found = []
        for row in rows:
            searched = self.text_seal.open_row(row).pop("search_text") or ""
            if code in row["code"].casefold() or needle in searched or row["code"] in named:
                found.append(row)
                if limit is not None and len(found) == limit:
                    break
        return found

    def spellings(self, by: str) -> list[dict[str, Any]]:
        """Each name's folded key, spelling, incidents and first report, for belligerent or
        country."""
        if by == "belligerent":
            statement = (
                "SELECT b.belligerent_key AS key, b.belligerent AS spelling,"
                " COUNT(*) AS incidents, MIN(v.reported_at) AS first"
                f" FROM {self.table('incident_belligerent')} b"
                f" JOIN {self.table('incident_view')} v ON v.code = b.code"
                " WHERE v.duplicate_of IS NULL GROUP BY b.belligerent_key, b.belligerent")
        else:
            statement = (
                "SELECT country_key AS key, country AS spelling, COUNT(*) AS incidents,"
                f" MIN(reported_at) AS first FROM {self.table('incident_view')}"
                " WHERE duplicate_of IS NULL GROUP BY country_key, country")
        return self._select_rows(statement)

    def is_current(self) -> bool:
        """Whether the tables have this version's shape (a store made earlier may not)."""
        try:
            self._select(
                f"SELECT v.country_key, v.regrade_due, v.casualties_consistent, v.search_text,"
                f" v.assignee, v.tags, v.listing_keys,"
                f" b.belligerent_key, n.name_key FROM {self.table('incident_view')} v"
                f" JOIN {self.table('incident_victim')} n ON n.code = v.code"
                f" JOIN {self.table('incident_belligerent')} b ON b.code = v.code LIMIT 0")
        except Exception:  # any failure (a missing column, say) means: not this shape
            return False
        return True

    def settled_codes(self) -> set[str]:
        """Incidents that need no strike matching: a strike is recorded, or a duplicate."""
        rows = self._select(f"SELECT code FROM {self.table('incident_view')}"
                            " WHERE strikes > 0 OR duplicate_of IS NOT NULL")
        return {code for (code,) in rows}

    def forget_deleted(self) -> bool:
        """Leave no copy of deleted names in the tables' files (see each dialect); False when
        that has to wait (another session held the table)."""
        return True

    def duplicates_of(self, code: str) -> list[str]:
        """The codes of the incidents marked duplicates of this one, in order."""
        rows = self._select(f"SELECT code FROM {self.table('incident_view')}"
                            f" WHERE duplicate_of = {self.placeholder} ORDER BY code", (code,))
        return [found for (found,) in rows]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row, in a stable order (to compare a rebuild with the original)."""
        view = ", ".join(_COLUMNS)
        rows = self._select(f"SELECT {view} FROM {self.table('incident_view')} ORDER BY code")
        if self.text_seal.cipher is not None:
            rows = [tuple(self.text_seal.open_row(dict(zip(_COLUMNS, row, strict=True)))
                          .values()) for row in rows]
        return {
            "incident_view": rows,
            "incident_belligerent": self._select(
                f"SELECT code, belligerent, belligerent_key"
                f" FROM {self.table('incident_belligerent')} ORDER BY code, belligerent"),
        }

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Cipher

from verify.application.projection import PROJECTION_NAME, REINDEX, VICTIM_NAMES, IncidentRow
from verify.application.readmodels import PositionMoved
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
)
"""incident_view: one row an incident, as `application.projection` keeps it."""

_COLUMNS = tuple(name for name, _ in VIEW_COLUMNS)
SEALED_COLUMNS = ("location", "summary", "search_text")
"""The free text of incident_view, encrypted when the store has a cipher key."""
SEALED = "sealed:"
"""The prefix of an encrypted value (base64 after it)."""
TABLES = ("incident_view", "incident_belligerent", "incident_victim", "incident_search")


def schema(table: Callable[[str], str], *, sqlite: bool) -> list[str]:
    """The statements that create the read model's tables, in either dialect.

    ``table`` names a table as the dialect needs it (schema-qualified on
    PostgreSQL). SQLite adds a full-text (trigram) index for search; PostgreSQL
    searches with ILIKE instead.
    """
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table('incident_view')} ("
        + ", ".join(f"{name} {kind}" for name, kind in VIEW_COLUMNS) + ")",
        # The queue reads this index in order: no sort, whatever the states asked for.
        f"CREATE INDEX IF NOT EXISTS incident_view_waiting ON {table('incident_view')}"
        " (state_since, code) WHERE duplicate_of IS NULL",
        f"CREATE INDEX IF NOT EXISTS incident_view_month ON {table('incident_view')} (month)",
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
            "corroborated": int(row["corroborated"]),
            "casualties_consistent": int(row["casualties_consistent"])}
    for column in SEALED_COLUMNS:
        data[column] = seal.seal(data[column])
    return tuple(data[column] for column in _COLUMNS)


def _tags_read(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = json.loads(row["tags"]) if row.get("tags") else []
    return row


def like_pattern(text: str) -> str:
    """A LIKE pattern finding the text anywhere, its wildcards escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def row_from(values: tuple[Any, ...], seal: TextSeal = NO_SEAL) -> IncidentRow:
    """An incident_view row back as the projection's row."""
    row = seal.open_row(dict(zip(_COLUMNS, values, strict=True)))
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
        names = [(row["code"], victim, self.text_seal.seal(name))
                 for row in ordered for victim, found in sorted(row.get(VICTIM_NAMES, {}).items())
                 for name in found]
        return ChangedRows(
            [row_values(row, ids[row["code"]], self.text_seal) for row in ordered], indexed,
            belligerents, cleared, victims, names)

    @abstractmethod
    def _select_rows(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only query; each row by column name."""

    def queue(self, *, states: Sequence[str], belligerents: Sequence[str] | None,
              countries: Sequence[str] | None, limit: int | None,
              regrade_due: bool = False, assignee: str | None = None,
              tag: str | None = None) -> list[dict[str, Any]]:
        """Incidents waiting in the given states (and, with ``regrade_due``, graded ones
        waiting for re-grading), longest waiting first.

        ``belligerents`` and ``countries`` are folded spellings (domain.text.fold)
        of the one party or country asked for: its name and its aliases.
        ``assignee`` and ``tag`` keep those assigned to that person, or carrying that tag.
        """
        p = self.placeholder
        waiting = f"v.state IN ({', '.join(p for _ in states)})"
        if regrade_due:  # and the incidents whose casualty figures need a look
            waiting = (f"({waiting} OR v.regrade_due IS NOT NULL"
                       " OR v.casualties_consistent = 0)")
        where = [waiting, "v.duplicate_of IS NULL"]
        params: list[Any] = list(states)
        join = ""
        if belligerents:
            join = (f"JOIN (SELECT DISTINCT code FROM {self.table('incident_belligerent')}"
                    f" WHERE belligerent_key IN ({', '.join(p for _ in belligerents)})) b"
                    " ON b.code = v.code")
            params[:0] = list(belligerents)
        if countries:
            where.append(f"v.country_key IN ({', '.join(p for _ in countries)})")
            params.extend(countries)
        if assignee is not None:
            where.append(f"v.assignee = {p}")
            params.append(assignee)
        if tag is not None:  # tags are kept as a JSON list: each one quoted
            where.append(f"v.tags {self.like} {p} ESCAPE '\\'")
            params.append(like_pattern(json.dumps(tag, ensure_ascii=False)))
        statement = (
            f"SELECT v.code, v.state, v.waiting_for, v.state_since AS since, v.date, v.location,"
            f" v.country, v.grade, v.assignee, v.tags FROM {self.table('incident_view')} v {join}"
            f" WHERE {' AND '.join(where)} ORDER BY v.state_since, v.code"
        )
        if limit is not None:
            statement += f" LIMIT {p}"
            params.append(limit)
        return [_tags_read(self.text_seal.open_row(row))
                for row in self._select_rows(statement, params)]

    def stats(self, *, by: str, date_from: str | None,
              date_to: str | None) -> list[dict[str, Any]]:
        """Per group: incidents, each grade's count, ungraded, and the casualty sums."""
        key, label = STATS_KEYS[by]
        p = self.placeholder
        join = (f"JOIN {self.table('incident_belligerent')} b ON b.code = v.code"
                if by == "belligerent" else "")
        where = ["v.duplicate_of IS NULL"]
        params: list[Any] = []
        if date_from:
            where.append(f"v.date >= {p}")
            params.append(date_from)
        if date_to:
            where.append(f"v.date <= {p}")
            params.append(date_to)
        grade_columns = ", ".join(
            f"COUNT(CASE WHEN v.grade = '{grade.value}' THEN 1 END) AS {grade.value}"
            for grade in Grade
        )
        statement = (
            f"SELECT {label} AS key, COUNT(*) AS incidents, {grade_columns},"
            " COUNT(CASE WHEN v.grade IS NULL THEN 1 END) AS ungraded,"
            " CAST(COALESCE(SUM(v.killed_min), 0) AS BIGINT) AS killed_min,"
            " CAST(COALESCE(SUM(v.killed_max), 0) AS BIGINT) AS killed_max,"
            " CAST(COALESCE(SUM(v.named_killed), 0) AS BIGINT) AS named_killed,"
            " CAST(COALESCE(SUM(v.children_killed), 0) AS BIGINT) AS children_killed,"
            " CAST(COALESCE(SUM(v.women_killed), 0) AS BIGINT) AS women_killed"
            f" FROM {self.table('incident_view')} v {join} WHERE {' AND '.join(where)}"
            f" GROUP BY {key} ORDER BY {label}{self.byte_order}"
        )
        return self._select_rows(statement, params)

    def search(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Incidents whose code contains the text, or whose place, summary or victims' names
        contain it as searched (domain.text.search_key), in any script."""
        if self.text_seal.cipher is not None:
            return self.search_sealed(text, limit)
        p = self.placeholder
        code = like_pattern(text)
        key = like_pattern(search_key(text))
        like = f"{self.like} {p} ESCAPE '\\'"
        statement = (
            "SELECT v.code, v.date, v.location, v.country, v.state, v.grade, v.summary"
            f" FROM {self.table('incident_view')} v"
            f" WHERE v.code {like} OR v.search_text {like}"
            f" OR v.code IN (SELECT n.code FROM {self.table('incident_victim')} n"
            f" WHERE n.name_key {like})"
            f" ORDER BY v.code <> upper({p}), v.date, v.code LIMIT {p}"
        )
        return self._select_rows(statement, (code, key, key, text, limit))

    def search_sealed(self, text: str, limit: int) -> list[dict[str, Any]]:
        """Search encrypted text: every row read and decrypted, compared here (slower)."""
        code, needle = text.casefold(), search_key(text)
        named = {row["code"] for row in self._select_rows(
            f"SELECT n.code, n.name_key FROM {self.table('incident_victim')} n")
            if needle in (self.text_seal.open(row["name_key"]) or "")}
        found = []
        for row in self._select_rows(
                "SELECT v.code, v.date, v.location, v.country, v.state, v.grade, v.summary,"
                f" v.search_text FROM {self.table('incident_view')} v"):
            self.text_seal.open_row(row)
            if code in row["code"].casefold() or needle in (row.pop("search_text") or "") \
                    or row["code"] in named:
                row.pop("search_text", None)
                found.append(row)
        found.sort(key=lambda row: (row["code"] != text.upper(), row["date"] or "",
                                    row["code"].encode()))
        return found[:limit]

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
                f" v.assignee, v.tags,"
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

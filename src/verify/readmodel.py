"""The read model in SQLite: tables for the queue, statistics and search, beside the events.

It extends the library's SQLite tracking recorder, so the position in the
event log is recorded in the same transaction as the rows it produced: each
event is applied exactly once, and a catch-up interrupted at any point resumes
where the last committed batch ended.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from verify.domain.text import fold
from verify.domain.values import Grade
from verify.projection import PROJECTION_NAME, IncidentRow

STATS_KEYS = {
    "month": ("v.month", "v.month"),
    "grade": ("COALESCE(v.grade, 'ungraded')", "COALESCE(v.grade, 'ungraded')"),
    "country": ("v.country_key", "MIN(v.country)"),
    "belligerent": ("b.belligerent_key", "MIN(b.belligerent)"),
}
"""Per grouping: what groups (names by their folded form) and what names the group."""

_COLUMNS = (
    "id", "code", "date", "month", "country", "country_key", "belligerents", "location",
    "summary",
    "killed_min", "killed_max", "active_sources", "corroborated", "strikes", "grade",
    "proposed_grade", "dispute_since", "duplicate_of", "state", "state_since", "waiting_for",
    "reported_at", "updated_at", "version",
)
_UPSERT = (
    f"INSERT INTO incident_view ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (code) DO UPDATE SET "
    + ", ".join(f"{column}=excluded.{column}" for column in _COLUMNS if column != "code")
)
TABLES = ("incident_view", "incident_belligerent", "incident_search")


def row_values(row: IncidentRow, incident_id: str) -> tuple[Any, ...]:
    """A projection row as the incident_view columns store it."""
    data = {**row, "id": incident_id,
            "belligerents": json.dumps(row["belligerents"], ensure_ascii=False),
            "corroborated": int(row["corroborated"])}
    return tuple(data[column] for column in _COLUMNS)


def row_from(values: tuple[Any, ...]) -> IncidentRow:
    """An incident_view row back as the projection's row."""
    row = dict(zip(_COLUMNS, values, strict=True))
    row["belligerents"] = json.loads(row["belligerents"])
    row["corroborated"] = bool(row["corroborated"])
    return row


class ReadModelQueries(ABC):
    """The questions the read model answers, in SQL that SQLite and PostgreSQL share."""

    placeholder = "?"
    like = "LIKE"
    byte_order = ""

    def table(self, name: str) -> str:
        return name

    @abstractmethod
    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on the store's own connection."""

    def queue(self, *, states: Sequence[str], belligerents: Sequence[str] | None,
              countries: Sequence[str] | None, limit: int | None) -> list[tuple[Any, ...]]:
        """Incidents waiting in the given states, longest waiting first.

        ``belligerents`` and ``countries`` are folded spellings (domain.text.fold)
        of the one party or country asked for: its name and its aliases.
        """
        p = self.placeholder
        where = [f"v.state IN ({', '.join(p for _ in states)})", "v.duplicate_of IS NULL"]
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
        statement = (
            f"SELECT v.code, v.state, v.waiting_for, v.state_since, v.date, v.location,"
            f" v.country FROM {self.table('incident_view')} v {join}"
            f" WHERE {' AND '.join(where)} ORDER BY v.state_since, v.code"
        )
        if limit is not None:
            statement += f" LIMIT {p}"
            params.append(limit)
        return self._select(statement, params)

    def stats(self, *, by: str, date_from: str | None,
              date_to: str | None) -> list[tuple[Any, ...]]:
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
            f"COUNT(CASE WHEN v.grade = '{grade.value}' THEN 1 END)" for grade in Grade
        )
        statement = (
            f"SELECT {label} AS label, COUNT(*), {grade_columns},"
            " COUNT(CASE WHEN v.grade IS NULL THEN 1 END),"
            " CAST(COALESCE(SUM(v.killed_min), 0) AS BIGINT),"
            " CAST(COALESCE(SUM(v.killed_max), 0) AS BIGINT)"
            f" FROM {self.table('incident_view')} v {join} WHERE {' AND '.join(where)}"
            f" GROUP BY {key} ORDER BY {label}{self.byte_order}"
        )
        return self._select(statement, params)

    def search(self, text: str, limit: int) -> list[tuple[Any, ...]]:
        """Incidents whose code, place or summary contains the text, in any script."""
        p = self.placeholder
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = f"{self.like} {p} ESCAPE '\\'"
        statement = (
            "SELECT v.code, v.date, v.location, v.country, v.state, v.grade, v.summary"
            f" FROM {self.table('incident_view')} v"
            f" WHERE v.code {like} OR v.location {like} OR COALESCE(v.summary, '') {like}"
            f" ORDER BY v.code <> upper({p}), v.date, v.code LIMIT {p}"
        )
        return self._select(statement, (pattern, pattern, pattern, text, limit))

    def spellings(self, by: str) -> list[tuple[Any, ...]]:
        """(folded key, spelling, incidents, first reported) of each name, by belligerent or
        country."""
        if by == "belligerent":
            statement = (f"SELECT b.belligerent_key, b.belligerent, COUNT(*), MIN(v.reported_at)"
                         f" FROM {self.table('incident_belligerent')} b"
                         f" JOIN {self.table('incident_view')} v ON v.code = b.code"
                         " WHERE v.duplicate_of IS NULL GROUP BY b.belligerent_key, b.belligerent")
        else:
            statement = (f"SELECT country_key, country, COUNT(*), MIN(reported_at)"
                         f" FROM {self.table('incident_view')}"
                         " WHERE duplicate_of IS NULL GROUP BY country_key, country")
        return self._select(statement)

    def is_current(self) -> bool:
        """Whether the tables have this version's shape (a store made earlier may not)."""
        try:
            self._select(
                f"SELECT v.country_key, b.belligerent_key FROM {self.table('incident_view')} v"
                f" JOIN {self.table('incident_belligerent')} b ON b.code = v.code LIMIT 0")
        except Exception:  # any failure (a missing column, say) means: not this shape
            return False
        return True

    def settled_codes(self) -> set[str]:
        """Incidents that need no strike matching: a strike is recorded, or a duplicate."""
        rows = self._select(f"SELECT code FROM {self.table('incident_view')}"
                            " WHERE strikes > 0 OR duplicate_of IS NOT NULL")
        return {code for (code,) in rows}

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row, in a stable order (to compare a rebuild with the original)."""
        view = ", ".join(_COLUMNS)
        return {
            "incident_view": self._select(
                f"SELECT {view} FROM {self.table('incident_view')} ORDER BY code"),
            "incident_belligerent": self._select(
                f"SELECT code, belligerent, belligerent_key"
                f" FROM {self.table('incident_belligerent')} ORDER BY code, belligerent"),
        }


class ReadModel(ReadModelQueries, SQLiteTrackingRecorder):
    """Read-model tables in the store's own SQLite file, tracked by notification id."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS incident_view ("
            " id TEXT NOT NULL UNIQUE, code TEXT PRIMARY KEY, date TEXT, month TEXT,"
            " country TEXT, country_key TEXT, belligerents TEXT, location TEXT, summary TEXT,"
            " killed_min INTEGER, killed_max INTEGER, active_sources INTEGER,"
            " corroborated INTEGER, strikes INTEGER, grade TEXT, proposed_grade TEXT,"
            " dispute_since TEXT,"
            " duplicate_of TEXT, state TEXT, state_since TEXT, waiting_for TEXT,"
            " reported_at TEXT, updated_at TEXT, version INTEGER)",
            # The queue reads this index in order: no sort, whatever the states asked for.
            "CREATE INDEX IF NOT EXISTS incident_view_waiting"
            " ON incident_view (state_since, code) WHERE duplicate_of IS NULL",
            "CREATE INDEX IF NOT EXISTS incident_view_month ON incident_view (month)",
            "CREATE INDEX IF NOT EXISTS incident_view_country ON incident_view (country_key)",
            "CREATE TABLE IF NOT EXISTS incident_belligerent ("
            " code TEXT NOT NULL, belligerent TEXT NOT NULL, belligerent_key TEXT NOT NULL,"
            " PRIMARY KEY (belligerent_key, code, belligerent)) WITHOUT ROWID",
            "CREATE VIRTUAL TABLE IF NOT EXISTS incident_search USING fts5("
            " code, location, summary, tokenize='trigram')",
        ]

    # ---------------------------------------------------------------- writing

    def position(self) -> int:
        """The last notification id applied (0 before the first)."""
        return self.max_tracking_id(PROJECTION_NAME) or 0

    def load_row(self, incident_id: str) -> IncidentRow | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {', '.join(_COLUMNS)} FROM incident_view WHERE id=?",
                      (incident_id,))
            found = c.fetchone()
        return None if found is None else row_from(tuple(found))

    def save(self, rows: Iterable[IncidentRow], new_codes: set[str],
             ids: dict[str, str], tracking: Tracking) -> None:
        """Write changed rows and the new position in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            values = []
            for row in sorted(rows, key=lambda row: str(row["code"])):
                values.append(row_values(row, ids[row["code"]]))
                if row["code"] in new_codes:
                    c.executemany(
                        "INSERT OR IGNORE INTO incident_belligerent VALUES (?, ?, ?)",
                        [(row["code"], name, fold(name)) for name in row["belligerents"]],
                    )
                    c.execute(
                        "INSERT INTO incident_search (code, location, summary) VALUES (?,?,?)",
                        (row["code"], row["location"], row["summary"] or ""),
                    )
            c.executemany(_UPSERT, values)
            self._insert_tracking(c, tracking)

    def reset(self) -> None:
        """Empty every read-model table and forget the position (for a rebuild)."""
        with self.datastore.transaction(commit=True) as c:
            for table in TABLES:
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (PROJECTION_NAME,))

    def replace_tables(self) -> None:
        """Drop the tables of an earlier shape and make them anew, empty (rebuilt on catch-up)."""
        with self.datastore.transaction(commit=True) as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (PROJECTION_NAME,))
        self.create_table()

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(row) for row in c.fetchall()]

    def search(self, text: str, limit: int) -> list[tuple[Any, ...]]:
        """Use the trigram index for three characters or more; scan for less."""
        if len(text) < 3:
            return super().search(text, limit)
        quoted = '"' + text.replace('"', '""') + '"'
        statement = (
            "SELECT v.code, v.date, v.location, v.country, v.state, v.grade, v.summary"
            " FROM incident_search s JOIN incident_view v ON v.code = s.code"
            " WHERE incident_search MATCH ? ORDER BY v.code <> upper(?), v.date, v.code LIMIT ?"
        )
        return self._select(statement, (quoted, text, limit))

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = super().dump()
        tables["incident_search"] = self._select(
            "SELECT code, location, summary FROM incident_search ORDER BY code")
        return tables

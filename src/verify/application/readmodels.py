"""Read models: the queue, statistics and search, projections of the log kept up to date.

What the tables hold is decided here (``projection.py`` turns events into
rows); how they are stored is the adapters' business. The store's
environment names the read-model class (``TRACKING_RECORDER_TOPIC``), which
follows the `ReadModel` protocol below and answers with rows named by column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, cast

from eventsourcing.persistence import (
    Cipher,
    IntegrityError,
    OperationalError,
    PersistenceError,
    Tracking,
)

from verify.application.base import IncidentStore, Progress, fewer_collections
from verify.application.projection import PROJECTION_NAME, IncidentRow, IncidentsProjection
from verify.application.views import QueueEntry, SearchHit, StatsDocument, StatsGroup
from verify.domain.casework import tag_of
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.parties import NO_PARTIES
from verify.domain.text import fold, tidy
from verify.domain.values import WAITING_STATES, Grade, State, refuse_nul

STATS_GROUPINGS = ("month", "grade", "country", "belligerent")
"""How the statistics may group incidents."""

MAX_LISTING = 1_000_000
"""The most incidents one listing (queue, search) returns."""

PROJECTION_BATCH = 2000
"""Events the read model applies per transaction while catching up."""

CATCH_UP_RETRIES = 20
"""How many batches in a row a catch-up may fail for other reasons than a race before it
gives up (a race lost to another catch-up means the read model moved on: never a failure)."""


class PositionMoved(IntegrityError):
    """Another catch-up moved the read model's position after this batch read it."""

Row = dict[str, Any]
"""A row of a read-model answer, by column name."""


class ReadModel(Protocol):
    """What the application needs of a read model, in either dialect."""

    def encrypt_text_with(self, cipher: Cipher | None) -> None:
        """Keep the tables' free text (places, summaries) encrypted with the events' cipher."""

    def create_table(self) -> None:
        """Create the tables (and the tracking table) if they are missing."""

    def position(self) -> int:
        """The last notification id applied (0 before the first)."""

    def is_current(self) -> bool:
        """Whether the tables have this version's shape."""

    def replace_tables(self) -> None:
        """Drop tables of an earlier shape and make them anew, empty."""

    def reset(self) -> None:
        """Empty the tables and forget the position, for a rebuild."""

    def load_row(self, incident_id: str) -> IncidentRow | None:
        """An incident's row, to apply more events to."""

    def save(self, rows: Iterable[IncidentRow], new_codes: set[str], ids: dict[str, str],
             tracking: Tracking, *, after: int) -> None:
        """Write changed rows and the new position in one transaction, only if the position
        is still ``after`` (the one the rows were read at); else raise `PositionMoved`."""

    def queue(self, *, states: Sequence[str], belligerents: Sequence[str] | None,
              countries: Sequence[str] | None, limit: int | None,
              regrade_due: bool = False, assignee: str | None = None,
              tag: str | None = None) -> list[Row]:
        """code, state, waiting_for, since, date, location, country, grade, assignee, tags:
        longest waiting first."""

    def stats(self, *, by: str, date_from: str | None, date_to: str | None) -> list[Row]:
        """key, incidents, one count per grade, ungraded, killed_min, killed_max per group."""

    def search(self, text: str, limit: int) -> list[Row]:
        """code, date, location, country, state, grade, summary of the incidents found."""

    def spellings(self, by: str) -> list[Row]:
        """key, spelling, incidents, first: each name as recorded (belligerent, country)."""

    def settled_codes(self) -> set[str]:
        """Incidents that need no strike matching."""

    def duplicates_of(self, code: str) -> list[str]:
        """The codes of the incidents marked duplicates of this one, in order."""

    def forget_deleted(self) -> bool:
        """Leave no copy of deleted victims' names in the tables' files."""

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row, in a stable order (to compare a rebuild with the original)."""


def _check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_LISTING:
        raise InvalidInput(f"the limit must be 1 to {MAX_LISTING:,}, not {limit}")


class ReadModels(IncidentStore):
    """Keeping the read models up to date, and the questions they answer."""

    _read_model: ReadModel | None = None

    @property
    def read_model(self) -> ReadModel:
        """The queue, statistics and search tables, in the store beside the events."""
        if self._read_model is None:
            # The store's environment names the class (TRACKING_RECORDER_TOPIC).
            model = cast(ReadModel, self.factory.tracking_recorder())
            model.encrypt_text_with(self.mapper.cipher)
            try:
                model.position()
            except PersistenceError:
                # A store made before its read models existed: create them now
                # (needs the right to create tables, like `verify init`). Another
                # process may be doing the same: if creating fails, use theirs.
                try:
                    model.create_table()
                except PersistenceError:
                    model.position()
            if not model.is_current():
                # Tables of an earlier version: they only ever hold what the log
                # says, so make them anew; the next catch-up fills them again.
                model.replace_tables()
            self._read_model = model
        return self._read_model

    def events_behind(self) -> int:
        """How many stored events the read model has not applied yet."""
        return max(0, (self.recorder.max_notification_id() or 0) - self.read_model.position())

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event the read model has not seen, a batch per transaction."""
        model = self.read_model
        applied = 0
        failures = 0
        with fewer_collections():
            while True:
                start = model.position()
                page = self.recorder.select_notifications(start=start + 1,
                                                          limit=PROJECTION_BATCH)
                if not page:
                    return applied
                projection = IncidentsProjection(model.load_row, self._victim_names)
                for notification in page:
                    event = self.mapper.to_domain_event(notification)
                    if isinstance(event, Incident.Event):
                        projection.apply(event)
                ids = {code: str(key) for key, code in projection.by_id.items()}
                try:
                    model.save(projection.changed.values(), projection.new_codes, ids,
                               Tracking(PROJECTION_NAME, page[-1].id), after=start)
                except PositionMoved:
                    continue  # another catch-up applied these events: go on from there
                except (IntegrityError, OperationalError):
                    # A lock held too long by another process, say: try again, a while.
                    failures += 1
                    if failures > CATCH_UP_RETRIES:
                        raise
                    continue
                failures = 0
                applied += len(page)
                if progress is not None:
                    progress(len(page))

    def _victim_names(self, key_id: str, sealed: str | None) -> list[str]:
        """A victim's names as searched (none once erased): see application.victims."""
        return []

    def rebuild_read_models(self, progress: Progress | None = None) -> int:
        """Empty the read models and apply the whole event log again."""
        self.read_model.reset()
        return self.catch_up(progress)

    def queue(
        self, *, state: State | None = None, belligerent: str | None = None,
        country: str | None = None, limit: int | None = None, assignee: str | None = None,
        tag: str | None = None,
    ) -> list[QueueEntry]:
        """Incidents waiting for work, longest waiting first (the read model must be caught up).

        Belligerent and country compare the way people mean them, aliases included;
        ``assignee`` keeps those assigned to that person, ``tag`` those with that tag.
        """
        _check_limit(limit)
        refuse_nul([belligerent or "", country or "", assignee or "", tag or ""])
        states = [state.value] if state else [s.value for s in WAITING_STATES]
        parties = self.party_names() if (belligerent or country) else NO_PARTIES
        rows = self.read_model.queue(
            states=states,
            belligerents=sorted(parties.spellings(belligerent)) if belligerent else None,
            countries=sorted(parties.spellings(country)) if country else None,
            limit=limit, regrade_due=state is None, assignee=assignee,
            tag=tag_of(tag) if tag is not None else None,
        )
        return [QueueEntry.model_validate(row) for row in rows]

    def stats(self, *, by: str = "month", date_from: dt.date | None = None,
              date_to: dt.date | None = None) -> StatsDocument:
        """Counts by grade and casualty sums per group, duplicates excluded.

        Belligerents and countries are grouped the way people mean them, each
        group named as most incidents spell it (or by its registered name).
        """
        if by not in STATS_GROUPINGS:
            raise InvalidInput(f"stats by {by!r}: choose one of {', '.join(STATS_GROUPINGS)}")
        rows = self.read_model.stats(
            by=by, date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
        )
        names = by in ("belligerent", "country")
        parties = self.party_names() if names else NO_PARTIES
        usual = self._usual_spellings(by) if names else {}
        groups: dict[str, StatsGroup] = {}
        for row in rows:
            label: str | None = row["key"]
            key = label
            if names and label is not None:
                key = parties.canonical(usual.get(fold(label), label))
            group = StatsGroup(
                key=key, incidents=row["incidents"],
                grades={**{grade.value: row[grade.value] for grade in Grade},
                        "ungraded": row["ungraded"]},
                killed_min=row["killed_min"], killed_max=row["killed_max"],
                named_killed=row["named_killed"], children_killed=row["children_killed"],
                women_killed=row["women_killed"],
            )
            merged = groups.get(fold(key) if key else "")
            # Two spellings of one party recorded before an alias joined them: one group.
            groups[fold(key) if key else ""] = group if merged is None else merged.plus(group)
        ordered = sorted(groups.values(), key=lambda group: (group.key or "").encode())
        return StatsDocument(by=by, groups=ordered)

    def _usual_spellings(self, by: str) -> dict[str, str]:
        """For each name by its folded form, the spelling most incidents use.

        Spellings differing only in case or invisible characters count as one
        name; the figures show it as most records write it, then without
        invisible characters, then as it was first written.
        """
        best: dict[str, tuple[int, bool, str, str]] = {}
        for row in self.read_model.spellings(by):
            spelling = row["spelling"]
            rank = (-row["incidents"], spelling != tidy(spelling), row["first"], spelling)
            if row["key"] not in best or rank < best[row["key"]]:  # the lowest rank wins
                best[row["key"]] = rank
        return {key: rank[3] for key, rank in best.items()}

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Incidents whose code, place, summary or victims' names contain the text, in any
        script, Arabic letter variants folded (see domain.text.search_key)."""
        needle = text.strip()
        if not needle:
            raise InvalidInput("search for at least one character")
        _check_limit(limit)
        refuse_nul(needle)
        return [SearchHit.model_validate(row) for row in self.read_model.search(needle, limit)]

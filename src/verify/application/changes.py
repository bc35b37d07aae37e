"""The change feed: every change to an incident, in the order the event log holds them.

A change's cursor is its event's notification id, the log's own order, given
out as an opaque token. Both stores hand out notification ids in the order
their transactions commit (SQLite has one writer at a time; on PostgreSQL the
library locks the events table for each insert until its transaction ends,
see `eventsourcing.postgres`), so once a change is visible, no change with a
lower cursor can appear later: a reader that asks for what follows the last
cursor it kept never misses a change and never sees one twice. Ids an aborted
transaction took are never used: the log has gaps, which a cursor passes over.
The read models follow the log the same way (`readmodels.ReadModels.catch_up`).

The public view tells each change as the incident's public history does
(`history.public_entries`) and leaves out what that history withholds; an
incident's whole history is read to decide, since a victim protected later is
withheld from the start. Events of other records in the log (the party
register, belligerents' strike reports) are not changes to an incident: a cursor
passes over them too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from verify.application.base import IncidentStore
from verify.application.history import (
    TOLD_WITH_NEIGHBOURS,
    history_entries,
    history_entry,
    public_entries,
)
from verify.application.readmodels import check_limit
from verify.application.views import Change, ChangesPage, HistoryEntry, RecentChanges
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.sentences import sentence

CHANGES_PAGE = 100
"""Changes one page holds unless asked otherwise."""

MAX_CHANGES = 10_000
"""The most changes one page holds."""

SCAN_BATCH = 2000
"""The most notifications read from the log at once while filling a page."""

_CURSOR_PREFIX = b"log:"
_LONGEST_CURSOR = 40
"""No cursor made here is longer (a position of 19 digits makes 31 characters)."""


def change_cursor(position: int) -> str:
    """The token that stands for a place in the event log (its notification id)."""
    raw = _CURSOR_PREFIX + str(position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_position(token: str) -> int:
    """The place in the log a token made by `change_cursor` stands for."""
    text = token.strip()
    try:
        if not text or len(text) > _LONGEST_CURSOR:
            raise ValueError(text)
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        digits = raw.removeprefix(_CURSOR_PREFIX).decode("ascii")
        position = int(digits) if raw.startswith(_CURSOR_PREFIX) and digits.isdigit() else 0
        # One spelling for each place: anything else was not made here.
        if position < 1 or change_cursor(position) != text:
            raise ValueError(text)
    except (ValueError, binascii.Error):
        raise InvalidInput(sentence(
            "the change cursor is damaged or was not made by verify: give one a page of "
            "changes ended with, or none to start from the first change")) from None
    return position


class _Teller:
    """Tells the notifications of one page as changes, reading each incident's history once
    (the public view needs all of it, and so does a revision or a grade that took effect on
    approval, told with the events around it; a code needs its first event), and again only
    when the incident changed after that."""

    def __init__(self, store: IncidentStore, *, public: bool) -> None:
        self.store = store
        self.public = public
        self.codes: dict[UUID, str] = {}
        self.histories: dict[UUID, dict[int, HistoryEntry | None]] = {}

    def told(self, notifications: Sequence[Notification]) -> list[Change]:
        """The changes among these notifications, in their order."""
        changes = []
        for notification in notifications:
            event = self.store.mapper.to_domain_event(notification)
            if not isinstance(event, Incident.Event):
                continue
            entry = self._entry(event)
            if entry is not None:
                changes.append(Change(
                    cursor=change_cursor(notification.id), code=self._code(event),
                    at=entry.at, by=entry.actor, what=entry.what, why=entry.why))
        return changes

    def _entry(self, event: Incident.Event) -> HistoryEntry | None:
        """The event as a history line, or None when the public view withholds it."""
        if not self.public and type(event).__name__ not in TOLD_WITH_NEIGHBOURS:
            return history_entry(event)
        key = event.originator_id
        told = self.histories.get(key)
        if told is None or event.originator_version not in told:
            # Read (again: the incident may have changed since this page first read it).
            events = self.store.events.get(key)
            entries = history_entries(each for each in events if isinstance(each, Incident.Event))
            told = ({entry.version: None if withheld else entry
                     for entry, withheld in public_entries(entries)} if self.public
                    else {entry.version: entry for entry in entries})
            self.histories[key] = told
            if entries and entries[0].event == "Reported":
                self.codes[key] = str(entries[0].data["code"])
        return told[event.originator_version]

    def _code(self, event: Incident.Event) -> str:
        key = event.originator_id
        if key not in self.codes:
            if isinstance(event, Incident.Reported):
                self.codes[key] = event.code
            else:
                first: Any = next(iter(self.store.events.get(key, lte=1)))
                self.codes[key] = str(first.code)
        return self.codes[key]


class ChangeFeed(IncidentStore):
    """Every change to the incidents, read in log order from a cursor, or newest first."""

    def changes(self, *, since: str | None = None, limit: int = CHANGES_PAGE,
                public: bool = False) -> ChangesPage:
        """The changes after the cursor ``since`` (from the first without one), in log order,
        at most ``limit``; ``public`` leaves out what the public history withholds.

        ``next_cursor`` is the last change's cursor when more follow, None when the
        log ended; every change has its cursor, so a reader keeps the last one it used.
        """
        check_limit(limit, MAX_CHANGES)
        after = self._position(since) if since is not None else 0
        teller = _Teller(self, public=public)
        found: list[Change] = []
        start, batch = after + 1, limit + 1
        while len(found) <= limit:
            page = self.recorder.select_notifications(start=start, limit=batch)
            if not page:
                break
            found.extend(teller.told(page))
            start, batch = page[-1].id + 1, min(batch * 2, SCAN_BATCH)
        more = len(found) > limit
        shown = found[:limit]
        return ChangesPage(changes=shown, next_cursor=shown[-1].cursor if more else None)

    def recent_changes(self, *, before: str | None = None, limit: int = CHANGES_PAGE,
                       public: bool = True) -> RecentChanges:
        """The latest changes (before the cursor ``before``, if given), newest first, at
        most ``limit``; ``earlier`` is the oldest one's cursor when earlier ones exist."""
        check_limit(limit, MAX_CHANGES)
        head = self.recorder.max_notification_id() or 0
        stop = self._position(before) - 1 if before is not None else head
        teller = _Teller(self, public=public)
        found: list[Change] = []
        window = limit + 1
        while stop >= 1 and len(found) <= limit:
            start = max(1, stop - window + 1)
            page = self.recorder.select_notifications(start=start, stop=stop,
                                                      limit=stop - start + 1)
            found.extend(reversed(teller.told(page)))
            stop, window = start - 1, min(window * 2, SCAN_BATCH)
        more = len(found) > limit
        shown = found[:limit]
        return RecentChanges(changes=shown, earlier=shown[-1].cursor if more else None)

    def _position(self, cursor: str) -> int:
        """The log position a cursor stands for, refused when this log never reached it."""
        position = cursor_position(cursor)
        if position > (self.recorder.max_notification_id() or 0):
            raise InvalidInput(sentence(
                "the change cursor is past the end of this store's log: it was made by "
                "another store, or this one was restored from an older copy"))
        return position

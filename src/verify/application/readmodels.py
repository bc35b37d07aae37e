"""Read models: the queue, statistics and search, projections of the log kept up to date.

What the tables hold is decided here (``projection.py`` turns events into
rows); how they are stored is the adapters' business. The store's
environment names the read-model class (``TRACKING_RECORDER_TOPIC``), which
follows the `ReadModel` protocol below and answers with rows named by column.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, Unpack, cast
from uuid import UUID

from eventsourcing.persistence import (
    Cipher,
    IntegrityError,
    OperationalError,
    PersistenceError,
    Tracking,
)

from verify.application.base import IncidentStore, Progress, fewer_collections, row_decoder
from verify.application.figures import stats_at, stats_document
from verify.application.projection import PROJECTION_NAME, IncidentRow, IncidentsProjection
from verify.application.views import (
    QueueEntry,
    QueuePage,
    SearchHit,
    SearchPage,
    StatsDocument,
)
from verify.domain.casework import tag_of
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.parties import NO_PARTIES
from verify.domain.sentences import Listed, sentence, sentence_template
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


SORTS = ("waiting", "date", "code")
"""How the queue may be ordered: longest waiting first (by when each incident entered its
state), by the incident's date (oldest first), or by code; ties always go by code."""

SEARCH_SORTS = ("date", "code")
"""How what a search finds may be ordered, after the incident with the very code searched."""

SORT_NAMES = {"waiting": sentence_template("longest waiting first"),
              "date": sentence_template("the incident's date"), "code": sentence_template("code")}

UNGRADED = "ungraded"
"""The grade filter that keeps incidents with no grade."""

MAX_CURSOR = 1000
"""The longest page cursor read (one made here is 60 to 200 characters)."""

DAMAGED_CURSOR = sentence_template(
    "the page cursor is damaged or was not made by this program: start again from the first "
    "page")


class PositionMoved(IntegrityError):
    """Another catch-up moved the read model's position after this batch read it."""

Row = dict[str, Any]
"""A row of a read-model answer, by column name."""


class ListingFilters(TypedDict, total=False):
    """What a listing (queue, search) may keep, as the people asking name it."""

    state: State | None
    grade: str | None
    """A grade's name, or "ungraded"."""
    belligerent: str | None
    country: str | None
    assignee: str | None
    tag: str | None
    date_from: dt.date | None
    """The incident's date, on or after this day."""
    date_to: dt.date | None


@dataclass(frozen=True)
class Filters:
    """What a listing keeps, as the read model compares it (names folded, days ISO 8601);
    empty or None: no condition."""

    states: tuple[str, ...] = ()
    regrade_due: bool = False
    """With ``states``: graded incidents due for re-grading, or with casualty figures to
    look at, too."""
    grade: str | None = None
    """A grade's name, or UNGRADED."""
    belligerents: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    assignee: str | None = None
    tag: str | None = None
    date_from: str | None = None
    date_to: str | None = None


@dataclass(frozen=True)
class PageSpec:
    """Which rows of a listing the read model returns: in ``order`` (SORTS), those after
    the key ``after``, or (in reverse order) those before the key ``before``, at most
    ``limit`` of them."""

    order: str = "waiting"
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    until: str | None = None
    """Only incidents waiting since no later than this (a page walk in waiting order)."""
    limit: int | None = None


KEY_FIELDS = {"waiting": ("since", "code"), "date": ("date", "code"), "code": ("code",)}
"""The fields of a row holding its key in each order (the queue's names)."""


@dataclass(frozen=True)
class Cursor:
    """Where a page walk stands: the listing and order it walks, the key of the row a page
    ends (or starts) at, and, in waiting order, the latest wait when the walk began.

    Given to people as an opaque token: url-safe base64 of a small JSON document.
    """

    listing: str
    order: str
    key: tuple[Any, ...]
    until: str | None = None

    def token(self) -> str:
        document: dict[str, Any] = {"l": self.listing, "o": self.order, "k": list(self.key)}
        if self.until is not None:
            document["u"] = self.until
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def read(cls, token: str, listing: str, order: str) -> Cursor:
        """The cursor a token holds, checked to continue this listing in this order."""
        token = token.strip()
        try:
            if not token or len(token) > MAX_CURSOR:
                raise ValueError(token)
            document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls(document["l"], document["o"], tuple(document["k"]), document.get("u"))
            if set(document) - {"l", "o", "k", "u"} or not isinstance(document["k"], list):
                raise ValueError(document)
        except (ValueError, TypeError, KeyError, RecursionError):
            raise InvalidInput(sentence(DAMAGED_CURSOR)) from None
        if cursor.listing != listing and cursor.listing in ("queue", "search"):
            raise InvalidInput(sentence(
                "the page cursor continues %(listing)s, not %(asked)s: start again from the "
                "first page", listing=sentence(_LISTINGS[cursor.listing]),
                asked=sentence(_LISTINGS[listing])))
        if cursor.listing == listing and cursor.order != order and cursor.order in SORTS:
            raise InvalidInput(sentence(
                "the page cursor continues a listing sorted by %(order)s, not by %(asked)s: "
                "keep its order, or start again from the first page",
                order=sentence(SORT_NAMES[cursor.order]), asked=sentence(SORT_NAMES[order])))
        if not cursor._well_formed(listing, order):
            raise InvalidInput(sentence(DAMAGED_CURSOR))
        return cursor

    def _well_formed(self, listing: str, order: str) -> bool:
        fields = KEY_FIELDS.get(order, ())
        exact = (bool,) if listing == "search" else ()
        kinds = (*exact, *(str for _ in fields))
        return (self.listing == listing and self.order == order and len(self.key) == len(kinds)
                and all(type(value) is kind for value, kind in zip(self.key, kinds, strict=True))
                and all(0 < len(value) <= 200 and "\x00" not in value
                        for value in self.key if isinstance(value, str))
                and (self.until is None or (listing == "queue" and order == "waiting"
                                            and isinstance(self.until, str)
                                            and 0 < len(self.until) <= 64)))


_LISTINGS = {"queue": sentence_template("the queue"), "search": sentence_template("a search")}


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

    def listing(self, filters: Filters, page: PageSpec) -> list[Row]:
        """code, state, waiting_for, since, date, location, country, grade, assignee, tags of
        the incidents kept (duplicates left out), in the page's order, reversed before a key."""

    def latest_wait(self) -> str | None:
        """When the last incident to start waiting started (duplicates left out)."""

    def stats(self, *, by: str, date_from: str | None, date_to: str | None) -> list[Row]:
        """key, incidents, one count per grade, ungraded, killed_min, killed_max per group."""

    def stats_total(self, *, date_from: str | None, date_to: str | None) -> Row:
        """The same figures (no key) over every incident kept, each counted once."""

    def search(self, text: str, filters: Filters, page: PageSpec) -> list[Row]:
        """code, date, location, country, state, grade, summary, duplicate_of and ``later``
        (false for the very code searched, which comes first) of the incidents found and kept,
        in order."""

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


def check_limit(limit: int | None, most: int = MAX_LISTING) -> None:
    """Refuse a page size outside 1 to ``most`` (None: no limit)."""
    if limit is not None and not 1 <= limit <= most:
        raise InvalidInput(sentence("the limit must be 1 to %(most)s, not %(limit)s",
                                    most=format(most, ","), limit=limit))


def check_grouping(by: str) -> None:
    """Refuse a grouping of the statistics other than STATS_GROUPINGS."""
    if by not in STATS_GROUPINGS:
        raise InvalidInput(sentence("stats by %(asked)s: choose one of %(groupings)s",
                                    asked=repr(by), groupings=Listed(STATS_GROUPINGS, ", ")))


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
        decoded = row_decoder(self.mapper)
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
                    event = decoded(cast(UUID, notification.originator_id),
                                    notification.originator_version, notification.topic,
                                    notification.state)
                    if isinstance(event, Incident.Event):
                        projection.apply(event)
                ids = {code: str(key) for key, code in projection.by_id.items()}
                try:
                    model.save(projection.rows(), projection.new_codes, ids,
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

    def queue(self, *, sort: str = "waiting", after: str | None = None,
              limit: int | None = None, **filters: Unpack[ListingFilters]) -> list[QueueEntry]:
        """Incidents waiting for work, longest waiting first: `queue_page`'s entries."""
        return self.queue_page(sort=sort, after=after, limit=limit, **filters).entries

    def queue_page(self, *, sort: str = "waiting", after: str | None = None,
                   before: str | None = None, limit: int | None = None,
                   **filters: Unpack[ListingFilters]) -> QueuePage:
        """A page of the incidents waiting for work (the read model must be caught up).

        Waiting means in a waiting state, or graded and due for re-grading; a
        ``state`` keeps that state alone (graded ones too); a ``grade`` keeps the
        incidents with that grade whatever their state (``"ungraded"``: those with
        none). Belligerent and country compare the way people mean them, aliases
        included; ``assignee`` keeps those assigned to that person, ``tag`` those with
        that tag, ``date_from``/``date_to`` those whose date falls in the range.
        ``sort`` is one of SORTS. With a ``limit``, the page says how to go on: give
        its ``next`` as ``after``, or its ``previous`` as ``before``. A walk in waiting
        order leaves out what starts waiting after its first page (an incident that
        changes state meanwhile is not met twice); other orders never move an incident.
        """
        grade = _grade_named(filters.get("grade"))
        state = filters.get("state")
        if state is not None:
            states: tuple[str, ...] = (state.value,)
        elif grade is not None and grade != UNGRADED:
            states = ()  # the incidents with that grade, graded or disputed
        else:
            states = tuple(waiting.value for waiting in WAITING_STATES)
        kept = self._filters(filters, grade, states, regrade_due=state is None and grade is None)
        page = self._page_spec("queue", sort, SORTS, after, before, limit)
        rows = self.read_model.listing(kept, page)
        entries, following, previous = _paged(rows, page, limit, lambda row: Cursor(
            "queue", sort, tuple(row[field] for field in KEY_FIELDS[sort]), page.until))
        return QueuePage(entries=[QueueEntry.model_validate(row) for row in entries],
                         next=following, previous=previous)

    def _filters(self, asked: ListingFilters, grade: str | None, states: tuple[str, ...], *,
                 regrade_due: bool) -> Filters:
        """The filters as the read model compares them."""
        belligerent, country = asked.get("belligerent"), asked.get("country")
        assignee, tag = asked.get("assignee"), asked.get("tag")
        date_from, date_to = asked.get("date_from"), asked.get("date_to")
        refuse_nul([belligerent or "", country or "", assignee or "", tag or ""])
        if date_from is not None and date_to is not None and date_from > date_to:
            raise InvalidInput(sentence(
                "the dates run backwards: %(start)s comes after %(end)s",
                start=date_from.isoformat(), end=date_to.isoformat()))
        parties = self.party_names() if (belligerent or country) else NO_PARTIES
        return Filters(
            states=states, regrade_due=regrade_due, grade=grade,
            belligerents=tuple(sorted(parties.spellings(belligerent))) if belligerent else (),
            countries=tuple(sorted(parties.spellings(country))) if country else (),
            assignee=assignee, tag=tag_of(tag) if tag is not None else None,
            date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
        )

    def _page_spec(self, listing: str, order: str, orders: tuple[str, ...], after: str | None,
                   before: str | None, limit: int | None) -> PageSpec:
        """Which rows to ask the read model for: one more than the limit, to know if more
        follow (or, going back, precede)."""
        if order not in orders:
            raise InvalidInput(sentence("sort by %(asked)s: choose one of %(orders)s",
                                        asked=repr(str(order)[:40]),
                                        orders=Listed(orders, ", ")))
        check_limit(limit)
        if after is not None and before is not None:
            raise InvalidInput(sentence(
                "give the page to follow or the page to precede, not both"))
        token = after if after is not None else before
        cursor = Cursor.read(token, listing, order) if token is not None else None
        until = cursor.until if cursor is not None else None
        if cursor is None and limit is not None and listing == "queue" and order == "waiting":
            until = self.read_model.latest_wait()  # a walk begins
        return PageSpec(order=order, until=until, limit=None if limit is None else limit + 1,
                        after=cursor.key if cursor is not None and after is not None else None,
                        before=cursor.key if cursor is not None and before is not None else None)

    def stats(self, *, by: str = "month", date_from: dt.date | None = None,
              date_to: dt.date | None = None, as_of: dt.datetime | None = None,
              position: int | None = None) -> StatsDocument:
        """Counts by grade and casualty sums per group, duplicates excluded.

        Belligerents and countries are grouped the way people mean them, each
        group named as most incidents spell it (or by its registered name).
        With ``as_of`` (a moment) or ``position`` (a place in the log, a
        release's), the figures as they stood then, replayed from the log
        (`figures.stats_at`); else from the read model, which must be caught up.
        """
        check_grouping(by)
        if as_of is not None or position is not None:
            return stats_at(self, by=by, date_from=date_from, date_to=date_to,
                            position=position, moment=as_of)
        days = {"date_from": date_from.isoformat() if date_from else None,
                "date_to": date_to.isoformat() if date_to else None}
        rows = self.read_model.stats(by=by, **days)
        names = by in ("belligerent", "country")
        parties = self.party_names() if names else NO_PARTIES
        spellings = self.read_model.spellings(by) if names else []
        return stats_document(by, rows, spellings, parties,
                              total=self.read_model.stats_total(**days))

    def search(self, text: str, limit: int | None = 50, *, sort: str = "date",
               after: str | None = None, **filters: Unpack[ListingFilters]) -> list[SearchHit]:
        """Incidents whose code, place, summary or victims' names contain the text: `search_page`'s
        entries."""
        return self.search_page(text, limit=limit, sort=sort, after=after, **filters).entries

    def search_page(self, text: str, *, sort: str = "date", after: str | None = None,
                    before: str | None = None, limit: int | None = 50,
                    **filters: Unpack[ListingFilters]) -> SearchPage:
        """A page of the incidents whose code, place, summary or victims' names contain the
        text, in any script, Arabic letter variants folded (see domain.text.search_key).

        The incident with that very code comes first, then the others by date (or by
        code, SEARCH_SORTS); every state, duplicates too, unless the filters (as for
        `queue_page`) say otherwise. Paged like the queue.
        """
        needle = text.strip()
        if not needle:
            raise InvalidInput(sentence("search for at least one character"))
        refuse_nul(needle)
        grade = _grade_named(filters.get("grade"))
        state = filters.get("state")
        kept = self._filters(filters, grade, (state.value,) if state is not None else (),
                             regrade_due=False)
        page = self._page_spec("search", sort, SEARCH_SORTS, after, before, limit)
        rows = self.read_model.search(needle, kept, page)
        hits, following, previous = _paged(rows, page, limit, lambda row: Cursor(
            "search", sort, (row["later"], *(row[field] for field in KEY_FIELDS[sort]))))
        return SearchPage(entries=[SearchHit.model_validate(row) for row in hits],
                          next=following, previous=previous)


def _grade_named(grade: str | None) -> str | None:
    """A grade asked for by name, in any case (or "ungraded"), as the read model keeps it."""
    if grade is None:
        return None
    name = str(grade).strip().casefold()
    if name != UNGRADED and name not in {known.value for known in Grade}:
        raise InvalidInput(sentence(
            "%(asked)s is not a grade: choose %(grades)s, or %(ungraded)s",
            asked=repr(str(grade).strip()[:40]),
            grades=Listed([known.value for known in Grade], ", "), ungraded=UNGRADED))
    return name


def _paged(rows: list[Row], page: PageSpec, limit: int | None,
           cursor: Callable[[Row], Cursor]) -> tuple[list[Row], str | None, str | None]:
    """A page's rows in order, and the tokens of the next and previous pages (None: none).

    The read model gave one row more than the limit when more follow (or, going back,
    precede). A page reached from another has that one beside it.
    """
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    if page.before is not None:
        rows.reverse()
        previous = cursor(rows[0]).token() if more else None
        following = cursor(rows[-1]).token() if rows else None
    else:
        following = cursor(rows[-1]).token() if more else None
        previous = cursor(rows[0]).token() if page.after is not None and rows else None
    return rows, following, previous

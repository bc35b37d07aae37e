"""The statistics as they stood: replayed from the event log up to a place in it.

`verify stats` reads the read model, which holds the incidents as they are
now. A published figure must be re-derivable later (SPEC 14), so the same
figures are also made from the log itself, up to a position (a release's) or
a moment: every incident event is applied by the read model's own projection
(`projection.IncidentsProjection`) to rows kept in memory, the party register
is replayed alongside (aliases registered later do not join groups earlier),
and the rows are grouped the way the read model's query groups them
(`adapters.readmodel.ReadModelQueries.stats` and ``spellings``). Both paths
then name the groups through `stats_document`, so the two agree to the
figure; tests/application/test_figures.py holds them to it on both stores.

A moment means what this system had recorded then, as `show --as-of` does:
each record's events up to its first one recorded after the moment. A
position is exact even when writers were busy at the time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from verify.application.base import IncidentStore
from verify.application.projection import IncidentRow, IncidentsProjection
from verify.application.views import StatsDocument, StatsGroup
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.parties import NO_PARTIES, PartyNames, PartyRegister
from verify.domain.sentences import sentence
from verify.domain.text import fold, tidy
from verify.domain.values import Grade

Row = dict[str, Any]

SCAN_BATCH = 2000
"""Events read from the log at once while replaying it."""

_INCIDENT_TOPIC = get_topic(Incident) + "."
_PARTIES_TOPIC = get_topic(PartyRegister) + "."


def stats_document(by: str, rows: Iterable[Row], spellings: Iterable[Row],
                   parties: PartyNames, *, total: Row) -> StatsDocument:
    """The statistics from rows per group (as `ReadModel.stats` gives them) and, for
    belligerents and countries, the spellings (as `ReadModel.spellings` gives them), named
    through the registered parties, with the total over every incident (as
    `ReadModel.stats_total` gives it): one place for the live figures and the replayed ones."""
    names = by in ("belligerent", "country")
    usual = _usual_spellings(spellings) if names else {}
    groups: dict[str, StatsGroup] = {}
    for row in rows:
        label: str | None = row["key"]
        key = label
        if names and label is not None:
            key = parties.canonical(usual.get(fold(label), label))
        group = _figures(key, row)
        merged = groups.get(fold(key) if key else "")
        # Two spellings of one party recorded before an alias joined them: one group.
        groups[fold(key) if key else ""] = group if merged is None else merged.plus(group)
    ordered = sorted(groups.values(), key=lambda group: (group.key or "").encode())
    return StatsDocument(by=by, groups=ordered, total=_figures(None, total))


def _figures(key: str | None, row: Row) -> StatsGroup:
    """A group's figures (or, with no key, the total's) from a row of counts and sums."""
    return StatsGroup(
        key=key, incidents=row["incidents"],
        grades={**{grade.value: row[grade.value] for grade in Grade},
                "ungraded": row["ungraded"]},
        killed_min=row["killed_min"], killed_max=row["killed_max"],
        named_killed=row["named_killed"], children_killed=row["children_killed"],
        women_killed=row["women_killed"],
    )


def _usual_spellings(spellings: Iterable[Row]) -> dict[str, str]:
    """For each name by its folded form, the spelling most incidents use.

    Spellings differing only in case or invisible characters count as one
    name; the figures show it as most records write it, then without
    invisible characters, then as it was first written.
    """
    best: dict[str, tuple[int, bool, str, str]] = {}
    for row in spellings:
        spelling = row["spelling"]
        rank = (-row["incidents"], spelling != tidy(spelling), row["first"], spelling)
        if row["key"] not in best or rank < best[row["key"]]:  # the lowest rank wins
            best[row["key"]] = rank
    return {key: rank[3] for key, rank in best.items()}


# ------------------------------------------------------------ from the log


def replayed(store: IncidentStore, *, position: int | None = None,
             moment: dt.datetime | None = None) -> tuple[list[IncidentRow], PartyNames]:
    """Every incident's read-model row, and the registered parties, as the log held them at
    ``position`` (the last event included) or at ``moment`` (or now, given neither)."""
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(sentence("the moment must carry a time zone"))
    projection = IncidentsProjection(lambda _: None)
    register: PartyRegister | None = None
    for event in _events_until(store, position, moment):
        if isinstance(event, Incident.Event):
            projection.apply(event)
        else:
            register = event.mutate(register)
    parties = register.names() if register is not None else NO_PARTIES
    return projection.rows(), parties


def _events_until(store: IncidentStore, position: int | None,
                  moment: dt.datetime | None) -> Iterator[Any]:
    """The incidents' and party register's events in log order, up to the place asked for."""
    if position is not None and position < 1:
        return
    stopped: set[UUID | str] = set()
    start = 1
    while page := store.recorder.select_notifications(start=start, limit=SCAN_BATCH,
                                                      stop=position):
        for notification in page:
            topic = notification.topic
            if not (topic.startswith(_INCIDENT_TOPIC) or topic.startswith(_PARTIES_TOPIC)):
                continue
            if moment is not None and notification.originator_id in stopped:
                continue
            event: Any = store.mapper.to_domain_event(notification)
            if moment is not None and event.timestamp > moment:
                stopped.add(notification.originator_id)  # its later events are later still
                continue
            yield event
        start = page[-1].id + 1


def stats_rows(rows: Iterable[IncidentRow], by: str, date_from: str | None,
               date_to: str | None) -> list[Row]:
    """Per group, what the read model's stats query gives: incidents, each grade's count,
    ungraded, and the casualty sums (unknown bounds count as nothing), duplicates left out."""
    groups: dict[str, Row] = {}
    labels: dict[str, list[str]] = defaultdict(list)
    for row in _kept(rows, date_from, date_to):
        for key, names in _grouped(row, by).items():
            group = groups.get(key)
            if group is None:
                group = groups[key] = _no_figures()
            labels[key].extend(names)
            _count(group, row)
    found = [{"key": min(labels[key], key=str.encode), **group} for key, group in groups.items()]
    return sorted(found, key=lambda group: str(group["key"]).encode())


def total_row(rows: Iterable[IncidentRow], date_from: str | None, date_to: str | None) -> Row:
    """What the read model's stats total gives: the same figures over every incident kept,
    each counted once, whichever groups it falls in."""
    total = _no_figures()
    for row in _kept(rows, date_from, date_to):
        _count(total, row)
    return total


def _kept(rows: Iterable[IncidentRow], date_from: str | None,
          date_to: str | None) -> Iterator[IncidentRow]:
    """The incidents the statistics count: no duplicate, the date within the range."""
    for row in rows:
        if row["duplicate_of"] is not None:
            continue
        if (date_from and row["date"] < date_from) or (date_to and row["date"] > date_to):
            continue
        yield row


def _no_figures() -> Row:
    return {"incidents": 0, **{grade.value: 0 for grade in Grade}, "ungraded": 0,
            "killed_min": 0, "killed_max": 0, "named_killed": 0, "children_killed": 0,
            "women_killed": 0}


def _count(figures: Row, row: IncidentRow) -> None:
    """Add one incident to a group's figures (unknown bounds count as nothing)."""
    figures["incidents"] += 1
    figures[row["grade"] if row["grade"] is not None else "ungraded"] += 1
    for field in ("killed_min", "killed_max", "named_killed", "children_killed",
                  "women_killed"):
        figures[field] += row[field] or 0


def _grouped(row: IncidentRow, by: str) -> dict[str, list[str]]:
    """The groups an incident counts in, each once (one, or one per belligerent named), by
    key, with the names it gives each group."""
    if by == "month":
        return {row["month"]: [row["month"]]}
    if by == "grade":
        grade = row["grade"] or "ungraded"
        return {grade: [grade]}
    if by == "country":
        return {fold(row["country"]): [row["country"]]}
    # An incident giving one belligerent two spellings counts once in its group.
    grouped: dict[str, list[str]] = defaultdict(list)
    for name in dict.fromkeys(row["belligerents"]):
        grouped[fold(name)].append(name)
    return grouped


def spelling_rows(rows: Iterable[IncidentRow], by: str) -> list[Row]:
    """Each name's folded key, spelling, incidents and first report, as the read model's
    ``spellings`` gives them for belligerents or countries (duplicates left out)."""
    found: dict[tuple[str, str], Row] = {}
    for row in rows:
        if row["duplicate_of"] is not None:
            continue
        names = dict.fromkeys(row["belligerents"]) if by == "belligerent" else [row["country"]]
        for name in names:
            spelling = found.setdefault((fold(name), name), {
                "key": fold(name), "spelling": name, "incidents": 0,
                "first": row["reported_at"]})
            spelling["incidents"] += 1
            spelling["first"] = min(spelling["first"], row["reported_at"])
    return list(found.values())


def stats_at(store: IncidentStore, *, by: str, date_from: dt.date | None = None,
             date_to: dt.date | None = None, position: int | None = None,
             moment: dt.datetime | None = None) -> StatsDocument:
    """The statistics `verify stats` gave when the log ended at ``position`` or ``moment``."""
    rows, parties = replayed(store, position=position, moment=moment)
    names = by in ("belligerent", "country")
    days = (date_from.isoformat() if date_from else None,
            date_to.isoformat() if date_to else None)
    return stats_document(
        by, stats_rows(rows, by, *days),
        spelling_rows(rows, by) if names else [], parties if names else NO_PARTIES,
        total=total_row(rows, *days))

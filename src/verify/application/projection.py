"""The incidents projection: what each event changes in an incident's read-model row.

Rows are plain dicts. Everything in a row derives from events (their payloads
and timestamps), never from the clock, so a rebuild from the log reproduces
the tables exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verify.domain.incident import Incident
from verify.domain.text import fold, search_key
from verify.domain.values import State, waiting_for, workflow_state

IncidentRow = dict[str, Any]
LoadRow = Callable[[str], IncidentRow | None]
VictimNames = Callable[[str, str | None], list[str]]
"""(key id, sealed details) -> the victim's names as searched (none once erased)."""

PROJECTION_NAME = "incidents"
"""The name under which the read model tracks its position in the event log."""


def _new_row(event: Incident.Reported) -> IncidentRow:
    at = event.timestamp.isoformat()
    return {
        "code": event.code,
        "date": event.date,
        "month": event.date[:7],
        "country": event.country,
        "country_key": fold(event.country),
        "belligerents": list(event.belligerents),
        "location": event.location["name"],
        "summary": event.summary,
        "search_text": _search_text(event.location["name"], event.summary),
        "killed_min": event.killed.get("min"),
        "killed_max": event.killed.get("max"),
        "active_sources": 0,
        "corroborated": False,
        "strikes": 0,
        "grade": None,
        "proposed_grade": None,
        "dispute_since": None,
        "duplicate_of": None,
        "regrade_due": None,
        "victims": {},
        "named_killed": 0,
        "children_killed": 0,
        "women_killed": 0,
        "casualties_consistent": True,
        "state": State.REPORTED.value,
        "state_since": at,
        "waiting_for": "",
        "reported_at": at,
        "updated_at": at,
        "version": event.originator_version,
        "assignee": None,
        "tags": [],
    }


_COUNTED = ("status", "named", "gender", "age_group", "withdrawn")
"""What the read model keeps of each victim: what the counts need, never a name."""


def _count_victims(row: IncidentRow) -> None:
    """The victim counts of a row, and whether more are named killed than recorded."""
    killed = [victim for victim in row["victims"].values()
              if victim["status"] == "killed" and not victim.get("withdrawn")]
    row["named_killed"] = sum(1 for victim in killed if victim["named"])
    row["children_killed"] = sum(1 for victim in killed if victim.get("age_group") == "child")
    row["women_killed"] = sum(1 for victim in killed if victim.get("gender") == "female"
                              and victim.get("age_group") != "child")
    row["casualties_consistent"] = (row["killed_max"] is None
                                    or row["named_killed"] <= row["killed_max"])


VICTIM_NAMES = "victim_names"
"""Set on a row whose victims' searchable names changed in this batch: {victim id: names}."""


def _search_text(location: str, summary: str | None) -> str:
    return f"{search_key(location)}\n{search_key(summary or '')}"


REINDEX = "reindex"
"""Set on a row whose belligerents, place or summary changed: its index rows are rewritten."""


def _amend(row: IncidentRow, changes: dict[str, Any]) -> None:
    """An amendment's new values in the row; what is indexed apart is marked for rewriting."""
    for field, change in changes.items():
        new = change["new"]
        if field == "date":
            row["date"] = new
            row["month"] = new[:7]
        elif field == "country":
            row["country"] = new
            row["country_key"] = fold(new)
        elif field == "location":
            row["location"] = new["name"]
            row["search_text"] = _search_text(row["location"], row["summary"])
            row[REINDEX] = True
        elif field == "belligerents":
            row["belligerents"] = list(new)
            row[REINDEX] = True
        elif field == "summary":
            row["summary"] = new
            row["search_text"] = _search_text(row["location"], row["summary"])
            row[REINDEX] = True


class IncidentsProjection:
    """Applies a batch of events to the rows they touch; the caller writes the changed rows."""

    def __init__(self, load_row: LoadRow, victim_names: VictimNames | None = None) -> None:
        self.load_row = load_row
        self.victim_names = victim_names
        self.changed: dict[str, IncidentRow] = {}
        self.new_codes: set[str] = set()
        self.by_id: dict[Any, str] = {}

    def apply(self, event: Incident.Event) -> None:
        if isinstance(event, Incident.Reported):
            row = _new_row(event)
            self.changed[row["code"]] = row
            self.new_codes.add(row["code"])
            self.by_id[event.originator_id] = row["code"]
            self._settle(row, event)
            return
        found = self._row_of(event)
        if found is None:
            return
        row = found
        if isinstance(event, Incident.SourceAdded):
            row["active_sources"] += 1
        elif isinstance(event, Incident.SourceWithdrawn):
            row["active_sources"] -= 1
        elif isinstance(event, Incident.Corroborated):
            row["corroborated"] = True
        elif isinstance(event, Incident.StrikeConfirmed):
            row["strikes"] += 1
        elif isinstance(event, Incident.HarmEstimateRevised):
            row["killed_min"] = event.killed.get("min")
            row["killed_max"] = event.killed.get("max")
            _count_victims(row)
        elif isinstance(event, Incident.VictimRecorded):
            victim = event.victim
            row["victims"][victim["id"]] = {
                **{key: victim.get(key) for key in _COUNTED}, "key": victim["key"]}
            self._names(row, victim["id"], victim.get("sealed"))
            _count_victims(row)
        elif isinstance(event, Incident.VictimAmended):
            counted = row["victims"][event.victim_id]
            for field, change in event.changes.items():
                if field in _COUNTED:
                    counted[field] = change["new"]
            if event.sealed is not None:
                self._names(row, event.victim_id, event.sealed)
            _count_victims(row)
        elif isinstance(event, Incident.VictimWithdrawn):
            row["victims"][event.victim_id]["withdrawn"] = True
            self._names(row, event.victim_id, None)
            _count_victims(row)
        elif isinstance(event, Incident.VictimErased):
            self._names(row, event.victim_id, None)
        elif isinstance(event, Incident.Graded):
            row["grade"] = event.grade
            row["proposed_grade"] = None
            row["regrade_due"] = None
        elif isinstance(event, Incident.GradeProposed):
            row["proposed_grade"] = event.grade
        elif isinstance(event, Incident.GradeDisputed):
            row["dispute_since"] = event.timestamp.isoformat()
        elif isinstance(event, Incident.DisputeResolved):
            row["dispute_since"] = None
            if event.outcome == "upheld":
                row["grade"] = None
                row["regrade_due"] = None
        elif isinstance(event, Incident.MarkedDuplicate):
            row["duplicate_of"] = event.of
        elif isinstance(event, Incident.DuplicateUndone):
            row["duplicate_of"] = None
        elif isinstance(event, Incident.RegradeDue):
            row["regrade_due"] = event.grade if event.due else None
        elif isinstance(event, Incident.Amended):
            _amend(row, event.changes)
        elif isinstance(event, Incident.Assigned):
            row["assignee"] = event.assignee
        elif isinstance(event, Incident.Tagged):
            kept = [tag for tag in row["tags"] if tag not in event.removed]
            row["tags"] = sorted({*kept, *event.added})
        elif isinstance(event, Incident.Retracted) and event.item_id.startswith("k"):
            row["strikes"] -= 1  # a retracted strike no longer confirms one
        self._settle(row, event)

    def _names(self, row: IncidentRow, victim_id: str, sealed: str | None) -> None:
        """Note a victim's names to index anew (none: withdrawn or erased)."""
        names = []
        if sealed is not None and self.victim_names is not None:
            names = self.victim_names(row["victims"][victim_id]["key"], sealed)
        row.setdefault(VICTIM_NAMES, {})[victim_id] = names

    def _row_of(self, event: Incident.Event) -> IncidentRow | None:
        code = self.by_id.get(event.originator_id)
        if code is not None:
            return self.changed[code]
        row = self.load_row(str(event.originator_id))
        if row is None:
            return None
        self.changed[row["code"]] = row
        self.by_id[event.originator_id] = row["code"]
        return row

    def rows(self) -> list[IncidentRow]:
        """The rows the events changed, each saying what it now waits for."""
        for row in self.changed.values():
            row["waiting_for"] = waiting_for(
                State(row["state"]), active_sources=row["active_sources"],
                dispute_since=row["dispute_since"], proposed_grade=row["proposed_grade"],
                regrade_due=row["regrade_due"],
                named_killed=row["named_killed"] if not row["casualties_consistent"] else None,
                killed_max=row["killed_max"],
            )
        return list(self.changed.values())

    @staticmethod
    def _settle(row: IncidentRow, event: Incident.Event) -> None:
        """Recompute the state, noting when it changed. What the row waits for follows from
        its values alone, so `rows` says it once a batch, not after every event."""
        state = workflow_state(
            dispute_open=row["dispute_since"] is not None,
            graded=row["grade"] is not None,
            strike_confirmed=row["strikes"] > 0,
            corroborated=row["corroborated"],
        )
        at = event.timestamp.isoformat()
        if state.value != row["state"]:
            row["state"] = state.value
            row["state_since"] = at
        row["updated_at"] = at
        row["version"] = event.originator_version

"""Releases: record what was published at a place in the log, and tell two releases apart.

A release seals the log (`auditing.Auditor.seal`: the chain's head and the
Merkle root), digests the public JSON Lines export as it stood at that very
place, counts the incidents, and records all of it as an event of the release
register (`verify.domain.releases`). The log's place is its last event's
notification id: whatever is written later, the release's incidents are read
back exactly, each at its version then, and the diff between two releases
compares the public records at the two places, with the public history's
reasons for what changed between them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.application.history import history_entries, public_entries
from verify.application.records import IncidentRecord
from verify.domain.errors import InvalidInput, Refused
from verify.domain.incident import Incident, project_incident
from verify.domain.releases import (
    REGISTER_ID,
    Release,
    ReleaseCounts,
    ReleaseRegister,
    may_release,
    release_name,
    release_notes,
)
from verify.domain.sentences import sentence
from verify.domain.values import Grade, State

SCAN_BATCH = 5000
"""Log positions read at once while finding each incident's version at a release."""

_INCIDENT_TOPIC = get_topic(Incident) + "."

Versions = dict[UUID, int]
"""Each incident's version at a place in the log, in the order they were reported."""


def export_line(record: IncidentRecord) -> bytes:
    """One line of `verify export --format jsonl`, as its writer writes it (the release digest
    is of these bytes; tests/application/test_releases.py holds the two to each other)."""
    return orjson.dumps(record.document()) + b"\n"


class Releases:
    """Makes, lists and compares the store's releases."""

    def __init__(self, app: VerifyApp, store_label: str) -> None:
        self.app = app
        self.store_label = store_label

    # ----------------------------------------------------------------- create

    def create(self, name: str, notes: str | None, actor: str) -> dict[str, Any]:
        """Seal the log, digest its public export and count it, and record that as a release."""
        named = release_name(name)
        told = release_notes(notes)
        may_release(self.app.team, actor)
        register = self._register()
        if register is not None and register.named(named) is not None:
            raise Refused(sentence("there is already a release named %(name)s: a release is "
                                   "never replaced; choose another name", name=named))
        position = self.app.recorder.max_notification_id() or 0
        sealed = Auditor(self.app, self.store_label).seal()
        if (self.app.recorder.max_notification_id() or 0) != position:
            raise Refused(sentence("the log grew while it was being sealed: someone recorded a "
                                   "change meanwhile; run the command again"))
        digest = hashlib.sha256()
        counted: Counter[str] = Counter()
        states: Counter[str] = Counter()
        grades: Counter[str] = Counter()
        for incident, record in self._records(self._versions(position)[0]):
            digest.update(export_line(record))
            counted["incidents"] += 1
            if incident.duplicate_of is not None:
                counted["duplicates"] += 1
                continue
            states[incident.state.value] += 1
            grades[incident.grade.value if incident.grade is not None else "ungraded"] += 1
        release = Release(
            name=named, notes=told, position=position, events=sealed["events"],
            head=sealed["head"], merkle_root=sealed["merkle_root"],
            export_sha256=digest.hexdigest(),
            counts=ReleaseCounts(
                incidents=counted["incidents"], duplicates=counted["duplicates"],
                states={state.value: states[state.value] for state in State},
                grades={**{grade.value: grades[grade.value] for grade in Grade},
                        "ungraded": grades["ungraded"]}))
        register = register or ReleaseRegister.open(actor)
        register.record(release, actor)
        try:
            self.app.save(register)
        except IntegrityError:
            raise Refused(sentence("someone else recorded a release meanwhile; run the command "
                                   "again")) from None
        recorded = self.named(named)
        return {**recorded, "line": sealed["line"]}

    # ------------------------------------------------------------------ read

    def releases(self) -> list[dict[str, Any]]:
        """Every release, oldest first."""
        register = self._register()
        return list(register.releases.values()) if register is not None else []

    def named(self, name: str) -> dict[str, Any]:
        """The release of this name; refused (bad input) when there is none."""
        register = self._register()
        found = register.named(name) if register is not None else None
        if found is None:
            raise InvalidInput(sentence("there is no release named %(name)s; `verify release "
                                        "list` lists them", name=repr(name.strip()[:80])))
        return found

    def export_records(self, name: str) -> Iterator[tuple[IncidentRecord, str]]:
        """Every incident as release ``name`` published it: its public record and its state
        then, in the order reported (what `export_records(public=True)` gave at that place)."""
        position = self.named(name)["position"]
        for incident, record in self._records(self._versions(position)[0]):
            yield record, incident.state.value

    def diff(self, first: str, second: str) -> dict[str, Any]:
        """What changed in the public records from release ``first`` to release ``second``:
        incidents added, withdrawn (marked duplicates) and changed, each change with its old
        and new values and the reasons the public history records for it."""
        earlier, later = self.named(first), self.named(second)
        if earlier["position"] > later["position"]:
            raise InvalidInput(sentence(
                "the release %(first)s was made after %(second)s: name the earlier one first",
                first=earlier["name"], second=later["name"]))
        before, after = self._versions(later["position"], earlier["position"])
        added: list[dict[str, Any]] = []
        withdrawn: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for identity, version in after.items():
            was = before.get(identity)
            if was == version:
                continue
            new, new_record = self._record(identity, version)
            if was is None:
                added.append({"code": new.code, "state": new.state.value,
                              "grade": new.grade.value if new.grade is not None else None,
                              "duplicate_of": new.duplicate_of})
                continue
            old, old_record = self._record(identity, was)
            changes = _differences({**old_record.document(), "state": old.state.value},
                                   {**new_record.document(), "state": new.state.value})
            if not changes:
                continue  # nothing public changed (a note, a protected source, say)
            entry = {"code": new.code, "changes": changes,
                     "reasons": self._reasons(identity, was, version)}
            if old.duplicate_of is None and new.duplicate_of is not None:
                withdrawn.append({"code": new.code, "duplicate_of": new.duplicate_of,
                                  "changes": changes, "reasons": entry["reasons"]})
            else:
                changed.append(entry)
        return {"from": _summary(earlier), "to": _summary(later), "added": added,
                "withdrawn": withdrawn, "changed": changed}

    # ------------------------------------------------------------- internals

    def _register(self) -> ReleaseRegister | None:
        try:
            register: ReleaseRegister = self.app.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            return None
        return register

    def _versions(self, position: int, earlier: int | None = None) -> tuple[Versions, Versions]:
        """Each incident's version at ``position`` and, when asked, at an ``earlier`` one,
        read from the log's positions alone (no event is decoded)."""
        at: Versions = {}
        before: Versions = {}
        start = 1
        while position >= start and (page := self.app.recorder.select_notifications(
                start=start, limit=SCAN_BATCH, stop=position)):
            for notification in page:
                if notification.topic.startswith(_INCIDENT_TOPIC):
                    identity = UUID(str(notification.originator_id))
                    at[identity] = notification.originator_version
                    if earlier is not None and notification.id <= earlier:
                        before[identity] = notification.originator_version
            start = page[-1].id + 1
        return (before, at) if earlier is not None else (at, before)

    def _records(self, versions: Versions) -> Iterator[tuple[Incident, IncidentRecord]]:
        for identity, version in versions.items():
            yield self._record(identity, version)

    def _record(self, identity: UUID, version: int) -> tuple[Incident, IncidentRecord]:
        """An incident at a version, and its public record as `export --public` writes it."""
        incident: Incident = self.app.repository.get(identity, version=version,
                                                     projector_func=project_incident)
        return incident, IncidentRecord.of(
            incident, public=True, victims=self.app.victim_documents(incident, public=True))

    def _reasons(self, identity: UUID, after: int, until: int) -> list[dict[str, Any]]:
        """The public history's entries between two versions (the later one included); what it
        withholds is left out, as the public change feed leaves it out."""
        entries = history_entries(event for event in self.app.events.get(identity)
                                  if isinstance(event, Incident.Event))
        return [{"version": entry.version, "at": entry.at, "by": entry.actor,
                 "what": entry.what, "why": entry.why}
                for entry, withheld in public_entries(entries)
                if after < entry.version <= until and not withheld]


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Each public field whose value differs, with its old and new value."""
    return [{"field": field, "old": old.get(field), "new": new.get(field)}
            for field in dict.fromkeys([*old, *new]) if old.get(field) != new.get(field)]


def _summary(release: dict[str, Any]) -> dict[str, Any]:
    return {key: release[key] for key in ("name", "at", "position", "events", "head",
                                          "merkle_root", "export_sha256")}

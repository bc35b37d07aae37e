"""Queries: an incident now or as it stood, its history, every incident as a record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from verify.application.evidence import Evidence
from verify.application.history import history_entries, public_history
from verify.application.views import HistoryEntry, IncidentView, KnownOnView
from verify.domain.errors import InvalidInput
from verify.domain.incident import KnownOn, replayed_with_days
from verify.domain.sentences import sentence

if TYPE_CHECKING:  # loaded by export_records: a reading command needs no records
    from verify.application.records import IncidentRecord


class Queries(Evidence):
    """Answers read from the event log itself (the read models answer the listings)."""

    def duplicates_of(self, code: str) -> list[str]:
        """Incidents marked duplicates of this one, as far as the read model has caught up
        (a reading command brings it up to date first; the web keeps it so)."""
        return self.read_model.duplicates_of(code)

    def show(
        self, code: str, *, as_of: dt.datetime | None = None, version: int | None = None
    ) -> IncidentView:
        """The incident now, at a version, or as it stood at a moment."""
        if as_of is not None and version is not None:
            raise InvalidInput(sentence(
                "ask for the incident as of a moment or at a version, not both"))
        current = self.load(code)
        if version is not None:
            if not 1 <= version <= current.version:
                raise InvalidInput(sentence(
                    "incident %(code)s has versions 1 to %(latest)s, not %(version)s",
                    code=current.code, latest=current.version, version=version))
            past = self.load(code, version=version)
            return IncidentView.of(past, victims=self.victim_documents(past))
        if as_of is not None:
            found = self.load(code, version=self._version_at(current, as_of))
            return IncidentView.of(found, victims=self.victim_documents(found))
        return IncidentView.of(current, duplicates=self.duplicates_of(current.code),
                               victims=self.victim_documents(current))

    def known_on(self, code: str, day: dt.date) -> KnownOnView:
        """What was publicly known of an incident by the end of ``day``, and the grade the
        rulebook would have given it then (time as the world knew it, not as we recorded it).

        Replayed from the events themselves, so every piece of evidence has the
        day it was recorded, however old the incident's snapshot.
        """
        current = self.load(code)
        replayed, recorded = replayed_with_days(self._events(current.id))
        assert replayed is not None
        return KnownOnView.of(replayed, KnownOn(day, recorded), self.party_names(),
                              victims=self.victim_documents(replayed))

    def history(self, code: str, *, public: bool = False) -> list[HistoryEntry]:
        """Every event of an incident; ``public`` withholds protected sources and notes."""
        incident = self.load(code)
        entries = history_entries(self._events(incident.id))
        return public_history(entries) if public else entries

    def export_records(self, *, public: bool = False) -> Iterator[tuple[IncidentRecord, str]]:
        """Every incident as an interchange record with its state, in the order reported."""
        from verify.application.records import IncidentRecord

        for incident in self._incidents():
            yield IncidentRecord.of(
                incident, public=public,
                victims=self.victim_documents(incident, public=public)), incident.state.value

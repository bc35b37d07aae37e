"""Queries: an incident now or as it stood, its history, every incident as a record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from verify.application.base import IncidentStore
from verify.application.history import history_entry, public_history
from verify.application.records import IncidentRecord
from verify.application.views import HistoryEntry, IncidentView
from verify.domain.errors import InvalidInput


class Queries(IncidentStore):
    """Answers read from the event log itself (the read models answer the listings)."""

    def show(
        self, code: str, *, as_of: dt.datetime | None = None, version: int | None = None
    ) -> IncidentView:
        """The incident now, at a version, or as it stood at a moment."""
        if as_of is not None and version is not None:
            raise InvalidInput("ask for the incident as of a moment or at a version, not both")
        current = self.load(code)
        if version is not None:
            if not 1 <= version <= current.version:
                raise InvalidInput(
                    f"incident {current.code} has versions 1 to {current.version}, not {version}"
                )
            return IncidentView.of(self.load(code, version=version))
        if as_of is not None:
            found = self._version_at(current, as_of)
            return IncidentView.of(self.load(code, version=found))
        return IncidentView.of(current)

    def history(self, code: str, *, public: bool = False) -> list[HistoryEntry]:
        """Every event of an incident; ``public`` withholds protected sources and notes."""
        incident = self.load(code)
        entries = [history_entry(event) for event in self._events(incident.id)]
        return public_history(entries) if public else entries

    def export_records(self, *, public: bool = False) -> Iterator[tuple[IncidentRecord, str]]:
        """Every incident as an interchange record with its state, in the order reported."""
        for incident in self._incidents():
            yield IncidentRecord.of(incident, public=public), incident.state.value

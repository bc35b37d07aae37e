"""Releases: what a team published, and when, kept as events of the release register.

A release names one place in the event log (its ``position``: the last event
it covers) and records what was published from it: the sealed head of the hash
chain and the Merkle root over the same events, the SHA-256 of the public JSON
Lines export at that place, and counts. Being an event of the log itself, a
release is audited with the rest, and never edited: a second release with the
same name is refused.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate
from pydantic import Field

from verify.domain.duties import Action, Team
from verify.domain.errors import InvalidInput, Refused
from verify.domain.sentences import sentence
from verify.domain.text import fold, tidy
from verify.domain.values import MAX_NAME, MAX_TEXT, Value, refuse_nul

REGISTER_ID = uuid.uuid5(uuid.UUID("5b3f7c1e-0f4d-4f0e-9d6b-2a8e1c7d9b30"), "releases")
"""The one release register of a store."""


class ReleaseCounts(Value):
    """What a release held: every incident, the duplicates, and the others by state and grade."""

    incidents: int
    duplicates: int
    states: dict[str, int]
    grades: dict[str, int]
    """Each grade's count and ``ungraded``, duplicates left out (as the statistics count)."""


class Release(Value):
    """One publication, as the release register records it."""

    name: str
    notes: str | None = None
    position: int = Field(ge=0)
    """The log position (notification id) of the last event the release covers."""
    events: int = Field(ge=0)
    head: str
    merkle_root: str
    export_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    counts: ReleaseCounts


def release_name(text: str) -> str:
    """A release's name as recorded: one tidy line, not empty, not too long."""
    name = tidy(text)
    if not name:
        raise InvalidInput(sentence("a release's name must not be empty"))
    if len(name) > MAX_NAME:
        raise InvalidInput(sentence("a release's name must be at most %(most)s characters",
                                    most=MAX_NAME))
    refuse_nul(name)
    return name


def release_notes(text: str | None) -> str | None:
    """A release's notes as recorded (None when blank)."""
    if text is None or not text.strip():
        return None
    refuse_nul(text)
    if len(text) > MAX_TEXT:
        raise InvalidInput(sentence("a release's notes must be at most %(most)s characters",
                                    most=MAX_TEXT))
    return text.strip()


def may_release(team: Team | None, actor: str) -> None:
    """Refuse a release to a member whose role does not record releases (a reviewer's)."""
    if team is not None:
        team.authorize(actor, Action.RELEASE)


class ReleaseRegister(Aggregate):
    """The store's releases, in the order they were made."""

    class Event(Aggregate.Event):
        """The base of every ReleaseRegister event. Declared here so the events below
        subclass it directly: the library would otherwise define each one twice."""

    class Opened(Aggregate.Created, Event):
        actor: str

        def apply(self, aggregate: ReleaseRegister) -> None:
            aggregate.releases = {}

    class ReleaseRecorded(Event):
        release: dict[str, Any]
        actor: str

        def apply(self, aggregate: ReleaseRegister) -> None:
            aggregate.releases[self.release["name"]] = {
                **self.release, "at": self.timestamp.isoformat(), "by": self.actor}

    if TYPE_CHECKING:  # set by Opened.apply; annotations here would become __init__ fields
        releases: dict[str, dict[str, Any]]

    @classmethod
    def open(cls, actor: str) -> ReleaseRegister:
        return cls._create(cls.Opened, id=REGISTER_ID, actor=actor)

    def named(self, name: str) -> dict[str, Any] | None:
        """The release of this name (compared the way people mean it), or None."""
        key = fold(name)
        for recorded, release in self.releases.items():
            if fold(recorded) == key:
                return release
        return None

    def record(self, release: Release, actor: str) -> None:
        """Record a release; a name already used is refused (a release is never replaced)."""
        refuse_nul(actor)
        if self.named(release.name) is not None:
            raise Refused(sentence("there is already a release named %(name)s: a release is "
                                   "never replaced; choose another name", name=release.name))
        previous = list(self.releases.values())
        if previous and release.position < previous[-1]["position"]:
            raise Refused(sentence("the release %(name)s covers less of the log than the one "
                                   "before it", name=release.name))
        self.trigger_event(self.ReleaseRecorded, release=release.model_dump(mode="json"),
                           actor=actor)


__all__ = ["REGISTER_ID", "Release", "ReleaseCounts", "ReleaseRegister", "may_release",
           "release_name", "release_notes"]

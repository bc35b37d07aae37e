"""Casework together: assigning incidents, discussing them, tagging them, and each person's
inbox (SPEC section 13).

Every one of these is an event in the incident's own history, so who handed
what to whom, and who said what, is audited with the rest. Comments are
internal: never in a public export or the public history.
"""

from __future__ import annotations

from typing import Any

from verify.application.base import IncidentStore
from verify.domain.casework import mentioned
from verify.domain.duties import Action
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.sentences import sentence


class Teamwork(IncidentStore):
    """Assignment, discussion, tags and the inbox."""

    def member_named(self, name: str) -> str:
        """A person's name as the team writes it (any case); any name without a team."""
        name = name.strip().lstrip("@")
        if not name:
            raise InvalidInput(sentence("name the person"))
        team = self.team
        if team is None:
            return name
        for member in team.members:
            if member.casefold() == name.casefold():
                return member
        import difflib  # here: only a misspelt name needs it, and every command would load it

        close = difflib.get_close_matches(name, list(team.members), n=1)
        if close:
            raise InvalidInput(sentence(
                "no member of the team is called %(name)s; did you mean %(member)s?",
                name=name[:60], member=close[0]))
        raise InvalidInput(sentence("no member of the team is called %(name)s", name=name[:60]))

    def assign(self, code: str, assignee: str | None, actor: str, *,
               expected_version: int | None = None) -> str | None:
        """Hand an incident to a member (None: take it back); returns who has it now."""
        person = self.member_named(assignee) if assignee is not None else None
        with self.changing(code, actor, Action.ASSIGN, expected_version) as incident:
            incident.assign(person, actor)
        return person

    def comment(self, code: str, text: str, actor: str, *, reply_to: str | None = None,
                expected_version: int | None = None) -> tuple[str, list[str]]:
        """Add a comment; returns its id and the members it mentions (each ``@name`` must be
        a member of the team, when there is one)."""
        mentions = [self.member_named(name) for name in mentioned(text)]
        with self.changing(code, actor, Action.COMMENT, expected_version) as incident:
            comment_id = incident.comment(text, actor, reply_to=reply_to,
                                          mentions=list(dict.fromkeys(mentions)))
        return comment_id, mentions

    def tag_incident(self, code: str, tags: list[str], actor: str, *, remove: bool = False,
                     expected_version: int | None = None) -> tuple[list[str], list[str]]:
        """Put tags on an incident (or take them off): the tags changed, and its tags now."""
        with self.changing(code, actor, Action.ASSIGN, expected_version) as incident:
            changed = incident.tag(tags, actor, remove=remove)
        return changed, list(incident.tags or [])

    def inbox(self, person: str) -> list[dict[str, Any]]:
        """What waits for ``person``: incidents assigned to them (still theirs) and comments
        that mention them, newest first; a mention they answered says so."""
        codes: dict[Any, Incident] = {}

        def incident_of(originator_id: Any) -> Incident:
            if originator_id not in codes:
                codes[originator_id] = self.repository.get(originator_id)
            return codes[originator_id]

        found: list[dict[str, Any]] = []
        for event in self.events_of(Incident.Assigned):
            if event.assignee != person:
                continue
            incident = incident_of(event.originator_id)
            if incident.assignee != person:
                continue  # taken back or handed on since
            found.append({"kind": "assigned", "code": incident.code, "at": _at(event),
                          "by": event.actor, "state": incident.state.value, "comment": None,
                          "text": None, "answered": None, "version": event.originator_version})
        for event in self.events_of(Incident.Commented):
            if person not in event.comment.get("mentions", []):
                continue
            incident = incident_of(event.originator_id)
            answered = any(other.get("reply_to") == event.comment["id"] and other["by"] == person
                           for other in incident.comments or [])
            found.append({"kind": "mentioned", "code": incident.code, "at": _at(event),
                          "by": event.actor, "state": incident.state.value,
                          "comment": event.comment["id"], "text": event.comment["text"],
                          "answered": answered, "version": event.originator_version})
        # Newest first, and of one moment the later event first.
        return sorted(found, key=lambda item: (item["at"], item["version"]), reverse=True)


def _at(event: Any) -> str:
    return str(event.timestamp.isoformat())

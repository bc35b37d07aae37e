"""Separation of duties: who may change what, and which grades need a second person.

A team names its members and their roles; the rules here decide whether a
member may take an action. Grades that carry the most weight in public
(``fair``, ``confirmed``, ``discounted``) are only proposed by one person and
take effect when a different person approves them. Nothing here reads a file:
the team arrives as data.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from verify.domain.errors import InvalidInput, Refused
from verify.domain.sentences import sentence, sentence_template
from verify.domain.values import Grade

GRADES_NEEDING_APPROVAL = frozenset({Grade.FAIR, Grade.CONFIRMED, Grade.DISCOUNTED})
"""Grades that, under separation of duties, a second person must approve."""


def needs_approval(grade: Grade) -> bool:
    return grade in GRADES_NEEDING_APPROVAL


class Role(StrEnum):
    """What a member of a team does; ``auditor`` reads and changes nothing."""

    REPORTER = "reporter"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"


class Action(StrEnum):
    """Every kind of change, worded to complete "may not …" (each a template: a refusal says it
    with `sentence`)."""

    REPORT = sentence_template("report an incident")
    ADD_SOURCE = sentence_template("add a source")
    NOTE = sentence_template("add a note")
    CHANGE_SOURCE = sentence_template("re-rate or withdraw a source")
    RECORD_EVIDENCE = sentence_template(
        "record strikes, claims, assessments, discount findings or casualty figures")
    MARK_DUPLICATE = sentence_template("mark a duplicate")
    CORRECT = sentence_template("amend an incident or retract evidence")
    RECORD_VICTIMS = sentence_template("record, amend or withdraw victims")
    ERASE = sentence_template("erase a victim's personal details")
    GRADE = sentence_template("grade an incident")
    OVERRIDE = sentence_template("override the rulebook's grade")
    APPROVE = sentence_template("approve a proposed grade")
    DISPUTE = sentence_template("open a dispute")
    RESOLVE = sentence_template("resolve a dispute")
    STRIKE_REPORTS = sentence_template("import or apply belligerent strike reports")
    IMPORT = sentence_template("import incidents in bulk")
    NAME_PARTIES = sentence_template("name parties and their aliases")
    COMMENT = sentence_template("comment on an incident")
    ASSIGN = sentence_template("assign an incident or tag it")
    RELEASE = sentence_template("record a release")


_REPORTER = frozenset({Action.REPORT, Action.ADD_SOURCE, Action.NOTE, Action.COMMENT})
_ANALYST = _REPORTER | {
    Action.CHANGE_SOURCE, Action.RECORD_EVIDENCE, Action.MARK_DUPLICATE, Action.CORRECT,
    Action.RECORD_VICTIMS, Action.GRADE,
    Action.APPROVE, Action.DISPUTE, Action.RESOLVE, Action.STRIKE_REPORTS, Action.NAME_PARTIES,
    Action.ASSIGN,
}
_REVIEWER = _ANALYST | {Action.OVERRIDE, Action.IMPORT, Action.ERASE, Action.RELEASE}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.REPORTER: _REPORTER,
    Role.ANALYST: frozenset(_ANALYST),
    Role.REVIEWER: frozenset(_REVIEWER),
    Role.AUDITOR: frozenset(),
}
"""What each role may change. Every member may read everything; rebuilding the
read models changes no recorded fact and needs no role."""


def _printable(value: str, what: str) -> str:
    """The value, or ValueError: ``what`` names it (a sentence)."""
    if value != value.strip() or any(not ch.isprintable() for ch in value):
        raise ValueError(sentence("%(what)s must be printable, without surrounding spaces",
                                  what=what))
    return value


class ApiToken(BaseModel):
    """A member's API token as the team file keeps it: its id and a hash, never the token."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[0-9a-f]{8}$", description="names the token to list or revoke it")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the SHA-256 of the whole token")
    created: AwareDatetime
    label: str = Field(default="", max_length=200, description="what the token is for")

    @field_validator("label")
    @classmethod
    def _plain_label(cls, value: str) -> str:
        return _printable(value, sentence("a token's label"))


class Member(BaseModel):
    """One person of a team, as the team file names them."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(min_length=1, max_length=200)
    role: Role
    password_hash: str | None = Field(
        default=None, description="for signing in to the web server; never the password itself"
    )
    tokens: tuple[ApiToken, ...] = Field(
        default=(), description="for the JSON API; each kept as a hash, never the token itself"
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return _printable(value, sentence("a member's name"))

    def with_token(self, token: ApiToken) -> Member:
        """The member with one more API token."""
        return self.model_copy(update={"tokens": (*self.tokens, token)})

    def without_token(self, token_id: str) -> Member:
        """The member without the API token of this id (revoked)."""
        kept = tuple(token for token in self.tokens if token.id != token_id)
        if len(kept) == len(self.tokens):
            raise InvalidInput(sentence("%(name)s has no API token %(token)s",
                                        name=self.name, token=token_id))
        return self.model_copy(update={"tokens": kept})


class Team(BaseModel):
    """The members of a team and whether separation of duties is in force (by default it is)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    members: dict[str, Member]
    separation_of_duties: bool = True

    @model_validator(mode="after")
    def _one_holder_per_token(self) -> Team:
        seen: set[str] = set()
        for member in self.members.values():
            for token in member.tokens:
                if token.id in seen:
                    raise ValueError(sentence("two API tokens have the id %(token)s",
                                              token=token.id))
                seen.add(token.id)
        return self

    def token(self, token_id: str) -> tuple[Member, ApiToken] | None:
        """The member holding the API token of this id, and its record; None if none does."""
        for member in self.members.values():
            for token in member.tokens:
                if token.id == token_id:
                    return member, token
        return None

    def member(self, actor: str) -> Member:
        found = self.members.get(actor)
        if found is None:
            raise Refused(sentence("%(name)s is not a member of this team; ask for a place in "
                                   "the team file", name=actor))
        return found

    def with_member(self, member: Member) -> Team:
        """The team with this member added, or their role or password changed."""
        return self.model_copy(update={"members": {**self.members, member.name: member}})

    def without_member(self, name: str) -> Team:
        """The team without this member; a team keeps at least one member."""
        if name not in self.members:
            raise InvalidInput(sentence("%(name)s is not a member of the team", name=name))
        if len(self.members) == 1:
            raise InvalidInput(sentence("%(name)s is the last member of the team; a team needs "
                                        "one member", name=name))
        return self.model_copy(
            update={"members": {key: value for key, value in self.members.items()
                                if key != name}})

    def with_duties(self, separation: bool) -> Team:
        """The team with separation of duties on or off."""
        return self.model_copy(update={"separation_of_duties": separation})

    def authorize(self, actor: str, action: Action) -> None:
        """Refuse an action the actor's role does not allow."""
        member = self.member(actor)
        if action not in PERMISSIONS[member.role]:
            doing = sentence(action.value)
            if member.role.value[0] in "aeiou":
                raise Refused(sentence("%(name)s is an %(role)s and may not %(action)s",
                                       name=actor, role=member.role, action=doing))
            raise Refused(sentence("%(name)s is a %(role)s and may not %(action)s",
                                   name=actor, role=member.role, action=doing))


__all__ = [
    "GRADES_NEEDING_APPROVAL", "PERMISSIONS", "Action", "ApiToken", "Member", "Role", "Team",
    "needs_approval",
]

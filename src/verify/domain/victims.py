"""Victims: the people an incident harmed, as its sources name them (SPEC section 11).

Every recorded person points to the sources behind the record (Every
Casualty's Standards for Casualty Recording). Personal details (names, age,
family, role) never enter an event in clear: the application seals them under
a key of the victim's own, kept outside the event log, and destroying that key
erases them for good while the events, and so the hash chain, stay as they
were. What the events carry openly is what the counts need: status, gender,
age group, whether the victim was named, the sources, and whether the victim
is protected.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from verify.domain.sentences import sentence
from verify.domain.values import (
    ShortText,
    Value,
    canonical_source_id,
    kept_values,
    refuse_nul,
)

CHILD_UNDER = 18
"""Under this age a victim is a child (the age group and the children_killed count)."""

ELDERLY_FROM = 65
"""From this age a victim is elderly."""


class AgeGroup(StrEnum):
    CHILD = "child"
    ADULT = "adult"
    ELDERLY = "elderly"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"


class VictimStatus(StrEnum):
    KILLED = "killed"
    INJURED = "injured"


def age_group_of(age: int) -> AgeGroup:
    if age < CHILD_UNDER:
        return AgeGroup.CHILD
    if age >= ELDERLY_FROM:
        return AgeGroup.ELDERLY
    return AgeGroup.ADULT


_SOURCE_ID = re.compile(r"s[1-9][0-9]{0,5}")


class VictimDetails(Value):
    """What identifies a person: sealed under the victim's own key, erasable."""

    name: ShortText | None = None
    name_original: ShortText | None = None
    """The name as the source wrote it, in its own script (Arabic, say)."""
    age: int | None = Field(default=None, ge=0, le=130)
    family: ShortText | None = None
    role: ShortText | None = None
    unread: dict[str, str] = kept_values()
    """What an archive gave about the person and could not be read, kept verbatim: sealed
    and erased with the rest, never in an event in clear."""

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        # Sealed, these details pass the events' own NUL check unseen; opened, a NUL would
        # break the read model's search names on PostgreSQL.
        refuse_nul(self.model_dump())
        return self

    @property
    def named(self) -> bool:
        return self.name is not None or self.name_original is not None


class VictimFacts(Value):
    """What the events carry openly about a victim: enough to count, nothing that names."""

    status: VictimStatus = VictimStatus.KILLED
    gender: Gender | None = None
    age_group: AgeGroup | None = None
    sources: tuple[str, ...] = Field(min_length=1, max_length=1000)
    protected: bool = False
    named: bool = False

    @field_validator("sources", mode="before")
    @classmethod
    def _source_ids(cls, value: object) -> object:
        if not isinstance(value, list | tuple):
            return value
        ids = [canonical_source_id(str(item)) for item in value]
        for item in ids:
            if not _SOURCE_ID.fullmatch(item):
                raise ValueError(sentence("cite a source by its id, such as s1 (not %(text)s)",
                                          text=repr(item[:20])))
        return tuple(ids)

    @model_validator(mode="after")
    def _distinct_sources(self) -> Self:
        if len(set(self.sources)) != len(self.sources):
            raise ValueError(sentence("each source is cited once"))
        return self

    @classmethod
    def of(cls, details: VictimDetails, *, age_group: AgeGroup | None = None,
           **facts: object) -> VictimFacts:
        """The open facts of a victim with these details; the age gives the age group, and an
        age group that contradicts the age is refused."""
        if details.age is not None:
            derived = age_group_of(details.age)
            if age_group is not None and age_group is not derived:
                raise ValueError(sentence("the age given does not fall in the age group %(group)s",
                                          group=age_group))
            age_group = derived
        return cls.model_validate({**facts, "age_group": age_group, "named": details.named})


__all__ = ["CHILD_UNDER", "ELDERLY_FROM", "AgeGroup", "Gender", "VictimDetails",
           "VictimFacts", "VictimStatus", "age_group_of"]

"""Parties named one way: belligerents and countries under their canonical names.

Archives and analysts write one party many ways ("US-led Coalition",
"Coalition", "CJTF-OIR", "التحالف الدولي"). A team records each party once,
with its aliases, as events of the party register; every name or alias, compared
the way people mean it (`text.fold`), then resolves to the canonical name.
A name nobody registered is its own party, compared by its folded form.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate
from pydantic import Field

from verify.domain.errors import InvalidInput, Refused
from verify.domain.sentences import sentence
from verify.domain.text import fold, tidy
from verify.domain.values import MAX_NAME, Value, refuse_nul

REGISTER_ID = uuid.uuid5(uuid.UUID("5b3f7c1e-0f4d-4f0e-9d6b-2a8e1c7d9b30"), "parties")
"""The one party register of a store."""

class PartyNames(Value):
    """Every registered name and alias, by its folded key, with the canonical name it means."""

    canonical_by_key: dict[str, str] = Field(default_factory=dict)

    def canonical(self, name: str) -> str:
        """The registered canonical name, or the name as typed (trimmed) when unregistered."""
        if not self.canonical_by_key:
            return name.strip()
        return self.canonical_by_key.get(fold(name), name.strip())

    def key(self, name: str) -> str:
        """What two names are compared by: the folded canonical name."""
        if not self.canonical_by_key:
            return fold(name)
        return fold(self.canonical(name))

    def same(self, first: str, second: str) -> bool:
        return self.key(first) == self.key(second)

    def spellings(self, name: str) -> set[str]:
        """Every folded spelling that means this party (its name and aliases)."""
        key = self.key(name)
        found = {spelling for spelling, canonical in self.canonical_by_key.items()
                 if fold(canonical) == key}
        return found | {key, fold(name)}


NO_PARTIES = PartyNames()
"""No registered party: every name is its own, compared by its folded form."""


def party_name(text: str, what: str | None = None) -> str:
    """A name as recorded: trimmed, one line, without ';' (which separates names in CSV).

    ``what`` names the value in a refusal (a sentence); a party's name unless said."""
    name = tidy(text)
    named = what if what is not None else sentence("a party's name")
    if not name:
        raise InvalidInput(sentence("%(what)s must not be empty", what=named))
    if len(name) > MAX_NAME:
        raise InvalidInput(sentence("%(what)s must be at most %(most)s characters",
                                    what=named, most=MAX_NAME))
    if ";" in name:
        raise InvalidInput(sentence("%(what)s cannot contain ';': it separates names in CSV files",
                                    what=named))
    return name


class PartyRegister(Aggregate):
    """The store's parties, each with its aliases."""

    class Event(Aggregate.Event):
        """The base of every PartyRegister event. Declared here so the events below
        subclass it directly: the library would otherwise define each one twice."""

    class Opened(Aggregate.Created, Event):
        actor: str

        def apply(self, aggregate: PartyRegister) -> None:
            aggregate.parties = {}

    class PartyAdded(Event):
        name: str
        aliases: list[str]
        actor: str

        def apply(self, aggregate: PartyRegister) -> None:
            aggregate.parties[self.name] = list(self.aliases)

    class AliasesAdded(Event):
        party: str
        aliases: list[str]
        actor: str

        def apply(self, aggregate: PartyRegister) -> None:
            aggregate.parties[self.party] = [*aggregate.parties[self.party], *self.aliases]

    if TYPE_CHECKING:  # set by Opened.apply; annotations here would become __init__ fields
        parties: dict[str, list[str]]

    @classmethod
    def open(cls, actor: str) -> PartyRegister:
        return cls._create(cls.Opened, id=REGISTER_ID, actor=actor)

    def names(self) -> PartyNames:
        """The lookup every comparison of parties uses."""
        by_key: dict[str, str] = {}
        for canonical, aliases in self.parties.items():
            for spelling in (canonical, *aliases):
                by_key.setdefault(fold(spelling), canonical)
        return PartyNames(canonical_by_key=by_key)

    def add(self, name: str, aliases: list[str], actor: str) -> tuple[str, list[str]]:
        """Record a party, or more aliases of a known one; returns (party, aliases added)."""
        typed = party_name(name)
        spellings = [party_name(alias, sentence("an alias")) for alias in aliases]
        refuse_nul([typed, *spellings, actor])
        known = self.names()
        party = known.canonical_by_key.get(fold(typed))
        added: list[str] = []
        for alias in spellings:
            owner = known.canonical_by_key.get(fold(alias))
            if owner is not None and owner != (party or typed):
                raise Refused(sentence("%(alias)s already names the party %(party)s",
                                       alias=alias, party=owner))
            if owner is None and fold(alias) != fold(typed) \
                    and fold(alias) not in {fold(a) for a in added}:
                added.append(alias)
        if party is None:
            self.trigger_event(self.PartyAdded, name=typed, aliases=added, actor=actor)
            return typed, added
        if not added and fold(typed) == fold(party):
            raise Refused(sentence("the party %(party)s is already recorded with these names",
                                   party=party))
        if not added:
            raise Refused(sentence("%(alias)s already names the party %(party)s",
                                   alias=typed, party=party))
        self.trigger_event(self.AliasesAdded, party=party, aliases=added, actor=actor)
        return party, added


__all__ = ["NO_PARTIES", "REGISTER_ID", "PartyNames", "PartyRegister", "party_name"]

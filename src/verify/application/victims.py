"""Victims: recording, correcting, withdrawing and erasing the people an incident harmed.

Personal details are sealed by the store (`VictimKeys`, implemented by each
store's recorder) under a key of the victim's own; the events carry only the
sealed text. Erasing a victim records the erasure and destroys the key, so the
details cannot be read again in this store or any later copy, while the events
and their hash chain stay whole.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

import orjson
from pydantic import ValidationError

from verify.application.messages import validation_sentence
from verify.application.readmodels import ReadModels
from verify.domain.duties import Action
from verify.domain.errors import InvalidInput
from verify.domain.incident import Incident
from verify.domain.sentences import sentence_of
from verify.domain.text import search_key
from verify.domain.victims import AgeGroup, VictimDetails, VictimFacts

PERSONAL = ("name", "name_original", "age", "family", "role", "unread")
"""The details sealed under a victim's key, and erased with it."""

OPEN = ("status", "gender", "age_group", "sources", "protected")
"""What may be given openly about a victim (``named`` follows from the details)."""


class VictimKeys(Protocol):
    """Sealing, opening and erasing victims' details (each store's recorder)."""

    def seal_details(self, details: bytes) -> tuple[str, str]: ...

    def reseal_details(self, key_id: str, details: bytes) -> str | None: ...

    def open_details(self, key_id: str, sealed: str | None) -> bytes | None: ...

    def destroy_key(self, key_id: str) -> bool: ...


def _facts(details: VictimDetails, given: dict[str, Any]) -> VictimFacts:
    age_group = given.get("age_group")
    try:
        return VictimFacts.of(details, age_group=AgeGroup(age_group) if age_group else None,
                              **{k: v for k, v in given.items() if k != "age_group"})
    except ValidationError as error:
        raise InvalidInput(validation_sentence(error)) from None
    except ValueError as error:
        raise InvalidInput(sentence_of(error)) from None


def _details(values: dict[str, Any]) -> VictimDetails:
    try:
        return VictimDetails.model_validate(values)
    except ValidationError as error:
        raise InvalidInput(validation_sentence(error)) from None


def _dumped(details: VictimDetails) -> bytes:
    return orjson.dumps(details.model_dump(mode="json"))


def searched_names(keys: VictimKeys, key_id: str, sealed: str | None) -> list[str]:
    """A victim's names as the search index keeps them; none once the key is destroyed."""
    opened = keys.open_details(key_id, sealed)
    if opened is None:
        return []
    details = VictimDetails.model_validate(orjson.loads(opened))
    return sorted({search_key(name) for name in (details.name, details.name_original) if name})


class Victims(ReadModels):
    """Commands about victims, and their details opened for the views."""

    @property
    def victim_keys(self) -> VictimKeys:
        return cast(VictimKeys, self.recorder)

    def _victim_names(self, key_id: str, sealed: str | None) -> list[str]:
        return searched_names(self.victim_keys, key_id, sealed)

    def add_victim(self, code: str, details: dict[str, Any], facts: dict[str, Any],
                   actor: str, *, expected_version: int | None = None) -> str:
        """Record a victim: ``details`` personal (sealed), ``facts`` open; returns its id."""
        personal = _details(details)
        open_facts = _facts(personal, facts)
        with self.changing(code, actor, Action.RECORD_VICTIMS, expected_version) as incident:
            victim_id = incident.record_victim(
                open_facts, lambda: self.victim_keys.seal_details(_dumped(personal)), actor)
        return victim_id

    def amend_victim(self, code: str, victim_id: str, details: dict[str, Any],
                     facts: dict[str, Any], reason: str, actor: str, *,
                     expected_version: int | None = None) -> list[str]:
        """Change what is given, keep the rest; returns the names of the fields changed."""
        with self.changing(code, actor, Action.RECORD_VICTIMS, expected_version) as incident:
            victim = incident.victim_record(victim_id)
            before = self.victim_details(victim) or VictimDetails()
            personal = _details({**before.model_dump(), **details})
            changed = [name for name in PERSONAL
                       if getattr(personal, name) != getattr(before, name)]
            kept = {name: victim.get(name) for name in OPEN}
            if "age" in details and "age_group" not in facts:
                kept["age_group"] = None  # follows the new age
            open_facts = _facts(personal, {**kept, **facts})
            sealed = self.victim_keys.reseal_details(victim["key"], _dumped(personal)) \
                if changed else None
            changes = incident.amend_victim(victim_id, open_facts, changed, sealed, reason,
                                            actor)
        return [*changed, *changes]

    def withdraw_victim(self, code: str, victim_id: str, reason: str, actor: str, *,
                        expected_version: int | None = None) -> str:
        with self.changing(code, actor, Action.RECORD_VICTIMS, expected_version) as incident:
            return incident.withdraw_victim(victim_id, reason, actor)

    def erase_victim(self, code: str, victim_id: str, reason: str, actor: str, *,
                     expected_version: int | None = None) -> tuple[str, bool]:
        """Record the erasure, then destroy the victim's key (the details go with it).
        Returns the victim's id, and whether no file of the database keeps the deleted
        bytes yet (False: another session held a table; they leave at the next vacuum).

        If destroying the key fails after the erasure is recorded, running the
        command again finishes it: an erased victim's key is destroyed again.
        """
        self.authorize(actor, Action.ERASE)
        incident = self.load(code, expected_version=expected_version)
        victim = incident.victim_record(victim_id)
        if victim["erased"]:
            self.victim_keys.destroy_key(victim["key"])  # finish an interrupted erasure
        erased = incident.erase_victim(victim_id, reason, actor)  # refuses a second one
        self.save_incident(incident)
        self.catch_up()  # the search index forgets the names,
        scrubbed = self.read_model.forget_deleted()  # and no file of it keeps them;
        scrubbed = self.victim_keys.destroy_key(erased["key"]) and scrubbed  # then the key
        return str(erased["id"]), scrubbed

    def victim_details(self, victim: dict[str, Any]) -> VictimDetails | None:
        """A victim's personal details, or None once erased (or never given)."""
        opened = self.victim_keys.open_details(victim["key"], victim.get("sealed"))
        if opened is None:
            return None
        return VictimDetails.model_validate(orjson.loads(opened))

    def victim_documents(self, incident: Incident, *, public: bool = False
                         ) -> list[dict[str, Any]]:
        """Each victim as `show --json` lists it; ``public`` leaves protected ones out."""
        shown = []
        for victim in incident.victims or []:
            if public and victim["protected"]:
                continue
            details = None if victim["erased"] else self.victim_details(victim)
            personal = details.model_dump(mode="json") if details else {
                **dict.fromkeys(PERSONAL), "unread": {}}
            shown.append({"id": victim["id"], **personal,
                          **{name: victim.get(name) for name in OPEN},
                          "named": victim["named"], "withdrawn": victim["withdrawn"],
                          "erased": victim["erased"]})
        return shown

"""Steps of features/victims.feature: recording victims and counting them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.domain import CasualtyRange

from conftest import World, report

scenarios("victims.feature")

_VICTIM = re.compile(r"(?P<status>killed|injured) (?P<named>named|unnamed) (?P<gender>female|male)"
                     r"(?: (?P<age>\d+))?(?: (?P<after>withdrawn|erased))?")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


def _record(world: World, text: str) -> None:
    found = _VICTIM.fullmatch(text.strip())
    assert found is not None, f"not a victim in the tables' notation: {text!r}"
    details: dict[str, Any] = {"name": f"Person {len(world.urls)}-{text[:12]}"} \
        if found["named"] == "named" else {}
    if found["age"] is not None:
        details["age"] = int(found["age"])
    source = world.app.show(world.code).sources[0].id
    victim_id = world.app.add_victim(world.code, details, {
        "status": found["status"], "gender": found["gender"], "sources": [source]}, "ann")
    if found["after"] == "withdrawn":
        world.app.withdraw_victim(world.code, victim_id, "the same person twice", "ann")
    elif found["after"] == "erased":
        world.app.erase_victim(world.code, victim_id, "the family asked", "bob")


@given(parsers.parse("an incident where {killed} civilians were reported killed"))
def incident_killing(world: World, killed: str) -> None:
    report(world.app, world.code, ["Coalition"])
    count = CasualtyRange() if killed == "unknown" else CasualtyRange.parse(killed)
    world.app.revise_harm(world.code, count, None, "as reported", "ann")


@given(parsers.parse("the victims {victims}"))
def victims(world: World, victims: str) -> None:
    for text in victims.split(","):
        _record(world, text)


@when(parsers.parse("someone records a victim citing {source}"))
def try_record(world: World, source: str) -> None:
    world.attempt(lambda: world.app.add_victim(world.code, {"name": "X"},
                                               {"sources": [source]}, "ann"))


@when(parsers.parse('victim {victim} is erased because "{why}"'))
def erase(world: World, victim: str, why: str) -> None:
    world.app.erase_victim(world.code, victim, why, "bob")


@when(parsers.parse("someone amends victim {victim}"))
def try_amend(world: World, victim: str) -> None:
    world.attempt(lambda: world.app.amend_victim(world.code, victim, {"name": "Y"}, {},
                                                 "a better list", "ann"))


@then(parsers.parse("the named killed are {count:d}"))
def named_killed(world: World, count: int) -> None:
    assert world.app.show(world.code).named_killed == count


@then(parsers.parse("victim {victim} is in the age group {group}"))
def age_group(world: World, victim: str, group: str) -> None:
    shown = next(v for v in world.app.show(world.code).victims if v["id"] == victim)
    assert shown["age_group"] == group


@then(parsers.re(r"the casualty figures are (?P<consistency>consistent|inconsistent)"))
def consistency(world: World, consistency: str) -> None:
    assert world.app.show(world.code).casualties_consistent is (consistency == "consistent")


@then(parsers.parse("victim {victim} has no name, age, family or role"))
def erased(world: World, victim: str) -> None:
    shown = next(v for v in world.app.show(world.code).victims if v["id"] == victim)
    assert shown["erased"] is True
    assert all(shown[key] is None for key in ("name", "name_original", "age", "family", "role"))

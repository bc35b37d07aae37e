"""Steps of features/workflow.feature that only the workflow needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.domain import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    Credibility,
    DisputeOutcome,
    Grade,
    Reliability,
    Source,
    StrikeConfirmation,
)

import notation
from conftest import World, report

scenarios("workflow.feature")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


# ------------------------------------------------------------ situations


def _ensure_source(world: World) -> None:
    if not world.app.show(world.code).sources:
        world.add_source("B", 2)


@given(parsers.re(r"the incident is (?P<situation>just reported|graded|disputed|a duplicate)$"))
def situation(world: World, situation: str) -> None:
    if situation == "just reported":
        return
    if situation == "a duplicate":
        report(world.app, "CS2", ["Coalition"])
        world.app.mark_duplicate(world.code, "CS2", "ann")
        return
    _ensure_source(world)
    world.app.grade(world.code, "bob")
    if situation == "disputed":
        world.app.dispute(world.code, "Coalition", "denies civilian presence", "bob")


# ----------------------------------------------------------------- actions


@when(parsers.parse("a source rated {rating} is added"))
def add_source(world: World, rating: str) -> None:
    world.add_source(rating[0], int(rating[1]))


@when(parsers.parse("source {source_id} is re-rated {rating}"))
def rerate(world: World, source_id: str, rating: str) -> None:
    world.app.rerate_source(world.code, source_id, Reliability(rating[0]),
                            Credibility(int(rating[1])), "new information", "ann")


@when(parsers.parse("a strike is recorded: {strike}"))
def record_strike(world: World, strike: str) -> None:
    confirmation = notation.strike(strike)
    assert confirmation is not None
    world.app.confirm_strike(world.code, confirmation, "ann")


@when("the incident is graded")
def grade(world: World) -> None:
    world.app.grade(world.code, "bob")


@when(parsers.parse('the grade is disputed by "{by}" because "{reason}"'))
def dispute(world: World, by: str, reason: str) -> None:
    world.app.dispute(world.code, by, reason, "carol")


@when(parsers.re(r'the dispute is (?P<outcome>upheld|dismissed) because "(?P<why>.+)"'))
def resolve(world: World, outcome: str, why: str) -> None:
    world.app.resolve(world.code, DisputeOutcome(outcome), why, "dan")


@when(parsers.parse("a finding is recorded: {finding}"))
def record_finding(world: World, finding: str) -> None:
    parsed = notation.finding(finding)
    assert parsed is not None
    world.app.discount(world.code, parsed, "ann")


@when(parsers.parse("the incident is marked a duplicate of {code}"))
def mark_duplicate(world: World, code: str) -> None:
    world.app.mark_duplicate(world.code, code, "ann")


@given(parsers.parse('the civilians killed were revised to {count} because "{reason}"'))
@when(parsers.parse('the civilians killed are revised to {count} because "{reason}"'))
def revise(world: World, count: str, reason: str) -> None:
    world.app.revise_harm(world.code, CasualtyRange.parse(count), None, reason, "ann")


REFUSABLE: dict[str, Callable[[World], Any]] = {
    "grade it": lambda w: w.app.grade(w.code, "bob"),
    "dispute the grade": lambda w: w.app.dispute(w.code, "x", "y", "bob"),
    "resolve a dispute": lambda w: w.app.resolve(w.code, DisputeOutcome.DISMISSED, "y", "bob"),
    "override the grade": lambda w: w.app.override_grade(w.code, Grade.FAIR, "because", "bob"),
    "report it again": lambda w: report(w.app, w.code, ["Coalition"]),
    "mark it a duplicate of itself": lambda w: w.app.mark_duplicate(w.code, w.code, "bob"),
    "record a strike by Russia": lambda w: w.app.confirm_strike(
        w.code, StrikeConfirmation(belligerent="Russia", status="declared"), "bob"),
    "record an assessment by Russia": lambda w: w.app.assess(
        w.code, Assessment(belligerent="Russia", outcome="credible"), "bob"),
    "contest it by Coalition": lambda w: w.app.contest(
        w.code, CompetingClaim(belligerent="Coalition", reason="x"), "bob"),
    "add the same source again": lambda w: w.app.add_source(
        w.code, Source(url=w.urls[0], publisher="again", kind="media"), "bob"),
    "withdraw source s9": lambda w: w.app.withdraw_source(w.code, "s9", "x", "bob"),
    "add a source": lambda w: w.app.add_source(
        w.code, Source(url="https://example.org/new", publisher="p", kind="ngo"), "bob"),
    "mark it a duplicate of CS3": lambda w: (
        report(w.app, "CS3", ["Coalition"]), w.app.mark_duplicate(w.code, "CS3", "bob")),
    "mark it a duplicate of a duplicate": lambda w: (
        report(w.app, "CS4", ["Coalition"]), report(w.app, "CS5", ["Coalition"]),
        w.app.mark_duplicate("CS4", "CS5", "bob"), w.app.mark_duplicate(w.code, "CS4", "bob")),
    "revise nothing": lambda w: w.app.revise_harm(
        w.code, CasualtyRange(min=3, max=5), CasualtyRange(), "same", "bob"),
}


@when(parsers.parse("someone tries to {command}"))
def try_command(world: World, command: str) -> None:
    world.attempt(lambda: REFUSABLE[command](world))


# ---------------------------------------------------------------- outcomes


@then(parsers.parse("corroboration named sources {ids}"))
def corroboration_named(world: World, ids: str) -> None:
    assert world.app.show(world.code).corroborated_by == notation.ids(ids)


@then("it has no grade")
def no_grade(world: World) -> None:
    view = world.app.show(world.code)
    assert view.grade is None and view.grading is None


@then(parsers.parse("the incident is a duplicate of {code}"))
def is_duplicate(world: World, code: str) -> None:
    assert world.app.show(world.code).duplicate_of == code


@then(parsers.parse("the civilians killed are {count}"))
def killed_are(world: World, count: str) -> None:
    expected = CasualtyRange.parse(count)
    assert world.app.show(world.code).civilians_killed == expected.model_dump()

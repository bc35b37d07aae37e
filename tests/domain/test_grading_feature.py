"""The rulebook's decision tables (features/grading.feature), bound to the domain directly.

The Given steps are the ones every feature shares (tests/conftest.py); here
they change in-memory `Incident` aggregates (tests/cases.py): no application,
no store, so the tables run at the speed of the rules themselves.
"""

from __future__ import annotations

import re

import pytest
from pytest_bdd import parsers, scenarios, then, when

from verify.domain import Grade

from cases import InMemoryCases
from conftest import World

scenarios("grading.feature")


@pytest.fixture
def world() -> World:
    """A world whose incidents are aggregates in memory (replaces the stored one)."""
    return World(app=InMemoryCases())  # type: ignore[arg-type]


@when(parsers.parse('a reviewer overrides the grade to {grade} because "{rationale}"'))
def override(world: World, grade: str, rationale: str) -> None:
    world.attempt(lambda: world.app.override_grade(world.code, Grade(grade), rationale, "rev"))


@when(parsers.parse("a reviewer overrides the grade to {grade} without a rationale"))
def override_without_rationale(world: World, grade: str) -> None:
    world.attempt(lambda: world.app.override_grade(world.code, Grade(grade), "  ", "rev"))


@when("the rulebook is asked for a suggestion")
def ask_suggestion(world: World) -> None:
    world.attempt(lambda: world.app.suggest_grade(world.code))


@then(parsers.parse("the suggestion is {grade} by rule {rule}"))
def suggestion_is(world: World, grade: str, rule: str) -> None:
    assert world.result.grade == grade
    assert world.result.rule == rule
    assert world.result.reasons


@then(parsers.re(r"the grade relied on sources (?P<ids>[s0-9, ]+?)"
                 r"(?: and a (?P<status>\w+) strike by (?P<belligerent>.+))?$"))
def relied_on(world: World, ids: str, status: str | None, belligerent: str | None) -> None:
    grading = world.app.show(world.code).grading
    assert grading is not None
    assert list(grading["evidence"]["sources"]) == [i.strip() for i in ids.split(",")]
    if status is not None:
        assert grading["evidence"]["strike"]["status"] == status
        assert grading["evidence"]["strike"]["belligerent"] == belligerent


@then(parsers.parse("the grade was made under rulebook {version}"))
def under_rulebook(world: World, version: str) -> None:
    grading = world.app.show(world.code).grading
    assert grading is not None and grading["rulebook"] == version


@then(parsers.parse('the reasons mention "{text}"'))
def reasons_mention(world: World, text: str) -> None:
    grading = world.app.show(world.code).grading
    assert grading is not None
    assert any(text in reason for reason in grading["reasons"])


@then(parsers.parse("the grade is marked as an override of the rulebook's {grade}"))
def marked_override(world: World, grade: str) -> None:
    grading = world.app.show(world.code).grading
    assert grading is not None
    assert grading["override"] is True
    assert grading["rulebook_grade"] == grade


@then(parsers.parse('the rationale reads "{text}"'))
def rationale_reads(world: World, text: str) -> None:
    grading = world.app.show(world.code).grading
    assert grading is not None and grading["rationale"] == text
    assert re.fullmatch(r"\w+", grading["by"])

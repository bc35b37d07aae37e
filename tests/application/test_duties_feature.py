"""Steps of features/duties.feature: a team, its roles, proposals and approvals.

The Given steps shared with the other features set up the record without a
team (as it stood before anyone here acted); each team member's action runs
with the team in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.domain import DisputeOutcome, Grade, Source, StrikeConfirmation

from conftest import TEAMS, World, act, done

scenarios("duties.feature")

@pytest.fixture(autouse=True)
def on_each_store(world: World) -> Iterator[World]:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    yield world
    TEAMS.pop(id(world), None)


@given("separation of duties is turned off")
def duties_off(world: World) -> None:
    TEAMS[id(world)] = TEAMS[id(world)].model_copy(update={"separation_of_duties": False})


# ------------------------------------------------------------- member actions


def grade_it(world: World, member: str) -> Callable[[], Any]:
    return lambda: world.app.grade(world.code, member)


def approve(world: World, member: str) -> Callable[[], Any]:
    return lambda: world.app.approve(world.code, member)


def resolve(world: World, member: str) -> Callable[[], Any]:
    return lambda: world.app.resolve(world.code, DisputeOutcome.DISMISSED, "stands", member)


CHANGES: dict[str, Callable[[World, str], Callable[[], Any]]] = {
    "grade it": grade_it,
    "approve the grade": approve,
    "record a strike": lambda w, m: lambda: w.app.confirm_strike(
        w.code, StrikeConfirmation(belligerent="Coalition", status="declared"), m),
    "override the grade": lambda w, m: lambda: w.app.override_grade(
        w.code, Grade.WEAK, "one source is a repost", m),
    "add a source": lambda w, m: lambda: w.app.add_source(
        w.code, Source(url="https://example.org/x", publisher="X", kind="media"), m),
    "add a note": lambda w, m: lambda: w.app.add_note(w.code, "called the hospital", m),
}


@given(parsers.re(r"(?P<member>\w+) has graded it$"))
def has_graded(world: World, member: str) -> None:
    done(world, grade_it(world, member))


@given(parsers.re(r"(?P<member>\w+) has approved the grade$"))
def has_approved(world: World, member: str) -> None:
    done(world, approve(world, member))


@given(parsers.re(r"(?P<member>\w+) has disputed the grade$"))
def has_disputed(world: World, member: str) -> None:
    done(world, lambda: world.app.dispute(world.code, "Coalition", "denies it", member))


@given(parsers.parse("source {source_id} has been withdrawn"))
def source_withdrawn(world: World, source_id: str) -> None:
    world.app.withdraw_source(world.code, source_id, "the post was deleted", "ann")


@when(parsers.re(r"(?P<member>\w+) grades it$"))
def member_grades(world: World, member: str) -> None:
    act(world, grade_it(world, member))


@when(parsers.re(r"(?P<member>\w+) approves the grade$"))
def member_approves(world: World, member: str) -> None:
    act(world, approve(world, member))


@when(parsers.re(r"(?P<member>\w+) resolves the dispute$"))
def member_resolves(world: World, member: str) -> None:
    act(world, resolve(world, member))


@when(parsers.re(r'(?P<member>\w+) overrides the grade to (?P<grade>\w+) because "(?P<why>.+)"'))
def member_overrides(world: World, member: str, grade: str, why: str) -> None:
    act(world, lambda: world.app.override_grade(world.code, Grade(grade), why, member))


@when(parsers.re(r"(?P<member>\w+) tries to (?P<change>.+)$"))
def member_tries(world: World, member: str, change: str) -> None:
    act(world, CHANGES[change](world, member))


# ----------------------------------------------------------------- outcomes


@then(parsers.re(r"grade (?P<grade>\w+) is proposed by (?P<member>\w+)"))
def proposed_by(world: World, grade: str, member: str) -> None:
    assert world.error is None, f"refused: {world.error}"
    view = world.app.show(world.code)
    assert view.grade is None
    assert view.proposal is not None
    assert (view.proposal["grade"], view.proposal["by"]) == (grade, member)


@then(parsers.parse("the grade was approved by {member}"))
def approved_by(world: World, member: str) -> None:
    view = world.app.show(world.code)
    assert view.grading is not None and view.grading.get("approved_by") == member
    assert view.proposal is None


@then(parsers.parse('the queue says "{sentence}"'))
def queue_says(world: World, sentence: str) -> None:
    world.app.catch_up()
    waiting = {entry["code"]: entry["waiting_for"] for entry in world.app.queue()}
    assert waiting[world.code] == sentence


@then(parsers.parse("its history says the grade took effect as proposed by {proposer} and "
                   "approved by {approver}"))
def took_effect(world: World, proposer: str, approver: str) -> None:
    graded = [entry for entry in world.app.history(world.code) if entry.event == "Graded"][-1]
    assert f"proposed by {proposer} at " in graded.what, graded.what
    assert f"approved by {approver} at " in graded.what, graded.what


@then(parsers.parse('its history ends "{events}"'))
def history_ends(world: World, events: str) -> None:
    wanted = [name.strip() for name in events.split(",")]
    recorded = [entry.event for entry in world.app.history(world.code)]
    assert recorded[-len(wanted):] == wanted, recorded

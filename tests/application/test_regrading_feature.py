"""Steps of features/regrading.feature."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.application.auditing import Auditor, rulebook_named

from conftest import World

scenarios("regrading.feature")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


@given("the incident is graded by the rulebook in force")
def graded_now(world: World) -> None:
    world.app.grade(world.code, "bob")


@when(parsers.parse("history is re-graded under rulebook {version}"))
def regrade(world: World, version: str) -> None:
    world.version_before = world.version()
    world.result = Auditor(world.app, "test").regrade(rulebook_named(version))


@then(parsers.parse("the grade would change from {before} to {after} by rule {rule}"))
def would_change(world: World, before: str, after: str, rule: str) -> None:
    assert world.app.show(world.code).grade == before
    changes = {change["code"]: change for change in world.result["changes"]}
    change = changes[world.code]
    assert (change["from"], change["to"], change["rule"]) == (before, after, rule)
    assert world.result["by_change"] == {f"{before} -> {after}": 1}


@then(parsers.parse("the grade would stay {grade}"))
def would_stay(world: World, grade: str) -> None:
    assert world.app.show(world.code).grade == grade
    assert world.result["changes"] == []
    assert (world.result["compared"], world.result["unchanged"]) == (1, 1)

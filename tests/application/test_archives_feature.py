"""Steps of features/archives.feature: one archive row through the import, on each store."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.application.importing import Importer, Outcome, Status, validate_row
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.domain.values import CasualtyRange

import notation
from conftest import World

scenarios("archives.feature")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


def good_row() -> dict[str, Any]:
    return {"code": "CS1", "date": "2017-03-17", "country": "Syria",
            "location": {"name": "Raqqa", "lat": 35.95, "lon": 39.01},
            "belligerents": ["US-led Coalition"],
            "sources": [{"url": "https://example.org/1", "publisher": "RBSS", "kind": "media",
                         "reliability": "B", "credibility": 2}]}


def _set(row: dict[str, Any], field: str, value: Any) -> None:
    """Put one value where the table's field name says."""
    if field == "place":
        row["location"]["name"] = value
    elif field == "longitude":
        row["location"]["lon"] = value
    elif field == "civilians killed":
        row["civilians_killed"] = value
    elif field.startswith("source "):
        row["sources"][0][field.removeprefix("source ")] = value
    elif field.startswith("a column "):
        row[field.removeprefix("a column ").strip('"')] = value
    else:
        row[field] = value


@given("an archive row", target_fixture="row")
def archive_row() -> dict[str, Any]:
    return good_row()


@given(parsers.parse("its {field} is {value}"), target_fixture="change")
def its_value(row: dict[str, Any], field: str, value: str) -> tuple[str, str]:
    typed = "" if value == "(blank)" else value
    _set(row, field, typed)
    return field, typed


@given(parsers.parse("its belligerents are {names}"))
def its_belligerents(row: dict[str, Any], names: str) -> None:
    row["belligerents"] = [notation.typed(name.strip()) for name in names.split(";")]


@given("it is graded fair but has no source")
def graded_without_source(row: dict[str, Any]) -> None:
    row["sources"] = []
    row["grade"] = {"grade": "fair", "rationale": "graded by the archive"}


@given(parsers.parse("it has a strike declared by {party}"))
def strike_by(row: dict[str, Any], party: str) -> None:
    row["strike"] = {"status": "declared", "belligerent": party}


@when("the row is imported", target_fixture="outcome")
def import_row(world: World, row: dict[str, Any]) -> Outcome:
    intake = Intake(today=today_utc(), parties=world.app.party_names())
    parsed = validate_row(1, json.loads(json.dumps(row)), intake)
    outcomes = list(Importer(world.app, "importer", parties=intake.parties).run([parsed]))
    assert len(outcomes) == 1
    return outcomes[0]


def _stored(world: World) -> dict[str, Any]:
    return world.app.show("CS1").model_dump(mode="json")


def _read_as(stored: dict[str, Any], field: str) -> str:
    """The recorded value of a field, as the table writes it."""
    if field == "date":
        return str(stored["date"])
    if field == "civilians killed":
        return str(CasualtyRange.model_validate(stored["civilians_killed"]))
    if field == "summary":
        return stored["summary"] or "unknown"
    if field == "belligerents":
        return ", ".join(stored["belligerents"]) or "unknown"
    if field.startswith("source "):
        return str(stored["sources"][0][field.removeprefix("source ")])
    raise AssertionError(f"no reading for {field}")


def _kept(stored: dict[str, Any], where: str) -> Any:
    """The value kept verbatim at a path such as sources[0].unread or civilians_killed.text."""
    value: Any = stored
    for part in where.replace("[", ".").replace("]", "").split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


@then(parsers.re(r"the row is (?P<expected>refused|read as|kept verbatim) (?P<where>[^\"]+)$"))
def row_outcome(world: World, outcome: Outcome, change: tuple[str, str], expected: str,
                where: str) -> None:
    field, value = change
    if expected == "refused":
        assert outcome.status is Status.INVALID, outcome
        assert outcome.message.startswith(f"{where}:"), outcome.message
        assert world.app.count_incidents() == 0
        return
    assert outcome.status is Status.IMPORTED, outcome
    stored = _stored(world)
    if expected == "read as":
        assert _read_as(stored, field) == where
        assert outcome.warnings == (), outcome.warnings
        return
    kept = _kept(stored, where)
    assert any(value in str(text) for text in (kept.values() if isinstance(kept, dict)
                                               else [kept])), (kept, value)
    assert outcome.warnings, "a value kept verbatim is always warned about"


@then(parsers.parse('the row is refused because "{because}"'))
def refused_because(world: World, outcome: Outcome, because: str) -> None:
    assert outcome.status is Status.REFUSED, outcome
    assert because in outcome.message, outcome.message
    assert world.app.count_incidents() == 0


@then(parsers.parse("the incident alleges {names}"))
def alleges(world: World, names: str) -> None:
    expected = [notation.typed(name.strip()) for name in names.split(",")]
    assert _stored(world)["belligerents"] == expected

"""Steps of features/corrections.feature: amendments, retractions, re-grading due, known-on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.application.casework import Amendment
from verify.domain import Grade, Source, StrikeConfirmation

import notation
from conftest import World

scenarios("corrections.feature")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


def _amendment(what: str, value: str) -> Amendment:
    """'date', '2017-03-21' and the like, as the tables write an amendment."""
    if what == "date":
        return Amendment(date=dt.date.fromisoformat(value))
    if what == "last day":
        return Amendment(date_end=dt.date.fromisoformat(value))
    if what == "belligerents":
        return Amendment(belligerents=notation.belligerents(value))
    if what == "place":
        return Amendment(location=value)
    raise AssertionError(f"no such amendment in the tables: {what}")


# ------------------------------------------------------------ situations


@given(parsers.re(r"the incident is (?P<recorded>graded|overridden to (?P<grade>\w+) "
                  r'because "(?P<why>.+)"|given the imported grade (?P<imported>\w+))$'))
def graded(world: World, recorded: str, grade: str | None, why: str | None,
           imported: str | None) -> None:
    if recorded == "graded":
        world.app.grade(world.code, "bob")
    elif grade is not None and why is not None:
        world.app.override_grade(world.code, Grade(grade), why, "bob")
    else:
        incident = world.app.load(world.code)
        incident.record_imported_grade(Grade(imported), None, "as the archive had it", "import")
        world.app.save_incident(incident)


@given(parsers.parse("the incident is marked a duplicate of {code}"))
def marked_duplicate(world: World, code: str) -> None:
    world.app.mark_duplicate(world.code, code, "ann")


@given(parsers.parse("a source rated {rating} published on {day}"))
def dated_source(world: World, rating: str, day: str) -> None:
    url = f"https://example.org/{world.code}/{len(world.urls) + 1}"
    world.urls.append(url)
    world.app.add_source(world.code, Source(
        url=url, publisher=f"Publisher {len(world.urls)}", kind="media",
        reliability=rating[0], credibility=int(rating[1]),
        published=dt.date.fromisoformat(day)), "ann")


@given(parsers.parse("a strike {status} by {belligerent}, reported on {day}"))
def reported_strike(world: World, status: str, belligerent: str, day: str) -> None:
    world.app.confirm_strike(world.code, StrikeConfirmation(
        belligerent=belligerent, status=status, reported=dt.date.fromisoformat(day)), "ann")


# ----------------------------------------------------------------- actions


@when(parsers.re(r'its (?P<what>date|belligerents) (?:is|are) amended to (?P<value>.+) '
                 r'because "(?P<why>.+)"'))
def amend(world: World, what: str, value: str, why: str) -> None:
    world.app.amend(world.code, _amendment(what, value), why, "ann")


@when(parsers.re(r"someone amends its (?P<what>date|last day|belligerents|place) to "
                 r"(?P<value>.+)$"))
def try_amend(world: World, what: str, value: str) -> None:
    world.attempt(lambda: world.app.amend(world.code, _amendment(what, value), "checked",
                                          "ann"))


@when(parsers.re(r'(?P<item>[kcaf]\d+) is retracted because "(?P<why>.+)"'))
def retract(world: World, item: str, why: str) -> None:
    world.app.retract(world.code, item, why, "ann")


@when("a note is added")
def add_note(world: World) -> None:
    world.app.add_note(world.code, "called the hospital", "ann")


@when(parsers.parse("a source rated {rating} is added"))
def add_source(world: World, rating: str) -> None:
    world.add_source(rating[0], int(rating[1]))


@when("someone tries to add a note")
def try_note(world: World) -> None:
    world.attempt(lambda: world.app.add_note(world.code, "still here", "ann"))


@when(parsers.parse('the duplicate mark is taken back because "{why}"'))
def undo_duplicate(world: World, why: str) -> None:
    world.app.undo_duplicate(world.code, why, "bob")


@when("the incidents that wait for re-grading are re-graded")
def regrade_due(world: World) -> None:
    summary = world.app.grade_all("bob", due=True)
    assert summary.graded == 1, summary


# ---------------------------------------------------------------- outcomes


@then(parsers.parse("its date is {day}"))
def date_is(world: World, day: str) -> None:
    assert world.app.show(world.code).date == day


@then(parsers.parse("as it stood before the amendment its date was {day}"))
def date_before(world: World, day: str) -> None:
    amended = world.app.show(world.code).version
    assert world.app.show(world.code, version=amended - 1).date == day


@then(parsers.parse("the grade is still {grade}"))
def grade_still(world: World, grade: str) -> None:
    assert world.app.show(world.code).grade == grade


@then(parsers.re(r"re-grading is (?P<due>not due|due: the rulebook now says (?P<now>\w+))$"))
def regrading(world: World, due: str, now: str | None) -> None:
    view = world.app.show(world.code)
    if now is None:
        assert not view.regrade_due and view.regrade is None, view.regrade
    else:
        assert view.regrade_due and view.regrade is not None
        assert view.regrade["grade"] == now


@then(parsers.parse("{item} is shown as retracted"))
def shown_retracted(world: World, item: str) -> None:
    view = world.app.show(world.code)
    listed = {"k": view.strikes, "c": view.contested_by, "a": view.assessments,
              "f": view.discounts}[item[0]]
    shown = next(entry for entry in listed if entry["id"] == item)
    assert shown["retracted"] is True and shown["retraction"]["reason"]


@then("the queue lists the incident as waiting for re-grading")
def queued(world: World) -> None:
    world.app.catch_up()
    entry = next(entry for entry in world.app.queue() if entry.code == world.code)
    assert entry.state == "graded" and entry.waiting_for.startswith("re-grading"), entry


@then(parsers.parse("{code} lists the incident among its duplicates"))
def lists_duplicate(world: World, code: str) -> None:
    world.app.catch_up()
    assert world.app.show(code).duplicates == [world.code]


@then(parsers.parse("{code} lists no duplicates"))
def lists_none(world: World, code: str) -> None:
    world.app.catch_up()
    assert world.app.show(code).duplicates == []


@then("the incident is no longer a duplicate")
def not_duplicate(world: World) -> None:
    assert world.app.show(world.code).duplicate_of is None


_KNOWN = re.compile(r"(?P<grade>\w+) by rule (?P<rule>\w+)")


@then(parsers.parse("known on {day} the rulebook would have graded it {grade}"))
def known_on(world: World, day: str, grade: str) -> None:
    known = world.app.known_on(world.code, dt.date.fromisoformat(day))
    assert known.known_on == day
    expected = _KNOWN.fullmatch(grade)
    if expected is None:
        assert known.suggested_grade is None and known.rule is None
        return
    assert (known.suggested_grade, known.rule) == (expected["grade"], expected["rule"]), \
        known.reasons

"""Steps of features/matching.feature."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.adapters.strike_files import load_gazetteer
from verify.application.strike_reports import StrikeReports
from verify.domain import CasualtyRange, Location
from verify.domain.strikes import StrikeReportRecord

from conftest import World

scenarios("matching.feature")


@pytest.fixture(autouse=True)
def on_each_store(world: World) -> World:
    """Run every scenario on each kind of store (the world's app is parametrised)."""
    return world


def reported(world: World, code: str, day: str, belligerent: str, place: Location) -> None:
    world.app.report_incident(
        code=code, date=dt.date.fromisoformat(day), country="Syria", location=place,
        belligerents=[belligerent], killed=CasualtyRange(min=2, max=2),
        injured=CasualtyRange(), summary=None, actor="ann",
    )


@given(parsers.parse("an incident near Raqqa on {day} alleging {belligerent}"))
def incident_near_raqqa(world: World, day: str, belligerent: str) -> None:
    reported(world, world.code, day, belligerent, Location(name="Raqqa", lat=35.95, lon=39.01))


@given(parsers.parse("an incident {code} in {town} on {day} alleging {belligerent}, "
                     "without coordinates"))
def incident_in_town(world: World, code: str, town: str, day: str, belligerent: str) -> None:
    reported(world, code, day, belligerent, Location(name=town))


@given(parsers.parse('a strike report "{reference}" by {belligerent} on {day} at {place}'))
def strike_report(world: World, reference: str, belligerent: str, day: str, place: str) -> None:
    if place.startswith("the town "):
        where: dict[str, object] = {"place": place.removeprefix("the town ")}
    else:
        lat, lon = (float(part) for part in place.split(","))
        where = {"lat": lat, "lon": lon}
    record = StrikeReportRecord.model_validate(
        {"reference": reference, "belligerent": belligerent, "strike_date": day, **where})
    outcomes = list(StrikeReports(world.app).import_rows([(1, record, None)], "ann"))
    assert outcomes[0].status == "imported"


@when(parsers.re(r"strike reports are matched within (?P<radius>[\d.]+) km and "
                 r"(?P<days>\d+) day(?P<applied>, and applied)?$"))
def matched(world: World, radius: str, days: str, applied: str | None) -> None:
    world.version_before = world.version()
    service = StrikeReports(world.app)
    found, _ = service.candidates(load_gazetteer(None), radius_km=float(radius), days=int(days))
    world.result = found
    if applied:
        service.apply(found, "jonas")


def _matches(world: World, code: str) -> list[tuple[str, float, int]]:
    return [(c.report, c.distance_km, c.day_offset) for c in world.result if c.incident == code]


@then(parsers.re(r"(?:the incident|incident (?P<code>\w+)) matches (?P<report>\S+) at "
                 r"(?P<distance>[\d.]+) km, (?P<offset>[+-]\d+) day$"))
def matches(world: World, code: str | None, report: str, distance: str, offset: str) -> None:
    found = _matches(world, code or world.code)
    assert found, "no match"
    assert found[0] == (report, float(distance), int(offset))


@then("the incident has no match")
def no_match(world: World) -> None:
    assert _matches(world, world.code) == []


@then(parsers.parse("the candidates are {order}"))
def candidates_in_order(world: World, order: str) -> None:
    assert [report for report, _, _ in _matches(world, world.code)] == [
        name.strip() for name in order.split(",")]


@then(parsers.parse("its strike is likely, from report {reference}, {distance} km away, "
                    "with the matching rule"))
def strike_recorded(world: World, reference: str, distance: str) -> None:
    strikes = world.app.show(world.code).strikes
    assert len(strikes) == 1
    strike = strikes[0]
    assert (strike["status"], strike["report"], strike["distance_km"]) == (
        "likely", reference, float(distance))
    assert strike["rule"].startswith("MATCH: same belligerent, within 15 km and 1 day")
    history = world.app.history(world.code)
    assert history[-1].actor == "jonas" and "matched by MATCH" in history[-1].what

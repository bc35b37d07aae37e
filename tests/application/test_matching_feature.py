"""Steps of features/matching.feature."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from verify.adapters.gazetteer import load_gazetteer
from verify.application.strike_reports import Placed, StrikeReports
from verify.domain import CasualtyRange, Location
from verify.domain.strikes import StrikeReportRecord
from verify.domain.values import Precision

from conftest import World

scenarios("matching.feature")

COUNTRY_CODES = {"Syria": "SY", "Iraq": "IQ"}


@pytest.fixture
def own_places() -> list[Path]:
    """The gazetteer files a scenario adds to the built-in gazetteer."""
    return []


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


@given(parsers.re(r'an incident (?P<code>\w+) at "(?P<location>[^"]+)" in (?P<country>[^,]+) '
                  r'on (?P<day>[\d-]+) alleging (?P<belligerent>\w+)'
                  r'(?:, at (?P<lat>[\d.]+), (?P<lon>[\d.]+) exactly)?$'))
def incident_named(world: World, code: str, location: str, country: str, day: str,
                   belligerent: str, lat: str | None, lon: str | None) -> None:
    world.app.report_incident(
        code=code, date=dt.date.fromisoformat(day), country=country,
        location=Location(name=location, lat=float(lat) if lat else None,
                          lon=float(lon) if lon else None,
                          precision=Precision.EXACT if lat else None),
        belligerents=[belligerent], killed=CasualtyRange(min=2, max=2),
        injured=CasualtyRange(), summary=None, actor="ann")


@given(parsers.re(r"our gazetteer file adds the village (?P<name>[^(]+) \((?P<arabic>[^)]+)\) "
                  r"at (?P<lat>[\d.]+), (?P<lon>[\d.]+)$"))
def own_gazetteer(own_places: list[Path], tmp_path: Path, name: str, arabic: str, lat: str,
                  lon: str) -> None:
    file = tmp_path / "our-places.csv"
    file.write_text(f"name,alternate_names,lat,lon\n{name},{arabic},{lat},{lon}\n",
                    encoding="utf-8")
    own_places.append(file)


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
def matched(world: World, own_places: list[Path], radius: str, days: str,
            applied: str | None) -> None:
    world.version_before = world.version()
    service = StrikeReports(world.app)
    found, _ = service.candidates(load_gazetteer(own_places), radius_km=float(radius),
                                  days=int(days))
    world.result = found
    if applied:
        service.apply(found, "jonas")


@when("the incidents are placed for matching", target_fixture="placed")
def placed_for_matching(world: World, own_places: list[Path]) -> Placed:
    return StrikeReports(world.app).placed(load_gazetteer(own_places))


def _matches(world: World, code: str) -> list[tuple[str, float | None, int]]:
    return [(c.report, c.distance_km, c.day_offset) for c in world.result if c.incident == code]


@then(parsers.re(r"(?:the incident|incident (?P<code>\w+)) matches (?P<report>\S+) at "
                 r"(?P<distance>[\d.]+) km(?: ± (?P<uncertainty>[\d.]+) km)?, "
                 r"(?P<offset>[+-]\d+) day$"))
def matches(world: World, code: str | None, report: str, distance: str,
            uncertainty: str | None, offset: str) -> None:
    found = [c for c in world.result if c.incident == (code or world.code)]
    assert found, "no match"
    best = found[0]
    assert (best.report, best.distance_km, best.day_offset) == (
        report, float(distance), int(offset))
    assert best.placed is not None
    assert best.placed.uncertainty_km == (float(uncertainty) if uncertainty else None)


@then(parsers.re(r'incident (?P<code>\w+) is at (?P<place>[^,]+), (?P<country>[^,]+), '
                 r'named by "(?P<named>[^"]+)"$'))
def placed_at(placed: Placed, code: str, place: str, country: str, named: str) -> None:
    located = {incident.key: incident for incident in placed.incidents}
    assert code in located, placed.incidents_not_placed
    placing = located[code].placing
    assert (placing.by, placing.place, placing.named) == ("gazetteer", place, named)
    assert (placing.country or "no country given") == COUNTRY_CODES.get(country, country)


@then(parsers.re(r"incident (?P<code>\w+) is not placed: (?P<reason>.+)$"))
def not_placed(placed: Placed, code: str, reason: str) -> None:
    unplaced = {item["code"]: item for item in placed.incidents_not_placed}
    assert unplaced[code]["reason"] == f"no coordinates, and {reason}"


@then(parsers.re(r'incident (?P<code>\w+) has a likely strike from report "(?P<report>[^"]+)", '
                 r'its history saying "(?P<said>[^"]+)"$'))
def strike_said(world: World, code: str, report: str, said: str) -> None:
    (strike,) = world.app.show(code).strikes
    assert (strike["status"], strike["report"]) == ("likely", report)
    entry = world.app.history(code)[-1]
    assert f"({report}), {said}, +0 day(s), matched by MATCH" in entry.what


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

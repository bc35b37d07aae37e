"""`verify strikes ...`: belligerents' strike reports, and matching them to incidents."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from verify.entrypoints.cli.support import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    FiniteRange,
    Session,
    emit_json,
    json_option,
    pass_session,
    say,
)

DEFAULT_RADIUS_KM = 15.0
DEFAULT_DAYS = 1
SHOWN_UNPLACED = 20
"""How many unplaced incidents (and reports) the human output names; --json lists all."""

gazetteer_option = click.option(
    "--gazetteer", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="VERIFY_GAZETTEER",
    help="A file of places to add to the built-in gazetteer (GeoNames' towns of Syria, Iraq "
    "and more): CSV (name,alternate_names,lat,lon[,country]) or GeoNames' tab-separated "
    "format [default: env VERIFY_GAZETTEER, else none].",
)


@click.group()
def strikes() -> None:
    """Belligerents' strike reports, and matching them to incidents."""


@strikes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_session
def strikes_import(session: Session, file: Path, as_json: bool) -> None:
    """Import strike reports from FILE (.jsonl or .csv), one report per line.

    Each row needs reference, belligerent, strike_date, and a place or lat and
    lon. A report already recorded is compared, never changed. Exit codes as
    for `verify import`.
    """
    from verify.adapters.strike_files import read_reports
    from verify.application.importing import Status
    from verify.application.strike_reports import StrikeReports

    tally: Counter[Status] = Counter()
    problems = []
    for outcome in StrikeReports(session.app()).import_rows(read_reports(file), session.actor):
        tally[outcome.status] += 1
        if outcome.status not in (Status.IMPORTED, Status.UNCHANGED):
            say(f"line {outcome.line}: {outcome.message}", err=True)
            problems.append({"line": outcome.line, "status": outcome.status.value,
                             "message": outcome.message})
    summary = {"imported": tally[Status.IMPORTED], "unchanged": tally[Status.UNCHANGED],
               "invalid": tally[Status.INVALID], "differs": tally[Status.DIFFERS],
               "problems": problems[:1000]}
    if as_json:
        emit_json(summary)
    else:
        say(f"imported {summary['imported']} strike reports; {summary['unchanged']} already "
            f"stored; {summary['invalid']} invalid, {summary['differs']} differ from the store")
    if tally[Status.INVALID]:
        sys.exit(EXIT_BAD_INPUT)
    if tally[Status.DIFFERS]:
        sys.exit(EXIT_REFUSED)


@strikes.command("list")
@json_option
@pass_session
def strikes_list(session: Session, as_json: bool) -> None:
    """Every recorded strike report, in the order recorded."""
    from verify.application.strike_reports import StrikeReports

    reports = list(StrikeReports(session.app()).all())
    if as_json:
        emit_json(reports)
        return
    if not reports:
        say("no strike reports recorded")
    for report in reports:
        where = report.place or f"{report.lat}, {report.lon}"
        count = f", {report.strikes} strikes" if report.strikes is not None else ""
        say(f"{report.strike_date}  {report.belligerent}: {report.reference} ({where}{count})")


@strikes.command("match")
@click.option("--radius-km", type=FiniteRange("a distance in kilometres", min=0.1, max=500),
              default=DEFAULT_RADIUS_KM,
              show_default=True, help="How far from the incident a reported strike may be.")
@click.option("--days", type=click.IntRange(min=0, max=30), default=DEFAULT_DAYS,
              show_default=True, help="How many days before or after the incident's day.")
@click.option("--apply", is_flag=True,
              help="Record the best match of each incident as a likely strike.")
@gazetteer_option
@json_option
@pass_session
def strikes_match(session: Session, radius_km: float, days: int, apply: bool,
                  gazetteer: Path | None, as_json: bool) -> None:
    """Find strike reports that match incidents with no strike confirmation yet.

    A report matches when its belligerent is alleged for the incident, its
    strike day is within --days of the incident's day (late reports allowed
    for), and its place is within --radius-km (great-circle distance).
    Coordinates win; without them, an incident or report is placed at the
    most specific gazetteer place its location names ("Bakery, Tabqa"), in
    the incident's country. What cannot be placed is listed with the reason.
    Without --apply nothing is recorded.
    """
    from verify.adapters.gazetteer import load_gazetteer
    from verify.application.strike_reports import StrikeReports

    service = StrikeReports(session.app())
    found, counts = service.candidates(load_gazetteer(gazetteer), radius_km=radius_km,
                                       days=days)
    applied = service.apply(found, session.actor) if apply else []
    if as_json:
        emit_json({**counts, "radius_km": radius_km, "days": days,
                   "candidates": [c.model_dump(mode="json") for c in found],
                   "applied": [c.model_dump(mode="json") for c in applied]})
        return
    say(f"{counts['incidents_without_strike']} incidents without a strike confirmation, "
        f"{counts['reports']} strike reports; {len(found)} candidate matches "
        f"(within {radius_km:g} km and {days} day(s))")
    unplaced = counts["not_placed"]
    for what, items, named in (("incident", unplaced["incidents"], "code"),
                               ("report", unplaced["reports"], "reference")):
        if not items:
            continue
        say(f"not placed: {len(items)} {what}{'s' if len(items) != 1 else ''}"
            + (f" (the first {SHOWN_UNPLACED}; --json lists them all)"
               if len(items) > SHOWN_UNPLACED else ""))
        for item in items[:SHOWN_UNPLACED]:
            where = item["location"] if what == "incident" else item["place"]
            say(f"  {item[named]} ({where}): {item['reason']}")
    for candidate in found:
        say(f"  {candidate.incident:<10} {candidate.report}  {candidate.how_far()}, "
            f"{candidate.day_offset:+d} day(s), {candidate.belligerent}"
            f" [incident: {candidate.incident_located_by}; report: "
            f"{candidate.report_located_by}]")
    for candidate in applied:
        say(f"recorded a likely strike for {candidate.incident} from {candidate.report}")

COMMANDS = (strikes,)

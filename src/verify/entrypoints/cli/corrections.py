"""Commands that correct what was recorded: amend an incident, retract evidence.

The old value stays in the history beside the new one, with who changed it and why.
"""

from __future__ import annotations

import datetime as dt

import click

from verify.application.casework import Amendment
from verify.domain.values import Precision
from verify.entrypoints.cli.incidents import choice
from verify.entrypoints.cli.support import (
    CODE,
    DATE,
    TIME,
    FiniteRange,
    Session,
    pass_session,
    say,
)


@click.command()
@click.argument("code", type=CODE)
@click.option("--date", "date", type=DATE, help="The day it happened (not after today).")
@click.option("--date-end", "date_end", type=DATE,
              help="The last day, for an incident that spans several days.")
@click.option("--time", "time", type=TIME, help="The hour, when known: HH:MM (24-hour).")
@click.option("--location", help="The place's name.")
@click.option("--lat", type=FiniteRange("a latitude", -90, 90),
              help="Latitude, -90 to 90 (with --lon).")
@click.option("--lon", type=FiniteRange("a longitude", -180, 180),
              help="Longitude, -180 to 180 (with --lat).")
@click.option("--precision", type=choice(Precision), help="How precise the coordinates are.")
@click.option("--country", help="The country.")
@click.option("--belligerent", "belligerents", multiple=True,
              help="Force alleged to have struck; repeat for several. Replaces the list.")
@click.option("--summary", help="What was reported, in a sentence or two.")
@click.option("--reason", required=True, help="Why the record is corrected (kept in the history).")
@pass_session
def amend(
    session: Session, code: str, date: dt.date | None, date_end: dt.date | None,
    time: str | None, location: str | None, lat: float | None, lon: float | None,
    precision: str | None, country: str | None, belligerents: tuple[str, ...],
    summary: str | None, reason: str,
) -> None:
    """Correct incident CODE's own facts: one event with each old and new value and the reason.

    Give only what changes; the rest stays as recorded. The read models,
    search, exports and strike matching follow the new values; the history
    and `show --as-of` keep the old ones. If the change moves the rulebook's
    decision away from a recorded grade, the incident waits for re-grading.
    """
    if (lat is None) != (lon is None):
        raise click.UsageError("give --lat and --lon together")
    amendment = Amendment(
        date=date, date_end=date_end, time=time, location=location, lat=lat, lon=lon,
        precision=Precision(precision) if precision else None, country=country,
        belligerents=list(belligerents) if belligerents else None, summary=summary)
    changes = session.app().amend(code, amendment, reason, session.actor)
    say(f"amended {code}: " + ", ".join(field.replace("_", " ") for field in changes))


@click.command()
@click.argument("code", type=CODE)
@click.argument("evidence_id", metavar="ID")
@click.option("--reason", required=True, help="Why it no longer counts (kept in the history).")
@pass_session
def retract(session: Session, code: str, evidence_id: str, reason: str) -> None:
    """Retract evidence ID of incident CODE: a strike (k1), competing claim (c1),
    assessment (a1) or finding (f1), as `show` lists them.

    It no longer counts for the rulebook and stays in the history. Sources are
    withdrawn instead (`source withdraw`). If the rulebook now decides
    otherwise than the recorded grade, the incident waits for re-grading.
    """
    retracted = session.app().retract(code, evidence_id, reason, session.actor)
    say(f"retracted {retracted} of {code}")


COMMANDS = (amend, retract)

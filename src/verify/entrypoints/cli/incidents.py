"""Commands that create the store or an incident, or add evidence to one."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import click

from verify.domain.sentences import sentence
from verify.domain.values import (
    Assessment,
    AssessmentOutcome,
    CasualtyRange,
    CompetingClaim,
    Credibility,
    DiscountBasis,
    DiscountFinding,
    Location,
    Precision,
    Rating,
    Reliability,
    Source,
    SourceKind,
    StrikeConfirmation,
    StrikeStatus,
    canonical_source_id,
)
from verify.entrypoints.cli.support import (
    CODE,
    COUNT,
    DATE,
    TIME,
    Session,
    build,
    pass_session,
    say,
)


class EnumChoice(click.Choice[str]):
    """A choice over an enum's values that forgives the case the user typed."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        for option in self.choices:
            if str(option).lower() == text.lower():
                return str(option)
        return str(super().convert(value, param, ctx))


def choice(values: type[Enum]) -> click.Choice[str]:
    """A click choice over an enum's values, shown as written, matched in any case."""
    return EnumChoice([str(member.value) for member in values])


class ReliabilityChoice(EnumChoice):
    """Admiralty reliability A to F; a whole rating typed here (``B2``, as the scale is
    written) is told how to give its two halves."""

    def __init__(self) -> None:
        super().__init__([member.value for member in Reliability])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if (len(text) == 2 and text[0].upper() in self.choices
                and text[1] in "".join(str(int(level)) for level in Credibility)):
            self.fail(str(sentence(
                "%(rating)s is a whole rating: give --reliability %(reliability)s "
                "--credibility %(credibility)s", rating=repr(text),
                reliability=text[0].upper(), credibility=text[1])), param, ctx)
        return super().convert(value, param, ctx)


@click.command()
@click.option("--parents", is_flag=True,
              help="Also create the store file's missing folders.")
@pass_session
def init(session: Session, parents: bool) -> None:
    """Create the store (safe to run again on an existing one)."""
    existed = session.store.exists()
    app = session.app(create=True, parents=parents)
    count = app.count_incidents()
    prepared = app.prepare_file_store()
    if prepared:
        say(prepared)
    if existed:
        say(f"store {session.store.label} is ready ({count} incidents)")
    else:
        say(f"created store {session.store.label}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--date", "date", type=DATE, required=True,
              help="Day of the incident: 2017-03-17, 17 March 2017 or 17/03/2017 (day first); "
              "not after today.")
@click.option("--location", required=True, help="Place name, e.g. 'Mosul al-Jadida, Mosul'.")
@click.option("--country", required=True, help="Country, e.g. Iraq.")
@click.option(
    "--belligerent", "belligerents", multiple=True,
    help="Force alleged to have struck; repeat for several; leave out when unknown.",
)
@click.option("--lat", type=float, help="Latitude, -90 to 90.")
@click.option("--lon", type=float, help="Longitude, -180 to 180.")
@click.option("--precision", type=choice(Precision), help="How precise the coordinates are.")
@click.option("--killed", type=COUNT, help="Civilians killed: N or MIN-MAX.")
@click.option("--injured", type=COUNT, help="Civilians injured: N or MIN-MAX.")
@click.option("--summary", help="What was reported, in a sentence or two.")
@click.option("--date-end", "date_end", type=DATE,
              help="The last day, for an incident that spans several days.")
@click.option("--time", "time", type=TIME, help="The hour, when known: HH:MM (24-hour).")
@pass_session
def report(
    session: Session,
    code: str,
    date: dt.date,
    location: str,
    country: str,
    belligerents: tuple[str, ...],
    lat: float | None,
    lon: float | None,
    precision: str | None,
    killed: CasualtyRange | None,
    injured: CasualtyRange | None,
    summary: str | None,
    date_end: dt.date | None,
    time: str | None,
) -> None:
    """Report a new incident CODE, such as CS1234."""
    place = build(Location, name=location, lat=lat, lon=lon, precision=precision)
    code = session.app().report_incident(
        code=code,
        date=date,
        country=country,
        location=place,
        belligerents=list(belligerents),
        killed=killed or CasualtyRange(),
        injured=injured or CasualtyRange(),
        summary=summary,
        actor=session.actor,
        date_end=date_end,
        time=time,
    )
    say(f"reported {code}")


@click.group()
def source() -> None:
    """Attach, re-rate or withdraw an incident's sources."""


@source.command("add")
@click.argument("code", type=CODE)
@click.option("--url", required=True, help="Where the report is.")
@click.option("--publisher", required=True, help="Who published it.")
@click.option("--kind", type=choice(SourceKind), required=True, help="What kind of source.")
@click.option("--reliability", type=ReliabilityChoice(), default="F", show_default=True,
              help="Admiralty reliability, A (reliable) to F (cannot be judged).")
@click.option("--credibility", type=click.IntRange(1, 6), default=6, show_default=True,
              help="Admiralty credibility, 1 (confirmed) to 6 (cannot be judged).")
@click.option("--group", help="Sources in one group (reposts, wire copies) count once.")
@click.option("--protected", is_flag=True, help="Never show this source in public exports.")
@click.option("--published", type=DATE,
              help="When the source was published (a day, written as for --date).")
@pass_session
def source_add(
    session: Session,
    code: str,
    url: str,
    publisher: str,
    kind: str,
    reliability: str,
    credibility: int,
    group: str | None,
    protected: bool,
    published: dt.date | None,
) -> None:
    """Attach a source to incident CODE."""
    candidate = build(
        Source, url=url, publisher=publisher, kind=kind,
        reliability=reliability, credibility=credibility, group=group or None,
        protected=protected, published=published,
    )
    source_id, corroborated = session.app().add_source(code, candidate, session.actor)
    say(f"added source {source_id} to {code}")
    if corroborated:
        say(f"{code} is now corroborated by two or more independent credible sources")


@source.command("rerate")
@click.argument("code", type=CODE)
@click.argument("source_id")
@click.option("--reliability", type=ReliabilityChoice(), required=True)
@click.option("--credibility", type=click.IntRange(1, 6), required=True)
@click.option("--reason", required=True, help="Why the rating changes.")
@pass_session
def source_rerate(
    session: Session, code: str, source_id: str, reliability: str, credibility: int, reason: str
) -> None:
    """Change the Admiralty rating of source SOURCE_ID (e.g. s2) of incident CODE."""
    rating = build(Rating, reliability=reliability, credibility=credibility)
    session.app().rerate_source(
        code, source_id, rating.reliability, rating.credibility, reason, session.actor
    )
    say(f"re-rated source {canonical_source_id(source_id)} of {code} to {rating}")


@source.command("withdraw")
@click.argument("code", type=CODE)
@click.argument("source_id")
@click.option("--reason", required=True, help="Why the source no longer counts.")
@pass_session
def source_withdraw(session: Session, code: str, source_id: str, reason: str) -> None:
    """Withdraw source SOURCE_ID of incident CODE (it stays in the history)."""
    session.app().withdraw_source(code, source_id, reason, session.actor)
    say(f"withdrew source {canonical_source_id(source_id)} of {code}")


@click.group()
def strike() -> None:
    """Record strikes near the place on the day."""


@strike.command("confirm")
@click.argument("code", type=CODE)
@click.option("--belligerent", required=True, help="Who struck.")
@click.option("--status", type=choice(StrikeStatus), required=True,
              help="declared: the belligerent's own report; likely: strong indications.")
@click.option("--report", "report_ref", help="Strike report reference, e.g. 'CJTF-OIR 2017-03-17'.")
@click.option("--distance-km", type=float, help="Distance from the incident's place.")
@click.option("--reported", type=DATE,
              help="The day the strike report was published (else: the day recorded); "
              "see show --known-on.")
@pass_session
def strike_confirm(
    session: Session,
    code: str,
    belligerent: str,
    status: str,
    report_ref: str | None,
    distance_km: float | None,
    reported: dt.date | None,
) -> None:
    """Record a declared or likely strike near incident CODE's place on its day."""
    confirmation = build(
        StrikeConfirmation, belligerent=belligerent, status=status,
        report=report_ref or None, distance_km=distance_km, reported=reported,
    )
    session.app().confirm_strike(code, confirmation, session.actor)
    say(f"recorded a {confirmation.status.value} strike by {belligerent} for {code}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--belligerent", required=True, help="The other party held responsible.")
@click.option("--reason", required=True, help="On what grounds.")
@pass_session
def contest(session: Session, code: str, belligerent: str, reason: str) -> None:
    """Record a competing claim of responsibility for incident CODE."""
    claim = build(CompetingClaim, belligerent=belligerent, reason=reason)
    session.app().contest(code, claim, session.actor)
    say(f"recorded a competing claim against {belligerent} for {code}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--belligerent", required=True, help="The belligerent whose assessment this is.")
@click.option("--outcome", type=choice(AssessmentOutcome), required=True)
@click.option("--reason", help="What the belligerent said.")
@click.option("--conceded-killed", type=COUNT, help="Civilian deaths conceded: N or MIN-MAX.")
@click.option("--dated", type=DATE,
              help="The day of the belligerent's statement (else: the day recorded); "
              "see show --known-on.")
@pass_session
def assess(
    session: Session,
    code: str,
    belligerent: str,
    outcome: str,
    reason: str | None,
    conceded_killed: CasualtyRange | None,
    dated: dt.date | None,
) -> None:
    """Record a belligerent's own assessment of incident CODE."""
    assessment = build(
        Assessment, belligerent=belligerent, outcome=outcome, reason=reason or None,
        conceded_killed=conceded_killed or CasualtyRange(), dated=dated,
    )
    session.app().assess(code, assessment, session.actor)
    say(f"recorded {belligerent}'s assessment of {code}: {assessment.outcome.value}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--combatants", "basis", flag_value=DiscountBasis.COMBATANTS.value,
              help="Those killed were combatants.")
@click.option("--other-party", "party", help="Another party was most likely responsible.")
@click.option("--rationale", required=True, help="The evidence for the finding.")
@pass_session
def discount(
    session: Session, code: str, basis: str | None, party: str | None, rationale: str
) -> None:
    """Record a finding that discounts incident CODE (graded by rule DISCOUNTED)."""
    if (basis is None) == (party is None):
        raise click.UsageError("give exactly one of --combatants or --other-party NAME")
    finding = build(
        DiscountFinding,
        basis=DiscountBasis.OTHER_PARTY.value if party else DiscountBasis.COMBATANTS.value,
        party=party, rationale=rationale,
    )
    session.app().discount(code, finding, session.actor)
    say(f"recorded a discounting finding for {code}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--killed", type=COUNT, help="Civilians killed: N or MIN-MAX.")
@click.option("--injured", type=COUNT, help="Civilians injured: N or MIN-MAX.")
@click.option("--reason", required=True, help="What the new figures rest on.")
@pass_session
def revise(
    session: Session,
    code: str,
    killed: CasualtyRange | None,
    injured: CasualtyRange | None,
    reason: str,
) -> None:
    """Revise the casualty estimate of incident CODE."""
    if killed is None and injured is None:
        raise click.UsageError("give --killed, --injured or both")
    session.app().revise_harm(code, killed, injured, reason, session.actor)
    say(f"revised the casualty estimate of {code}")


@click.command()
@click.argument("code", type=CODE)
@click.option("--of", "of", type=CODE, help="The incident it duplicates.")
@click.option("--undo", is_flag=True,
              help="Take the mark back: CODE returns to its queue (needs --reason).")
@click.option("--reason", help="Why the mark is taken back (with --undo).")
@pass_session
def duplicate(session: Session, code: str, of: str | None, undo: bool,
              reason: str | None) -> None:
    """Mark incident CODE a duplicate of another; it leaves every queue and count.

    A duplicate takes no further evidence or notes; `--undo --reason TEXT`
    returns it to its queue, and the history keeps both.
    """
    if undo:
        if of is not None:
            raise click.UsageError("give --of to mark a duplicate, or --undo, not both")
        if not reason or not reason.strip():
            raise click.UsageError("say why with --reason: it stays in the history")
        original = session.app().undo_duplicate(code, reason, session.actor)
        say(f"{code} is no longer a duplicate of {original}")
        return
    if of is None:
        raise click.UsageError("give --of CODE, the incident it duplicates (or --undo)")
    if reason is not None:
        raise click.UsageError("--reason goes with --undo")
    session.app().mark_duplicate(code, of, session.actor)
    say(f"marked {code} a duplicate of {of}")


@click.command()
@click.argument("code", type=CODE)
@click.argument("text")
@pass_session
def note(session: Session, code: str, text: str) -> None:
    """Add an internal note to incident CODE (never exported publicly)."""
    session.app().add_note(code, text, session.actor)
    say(f"added a note to {code}")


@click.command()
def keygen() -> None:
    """Print a new key for VERIFY_CIPHER_KEY (encrypts events at rest; keep it safe).

    Every process that uses an encrypted store needs the same key; without it
    the events cannot be read. Set it before `verify init` on a new store.
    """
    from verify.adapters.store import new_cipher_key

    say(new_cipher_key())


COMMANDS = (
    init, keygen, report, source, strike, contest, assess, discount, revise, duplicate, note,
)

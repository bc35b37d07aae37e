"""Commands that read the read models: queue, stats, search, and their upkeep."""

from __future__ import annotations

import datetime as dt
import functools
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from verify.application.app import VerifyApp
from verify.application.readmodels import (
    MAX_LISTING,
    SEARCH_SORTS,
    SORTS,
    STATS_GROUPINGS,
    UNGRADED,
    ListingFilters,
)
from verify.application.views import StatsDocument
from verify.domain.values import Grade, State
from verify.entrypoints.cli.incidents import EnumChoice, choice
from verify.entrypoints.cli.support import (
    DATE,
    MOMENT,
    FiniteRange,
    Session,
    emit_json,
    json_option,
    pass_session,
    say,
)

SECONDS = functools.partial(FiniteRange, "a number of seconds")
"""A number of seconds within a range; not NaN, not infinite."""

PROGRESS_FROM_EVENTS = 5000
"""Catching up on more events than this shows a progress bar."""


def caught_up(session: Session) -> VerifyApp:
    """The application, with its read models brought up to date with the event log."""
    app = session.app()
    behind = app.events_behind()
    with click.progressbar(length=behind, label="updating read models", file=sys.stderr,
                           hidden=behind < PROGRESS_FROM_EVENTS) as bar:
        app.catch_up(progress=bar.update)
    return app


SORT_HELP = {"waiting": "waiting, longest waiting first",
             "date": "date, the incident's date, oldest first", "code": "code"}
"""How each order reads in --help."""


def listing_options(sorts: tuple[str, ...], default_sort: str, limit: int | None
                    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The filters, order and paging the queue and search share, as options."""
    options = [
        click.option("--state", type=choice(State), help="Only incidents in this state."),
        click.option("--grade", type=EnumChoice([*(g.value for g in Grade), UNGRADED]),
                     help="Only incidents with this grade, whatever their state "
                          "(ungraded: those with none)."),
        click.option("--belligerent", help="Only incidents alleging this belligerent."),
        click.option("--country", help="Only incidents in this country."),
        click.option("--assignee", metavar="NAME", help="Only incidents assigned to NAME."),
        click.option("--mine", is_flag=True, help="Only incidents assigned to you (the actor)."),
        click.option("--tag", help="Only incidents with this tag."),
        click.option("--from", "date_from", type=DATE,
                     help="Only incidents on or after this day (the incident's date)."),
        click.option("--to", "date_to", type=DATE, help="Only incidents on or before this day."),
        click.option("--sort", type=click.Choice(list(sorts)), default=default_sort,
                     show_default=True, help="The order: " + "; ".join(
                         SORT_HELP[name] for name in sorts) + "."),
        click.option("--after", metavar="CURSOR",
                     help="The next page: the cursor the previous page ended with."),
        click.option("--limit", type=click.IntRange(min=1, max=MAX_LISTING), default=limit,
                     show_default=limit is not None,
                     help="At most this many incidents a page" + (
                         "" if limit is not None else " (all when not given)") + "."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def asked_filters(app: VerifyApp, session: Session, options: dict[str, Any]) -> ListingFilters:
    """The listing filters given as options (``--mine``: the actor)."""
    assignee = options["assignee"]
    if options["mine"]:
        if assignee is not None:
            raise click.UsageError("give --mine or --assignee NAME, not both")
        assignee = session.actor
    return ListingFilters(
        state=State(options["state"]) if options["state"] else None, grade=options["grade"],
        belligerent=options["belligerent"], country=options["country"],
        assignee=app.member_named(assignee) if assignee is not None else None,
        tag=options["tag"], date_from=options["date_from"], date_to=options["date_to"])


def offer_next_page(cursor: str | None, *, as_json: bool, option: str = "after") -> None:
    """Say how to get the next page: this command again, with ``--after CURSOR`` (or the
    cursor ``option`` it takes); on stderr beside JSON, whose stdout stays the one document."""
    if cursor is None:
        return
    ctx = click.get_current_context()
    words = ["verify", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name == option or value is None or value is False or (
                isinstance(param, click.Option) and value == param.default):
            continue
        if isinstance(param, click.Option):
            words.append(param.opts[0])
            if param.is_flag:
                continue
        words.append(shlex.quote(value.isoformat() if isinstance(value, dt.date) else str(value)))
    say("more: " + " ".join([*words, f"--{option}", cursor]), err=as_json)


@click.command()
@listing_options(SORTS, "waiting", limit=None)
@json_option
@pass_session
def queue(session: Session, /, sort: str, after: str | None, limit: int | None, as_json: bool,
          **options: Any) -> None:
    """Incidents waiting for work, longest waiting first, and what each waits for.

    Graded incidents appear when due for re-grading, with --state graded, or with
    --grade. With --limit the last line says how to get the next page.
    """
    app = caught_up(session)
    page = app.queue_page(sort=sort, after=after, limit=limit,
                          **asked_filters(app, session, options))
    if as_json:
        emit_json(page.entries)
    elif not page.entries:
        say("nothing is waiting" if after is None else "nothing more")
    else:
        say(f"{'code':<10} {'state':<17} {'waiting since':<17} waiting for")
        for entry in page.entries:
            since = entry["since"][:16].replace("T", " ")
            extra = "".join([f"  ({entry['grade']})" if entry["grade"] else "",
                             f"  [{entry['assignee']}]" if entry["assignee"] else "",
                             "  #" + " #".join(entry["tags"]) if entry["tags"] else ""])
            say(f"{entry['code']:<10} {entry['state']:<17} {since:<17} {entry['waiting_for']}"
                f"{extra}")
    offer_next_page(page.next, as_json=as_json)


@click.command()
@click.option("--by", "by", type=click.Choice(list(STATS_GROUPINGS)), default="month",
              show_default=True, help="How to group the incidents.")
@click.option("--from", "date_from", type=DATE, help="Only incidents on or after this day.")
@click.option("--to", "date_to", type=DATE, help="Only incidents on or before this day.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw incidents per month by grade to FILE.png or FILE.svg.")
@click.option("--as-of", "as_of", type=MOMENT,
              help="The figures as they stood then, replayed from the log (ISO 8601, UTC "
                   "if no offset; a bare date means the end of that day).")
@click.option("--release", "release_name", metavar="NAME",
              help="The figures at the place in the log release NAME sealed.")
@json_option
@pass_session
def stats(session: Session, by: str, date_from: dt.date | None, date_to: dt.date | None,
          chart: Path | None, as_of: dt.datetime | None, release_name: str | None,
          as_json: bool) -> None:
    """Counts by grade and casualty ranges, per month, grade, belligerent or country.

    Duplicates are left out. Casualty sums add the known bounds: an unknown
    minimum or maximum counts as nothing. --as-of WHEN or --release NAME gives
    the figures exactly as `verify stats` gave them then (docs/publication.md).
    """
    if date_from and date_to and date_from > date_to:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    if as_of is not None and release_name is not None:
        raise click.BadParameter("give --as-of or --release, not both", param_hint="--as-of")
    position = None
    if release_name is not None:
        from verify.application.releases import Releases

        position = Releases(session.app(), session.store.label).named(release_name)["position"]
    past = as_of is not None or position is not None
    app = session.app() if past else caught_up(session)
    document = app.stats(by=by, date_from=date_from, date_to=date_to, as_of=as_of,
                         position=position)
    if chart is not None:
        from verify.adapters.chart import draw_monthly_chart

        monthly = document if by == "month" else app.stats(
            by="month", date_from=date_from, date_to=date_to, as_of=as_of, position=position)
        draw_monthly_chart(monthly["groups"], chart)
    if as_json:
        emit_json(document)
        return
    _print_stats(document)
    if chart is not None:
        say(f"chart written to {chart}")


def _print_stats(document: StatsDocument) -> None:
    grades = ["confirmed", "fair", "weak", "contested", "discounted", "ungraded"]
    header = f"{document['by']:<24} {'incidents':>9} " + " ".join(f"{g:>10}" for g in grades)
    say(header + f" {'killed':>15} {'named':>6} {'children':>8} {'women':>6}")
    # The total counts each incident once: groups of belligerents overlap, so it is the
    # document's own total, never the sum of the rows above it.
    for group in [*document["groups"], document["total"]]:
        name = "total" if group is document["total"] else str(group["key"])[:24]
        counts = " ".join(f"{group['grades'][g]:>10}" for g in grades)
        killed = f"{group['killed_min']}-{group['killed_max']}"
        say(f"{name:<24} {group['incidents']:>9} {counts} {killed:>15} "
            f"{group['named_killed']:>6} {group['children_killed']:>8} "
            f"{group['women_killed']:>6}")


@click.command()
@click.argument("text")
@listing_options(SEARCH_SORTS, "date", limit=50)
@json_option
@pass_session
def search(session: Session, /, text: str, sort: str, after: str | None, limit: int,
           as_json: bool, **options: Any) -> None:
    """Find incidents whose code, place or summary contains TEXT, in any script.

    The incident with that very code comes first. Every state and duplicates are
    found unless a filter says otherwise. The last line says how to get the next page.
    """
    app = caught_up(session)
    page = app.search_page(text, sort=sort, after=after, limit=limit,
                           **asked_filters(app, session, options))
    if as_json:
        emit_json(page.entries)
    elif not page.entries:
        say(f"no incident mentions {text!r}" if after is None else "nothing more")
    for item in [] if as_json else page.entries:
        status = f"{item['state']}, {item['grade'] or 'ungraded'}"
        if item["duplicate_of"]:  # found, but not live: say so first
            status = f"duplicate of {item['duplicate_of']}; {status}"
        say(f"{item['code']:<10} {item['date']}  {item['location']}, {item['country']}  "
            f"[{status}]")
    offer_next_page(page.next, as_json=as_json)


@click.group()
def projections() -> None:
    """Look after the read models (queue, statistics, search)."""


@projections.command("rebuild")
@pass_session
def projections_rebuild(session: Session) -> None:
    """Rebuild every read model from the event log."""
    app = session.app()
    total = app.recorder.max_notification_id() or 0
    with click.progressbar(length=total, label="rebuilding read models", file=sys.stderr,
                           hidden=total < PROGRESS_FROM_EVENTS) as bar:
        applied = app.rebuild_read_models(progress=bar.update)
    say(f"rebuilt the read models from {applied} events")


@projections.command("run")
@click.option("--interval", type=SECONDS(min=0.05, max=3600), default=1.0, show_default=True,
              help="Seconds to wait between looks at the event log when there is nothing new.")
@click.option("--stop-after", type=SECONDS(min=0, max=10 * 365 * 86400), metavar="SECONDS",
              help="Stop after this long (default: run until interrupted).")
@pass_session
def projections_run(session: Session, interval: float, stop_after: float | None) -> None:
    """Keep the read models caught up as events arrive, until interrupted.

    Safe beside the reading commands and beside other workers: each event is
    applied once, whoever applies it first.
    """
    app = session.app()
    deadline = None if stop_after is None else time.monotonic() + stop_after
    applied = 0
    say(f"keeping the read models of {session.store.label} up to date (Ctrl-C stops)")
    try:
        while deadline is None or time.monotonic() < deadline:
            done = app.catch_up()
            applied += done
            if done:
                say(f"applied {done} events (read models at event {app.read_model.position()})")
            elif deadline is None:
                time.sleep(interval)
            else:  # wait no longer than the time left
                time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    say(f"stopped after applying {applied} events")


@projections.command("status")
@json_option
@pass_session
def projections_status(session: Session, as_json: bool) -> None:
    """How far the read models have applied the event log."""
    app = session.app()
    document = {"position": app.read_model.position(),
                "events": app.recorder.max_notification_id() or 0,
                "behind": app.events_behind()}
    if as_json:
        emit_json(document)
    else:
        say(f"read models at event {document['position']} of {document['events']} "
            f"({document['behind']} behind)")


COMMANDS = (queue, stats, search, projections)

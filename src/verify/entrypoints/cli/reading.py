"""Commands that read: show and history."""

from __future__ import annotations

import datetime as dt

import click

from verify.entrypoints.cli import render
from verify.entrypoints.cli.reports import caught_up
from verify.entrypoints.cli.support import (
    CODE,
    DATE,
    MOMENT,
    Session,
    emit_json,
    json_option,
    pass_session,
    say,
)


@click.command()
@click.argument("code", type=CODE)
@click.option("--as-of", "as_of", type=MOMENT,
              help="Show it as it stood then: ISO 8601, UTC unless an offset is given; "
              "a bare date means the end of that day.")
@click.option("--version", "version", type=click.IntRange(min=1),
              help="Show it as it stood after its Nth event.")
@click.option("--known-on", "known_on", type=DATE,
              help="Show the evidence the world knew by the end of that day, and the grade "
              "the rulebook would have given from it.")
@json_option
@pass_session
def show(
    session: Session, code: str, as_of: dt.datetime | None, version: int | None,
    known_on: dt.date | None, as_json: bool,
) -> None:
    """Show incident CODE now, as this system had recorded it at a moment (--as-of) or
    version, or as the world knew it on a day (--known-on).

    
    --as-of WHEN    what this system had recorded then: later corrections unseen.
    --known-on DAY  what had been published by then, as recorded today: each
                    piece of evidence counts from its own date (a source's
                    publication, a statement's --dated, a strike report's
                    --reported), else from the day it was recorded.
    """
    if known_on is not None:
        if as_of is not None or version is not None:
            raise click.UsageError("--known-on asks what the world knew; give it without "
                                   "--as-of or --version")
        known = session.app().known_on(code, known_on)
        if as_json:
            emit_json(known)
        else:
            say(render.known_on(known))
        return
    app = caught_up(session) if as_of is None and version is None else session.app()
    view = app.show(code, as_of=as_of, version=version)
    if as_json:
        emit_json(view)
    else:
        say(render.incident(view))


@click.command()
@click.argument("code", type=CODE)
@click.option("--public", is_flag=True,
              help="Fit to publish: protected sources' details and internal notes withheld.")
@json_option
@pass_session
def history(session: Session, code: str, public: bool, as_json: bool) -> None:
    """Every event of incident CODE, oldest first: when, who, what, why."""
    entries = session.app().history(code, public=public)
    if as_json:
        emit_json(entries)
    else:
        say(render.history(entries))


COMMANDS = (show, history)

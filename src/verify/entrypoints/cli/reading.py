"""Commands that read: show and history."""

from __future__ import annotations

import datetime as dt

import click

from verify.entrypoints.cli import render
from verify.entrypoints.cli.support import (
    CODE,
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
@json_option
@pass_session
def show(
    session: Session, code: str, as_of: dt.datetime | None, version: int | None, as_json: bool
) -> None:
    """Show incident CODE now, or as it stood at a moment or version."""
    view = session.app().show(code, as_of=as_of, version=version)
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

"""The change feed on the command line: every change in log order, from a cursor."""

from __future__ import annotations

import click

from verify.application.changes import CHANGES_PAGE, MAX_CHANGES
from verify.entrypoints.cli import render
from verify.entrypoints.cli.reports import offer_next_page
from verify.entrypoints.cli.support import Session, emit_json, json_option, pass_session, say


@click.command()
@click.option("--since", metavar="CURSOR",
              help="Only the changes after this cursor (one a change or a page gave).")
@click.option("--public", is_flag=True,
              help="Fit to publish: leaves out protected sources, victims and files, notes "
                   "and the team's casework (comments, assignments, tags).")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_CHANGES), default=CHANGES_PAGE,
              show_default=True, help=f"At most this many changes (up to {MAX_CHANGES:,}).")
@json_option
@pass_session
def changes(session: Session, since: str | None, public: bool, limit: int,
            as_json: bool) -> None:
    """Every change to the incidents, in the order the event log holds them.

    Each change has a cursor; --since CURSOR gives the changes after it. Keep the
    cursor of the last change you read and ask again with it: no change is missed
    or given twice, however many people write meanwhile (docs/publication.md).
    """
    page = session.app().changes(since=since, limit=limit, public=public)
    if as_json:
        emit_json(page)
    elif not page.changes:
        say("no change after this cursor" if since is not None else "no change yet")
    else:
        say(render.changes(page))
    offer_next_page(page.next_cursor, as_json=as_json, option="since")


COMMANDS = (changes,)

"""`verify parties`: name each belligerent (or country) once, with the aliases it goes by."""

from __future__ import annotations

import click

from verify.entrypoints.cli.support import Session, emit_json, json_option, pass_session, say


@click.group()
def parties() -> None:
    """Record parties and their aliases, so every spelling means one party.

    A name or alias is compared the way people mean it (case, invisible
    characters and spacing do not matter) and recorded under the party's
    canonical name: on reports, strikes, claims and assessments, in the
    --belligerent and --country filters, in strike matching and in the
    rulebook's comparisons.
    """


@parties.command("add")
@click.argument("name")
@click.option("--alias", "aliases", multiple=True, metavar="ALIAS",
              help="Another name the party goes by; repeat for several.")
@pass_session
def parties_add(session: Session, name: str, aliases: tuple[str, ...]) -> None:
    """Record party NAME with its aliases, or more aliases of a known party."""
    party, added = session.app().add_party(name, list(aliases), session.actor)
    if added:
        say(f"recorded {party} with the aliases {', '.join(added)}")
    else:
        say(f"recorded {party}")


@parties.command("list")
@json_option
@pass_session
def parties_list(session: Session, as_json: bool) -> None:
    """Every recorded party and its aliases."""
    known = session.app().parties()
    if as_json:
        emit_json(known)
        return
    if not known:
        say("no party is recorded; add one with `verify parties add NAME --alias ALIAS`")
        return
    for party in known:
        aliases = party["aliases"]
        say(str(party["name"]) + (f"  (also: {', '.join(aliases)})" if aliases else ""))


COMMANDS = (parties,)

"""Commands about victims: record, amend, withdraw, erase (SPEC section 11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from verify.application.messages import STILL_IN_FILES
from verify.domain.victims import AgeGroup, Gender, VictimStatus
from verify.entrypoints.cli.incidents import choice
from verify.entrypoints.cli.support import CODE, Session, pass_session, say

Command = TypeVar("Command", bound=Callable[..., Any])


def _victim_options(*, amending: bool) -> Callable[[Command], Command]:
    """The options of `victim add` and `victim amend` (amend: all optional)."""
    def decorate(command: Command) -> Command:
        options = [
            click.option("--name", help="The name as it is best written in Latin script."),
            click.option("--name-original", "name_original",
                         help="The name as the source wrote it, in its own script."),
            click.option("--age", type=click.IntRange(0, 130), help="Age in years."),
            click.option("--age-group", "age_group", type=choice(AgeGroup),
                         help="When the age is not known: child, adult or elderly."),
            click.option("--gender", type=choice(Gender)),
            click.option("--status", type=choice(VictimStatus),
                         default=None if amending else VictimStatus.KILLED.value,
                         show_default=not amending, help="Killed or injured."),
            click.option("--family", help="Family, as the source gives it."),
            click.option("--role", help="Occupation or role, as the source gives it."),
            click.option("--source", "sources", multiple=True, required=not amending,
                         help="A source of the incident naming this person (s1…); repeat for "
                         "several." + (" Replaces the list." if amending else "")),
            click.option("--protected/--not-protected", "protected", default=None,
                         help="Protected victims never appear in public exports or history."),
        ]
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def _split(name: str | None, name_original: str | None, age: int | None,
           family: str | None, role: str | None, age_group: str | None, gender: str | None,
           status: str | None, sources: tuple[str, ...], protected: bool | None
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """What was given: personal details (sealed), open facts."""
    details = {key: value for key, value in (
        ("name", name), ("name_original", name_original), ("age", age), ("family", family),
        ("role", role)) if value is not None}
    facts = {key: value for key, value in (
        ("age_group", age_group), ("gender", gender), ("status", status),
        ("sources", list(sources) or None), ("protected", protected)) if value is not None}
    return details, facts


@click.group()
def victim() -> None:
    """Record the people an incident harmed, each backed by the sources that name them.

    Names, age, family and role are sealed under a key of the victim's own;
    `victim erase` destroys that key, so they can never be read again while
    the history and its hash chain stay whole (docs/security.md).
    """


@victim.command("add")
@click.argument("code", type=CODE)
@_victim_options(amending=False)
@pass_session
def victim_add(session: Session, /, code: str, **given: Any) -> None:
    """Record a victim of incident CODE (unnamed victims with what is known)."""
    details, facts = _split(**given)
    victim_id = session.app().add_victim(code, details, facts, session.actor)
    say(f"recorded victim {victim_id} of {code}")


@victim.command("amend")
@click.argument("code", type=CODE)
@click.argument("victim_id", metavar="ID")
@_victim_options(amending=True)
@click.option("--reason", required=True, help="Why (kept in the history).")
@pass_session
def victim_amend(session: Session, /, code: str, victim_id: str, reason: str,
                 **given: Any) -> None:
    """Correct victim ID of incident CODE; give only what changes."""
    details, facts = _split(**given)
    changed = session.app().amend_victim(code, victim_id, details, facts, reason,
                                         session.actor)
    say(f"amended victim {victim_id.strip().lower()} of {code}: "
        + ", ".join(name.replace("_", " ") for name in changed))


@victim.command("withdraw")
@click.argument("code", type=CODE)
@click.argument("victim_id", metavar="ID")
@click.option("--reason", required=True, help="Why the record no longer stands.")
@pass_session
def victim_withdraw(session: Session, code: str, victim_id: str, reason: str) -> None:
    """Withdraw victim ID of incident CODE: no longer counted, kept in the history."""
    withdrawn = session.app().withdraw_victim(code, victim_id, reason, session.actor)
    say(f"withdrew victim {withdrawn} of {code}")


@victim.command("erase")
@click.argument("code", type=CODE)
@click.argument("victim_id", metavar="ID")
@click.option("--reason", required=True, help="Why (kept in the history).")
@pass_session
def victim_erase(session: Session, code: str, victim_id: str, reason: str) -> None:
    """Erase the personal details of victim ID of incident CODE, for good.

    The details become unreadable in this store and any copy taken from now
    on; the victim still counts, and `audit verify` still passes. Copies and
    backups taken before hold the key: erase there too, or destroy them.
    """
    erased, scrubbed = session.app().erase_victim(code, victim_id, reason, session.actor)
    say(f"erased the personal details of victim {erased} of {code}")
    if not scrubbed:
        click.echo(f"warning: {STILL_IN_FILES}", err=True)


COMMANDS = (victim,)

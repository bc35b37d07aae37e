"""Commands that keep the team file: members, roles and sign-in passwords.

The team file lives beside the deployment, not in the store: whoever may
edit it administers the team. These commands change no incident.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from verify.adapters.team_file import hash_password, load_team, write_team
from verify.domain.duties import Member, Role, Team
from verify.domain.errors import InvalidInput
from verify.entrypoints.cli.incidents import choice
from verify.entrypoints.cli.support import Session, emit_json, json_option, pass_session, say

DEFAULT_TEAM_FILE = Path("team.toml")


def _path(session: Session) -> Path:
    return session.team_file or DEFAULT_TEAM_FILE


def _existing(session: Session, missing: str = "") -> tuple[Path, Team]:
    """The team file and its team; refused when there is none yet."""
    path = _path(session)
    current = _current(path)
    if current is None:
        raise InvalidInput(f"there is no team file at {path}{missing}")
    return path, current


def _current(path: Path) -> Team | None:
    try:
        present = path.exists()
    except OSError as error:
        raise InvalidInput(f"the team file {path} cannot be used: {error.strerror}") from None
    return load_team(path) if present else None


@click.group()
def team() -> None:
    """Keep the team file (--team or VERIFY_TEAM, default ./team.toml).

    With a team file, every change needs a member whose role allows it, and
    (unless the file turns it off) a grade of fair, confirmed or discounted
    is only proposed until a different member approves it.

    \b
    roles: reporter  reports incidents, adds sources and notes
           analyst   also weighs evidence, grades, approves, disputes, resolves
           reviewer  also overrides the rulebook and imports archives
           auditor   reads everything, changes nothing
    """


@team.command("add")
@click.argument("name")
@click.option("--role", required=True, type=choice(Role), help="What the member may do.")
@click.option("--password", "set_password", is_flag=True,
              help="Also ask for a password for signing in to `verify serve` "
              "(read from the terminal, or one line of standard input).")
@pass_session
def team_add(session: Session, name: str, role: str, set_password: bool) -> None:
    """Add member NAME with a role, or change the role of an existing member."""
    path = _path(session)
    current = _current(path) or Team(members={})
    known = current.members.get(name)
    password_hash = known.password_hash if known else None
    if set_password:
        password_hash = hash_password(_read_password())
    write_team(current.with_member(
        Member(name=name, role=Role(role), password_hash=password_hash)), path)
    say(f"{name} is {role} in {path}")


@team.command("remove")
@click.argument("name")
@pass_session
def team_remove(session: Session, name: str) -> None:
    """Take member NAME out of the team (their recorded actions stay in the history)."""
    path, current = _existing(session)
    write_team(current.without_member(name), path)
    say(f"{name} is no longer a member in {path}")


@team.command("duties")
@click.argument("setting", type=click.Choice(["on", "off"]))
@pass_session
def team_duties(session: Session, setting: str) -> None:
    """Turn separation of duties on (the default) or off for the team."""
    path, current = _existing(session, "; add a member first")
    write_team(current.with_duties(setting == "on"), path)
    say(f"separation of duties is {setting} in {path}")


@team.command("list")
@json_option
@pass_session
def team_list(session: Session, as_json: bool) -> None:
    """The members, their roles, and whether each can sign in to the web app."""
    _, current = _existing(session)
    rows = [{"name": name, "role": member.role.value,
             "can_sign_in": bool(member.password_hash)}
            for name, member in sorted(current.members.items())]
    if as_json:
        emit_json({"separation_of_duties": current.separation_of_duties, "members": rows})
        return
    say(f"separation of duties: {'on' if current.separation_of_duties else 'off'}")
    for row in rows:
        sign_in = "can sign in" if row["can_sign_in"] else "no password"
        say(f"{row['name']:<20} {row['role']:<9} {sign_in}")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return str(sys.stdin.readline()).rstrip("\r\n")
    first: str = click.prompt("password", hide_input=True)
    second: str = click.prompt("again", hide_input=True)
    if first != second:
        raise InvalidInput("the two passwords differ")
    return first


COMMANDS = (team,)

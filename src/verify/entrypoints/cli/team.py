"""Commands that keep the team file: members, roles, sign-in passwords and API tokens.

The team file lives beside the deployment, not in the store: whoever may
edit it administers the team. These commands change no incident.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from verify.adapters.team_file import hash_password, load_team, new_api_token, write_team
from verify.domain.duties import ApiToken, Member, Role, Team
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
    is only proposed until a different member approves it. Members sign in to
    `verify serve` with a password (team add --password); programs use the
    JSON API with a member's API token (team token).

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
    member = known.model_copy(update={"role": Role(role)}) if known \
        else Member(name=name, role=Role(role))
    if set_password:
        member = member.model_copy(update={"password_hash": hash_password(_read_password())})
    write_team(current.with_member(member), path)
    say(f"{name} is {role} in {path}")


@team.command("remove")
@click.argument("name")
@pass_session
def team_remove(session: Session, name: str) -> None:
    """Take member NAME out of the team (their recorded actions stay in the history)."""
    path, current = _existing(session)
    leaving = current.members.get(name)
    write_team(current.without_member(name), path)
    tokens = "; their API tokens stop working" if leaving and leaving.tokens else ""
    say(f"{name} is no longer a member in {path}{tokens}")


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


@team.command("token")
@click.argument("name")
@click.option("--label", default="", metavar="TEXT",
              help="What the token is for (shown by `verify team tokens`).")
@click.option("--revoke", metavar="ID", help="Revoke the token with this id instead.")
@pass_session
def team_token(session: Session, name: str, label: str, revoke: str | None) -> None:
    """Make an API token for member NAME and print it, once; or revoke one.

    The token is printed alone on stdout and never again: the team file keeps
    only its SHA-256. A program sends it to `verify serve` as the header
    `Authorization: Bearer TOKEN` and acts as NAME, with NAME's role. It works
    until revoked (--revoke ID, the id `verify team tokens` lists) or until
    NAME leaves the team.
    """
    path, current = _existing(session)
    member = _member(current, name, path)
    if revoke is not None:
        if label:
            raise click.UsageError("--label names a new token; it cannot go with --revoke")
        token_id = revoke.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{8}", token_id):
            raise InvalidInput("a token's id is 8 hexadecimal digits, as `verify team tokens` "
                               "lists them")
        write_team(current.with_member(member.without_token(token_id)), path)
        say(f"API token {token_id} of {name} is revoked in {path}; it stops working at once")
        return
    token, record = new_api_token(current, label)
    write_team(current.with_member(member.with_token(record)), path)
    click.echo(token)
    say(f"API token {record.id} for {name}, kept in {path} as a hash only: copy it now, "
        "it is not shown again", err=True)


@team.command("tokens")
@click.argument("name", required=False)
@json_option
@pass_session
def team_tokens(session: Session, name: str | None, as_json: bool) -> None:
    """The API tokens of NAME, or of everyone: ids, labels, when made.

    Never a token itself: the team file keeps only their hashes. Revoke one
    with `verify team token NAME --revoke ID`.
    """
    path, current = _existing(session)
    holders = [_member(current, name, path)] if name is not None \
        else [member for _, member in sorted(current.members.items())]
    rows = [_token_row(member.name, token) for member in holders for token in member.tokens]
    if as_json:
        emit_json({"tokens": rows})
        return
    if not rows:
        say(f"no API tokens{' for ' + name if name is not None else ''} in {path}")
    for row in rows:
        say(f"{row['member']:<20} {row['id']}  {row['created']}  {row['label']}".rstrip())


def _member(team: Team, name: str, path: Path) -> Member:
    found = team.members.get(name)
    if found is None:
        raise InvalidInput(f"{name} is not a member of the team in {path}")
    return found


def _token_row(member: str, token: ApiToken) -> dict[str, str]:
    created = f"{token.created.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    return {"member": member, "id": token.id, "label": token.label, "created": created}


def _read_password() -> str:
    if not sys.stdin.isatty():
        return str(sys.stdin.readline()).rstrip("\r\n")
    first: str = click.prompt("password", hide_input=True)
    second: str = click.prompt("again", hide_input=True)
    if first != second:
        raise InvalidInput("the two passwords differ")
    return first


COMMANDS = (team,)

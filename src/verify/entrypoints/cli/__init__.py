"""The `verify` command line: parse, call the application, format. No rules live here."""

from __future__ import annotations

import click

from verify.adapters.store import DEFAULT_STORE
from verify.entrypoints.cli import (
    auditing,
    changes,
    corrections,
    evidence,
    incidents,
    parties,
    publish,
    reading,
    releases,
    reports,
    review,
    serve,
    strikes,
    team,
    teamwork,
    transfer,
    victims,
)
from verify.entrypoints.cli.demo import demo
from verify.entrypoints.cli.support import VerifyGroup, start_session


@click.group(cls=VerifyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="VERIFY_STORE",
    metavar="PATH|URL",
    help="Where the event log lives: a file path, sqlite:///PATH, or "
    f"postgresql://USER@HOST:PORT/DB[?schema=S] [default: {DEFAULT_STORE}; env VERIFY_STORE].",
)
@click.option(
    "--actor",
    envvar="VERIFY_ACTOR",
    metavar="NAME",
    help="Who is acting; recorded on every event [default: env VERIFY_ACTOR, else the OS user].",
)
@click.option(
    "--team",
    envvar="VERIFY_TEAM",
    metavar="FILE",
    help="A team file (TOML) naming members and roles; with it, every change needs a role "
    "that allows it and, by default, a second person approves weighty grades "
    "[env VERIFY_TEAM]. See docs/security.md.",
)
@click.version_option(package_name="verify")
@click.pass_context
def cli(ctx: click.Context, store: str | None, actor: str | None, team: str | None) -> None:
    """Step allegations of civilian harm from strikes through verification.

    Every change is appended to the incident's event history, so each grade can
    be traced to who decided it, when, on which evidence and under which rule.
    """
    ctx.obj = start_session(ctx, store, actor, team)


for command in (
    *incidents.COMMANDS, *corrections.COMMANDS, *review.COMMANDS, *reading.COMMANDS,
    *reports.COMMANDS,
    *transfer.COMMANDS, *auditing.COMMANDS, *strikes.COMMANDS, *team.COMMANDS,
    *serve.COMMANDS, *parties.COMMANDS, *victims.COMMANDS, *evidence.COMMANDS,
    *teamwork.COMMANDS, *changes.COMMANDS, *publish.COMMANDS, *releases.COMMANDS,
    demo,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="verify")

"""The `verify` command line: parse, call the application, format. No rules live here."""

from __future__ import annotations

from importlib import import_module

import click

from verify.adapters.store import DEFAULT_STORE
from verify.entrypoints.cli.support import VerifyGroup, start_session

COMMAND_MODULES: dict[str, str] = {
    "amend": "corrections", "approve": "review", "assess": "incidents",
    "assign": "teamwork", "audit": "auditing", "changes": "changes", "comment": "teamwork",
    "contest": "incidents", "demo": "demo", "discount": "incidents", "dispute": "review",
    "duplicate": "incidents", "evidence": "evidence", "explain": "auditing",
    "export": "transfer", "grade": "review", "history": "reading", "import": "transfer",
    "inbox": "teamwork", "init": "incidents", "keygen": "incidents", "note": "incidents",
    "parties": "parties", "projections": "reports", "publish": "publish",
    "queue": "reports", "release": "releases", "report": "incidents", "resolve": "review",
    "retract": "corrections", "revise": "incidents", "search": "reports", "serve": "serve",
    "show": "reading", "source": "incidents", "stats": "reports", "strike": "incidents",
    "strikes": "strikes", "tag": "teamwork", "team": "team", "victim": "victims",
}
"""Which module of this package holds each command. A command's module is imported only
when that command runs (or help lists them all), so a reading command does not pay for
the web server, publishing or the audit."""


class LazyCommands(VerifyGroup):
    """The top-level group: commands are looked up in COMMAND_MODULES when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        commands: tuple[click.Command, ...] = import_module(f"{__name__}.{module}").COMMANDS
        return next(command for command in commands if command.name == cmd_name)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="verify")

"""Commands for casework together: assign, comment, tag, inbox (SPEC section 13)."""

from __future__ import annotations

import click

from verify.entrypoints.cli.support import (
    CODE,
    Session,
    emit_json,
    json_option,
    pass_session,
    say,
)


@click.command()
@click.argument("code", type=CODE)
@click.option("--to", "to", metavar="NAME", help="The member who takes it on.")
@click.option("--unassign", is_flag=True, help="Take it back from whoever has it.")
@pass_session
def assign(session: Session, code: str, to: str | None, unassign: bool) -> None:
    """Hand incident CODE to a member to work on (it appears in their inbox and in
    `queue --mine`), or take it back with --unassign."""
    if (to is None) == (not unassign):
        raise click.UsageError("give --to NAME, or --unassign")
    person = session.app().assign(code, None if unassign else to, session.actor)
    say(f"assigned {code} to {person}" if person else f"{code} is assigned to nobody now")


@click.command()
@click.argument("code", type=CODE)
@click.argument("text")
@click.option("--reply-to", "reply_to", metavar="ID", help="The comment this answers (m1…).")
@pass_session
def comment(session: Session, code: str, text: str, reply_to: str | None) -> None:
    """Add TEXT to the discussion of incident CODE; @name mentions a member, who finds it
    in their inbox. Comments are internal: never in public exports or the public history."""
    comment_id, mentions = session.app().comment(code, text, session.actor, reply_to=reply_to)
    told = f" (mentioning {', '.join(mentions)})" if mentions else ""
    say(f"added comment {comment_id} to {code}{told}")


@click.command()
@click.argument("code", type=CODE)
@click.argument("tags", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Take these tags off instead.")
@pass_session
def tag(session: Session, code: str, tags: tuple[str, ...], remove: bool) -> None:
    """Put TAGS on incident CODE (words joined by hyphens, any script; case does not
    matter), or take them off with --remove. `queue --tag TAG` lists the incidents
    with one."""
    changed, now = session.app().tag_incident(code, list(tags), session.actor, remove=remove)
    verb = "took" if remove else "put"
    where = "off" if remove else "on"
    say(f"{verb} {', '.join(changed)} {where} {code}; its tags: {', '.join(now) or 'none'}")


@click.command()
@json_option
@pass_session
def inbox(session: Session, as_json: bool) -> None:
    """What waits for you (the actor): incidents assigned to you and comments that mention
    you, newest first."""
    items = session.app().inbox(session.actor)
    if as_json:
        emit_json(items)
        return
    if not items:
        say(f"nothing waits for {session.actor}")
        return
    for item in items:
        at = item["at"][:16].replace("T", " ")
        if item["kind"] == "assigned":
            say(f"{at}  {item['code']:<10} assigned to you by {item['by']} ({item['state']})")
        else:
            answered = "" if not item["answered"] else " (answered)"
            say(f"{at}  {item['code']:<10} {item['by']} mentioned you in {item['comment']}"
                f"{answered}: {_first_line(item['text'])}")


def _first_line(text: str, width: int = 70) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[:width - 1] + "…"


COMMANDS = (assign, comment, tag, inbox)

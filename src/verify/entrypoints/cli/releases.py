"""`verify release`: record what was published, list the releases, and tell two apart."""

from __future__ import annotations

from typing import Any

import click
import orjson

from verify.application.releases import Releases
from verify.entrypoints.cli.support import Session, emit_json, json_option, pass_session, say


@click.group()
def release() -> None:
    """Record a publication of the log, list them, and see what changed between two.

    A release seals the log (the hash chain's head and the Merkle root), keeps
    the SHA-256 of the public JSON Lines export at that place and the counts by
    state and grade, and is itself an event of the audited log
    (docs/publication.md).
    """


def _releases(session: Session) -> Releases:
    return Releases(session.app(), session.store.label)


@release.command("create")
@click.argument("name")
@click.option("--notes", metavar="TEXT", help="What this release is, for its readers.")
@json_option
@pass_session
def release_create(session: Session, name: str, notes: str | None, as_json: bool) -> None:
    """Seal the log now and record it as release NAME, with its export's digest and counts."""
    made = _releases(session).create(name, notes, session.actor)
    if as_json:
        emit_json(made)
        return
    say(f"recorded release {made['name']}: {made['events']} events, "
        f"{made['counts']['incidents']} incidents")
    _describe(made)
    say(made["line"])


@release.command("list")
@json_option
@pass_session
def release_list(session: Session, as_json: bool) -> None:
    """Every release, oldest first."""
    found = _releases(session).releases()
    if as_json:
        emit_json(found)
        return
    if not found:
        say("no release yet; make one with `verify release create NAME`")
        return
    for made in found:
        say(f"{made['name']}  {made['at'][:19].replace('T', ' ')}  by {made['by']}  "
            f"{made['events']} events, {made['counts']['incidents']} incidents")
        _describe(made)


def _describe(made: dict[str, Any]) -> None:
    say(f"  head {made['head']}\n  merkle_root {made['merkle_root']}\n"
        f"  public export sha256:{made['export_sha256']}")
    counts = made["counts"]
    grades = ", ".join(f"{grade} {count}" for grade, count in counts["grades"].items() if count)
    say(f"  grades: {grades or 'none'}; duplicates {counts['duplicates']}")
    if made.get("notes"):
        say(f"  notes: {made['notes']}")


@release.command("diff")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@json_option
@pass_session
def release_diff(session: Session, first: str, second: str, as_json: bool) -> None:
    """What changed in the public records from release A to release B, and why.

    Incidents added, withdrawn (marked duplicates) and changed, each change with
    the old and new value of every public field it touched and the reasons the
    public history records between the two releases.
    """
    diff = _releases(session).diff(first, second)
    if as_json:
        emit_json(diff)
        return
    say(f"from {diff['from']['name']} to {diff['to']['name']}: {len(diff['added'])} added, "
        f"{len(diff['withdrawn'])} withdrawn, {len(diff['changed'])} changed")
    for added in diff["added"]:
        grade = f", {added['grade']}" if added["grade"] else ""
        duplicate = f", duplicate of {added['duplicate_of']}" if added["duplicate_of"] else ""
        say(f"added      {added['code']} ({added['state']}{grade}{duplicate})")
    for entry in diff["withdrawn"]:
        say(f"withdrawn  {entry['code']}: duplicate of {entry['duplicate_of']}")
        _reasons(entry)
    for entry in diff["changed"]:
        say(f"changed    {entry['code']}")
        for change in entry["changes"]:
            say(f"  {change['field']}: {_value(change['old'])} -> {_value(change['new'])}")
        _reasons(entry)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _reasons(entry: dict[str, Any]) -> None:
    for reason in entry["reasons"]:
        why = f"; why: {reason['why']}" if reason["why"] else ""
        say(f"  {reason['by']}: {reason['what']}{why}")


COMMANDS = (release,)

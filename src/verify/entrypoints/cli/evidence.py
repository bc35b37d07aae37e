"""Commands about evidence files: add, list, get, verify (SPEC section 12)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from verify.domain.errors import Refused
from verify.entrypoints.cli.support import (
    CODE,
    MOMENT,
    Session,
    destination,
    emit_json,
    json_option,
    pass_session,
    say,
)


@click.group()
def evidence() -> None:
    """Keep evidence files (photos, videos, documents, saved pages), fixed by SHA-256.

    Every handling is recorded: who collected a file, when and from where;
    who took a copy, when and why. `history` reads as the chain of custody.
    """


@evidence.command("add")
@click.argument("code", type=CODE)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", help="The incident's source it came with (s1…).")
@click.option("--origin", help="Where it was collected from (a URL).")
@click.option("--collected-by", "collected_by", help="Who collected it [default: the actor].")
@click.option("--collected-at", "collected_at", type=MOMENT,
              help="When it was collected: ISO 8601 [default: now].")
@click.option("--description", help="What it shows.")
@click.option("--graphic", is_flag=True, help="Shows injury or death: no thumbnail until asked.")
@click.option("--protected", is_flag=True, help="Never listed in public exports.")
@pass_session
def evidence_add(session: Session, code: str, file: Path, source: str | None,
                 origin: str | None, collected_by: str | None,
                 collected_at: dt.datetime | None, description: str | None, graphic: bool,
                 protected: bool) -> None:
    """Add FILE to incident CODE: stored once per SHA-256, streamed, its media type read from
    its bytes."""
    from verify.adapters.files import open_regular

    with open_regular(file, "the evidence file") as stream:
        added = session.app().add_file(
            code, stream, session.actor, name=file.name, source=source, origin=origin,
            collected_by=collected_by, collected_at=collected_at, description=description,
            graphic=graphic, protected=protected)
    say(f"added {added.file_id} to {code}: {added.media_type}, {added.size:,} bytes, "
        f"sha256 {added.sha256}")


@evidence.command("list")
@click.argument("code", type=CODE)
@json_option
@pass_session
def evidence_list(session: Session, code: str, as_json: bool) -> None:
    """The evidence files of incident CODE."""
    files = session.app().files_of(code)
    if as_json:
        emit_json(files)
        return
    if not files:
        say(f"incident {code} holds no file")
    for found in files:
        flags = [flag for flag in ("graphic", "protected") if found.get(flag)]
        extra = f" [{', '.join(flags)}]" if flags else ""
        say(f"{found['id']:<4} {found['media_type']:<24} {found['size']:>12,}  "
            f"{found['sha256'][:16]}…  {found.get('name') or ''}{extra}")


@evidence.command("get")
@click.argument("code", type=CODE)
@click.argument("file_id", metavar="ID")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to write the copy.")
@click.option("--reason", default="", help="Why the copy is taken (kept in the history).")
@pass_session
def evidence_get(session: Session, code: str, file_id: str, output: Path, reason: str) -> None:
    """Write a copy of file ID of incident CODE to PATH, re-hashed on the way out.

    Bytes that no longer match their SHA-256 are refused (exit 1) and the
    partial copy is removed; a copy handed out is recorded in the history.
    """
    app = session.app()
    with destination(output) as out:  # nothing is left behind when the bytes do not match
        found = app.copy_file(code, file_id, out, reason, session.actor)
    say(f"wrote {found['id']} of {code} to {output} ({found['size']:,} bytes, sha256 matches)")


@evidence.command("similar")
@click.argument("code", type=CODE)
@click.argument("file_id", metavar="ID")
@json_option
@pass_session
def evidence_similar(session: Session, code: str, file_id: str, as_json: bool) -> None:
    """Files in any incident that are the same bytes as file ID of CODE, or look the same
    (a resized or re-encoded photo), nearest first, with the distance in bits (of 64)."""
    found = session.app().similar_files(code, file_id)
    if as_json:
        emit_json(found)
        return
    if not found:
        say(f"no other file is the same as, or looks like, {file_id.strip().lower()} of {code}")
    for item in found:
        say(f"{item['code']:<10} {item['id']:<4} {item['how']:<12} distance {item['distance']:>2}"
            f"  {item['media_type']}  {item.get('name') or ''}")


@evidence.command("verify")
@pass_session
def evidence_verify(session: Session) -> None:
    """Re-hash every stored evidence file; exit 1 naming the first missing or altered."""
    checked, problem = session.app().verify_files()
    if problem is not None:
        raise Refused(f"{problem} (after {checked} intact)")
    say(f"intact: {checked} evidence files match their SHA-256")


COMMANDS = (evidence,)

"""`verify publish DIR`: the static public archive (verify.entrypoints.publish)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from verify.application.messages import counted
from verify.entrypoints.cli.reports import caught_up
from verify.entrypoints.cli.support import Session, emit_json, json_option, pass_session, say
from verify.entrypoints.cli.transfer import PROGRESS_FROM_ROWS


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Write into DIR even though it holds files (an archive published there "
                   "before): files of the same name are replaced, no other is deleted.")
@click.option("--proofs/--no-proofs", default=True, show_default=True,
              help="Write each incident's inclusion proof beside its page (about 9 KB an "
                   "incident; the seal is written either way).")
@json_option
@pass_session
def publish(session: Session, folder: Path, force: bool, proofs: bool, as_json: bool) -> None:
    """Write a static public archive of the store into DIR.

    Pages that open from the file system or any static host, without JavaScript,
    in every language of the web interface: an index with its filters as links
    (state, grade, country, month), one page per incident, the named victims, the
    monthly statistics with a chart, a map of the incidents with coordinates, the
    public exports (JSON Lines, CSV, GeoJSON), the seal of the event log and each
    incident's inclusion proof. Only what `export --public` gives is published:
    no protected source, victim or file, no note, no comment.

    DIR must be missing or empty, unless --force.
    """
    from verify.entrypoints.publish.archive import Publisher, empty_or_missing

    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{folder} is a file, not a folder", param_hint="DIR")
    if not force and not empty_or_missing(folder):
        raise click.BadParameter(f"{folder} holds files already; give an empty folder, or "
                                 "--force to write over an archive published there",
                                 param_hint="DIR")
    app = caught_up(session)
    # The statistics leave duplicates out: near enough for a progress bar.
    total = sum(group["incidents"] for group in app.stats(by="grade")["groups"])
    with click.progressbar(length=total, label="publishing", file=sys.stderr, show_pos=True,
                           hidden=total <= PROGRESS_FROM_ROWS) as bar:
        report = Publisher(app, folder, proofs=proofs, progress=bar.update).publish()
    document = {"folder": str(folder), "incidents": report.incidents, "proofs": report.proofs,
                "files": report.files, "bytes": report.bytes, "languages": report.languages,
                "seal": report.seal}
    if as_json:
        emit_json(document)
    else:
        say(f"published {counted(report.incidents, 'incident')} in "
            f"{len(report.languages)} languages ({counted(report.files, 'file')}, "
            f"{report.bytes / 1e6:.1f} MB) to {folder}")
        say(f"sealed: {report.seal['line']}")


COMMANDS = (publish,)

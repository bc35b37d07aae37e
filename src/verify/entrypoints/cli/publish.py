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
@click.option("--release", "release_name", metavar="NAME",
              help="Publish release NAME as it was made (`verify release create`): its "
                   "incidents at their versions then, its statistics and its seal, each "
                   "proof against that seal. Without it, the log as it is now, sealed now.")
@json_option
@pass_session
def publish(session: Session, folder: Path, force: bool, proofs: bool,
            release_name: str | None, as_json: bool) -> None:
    """Write a static public archive of the store into DIR.

    Pages that open from the file system or any static host, without JavaScript,
    in every language of the web interface: an index with its filters as links
    (state, grade, country, month), one page per incident, the named victims, the
    monthly statistics with a chart, a map of the incidents with coordinates, the
    public exports (JSON Lines, CSV, GeoJSON), the seal of the event log and each
    incident's inclusion proof. Only what `export --public` gives is published:
    no protected source, victim or file, no note, no comment.

    DIR must be missing or empty, unless --force. With --release NAME, the
    archive is the release's, and its JSON Lines export is checked against the
    digest the release recorded.
    """
    from verify.application.releases import Releases
    from verify.entrypoints.publish.archive import Publisher, empty_or_missing

    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{folder} is a file, not a folder", param_hint="DIR")
    if not force and not empty_or_missing(folder):
        raise click.BadParameter(f"{folder} holds files already; give an empty folder, or "
                                 "--force to write over an archive published there",
                                 param_hint="DIR")
    app = caught_up(session)
    release = None
    if release_name is not None:
        release = Releases(app, session.store.label).named(release_name)
        total = release["counts"]["incidents"]
    else:  # the statistics leave duplicates out: near enough for a progress bar
        total = sum(group["incidents"] for group in app.stats(by="grade")["groups"])
    with click.progressbar(length=total, label="publishing", file=sys.stderr, show_pos=True,
                           hidden=total <= PROGRESS_FROM_ROWS) as bar:
        report = Publisher(app, folder, proofs=proofs, progress=bar.update,
                           release=release_name).publish()
    document = {"folder": str(folder), "incidents": report.incidents, "proofs": report.proofs,
                "files": report.files, "bytes": report.bytes, "languages": report.languages,
                "seal": report.seal, "export_sha256": report.export_sha256}
    if release is not None:
        document["release"] = release["name"]
        document["export_matches_release"] = report.export_sha256 == release["export_sha256"]
        if not document["export_matches_release"]:
            say(f"warning: the public export written digests to {report.export_sha256}, not the "
                f"{release['export_sha256']} release {release['name']} recorded: the "
                "program's export format has changed since the release was made; its "
                "incidents, seal and proofs are the release's", err=True)
    if as_json:
        emit_json(document)
    else:
        what = f"release {release['name']}: " if release is not None else ""
        say(f"published {what}{counted(report.incidents, 'incident')} in "
            f"{len(report.languages)} languages ({counted(report.files, 'file')}, "
            f"{report.bytes / 1e6:.1f} MB) to {folder}")
        say(f"sealed: {report.seal['line']}")


COMMANDS = (publish,)

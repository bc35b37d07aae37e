"""`verify import` and `verify export`: files in, files out."""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..importing import Outcome

from .support import EXIT_BAD_INPUT, EXIT_REFUSED, Session, emit_json, json_option, say

EXPORT_FORMATS = ("jsonl", "csv", "geojson")

PROGRESS_FROM_ROWS = 300
"""Files with more rows than this get a progress bar."""

PROBLEMS_KEPT = 1000
"""How many problem rows ``import --json`` lists (all are counted and printed)."""


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@json_option
@click.pass_obj
def import_(session: Session, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import incidents from FILE (.jsonl or .csv; see docs/formats.md).

    Each bad line is reported with its number and reason, and the other lines
    still import. Incidents already in the store are left as they are: an
    identical row is skipped, a row that differs is reported, never merged.
    Exits 0 when every line imported or was already there, 2 when a line was
    invalid, 1 when a line was refused by a rule or differs from the store.
    """
    from ..formats import count_rows, format_of, read_rows
    from ..importing import PARALLEL_FROM_ROWS, Status, import_file

    app = session.app()
    total = count_rows(file)
    parallel = format_of(file) == "jsonl" and total >= PARALLEL_FROM_ROWS
    outcomes = import_file(
        app, session.store.env(), read_rows(file), file,
        actor=session.actor, dry_run=dry_run, parallel=parallel,
    )
    tally: Counter[Status] = Counter()
    events = 0
    problems: list[dict[str, object]] = []
    with click.progressbar(
        length=total, label="importing", file=sys.stderr, show_pos=True,
        hidden=total <= PROGRESS_FROM_ROWS,
    ) as bar:
        done_line = 0
        for outcome in outcomes:
            tally[outcome.status] += 1
            events += outcome.events
            if outcome.status not in (Status.IMPORTED, Status.UNCHANGED):
                _report_problem(outcome, problems)
            if outcome.line > done_line:
                bar.update(outcome.line - done_line)
                done_line = outcome.line
    verb = "would import" if dry_run else "imported"
    summary = {
        "file": str(file),
        "dry_run": dry_run,
        "imported": tally[Status.IMPORTED],
        "events": events,
        "unchanged": tally[Status.UNCHANGED],
        "differs": tally[Status.DIFFERS],
        "refused": tally[Status.REFUSED],
        "invalid": tally[Status.INVALID],
        "problems": problems,
    }
    if as_json:
        emit_json(summary)
    else:
        say(f"{verb} {tally[Status.IMPORTED]} incidents ({events} events); "
            f"{tally[Status.UNCHANGED]} already stored; {tally[Status.INVALID]} invalid, "
            f"{tally[Status.REFUSED]} refused, {tally[Status.DIFFERS]} differ from the store")
    if tally[Status.INVALID]:
        sys.exit(EXIT_BAD_INPUT)
    if tally[Status.REFUSED] or tally[Status.DIFFERS]:
        sys.exit(EXIT_REFUSED)


def _report_problem(outcome: Outcome, problems: list[dict[str, object]]) -> None:
    """Say what went wrong with one line, on stderr, and keep it for --json."""
    click.echo(f"line {outcome.line}: {outcome.message}", err=True)
    if len(problems) < PROBLEMS_KEPT:
        problems.append({"line": outcome.line, "code": outcome.code,
                         "status": outcome.status.value, "message": outcome.message})


@click.command()
@click.option("--format", "format_", type=click.Choice(EXPORT_FORMATS), default="jsonl",
              show_default=True, help="jsonl re-imports unchanged; csv is flat; geojson maps.")
@click.option("--public", is_flag=True,
              help="Leave out protected sources and internal notes entirely.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (replaced only when the export is complete).")
@click.pass_obj
def export(session: Session, format_: str, public: bool, output: Path | None) -> None:
    """Export every incident as JSON Lines, CSV or GeoJSON."""
    from ..formats import write_csv, write_geojson, write_jsonl

    app = session.app()
    records = app.export_records(public=public)
    with _destination(output) as out:
        if format_ == "jsonl":
            count = write_jsonl((record for record, _ in records), out)
        elif format_ == "csv":
            count = write_csv((record for record, _ in records), out)
        else:
            count = write_geojson(records, out)
    if output is not None:
        located = " located" if format_ == "geojson" else ""
        say(f"exported {count}{located} incidents to {output}")


@contextmanager
def _destination(output: Path | None) -> Iterator[IO[bytes]]:
    """stdout, or a temporary file renamed over OUTPUT once everything is written."""
    if output is None:
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise click.BadParameter(f"the folder {folder} does not exist", param_hint="--output")
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


COMMANDS = (import_, export)

"""`verify import` and `verify export`: files in, files out."""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from verify.application.importing import Outcome

from verify.application.messages import counted, today_utc
from verify.domain.dates import DateOrder
from verify.entrypoints.cli.support import (
    EXIT_BAD_INPUT,
    Session,
    destination,
    emit_json,
    json_option,
    say,
)

EXPORT_FORMATS = ("jsonl", "csv", "geojson")

PROGRESS_FROM_ROWS = 300
"""Files with more rows than this get a progress bar."""

@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and report everything; write nothing.")
@click.option("--date-order", type=click.Choice([order.value for order in DateOrder]),
              default=DateOrder.DMY.value, show_default=True,
              help="How to read dates written with slashes: 17/03/2017 is day first (dmy) "
              "unless mdy.")
@click.option("--columns", "columns_file", metavar="MAP.toml",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="For a spreadsheet: map its own column headers onto the format's names "
              "(see docs/formats.md).")
@json_option
@click.pass_obj
def import_(session: Session, file: Path, dry_run: bool, date_order: str,
            columns_file: Path | None, as_json: bool) -> None:
    """Import incidents from FILE (.jsonl or .csv; see docs/formats.md).

    Archives are taken in whole: a line is refused only when its code, date,
    country or place name is missing or unusable, or when the incident would
    break a rule; any other value that cannot be read is kept verbatim beside
    its field, with a warning. Incidents already in the store are left as they
    are: an identical row is skipped, a row that differs is reported, never
    merged. Exits 2 when any line was refused, 0 otherwise.
    """
    from verify.adapters.bulk_import import import_file, parallel_pays
    from verify.adapters.interchange import count_rows, format_of, read_rows
    from verify.adapters.sheets import load_column_map
    from verify.application.importing import Status
    from verify.application.intake import Intake

    columns = load_column_map(columns_file) if columns_file is not None else None
    if columns is not None and format_of(file) != "csv":
        raise click.BadParameter("a column map is for spreadsheets (.csv) only",
                                 param_hint="--columns")
    app = session.app()
    intake = Intake(today=today_utc(), parties=app.party_names(),
                    date_order=DateOrder(date_order))
    total = count_rows(file)
    parallel = format_of(file) == "jsonl" and parallel_pays(total)
    outcomes = iter(import_file(
        app, session.store.env(), read_rows(file, intake, columns), file,
        actor=session.actor, dry_run=dry_run, parallel=parallel, intake=intake, lines=total,
    ))
    # A file refused whole (a sheet without a header, say) is refused before a bar shows.
    first = next(outcomes, None)
    report = ImportReport()
    with click.progressbar(
        length=total, label="importing", file=sys.stderr, show_pos=True,
        hidden=total <= PROGRESS_FROM_ROWS,
    ) as bar:
        done_line = 0
        for outcome in itertools.chain([] if first is None else [first], outcomes):
            report.add(outcome)
            if outcome.line > done_line:
                bar.update(outcome.line - done_line)
                done_line = outcome.line
    if as_json:
        emit_json({"file": str(file), "dry_run": dry_run, **report.document()})
    else:
        verb = "would import" if dry_run else "imported"
        say(f"{verb} {counted(report.tally[Status.IMPORTED], 'incident')} "
            f"({counted(report.events, 'event')}); "
            f"{report.tally[Status.UNCHANGED]} already stored; "
            f"{counted(len(report.warnings), 'warning')}; {len(report.refused)} refused; "
            f"{len(report.differences)} differ from the store")
    if report.refused:
        sys.exit(EXIT_BAD_INPUT)


class ImportReport:
    """What an import did, line by line: the document of `import --json` (SPEC section 9)."""

    def __init__(self) -> None:
        from verify.application.importing import Status

        self.tally: Counter[Status] = Counter()
        self.events = 0
        self.warnings: list[dict[str, object]] = []
        self.refused: list[dict[str, object]] = []
        self.differences: list[dict[str, object]] = []

    def add(self, outcome: Outcome) -> None:
        """Count one outcome; say its warnings and any refusal on stderr (never row contents)."""
        from verify.application.importing import Status

        self.tally[outcome.status] += 1
        self.events += outcome.events
        for warning in outcome.warnings:
            self.warnings.append({"line": outcome.line, "code": outcome.code,
                                  "field": warning.field, "reason": warning.reason})
            say(f"line {outcome.line}: warning: {warning.field}: {warning.reason}", err=True)
        if outcome.status in (Status.INVALID, Status.REFUSED):
            self.refused.append({"line": outcome.line, "code": outcome.code,
                                 "reason": outcome.message})
        elif outcome.status is Status.DIFFERS:
            self.differences.append({"line": outcome.line, "code": outcome.code,
                                     "reason": outcome.message})
        else:
            return
        say(f"line {outcome.line}: {outcome.message}", err=True)

    def document(self) -> dict[str, object]:
        from verify.application.importing import Status

        return {
            "imported": self.tally[Status.IMPORTED],
            "already_stored": self.tally[Status.UNCHANGED],
            "differ": len(self.differences),
            "events": self.events,
            "warnings": self.warnings,
            "refused": self.refused,
            "differences": self.differences,
        }


@click.command()
@click.option("--format", "format_", type=click.Choice(EXPORT_FORMATS),
              help="jsonl (the default) re-imports unchanged; csv is flat; geojson maps. "
              "With -o, the file's extension chooses.")
@click.option("--public", is_flag=True,
              help="Leave out protected sources and internal notes entirely.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (replaced only when the export is complete); "
              ".jsonl, .csv or .geojson chooses the format.")
@click.pass_obj
def export(session: Session, format_: str | None, public: bool, output: Path | None) -> None:
    """Export every incident as JSON Lines, CSV or GeoJSON."""
    from verify.adapters.interchange import write_csv, write_geojson, write_jsonl

    format_ = export_format(format_, output)
    app = session.app()
    records = app.export_records(public=public)
    with destination(output) as out:
        if format_ == "jsonl":
            count = write_jsonl((record for record, _ in records), out)
        elif format_ == "csv":
            count = write_csv((record for record, _ in records), out)
        else:
            count = write_geojson(records, out)
    if output is not None:
        located = "located " if format_ == "geojson" else ""
        say(f"exported {counted(count, located + 'incident')} to {output}")


EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".geojson": "geojson"}


def export_format(given: str | None, output: Path | None) -> str:
    """The format asked for, or the one the output file's extension names; never both at odds."""
    named = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if given is not None and named is not None and given != named:
        raise click.BadParameter(
            f"{output.name if output else ''} is a {named} file by its extension; "
            f"drop --format {given} or name the file .{given}", param_hint="--format")
    return given or named or "jsonl"


COMMANDS = (import_, export)

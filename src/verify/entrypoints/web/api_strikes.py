"""The JSON API's changes of many incidents at once: strike reports, and grading them all.

Belligerents' strike reports are imported and matched as `verify strikes` does, and
every incident graded as `verify grade --all` does (SPEC sections 5 and 13).

Strike reports come as a JSON list of the rows a `.jsonl` file of `strikes import`
holds, each row read as that file's line is read (the same keys, days written as people
write them), and the answer is what `strikes import --json` prints: a row that does not
read is counted and said, the others are recorded. Matching takes the options of
`strikes match` as keys and answers as `strikes match --json`; the gazetteer is the
built-in one with the places of the server's `VERIFY_GAZETTEER` added, never a file the
request names.

No ``from __future__ import annotations`` here: the request models are read from the
endpoints' signatures at run time.
"""

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from verify.adapters.gazetteer import load_gazetteer
from verify.adapters.strike_files import read_report_rows
from verify.application.app import VerifyApp
from verify.application.importing import Status
from verify.application.strike_reports import StrikeReports
from verify.application.views import GradeAllSummary, json_bytes
from verify.domain.errors import InvalidInput
from verify.domain.strikes import Candidate
from verify.domain.values import Precision
from verify.entrypoints.web.api_base import ERRORS, JSON, add_schemas, reference, writer
from verify.entrypoints.web.auth import Gate

MOST_ROWS = 10_000
"""The most strike reports one request takes; a larger file goes in several requests, or
through `verify strikes import`."""

MOST_PROBLEMS = 1_000
"""The most problems an answer lists, as `strikes import --json` lists them."""

DEFAULT_RADIUS_KM = 15.0
DEFAULT_DAYS = 1
"""As `strikes match` has them."""

NO_INCIDENT = {code: text for code, text in ERRORS.items() if code != 404}
"""What a change of no one incident may answer."""


class StrikeReportRow(BaseModel):
    """One strike report, with the keys of a row of `verify strikes import` (docs/strikes.md);
    a row is read as a line of a .jsonl file is, and one that does not read is counted as
    invalid, not refused with the rest."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(description="the report's reference, such as CJTF-OIR 2017-03-17")
    belligerent: str = Field(description="who reported the strike")
    report_date: str | None = Field(default=None, description=(
        "the day the report was published, written as strike_date"))
    strike_date: str = Field(description=(
        "the day of the strike: 2017-03-17, 17 March 2017 or 17/03/2017 (day first)"))
    place: str | None = Field(default=None, description=(
        "where, as the report words it (\"Near Tabqa\"): placed at the most specific "
        "gazetteer place it names; or give lat and lon"))
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    precision: Precision | None = None
    strikes: int | None = Field(default=None, ge=0, le=100_000, description=(
        "how many strikes the report counts"))
    text: str | None = Field(default=None, description="the report's words")


class Problem(BaseModel):
    """A row that was not recorded, and why."""

    line: int = Field(description="the row's place in the list, from 1")
    status: str = Field(description="invalid, or differs (a report already recorded "
                                    "otherwise)")
    message: str


class StrikeReportsImported(BaseModel):
    """The answer to `POST /api/strike-reports`: what `strikes import --json` prints."""

    imported: int
    unchanged: int = Field(description="reports already recorded exactly so")
    invalid: int
    differs: int = Field(description="reports already recorded otherwise: compared, never "
                                     "changed")
    problems: list[Problem] = Field(description=f"the first {MOST_PROBLEMS:,} rows not "
                                                "recorded")


class MatchStrikeReports(BaseModel):
    """The options of `verify strikes match`."""

    model_config = ConfigDict(extra="forbid")

    radius_km: float = Field(default=DEFAULT_RADIUS_KM, ge=0.1, le=500, allow_inf_nan=False,
                             description="how far from the incident a reported strike may be")
    days: int = Field(default=DEFAULT_DAYS, ge=0, le=30, description=(
        "how many days before or after the incident's day"))
    apply: bool = Field(default=False, description=(
        "record the best match of each incident as a likely strike; else record nothing"))


class IncidentNotPlaced(BaseModel):
    """An incident that could not be placed, and why."""

    code: str
    location: str = Field(description="its location's name, as recorded (amended)")
    country: str
    reason: str


class ReportNotPlaced(BaseModel):
    """A strike report that could not be placed, and why."""

    reference: str
    belligerent: str
    place: str | None
    reason: str


class NotPlaced(BaseModel):
    """Everything a match could not place: no coordinates, and no gazetteer place named."""

    incidents: list[IncidentNotPlaced]
    reports: list[ReportNotPlaced]


class StrikeMatches(BaseModel):
    """The answer to `POST /api/strike-reports/match`: what `strikes match --json` prints."""

    incidents_without_strike: int
    incidents_not_placed: int = Field(description=(
        "without coordinates, and naming no place the gazetteer knows in their country"))
    reports: int
    reports_not_placed: int
    not_placed: NotPlaced = Field(description="each incident and report not placed, and why")
    radius_km: float
    days: int
    candidates: list[Candidate]
    applied: list[Candidate] = Field(description="the matches recorded as likely strikes")


class GradeAll(BaseModel):
    """The options of `verify grade --all`."""

    model_config = ConfigDict(extra="forbid")

    due: bool = Field(default=False, description=(
        "re-grade instead the graded incidents whose evidence changed so that the rulebook "
        "now grades them otherwise"))


def gazetteer_path() -> Path | None:
    """The server's gazetteer, as `strikes match` finds it without --gazetteer."""
    named = os.environ.get("VERIFY_GAZETTEER", "").strip()
    return Path(named) if named else None


def imported(app: VerifyApp, rows: list[Any], actor: str) -> StrikeReportsImported:
    """Record the rows as `strikes import` records a file's; what it would print."""
    tally: Counter[Status] = Counter()
    problems = []
    for outcome in StrikeReports(app).import_rows(read_report_rows(rows), actor):
        tally[outcome.status] += 1
        if outcome.status not in (Status.IMPORTED, Status.UNCHANGED):
            problems.append(Problem(line=outcome.line, status=outcome.status.value,
                                    message=outcome.message))
    return StrikeReportsImported(
        imported=tally[Status.IMPORTED], unchanged=tally[Status.UNCHANGED],
        invalid=tally[Status.INVALID], differs=tally[Status.DIFFERS],
        problems=problems[:MOST_PROBLEMS])


def matched(app: VerifyApp, options: MatchStrikeReports, actor: str) -> StrikeMatches:
    """Match as `strikes match` does, applying the matches if asked."""
    service = StrikeReports(app)
    found, counts = service.candidates(load_gazetteer(gazetteer_path()),
                                       radius_km=options.radius_km, days=options.days)
    applied = service.apply(found, actor) if options.apply else []
    return StrikeMatches(**counts, radius_km=options.radius_km, days=options.days,
                         candidates=found, applied=applied)


def add_strike_routes(api: FastAPI, app: VerifyApp, gate: Gate,
                      fresh: Callable[[], None]) -> None:
    """Add the routes of strike reports and of grading every incident."""

    @api.post("/api/strike-reports", response_model=StrikeReportsImported,
              responses=NO_INCIDENT,
              summary="Import strike reports (`verify strikes import`): a JSON list of the "
                      "rows of its .jsonl file", tags=["changes"],
              openapi_extra={"requestBody": {"content": {JSON: {"schema": {
                  "items": {"$ref": reference(StrikeReportRow)}, "maxItems": MOST_ROWS}}}}})
    async def api_import_strike_reports(
            request: Request, rows: Annotated[list[Any], Body(description=(
                "the strike reports, one object a report"))],
    ) -> Response:
        actor = await writer(gate, request)
        if len(rows) > MOST_ROWS:
            raise InvalidInput(f"send at most {MOST_ROWS:,} strike reports at a time, not "
                               f"{len(rows):,}")

        def record() -> StrikeReportsImported:
            answer = imported(app, rows, actor)
            if answer.imported:
                fresh()
            return answer

        done = await run_in_threadpool(record)
        return Response(json_bytes(done), media_type=JSON)

    @api.post("/api/strike-reports/match", response_model=StrikeMatches,
              responses=NO_INCIDENT,
              summary="Match strike reports to incidents without a strike confirmation "
                      "(`verify strikes match [--apply]`)", tags=["changes"])
    async def api_match_strike_reports(request: Request,
                                       body: MatchStrikeReports) -> Response:
        actor = await writer(gate, request)

        def match() -> StrikeMatches:
            answer = matched(app, body, actor)
            if answer.applied:
                fresh()
            return answer

        done = await run_in_threadpool(match)
        return Response(json_bytes(done), media_type=JSON)

    @api.post("/api/grade-all", response_model=GradeAllSummary, responses=NO_INCIDENT,
              summary="Grade every ungraded incident by the rulebook, or with due re-grade "
                      "those waiting for re-grading (`verify grade --all [--due]`)",
              tags=["changes"])
    async def api_grade_all(request: Request, body: GradeAll) -> Response:
        actor = await writer(gate, request)

        def grade() -> GradeAllSummary:
            summary = app.grade_all(actor, due=body.due)
            fresh()
            return summary

        done = await run_in_threadpool(grade)
        return Response(json_bytes(done), media_type=JSON)

    add_schemas(api, StrikeReportRow)


__all__ = ["GradeAll", "IncidentNotPlaced", "MatchStrikeReports", "NotPlaced",
           "ReportNotPlaced", "StrikeMatches", "StrikeReportRow", "StrikeReportsImported",
           "add_strike_routes"]

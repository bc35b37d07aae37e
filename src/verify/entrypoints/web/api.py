"""The JSON API for integrations: every change the command line can make, as a JSON POST,
and the export (SPEC section 13).

Each change takes the options of its command as keys and runs through the same
form handling as the incident page (`web.actions`), so a value is read one way
wherever it comes from. A change acts as the member its credentials name
(``Authorization: Bearer TOKEN`` from ``verify team token``, a signed-in
session, or Basic credentials), under the same roles and separation of duties.
Every error answer is ``{"error": "one sentence"}``.

No ``from __future__ import annotations`` here: the request models are read from
the endpoints' signatures at run time.
"""

import datetime as dt
import tempfile
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from verify.application.app import VerifyApp
from verify.application.views import json_bytes
from verify.domain.errors import ConcurrentChange
from verify.domain.values import Grade, Precision, Reliability, SourceKind
from verify.domain.victims import AgeGroup, Gender, VictimStatus
from verify.entrypoints.web.actions import ACTIONS, report_incident
from verify.entrypoints.web.api_base import (
    ERRORS,
    JSON,
    Change,
    Done,
    NotJson,
    form_of,
    incident_code,
    out_of_date,
    writer,
)
from verify.entrypoints.web.api_files import add_file_routes
from verify.entrypoints.web.api_strikes import add_strike_routes
from verify.entrypoints.web.auth import Gate

# ------------------------------------------------------------ the changes

Day = str
"""A day: 2017-03-17, 17 March 2017 or 17/03/2017 (day first); read as `verify` reads it."""
Count = str
"""Civilians killed or injured: N or MIN-MAX."""
Time = str
"""A time of day: HH:MM, 24-hour."""


class ReportIncident(Change):
    code: str = Field(description="a new incident's code, such as CS1234")
    date: Day
    location: str
    country: str
    belligerents: list[str] = Field(default_factory=list, description=(
        "forces alleged to have struck; empty when unknown"))
    lat: float | None = None
    lon: float | None = None
    precision: Precision | None = None
    killed: Count | None = None
    injured: Count | None = None
    summary: str | None = None
    date_end: Day | None = Field(default=None, description=(
        "the last day, for an incident that spans several days"))
    time: Time | None = Field(default=None, description="the hour, when known: HH:MM, 24-hour")


class AddSource(Change):
    url: str
    publisher: str
    kind: SourceKind
    reliability: Reliability = Reliability("F")
    credibility: int = Field(default=6, ge=1, le=6)
    group: str | None = Field(default=None, description="sources in one group count once")
    protected: bool = False
    published: Day | None = None


class Rerate(Change):
    reliability: Reliability
    credibility: int = Field(ge=1, le=6)
    reason: str


class Reason(Change):
    reason: str


class ConfirmStrike(Change):
    belligerent: str
    status: Literal["declared", "likely"]
    report: str | None = Field(default=None, description="the strike report's reference")
    distance_km: float | None = None
    reported: Day | None = Field(default=None, description=(
        "the day the strike report was published; else the day recorded"))


class Contest(Change):
    belligerent: str = Field(description="the other party held responsible")
    reason: str


class Assess(Change):
    belligerent: str
    outcome: Literal["credible", "non_credible", "duplicate", "not_yet_assessed"]
    reason: str | None = None
    conceded_killed: Count | None = None
    dated: Day | None = Field(default=None, description=(
        "the day of the belligerent's statement; else the day recorded"))


class Discount(Change):
    basis: Literal["combatants", "other_party"]
    party: str | None = None
    rationale: str


class Revise(Change):
    killed: Count | None = None
    injured: Count | None = None
    reason: str


class NoBody(Change):
    pass


class Override(Change):
    grade: Grade
    rationale: str


class Dispute(Change):
    by: str = Field(description="who disputes the grade")
    reason: str


class Resolve(Change):
    outcome: Literal["dismissed", "upheld"]
    rationale: str


class Duplicate(Change):
    of: str = Field(description="the code of the incident this one duplicates")


class Amend(Change):
    date: Day | None = None
    date_end: Day | None = None
    time: Time | None = Field(default=None, description="HH:MM, 24-hour")
    location: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: Precision | None = None
    country: str | None = None
    belligerents: list[str] | None = None
    summary: str | None = None
    reason: str


class Retract(Change):
    item_id: str = Field(description="a strike (k1), competing claim (c1), assessment (a1) "
                                     "or finding (f1)")
    reason: str


class RecordVictim(Change):
    name: str | None = None
    name_original: str | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    age_group: AgeGroup | None = None
    gender: Gender | None = None
    status: VictimStatus = VictimStatus.KILLED
    family: str | None = None
    role: str | None = None
    sources: list[str] = Field(description="the ids of the sources that name this person")
    protected: bool = False


class AmendVictim(Change):
    yes_or_no: ClassVar[bool] = True

    name: str | None = None
    name_original: str | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    age_group: AgeGroup | None = None
    gender: Gender | None = None
    status: VictimStatus | None = None
    family: str | None = None
    role: str | None = None
    sources: list[str] | None = Field(default=None, description=(
        "the ids of the sources that name this person; replaces the list"))
    protected: bool | None = None
    reason: str


class Note(Change):
    text: str


class Assign(Change):
    assignee: str = Field(description="the member who takes it on")


class Comment(Change):
    text: str = Field(description="@name mentions a member")
    reply_to: str | None = Field(default=None, description="the comment this answers (m1…)")


class Tag(Change):
    tags: list[str] = Field(min_length=1, description="the tags to put on it")


class Untag(Change):
    tags: list[str] = Field(min_length=1, description="the tags to take off it")


CHANGES: list[tuple[str, str, type[Change], str]] = [
    ("sources", "source", AddSource, "Add a source (`verify source add`)"),
    ("sources/{source_id}/rerate", "rerate", Rerate, "Re-rate a source (`verify source rerate`)"),
    ("sources/{source_id}/withdraw", "withdraw", Reason,
     "Withdraw a source (`verify source withdraw`)"),
    ("strikes", "strike", ConfirmStrike, "Confirm a strike (`verify strike confirm`)"),
    ("claims", "contest", Contest, "Record a competing claim (`verify contest`)"),
    ("assessments", "assess", Assess, "Record a belligerent's assessment (`verify assess`)"),
    ("findings", "discount", Discount, "Record a discounting finding (`verify discount`)"),
    ("casualties", "revise", Revise, "Revise the casualty figures (`verify revise`)"),
    ("grade", "grade", NoBody, "Grade by the rulebook (`verify grade`)"),
    ("override", "override", Override, "Override the rulebook's grade (`verify grade --grade`)"),
    ("approve", "approve", NoBody, "Approve the proposed grade (`verify approve`)"),
    ("disputes", "dispute", Dispute, "Open a dispute (`verify dispute`)"),
    ("resolve", "resolve", Resolve, "Resolve the open dispute (`verify resolve`)"),
    ("duplicate", "duplicate", Duplicate, "Mark it a duplicate (`verify duplicate --of`)"),
    ("duplicate/undo", "undo_duplicate", Reason,
     "Take the duplicate mark back (`verify duplicate --undo`)"),
    ("amend", "amend", Amend, "Amend what was recorded wrongly (`verify amend`)"),
    ("retract", "retract", Retract, "Retract a piece of evidence (`verify retract`)"),
    ("victims", "victim", RecordVictim, "Record a victim (`verify victim add`)"),
    ("victims/{victim_id}/amend", "victim_amend", AmendVictim,
     "Amend a victim (`verify victim amend`)"),
    ("victims/{victim_id}/withdraw", "victim_withdraw", Reason,
     "Withdraw a victim (`verify victim withdraw`)"),
    ("victims/{victim_id}/erase", "victim_erase", Reason,
     "Erase a victim's personal details (`verify victim erase`)"),
    ("notes", "note", Note, "Add an internal note (`verify note`)"),
    ("assign", "assign", Assign, "Assign it to a member (`verify assign --to`)"),
    ("unassign", "unassign", NoBody,
     "Take it back from whoever has it (`verify assign --unassign`)"),
    ("comments", "comment", Comment, "Comment, internally (`verify comment`)"),
    ("tags", "tag", Tag, "Put tags on it (`verify tag`)"),
    ("tags/remove", "untag", Untag, "Take tags off (`verify tag --remove`)"),
]
"""(path under /api/incidents/CODE/, the incident page's action, the body, a summary)."""


class AddParty(BaseModel):
    """`verify parties add NAME --alias ALIAS...`: not a change of one incident, so no
    version."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the party, or a name or alias it is recorded under")
    aliases: list[str] = Field(default_factory=list, description=(
        "other names the party goes by"))


class PartyRecorded(BaseModel):
    """The answer to `POST /api/parties`."""

    party: str = Field(description="the party's name as recorded")
    aliases: list[str] = Field(description="the aliases this change added")
    message: str = Field(description="what the command line prints for the same change")


def add_routes(api: FastAPI, app: VerifyApp, gate: Gate, fresh: Callable[[], None]) -> None:
    """Add the write routes and the export to the web application."""

    def record(action: str, code: str, body: Change, actor: str, **path: str) -> Done:
        canonical = incident_code(code)
        seen = body.version if body.version is not None else app.load(canonical).version
        try:
            message = ACTIONS[action].perform(app, canonical, form_of(body, **path), actor,
                                              seen)
        except ConcurrentChange:
            raise out_of_date(canonical, seen) from None
        fresh()
        return Done(code=canonical, version=app.load(canonical).version, message=message)

    async def member(request: Request) -> str:
        return await writer(gate, request)

    for suffix, action, model, summary in CHANGES:
        _add_change(api, suffix, action, model, summary, member, record)

    @api.post("/api/incidents", response_model=Done, status_code=201, responses=ERRORS,
              summary="Report a new incident (`verify report`)", tags=["changes"])
    async def api_report(request: Request, body: ReportIncident) -> Response:
        actor = await writer(gate, request)

        def report() -> Done:
            code = report_incident(app, form_of(body), actor)
            fresh()
            return Done(code=code, version=1, message=f"reported {code}")

        done = await run_in_threadpool(report)
        return Response(json_bytes(done.model_dump()), 201, media_type=JSON)

    @api.post("/api/parties", response_model=PartyRecorded,
              responses={code: text for code, text in ERRORS.items() if code != 404},
              summary="Record a party and its aliases, or more aliases of a known party "
                      "(`verify parties add`)", tags=["changes"])
    async def api_add_party(request: Request, body: AddParty) -> Response:
        actor = await writer(gate, request)

        def add() -> PartyRecorded:
            party, added = app.add_party(body.name, body.aliases, actor)
            fresh()
            message = f"recorded {party} with the aliases {', '.join(added)}" if added \
                else f"recorded {party}"
            return PartyRecorded(party=party, aliases=added, message=message)

        done = await run_in_threadpool(add)
        return Response(json_bytes(done.model_dump()), media_type=JSON)

    add_file_routes(api, app, gate, fresh)
    add_strike_routes(api, app, gate, fresh)

    @api.get("/api/export", responses={**ERRORS, 200: {
        "description": "the export, as `verify export` writes it", "content": {
            "application/x-ndjson": {}, "text/csv": {}, "application/geo+json": {}}}},
        summary="Every incident, as `verify export --format F [--public]` writes it",
        tags=["reading"])
    async def api_export(
            request: Request,
            format: Literal["jsonl", "csv", "geojson"] = Query(default="jsonl"),
            public: bool = Query(default=False, description=(
                "leave out protected sources, victims and files, notes and comments"))
    ) -> Response:
        await gate.identify_api(request)

        def export() -> str:
            from verify.adapters.interchange import write_csv, write_geojson, write_jsonl

            records = app.export_records(public=public)
            with tempfile.NamedTemporaryFile("wb", prefix="verify-export-",
                                             delete=False) as out:
                if format == "jsonl":
                    write_jsonl((found for found, _ in records), out)
                elif format == "csv":
                    write_csv((found for found, _ in records), out)
                else:
                    write_geojson(records, out)
            return out.name

        path = await run_in_threadpool(export)
        kinds = {"jsonl": "application/x-ndjson", "csv": "text/csv",
                 "geojson": "application/geo+json"}
        import os

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
        return FileResponse(path, media_type=kinds[format],
                            filename=f"verify-{'public-' if public else ''}{stamp}.{format}",
                            background=BackgroundTask(os.unlink, path))


def _add_change(api: FastAPI, suffix: str, action: str, model: type[Change], summary: str,
                writer: Callable[[Request], Any], record: Callable[..., Done]) -> None:
    """One change's route, its body model and path in the OpenAPI document."""

    async def answer(request: Request, code: str, body: Change, **ids: str) -> Response:
        actor = await writer(request)
        done = await run_in_threadpool(lambda: record(action, code, body, actor, **ids))
        return Response(json_bytes(done.model_dump()), media_type=JSON)

    if "{source_id}" in suffix:
        async def on_source(request: Request, code: str, source_id: str,
                            body: model) -> Response:  # type: ignore[valid-type]
            return await answer(request, code, body, source_id=source_id)
        endpoint: Callable[..., Any] = on_source
    elif "{victim_id}" in suffix:
        async def on_victim(request: Request, code: str, victim_id: str,
                            body: model) -> Response:  # type: ignore[valid-type]
            return await answer(request, code, body, victim_id=victim_id)
        endpoint = on_victim
    else:
        async def on_incident(request: Request, code: str,
                              body: model) -> Response:  # type: ignore[valid-type]
            return await answer(request, code, body)
        endpoint = on_incident
    endpoint.__name__ = f"api_{action}"
    api.post(f"/api/incidents/{{code}}/{suffix}", response_model=Done, responses=ERRORS,
             summary=summary, tags=["changes"])(endpoint)


__all__ = ["CHANGES", "AddParty", "Done", "NotJson", "PartyRecorded", "add_routes", "form_of"]

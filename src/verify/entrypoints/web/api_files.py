"""The JSON API's evidence files: added (multipart or JSON) and copied out, as the CLI does.

A file is added as `evidence add` adds it, sent as a multipart upload or inside
JSON, and a copy is handed out and recorded as `evidence get` does (SPEC
sections 12 and 13).

A file is added through the same form handling as the incident page's upload
(`web.actions.add_evidence_file`), so its options are read one way wherever they
come from, and its body is refused with 413 past the server's upload limit, as
the page refuses it. A multipart upload is taken only with an API token: a
browser sends a multipart form to any site without asking, with the session
cookie or Basic credentials it holds, and no browser adds a Bearer token by
itself. With those credentials (or without a team) the file comes as JSON, with
its bytes in base64, which no other site can make a browser send here.

No ``from __future__ import annotations`` here: the request models are read from
the endpoints' signatures at run time.
"""

import base64
import binascii
import io
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from verify.application.app import VerifyApp
from verify.application.views import json_bytes
from verify.domain.duties import Action
from verify.domain.errors import ConcurrentChange, InvalidInput
from verify.entrypoints.web.actions import add_evidence_file
from verify.entrypoints.web.api_base import (
    ERRORS,
    JSON,
    Change,
    Done,
    NotJson,
    add_schemas,
    content_type,
    form_of,
    incident_code,
    out_of_date,
    reference,
    sent_on_purpose,
    writer,
)
from verify.entrypoints.web.auth import Gate
from verify.entrypoints.web.uploads import (
    UploadTooLarge,
    limited_body,
    limited_form,
    too_large,
    upload_limit_mb,
)

MULTIPART = "multipart/form-data"


class EvidenceFile(Change):
    """The options of `verify evidence add`."""

    source: str | None = Field(default=None, description=(
        "the incident's source it came with (s1…)"))
    origin: str | None = Field(default=None, description="where it was collected from (a URL)")
    collected_by: str | None = Field(default=None, description=(
        "who collected it; else the member sending it"))
    collected_at: str | None = Field(default=None, description=(
        "when it was collected: ISO 8601; else now"))
    description: str | None = Field(default=None, description="what it shows")
    graphic: bool = Field(default=False, description=(
        "shows injury or death: no thumbnail until asked"))
    protected: bool = Field(default=False, description="never listed in public exports")


class EvidenceFileUpload(EvidenceFile):
    """A file sent as multipart/form-data: the file, and the options as fields."""

    file: bytes = Field(description=(
        "the file; the name the part gives it is kept as its original name"))


class EvidenceFileSent(EvidenceFile):
    """A small file sent as JSON: its bytes in base64, its name, and the options."""

    name: str = Field(min_length=1, description="the file's original name, such as IMG_0042.jpg")
    content_base64: str = Field(description=(
        "the file's bytes in base64 (RFC 4648, with padding, without line breaks); no more "
        "than the server's upload limit once decoded"))


class FileAdded(Done):
    """The answer to a file added: the change's, and what the file was recorded as."""

    file_id: str = Field(description="the file's id on the incident (e1…)")
    sha256: str = Field(description="the SHA-256 of its bytes, as stored")
    size: int = Field(description="its size in bytes")
    media_type: str = Field(description="its media type, read from its bytes")


class CopyFile(BaseModel):
    """The options of `verify evidence get`."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", description="why the copy is taken (kept in the history)")


SCHEMAS: tuple[type[BaseModel], ...] = (EvidenceFileUpload, EvidenceFileSent)
"""Request bodies the document describes by hand (the route reads its body itself, to
stream it), added to its schemas."""


class TokenOnly(NotJson):
    """A multipart upload sent with a browser's credentials (answered 415)."""

    def __init__(self) -> None:
        super().__init__("send the file as JSON (content_base64), or as multipart/form-data "
                         "with an API token (Authorization: Bearer TOKEN)")


def add_file_routes(api: FastAPI, app: VerifyApp, gate: Gate, fresh: Callable[[], None]) -> None:
    """Add the routes of evidence files to the web application."""

    def limit_mb() -> int:
        """The server's upload limit (`serve --max-upload-mb`), as the page applies it."""
        limit = getattr(getattr(api.state, "web", None), "upload_limit", None)
        return limit if isinstance(limit, int) else upload_limit_mb()

    def ready(code: str, actor: str) -> None:
        """Refuse, before a byte of the body is read, what would be refused after it."""
        app.authorize(actor, Action.RECORD_EVIDENCE)
        app.load(code)
        _ = app.file_store  # a store that names no place for files is refused with its reason

    def add(code: str, stream: IO[bytes], name: str, options: EvidenceFile,
            actor: str) -> FileAdded:
        incident = app.load(code)
        seen = options.version if options.version is not None else incident.version
        before = {str(found["id"]) for found in incident.files or []}
        try:
            message = add_evidence_file(app, code, stream, name, form_of(options), actor, seen)
        except ConcurrentChange:
            raise out_of_date(code, seen) from None
        fresh()
        now = app.load(code)
        # The change was made on top of version `seen` exactly: the first file not there
        # then is this one, whatever was added after it.
        added = next(found for found in now.files or [] if str(found["id"]) not in before)
        return FileAdded(code=code, version=now.version, message=message,
                         file_id=str(added["id"]), sha256=str(added["sha256"]),
                         size=int(added["size"]), media_type=str(added["media_type"]))

    async def from_upload(request: Request, code: str, actor: str) -> FileAdded:
        form = await limited_form(request, limit_mb())
        try:
            fields: dict[str, str] = {}
            upload = None
            for key, value in form.multi_items():
                if key == "file":
                    upload = value
                elif isinstance(value, str):
                    fields[key] = value
                else:
                    raise InvalidInput(f"send the file as the part named file, not "
                                       f"{key[:40]!r}")
            # A part without a file name arrives as text: its name is what is missing.
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("send the file as a part named file, with its file name")
            options = _read(EvidenceFile, fields)
            if upload.size is not None and upload.size > limit_mb() * 1024 * 1024:
                raise too_large(limit_mb())
            stream, name = upload.file, upload.filename
            return await run_in_threadpool(lambda: add(code, stream, name, options, actor))
        finally:
            await form.close()

    async def from_json(request: Request, code: str, actor: str) -> FileAdded:
        sent = _read_json(EvidenceFileSent, await limited_body(request, limit_mb()))
        try:
            data = base64.b64decode(sent.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("content_base64 is not base64: give the file's bytes in "
                               "base64, with padding and without line breaks") from None
        if len(data) > limit_mb() * 1024 * 1024:
            raise too_large(limit_mb())
        options = EvidenceFile.model_validate(
            sent.model_dump(include=set(EvidenceFile.model_fields)))
        return await run_in_threadpool(
            lambda: add(code, io.BytesIO(data), sent.name, options, actor))

    @api.post("/api/incidents/{code}/files", response_model=FileAdded,
              responses={**ERRORS, 413: {"description": "the file is larger than the server "
                                                        "takes (`serve --max-upload-mb`)"},
                         415: {"description": "neither multipart/form-data nor JSON, or "
                                              "multipart/form-data without an API token"}},
              summary="Add an evidence file (`verify evidence add`): multipart/form-data "
                      "with an API token, or JSON with the bytes in base64",
              tags=["changes"], openapi_extra={"requestBody": {"required": True, "content": {
                  MULTIPART: {"schema": {"$ref": reference(EvidenceFileUpload)}},
                  JSON: {"schema": {"$ref": reference(EvidenceFileSent)}}}}})
    async def api_add_file(request: Request, code: str) -> Response:
        identity, needs_csrf = await gate.identify_writer(request)
        kind = content_type(request)
        if kind == MULTIPART:
            if needs_csrf:
                raise TokenOnly
        elif kind == JSON:
            sent_on_purpose(request, needs_csrf)
        else:
            raise NotJson("send the file as multipart/form-data (a part named file) or as "
                          "JSON with content_base64")
        canonical = incident_code(code)
        await run_in_threadpool(lambda: ready(canonical, identity.name))
        try:
            if kind == MULTIPART:
                done = await from_upload(request, canonical, identity.name)
            else:
                done = await from_json(request, canonical, identity.name)
        except UploadTooLarge as error:
            return Response(json_bytes({"error": str(error)}), 413, media_type=JSON)
        return Response(json_bytes(done.model_dump()), media_type=JSON)

    @api.post("/api/incidents/{code}/files/{file_id}/copy",
              responses={**ERRORS, 200: {
                  "description": "the file's bytes, re-hashed on the way out; the copy is "
                                 "recorded in the incident's history",
                  "content": {"application/octet-stream": {}}}},
              summary="Take a copy of an evidence file (`verify evidence get`)",
              tags=["changes"], response_class=Response)
    async def api_copy_file(request: Request, code: str, file_id: str,
                            body: CopyFile) -> Response:
        actor = await writer(gate, request)

        def copy() -> Response:
            canonical = incident_code(code)
            # Written whole and re-hashed before a byte is sent: bytes that no longer match
            # are refused (nothing recorded), and the copy handed out is the one recorded.
            descriptor, spooled = tempfile.mkstemp(prefix="verify-copy-")
            try:
                with os.fdopen(descriptor, "wb") as spool:
                    found = app.copy_file(canonical, file_id, spool, body.reason, actor)
            except BaseException:
                os.unlink(spooled)
                raise
            fresh()
            digest = base64.b64encode(bytes.fromhex(str(found["sha256"]))).decode("ascii")
            return FileResponse(spooled, media_type="application/octet-stream",
                                filename=copy_name(canonical, found),
                                headers={"Repr-Digest": f"sha-256=:{digest}:"},
                                background=BackgroundTask(os.unlink, spooled))

        return await run_in_threadpool(copy)

    add_schemas(api, *SCHEMAS)


Model = TypeVar("Model", bound=BaseModel)


def _read(model: type[Model], fields: dict[str, str]) -> Model:
    """A body's fields as ``model``; a problem answered as any request's (400, a sentence)."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise RequestValidationError(_in_body(error)) from None


def _read_json(model: type[Model], body: bytes) -> Model:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(_in_body(error)) from None


def _in_body(error: ValidationError) -> list[dict[str, Any]]:
    return [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]


def copy_name(code: str, found: dict[str, Any]) -> str:
    """The name a copy is saved under: the incident, the file's id and its original name
    (letters, digits, dots, dashes and underscores only), as the incident page names it."""
    original = str(found.get("name") or "")
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                   for c in original)[-80:].strip("._") or "file"
    return f"{code}-{found['id']}-{kept}"


__all__ = ["CopyFile", "EvidenceFile", "EvidenceFileSent", "EvidenceFileUpload", "FileAdded",
           "add_file_routes", "copy_name"]

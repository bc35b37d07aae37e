"""Files sent from a browser: read as a stream, refused as soon as they pass the limit.

The multipart parser spools a file to disk past its first megabyte, so memory
stays flat; the limit is counted on the bytes as they arrive (and on the
declared length, when there is one), so a file over it is refused before the
rest of it is read, not after it fills a disk.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence

MAX_UPLOAD_VARIABLE = "VERIFY_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 2048
"""A long video from a phone fits; a whole disk image does not."""

FORM_ALLOWANCE = 64 * 1024
"""Bytes allowed beyond the file itself for the form's other fields and its framing."""


class UploadTooLarge(InvalidInput):
    """A file larger than the server takes (HTTP 413)."""


def upload_limit_mb(given: int | None = None) -> int:
    """The limit in MB: given (``serve --max-upload-mb``), else VERIFY_MAX_UPLOAD_MB, else
    the default; a setting that is not a positive whole number is refused."""
    if given is not None:
        return given
    text = os.environ.get(MAX_UPLOAD_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_UPLOAD_MB
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= 10**7):
        raise InvalidInput(sentence("%(variable)s=%(value)s is not a size in MB: give a whole "
                                    "number such as 2048", variable=MAX_UPLOAD_VARIABLE,
                                    value=repr(text[:20])))
    return int(text)


def too_large(limit_mb: int) -> UploadTooLarge:
    """The refusal of a file over the limit."""
    return UploadTooLarge(sentence(
        "the file is larger than the %(limit)s MB this server takes; nothing was recorded",
        limit=f"{limit_mb:,}"))


async def limited_form(request: Request, limit_mb: int) -> FormData:
    """The request's form, with at most one file of at most ``limit_mb`` MB."""
    limit = limit_mb * 1024 * 1024 + FORM_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit_mb)
    received = 0
    receive = request.receive

    async def counted() -> Any:
        nonlocal received
        message = await receive()
        if message.get("type") == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit_mb)
        return message

    return await Request(request.scope, counted).form(max_files=1, max_fields=40)


async def limited_body(request: Request, limit_mb: int) -> bytes:
    """The body of a JSON request carrying a file of at most ``limit_mb`` MB in base64,
    refused (`UploadTooLarge`) as soon as it is longer than such a body can be. Held in
    memory: this way is for small files."""
    limit = (limit_mb * 1024 * 1024 + 2) // 3 * 4 + FORM_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit_mb)
    received: list[bytes] = []
    length = 0
    async for chunk in request.stream():
        length += len(chunk)
        if length > limit:
            raise too_large(limit_mb)
        received.append(chunk)
    return b"".join(received)

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
        raise InvalidInput(f"{MAX_UPLOAD_VARIABLE}={text[:20]!r} is not a size in MB: "
                           "give a whole number such as 2048")
    return int(text)


async def limited_form(request: Request, limit_mb: int) -> FormData:
    """The request's form, with at most one file of at most ``limit_mb`` MB."""
    limit = limit_mb * 1024 * 1024 + FORM_ALLOWANCE
    too_large = UploadTooLarge(
        f"the file is larger than the {limit_mb:,} MB this server takes; nothing was recorded")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    received = 0
    receive = request.receive

    async def counted() -> Any:
        nonlocal received
        message = await receive()
        if message.get("type") == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
        return message

    return await Request(request.scope, counted).form(max_files=1, max_fields=40)

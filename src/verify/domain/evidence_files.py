"""Evidence files: photos, videos, documents and saved pages, fixed by hash (SPEC section 12).

A file is identified by the SHA-256 of its bytes and recorded on an incident
with where it came from and who collected it; every copy taken out is an
event too, so the incident's history reads as the file's chain of custody
(the Berkeley Protocol's "fixed by hash at collection, every handling
recorded"). The bytes themselves live in a file store at the edge.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from verify.domain.sentences import sentence
from verify.domain.values import LongText, ShortText, Url, Value, canonical_source_id

SHA256 = re.compile(r"[0-9a-f]{64}")

LOOKS_ALIKE = 10
"""Difference hashes at most this many bits apart (of 64) are the same picture: a resized,
re-compressed or lightly retouched copy stays within a few bits, while two different
photographs differ in about half (docs/evidence.md)."""


def hash_distance(first: str, second: str) -> int:
    """How many of the 64 bits two difference hashes differ in."""
    return (int(first, 16) ^ int(second, 16)).bit_count()

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"BM", 0, "image/bmp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\x1f\x8b", 0, "application/gzip"),
)
"""Leading bytes of the formats evidence arrives in, and their media types."""


def media_type_of(head: bytes) -> str:
    """The media type the first bytes of a file show (never its name): what is not
    recognised is ``application/octet-stream``, or ``text/plain`` when it reads as text."""
    for signature, offset, media_type in _SIGNATURES:
        if head[offset:offset + len(signature)] == signature:
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<svg"):
        return "image/svg+xml" if b"<svg" in lowered else "application/xml"
    if not head or b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason != "unexpected end of data":  # more than a character cut at the end
            return "application/octet-stream"
    return "text/plain"


def _sha256(value: str) -> str:
    if not SHA256.fullmatch(value):
        raise ValueError(sentence("not a SHA-256 in hexadecimal"))
    return value


Sha256 = Annotated[str, AfterValidator(_sha256)]
"""A file's SHA-256, 64 hexadecimal digits: how a file is named wherever it is kept."""


class FileFacts(Value):
    """A file as recorded on an incident: what it is, and where it came from."""

    sha256: Sha256
    size: int = Field(ge=0)
    media_type: ShortText
    name: ShortText | None = None
    """The file's name where it was collected (a name says nothing of what it holds)."""
    source: Annotated[str, AfterValidator(canonical_source_id)] | None = None
    """The incident's source it came with (s1…), if any."""
    origin: Url | None = None
    collected_by: ShortText
    collected_at: datetime
    description: LongText | None = None
    graphic: bool = False
    """Shows injury or death: kept behind a click, no thumbnail until asked."""
    protected: bool = False
    phash: str | None = None
    """An image's difference hash (64 bits, hexadecimal): near for look-alike pictures."""


__all__ = ["LOOKS_ALIKE", "SHA256", "FileFacts", "Sha256", "hash_distance", "media_type_of"]

"""Where evidence files' bytes live: one copy per SHA-256, streamed in and out (SPEC 12).

Two places share what is written here: a local folder beside the embedded store
(``FILE.files/``, or ``VERIFY_FILES``), below, and an S3-compatible object store
(`adapters.object_store`). Either way the bytes are stored under their hash only
once the whole of them has been hashed, so a crash leaves no half file under a
hash, and the same bytes are stored once however many incidents hold them. With
``VERIFY_CIPHER_KEY`` the bytes are encrypted at rest, chunk by chunk (AES-GCM;
each chunk bound to its place and to whether it is the last, so chunks cannot be
reordered, dropped or cut off unnoticed).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from verify.domain.errors import Refused

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 1024 * 1024
"""Bytes read, hashed and written at a time: memory stays flat whatever the file's size."""

HEAD = 8192
"""Leading bytes kept to read the media type from."""

_MAGIC = b"VFE1"
_NONCE = 12


class FileDamaged(Refused):
    """Stored bytes that no longer match their hash, or cannot be decrypted (exit 1)."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    head: bytes


@dataclass
class Tally:
    """What is learnt of bytes while they stream past: their SHA-256, size and head."""

    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytes = b""

    def count(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        if len(self.head) < HEAD:
            self.head += chunk[:HEAD - len(self.head)]

    def stored(self) -> StoredFile:
        return StoredFile(self.digest.hexdigest(), self.size, self.head)


class ContentStore(ABC):
    """What both file stores share: the stored form of the bytes (plain or sealed chunk by
    chunk), and re-hashing them on the way out. A store adds where the stored form lives."""

    def __init__(self, key: str | None = None) -> None:
        self.aead: AESGCM | None = None
        if key:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # an encrypted store

            self.aead = AESGCM(base64.b64decode(key))

    # -- writing

    def sealed(self, stream: IO[bytes], tally: Tally) -> Iterator[bytes]:
        """The stored form of ``stream``'s bytes, block by block, counted into ``tally``."""
        if self.aead is not None:
            yield _MAGIC
        index = 0
        chunk = stream.read(CHUNK)
        while True:
            following = stream.read(CHUNK) if chunk else b""
            tally.count(chunk)
            yield self._sealed(chunk, index, last=not following)
            if not following:
                return
            chunk = following
            index += 1

    def _sealed(self, chunk: bytes, index: int, *, last: bool) -> bytes:
        if self.aead is None:
            return chunk
        nonce = os.urandom(_NONCE)
        sealed = self.aead.encrypt(nonce, chunk, struct.pack(">Q?", index, last))
        return struct.pack(">I", len(sealed)) + nonce + sealed

    # -- reading

    @abstractmethod
    def read(self, sha256: str) -> Iterator[bytes]:
        """The stored bytes, a chunk at a time (decrypted); FileDamaged if they cannot be."""

    def opened(self, stored: IO[bytes], sha256: str) -> Iterator[bytes]:
        """The bytes of a stored form read from ``stored``, decrypted when sealed."""
        if self.aead is None:
            while chunk := stored.read(CHUNK):
                yield chunk
            return
        from cryptography.exceptions import InvalidTag

        if _read_exactly(stored, len(_MAGIC)) != _MAGIC:
            raise FileDamaged(f"the file {sha256[:12]}… is not encrypted as expected")
        index = 0
        while True:
            length = _read_exactly(stored, 4)
            if len(length) < 4:
                raise FileDamaged(f"the file {sha256[:12]}… is cut short")
            (size,) = struct.unpack(">I", length)
            nonce, sealed = _read_exactly(stored, _NONCE), _read_exactly(stored, size)
            opened = None
            for last in (False, True):
                try:
                    opened = self.aead.decrypt(nonce, sealed, struct.pack(">Q?", index, last))
                except InvalidTag:
                    continue
                break
            if opened is None:
                raise FileDamaged(f"the file {sha256[:12]}… was altered")
            yield opened
            if last:
                if stored.read(1):
                    raise FileDamaged(f"the file {sha256[:12]}… has bytes after its end")
                return
            index += 1

    def verified(self, sha256: str) -> Iterator[bytes]:
        """The stored bytes, re-hashed on the way: FileDamaged at the end if they differ."""
        digest = hashlib.sha256()
        for chunk in self.read(sha256):
            digest.update(chunk)
            yield chunk
        if digest.hexdigest() != sha256:
            raise FileDamaged(f"the file {sha256[:12]}… no longer matches its SHA-256")

    def check(self, sha256: str) -> None:
        """Re-hash a stored file; FileDamaged if it is missing or altered."""
        for _ in self.verified(sha256):
            pass

    def perceptual_hash(self, sha256: str, size: int) -> str | None:
        """The difference hash of a stored image (None for one too large or unreadable)."""
        if size > PHASH_LARGEST:
            return None
        return difference_hash(b"".join(self.verified(sha256)))

    def thumbnail(self, sha256: str, size: int) -> bytes | None:
        """A small JPEG of a stored image, re-hashed on the way (None for one too large or
        that does not decode)."""
        if size > PHASH_LARGEST:
            return None
        return thumbnail_of(b"".join(self.verified(sha256)))

    def prepare(self) -> str | None:
        """Make the place ready for files (``verify init``); a sentence saying what was done."""
        return None


def _read_exactly(stored: IO[bytes], size: int) -> bytes:
    """``size`` bytes, fewer only at the end: a network stream may answer a read with less."""
    data = stored.read(size)
    while len(data) < size:
        more = stored.read(size - len(data))
        if not more:
            break
        data += more
    return data


class LocalFileStore(ContentStore):
    """Evidence files in a folder: ``ab/cdef…`` under their SHA-256.

    Bytes are written to a temporary file while their SHA-256 is computed, made
    durable, then renamed to their hash.
    """

    def __init__(self, root: Path, key: str | None = None) -> None:
        super().__init__(key)
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def put(self, stream: IO[bytes]) -> StoredFile:
        """Store the bytes read from ``stream``; returns their SHA-256, size and head."""
        self.root.mkdir(parents=True, exist_ok=True)
        tally = Tally()
        descriptor, temporary = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(descriptor, "wb") as out:
                for block in self.sealed(stream, tally):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            stored = tally.stored()
            final = self._path(stored.sha256)
            if final.exists():
                os.unlink(temporary)  # the same bytes are stored already
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(temporary, final)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return stored

    def read(self, sha256: str) -> Iterator[bytes]:
        path = self._path(sha256)
        if not path.is_file():
            raise FileDamaged(f"the file {sha256[:12]}… is missing from the file store")
        with path.open("rb") as stored:
            yield from self.opened(stored, sha256)


PHASH_LARGEST = 64 * 1024 * 1024
"""Images larger than this get no perceptual hash (decoding would hold them in memory)."""


def difference_hash(image_bytes: bytes) -> str | None:
    """A 64-bit difference hash (dHash) of an image, in hexadecimal; None if it does not decode.

    The image is reduced to 9 by 8 grey pixels and each pixel compared with its
    right neighbour, so resizing, re-encoding and small colour changes barely
    move it, while another picture differs in about half of the 64 bits.
    Written here on Pillow (a few lines) rather than taking `imagehash`, which
    would bring SciPy and PyWavelets for hashes this project does not use.
    """
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(image_bytes)) as image:
            small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
            pixels = list(small.tobytes())  # one byte a grey pixel, row by row
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | int(left > right)
    return f"{bits:016x}"


THUMBNAIL_BOX = 320
"""The longest side of a thumbnail, in pixels."""


def thumbnail_of(image_bytes: bytes, box: int = THUMBNAIL_BOX) -> bytes | None:
    """A JPEG no larger than ``box`` pixels a side, turned upright as the camera recorded;
    None if the bytes do not decode as an image. Nothing of the original's metadata (a
    camera's GPS position, its owner) is carried over."""
    from io import BytesIO

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(BytesIO(image_bytes)) as image:
            image.draft("RGB", (box, box))  # a JPEG decodes at a fraction of its size
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((box, box))
            out = BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def local_file_store(env: dict[str, str]) -> LocalFileStore:
    """The file store a store's settings name (see `adapters.store`)."""
    return LocalFileStore(Path(env["VERIFY_FILES_PATH"]), env.get("CIPHER_KEY") or None)


__all__ = ["CHUNK", "ContentStore", "FileDamaged", "LocalFileStore", "StoredFile", "Tally",
           "difference_hash", "local_file_store", "thumbnail_of"]

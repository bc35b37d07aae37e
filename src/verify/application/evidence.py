"""Evidence files: collected onto an incident, copied out, verified (SPEC section 12).

The bytes live in a file store named by the store's settings (a folder
beside an embedded store, `adapters.file_store`, or an S3-compatible bucket,
`adapters.object_store`); the incident's events are
the chain of custody: who collected a file, when and from where, and who
took a copy, when and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from eventsourcing.utils import resolve_topic
from pydantic import ValidationError

from verify.application.messages import validation_sentence
from verify.application.victims import Victims
from verify.domain.duties import Action
from verify.domain.errors import InvalidInput, Refused
from verify.domain.evidence_files import LOOKS_ALIKE, FileFacts, hash_distance, media_type_of
from verify.domain.incident import Incident
from verify.domain.sentences import sentence, sentence_of


class Stored(Protocol):
    sha256: str
    size: int
    head: bytes


class FileStore(Protocol):
    """Where evidence files' bytes are kept, one copy per SHA-256."""

    def put(self, stream: IO[bytes]) -> Stored: ...

    def verified(self, sha256: str) -> Iterator[bytes]: ...

    def check(self, sha256: str) -> None: ...

    def perceptual_hash(self, sha256: str, size: int) -> str | None: ...

    def thumbnail(self, sha256: str, size: int) -> bytes | None: ...

    def prepare(self) -> str | None: ...


@dataclass(frozen=True)
class Collected:
    """What `evidence add` tells: the file's id, and its hash, size and media type."""

    file_id: str
    sha256: str
    size: int
    media_type: str


class Evidence(Victims):
    """Commands about evidence files, and the file store they keep the bytes in."""

    _file_store: FileStore | None = None

    @property
    def file_store(self) -> FileStore:
        if self._file_store is None:
            topic = self.env.get("FILE_STORE_TOPIC") or ""
            if not topic:
                raise Refused(self.env.get("FILE_STORE_PROBLEM")
                              or sentence("this store names no place for evidence files"))
            self._file_store = resolve_topic(topic)(dict(self.env))
        return self._file_store

    def prepare_file_store(self) -> str | None:
        """Make the store's place for files ready (an object store's bucket is created when
        missing); a sentence saying what was done, or None. A store that names no place for
        files is left as it is: its members set one before they add a file."""
        if not self.keeps_files:
            return None
        return self.file_store.prepare()

    def add_file(self, code: str, stream: IO[bytes], actor: str, *, name: str | None = None,
                 source: str | None = None, origin: str | None = None,
                 collected_by: str | None = None, collected_at: dt.datetime | None = None,
                 description: str | None = None, graphic: bool = False,
                 protected: bool = False, expected_version: int | None = None) -> Collected:
        """Store a file's bytes (streamed) and record it on the incident."""
        self.authorize(actor, Action.RECORD_EVIDENCE)
        self.load(code)  # an unknown code is refused before any byte is stored
        stored = self.file_store.put(stream)
        media_type = media_type_of(stored.head)
        phash = self.file_store.perceptual_hash(stored.sha256, stored.size) \
            if media_type.startswith("image/") else None
        try:
            facts = FileFacts(
                sha256=stored.sha256, size=stored.size, media_type=media_type, name=name,
                source=source.strip().lower() if source else None, origin=origin,
                collected_by=collected_by or actor,
                collected_at=collected_at or dt.datetime.now(dt.UTC),
                description=description, graphic=graphic, protected=protected, phash=phash)
        except ValidationError as error:
            raise InvalidInput(validation_sentence(error)) from None
        with self.changing(code, actor, Action.RECORD_EVIDENCE, expected_version) as incident:
            file_id = incident.collect_file(facts, actor)
        return Collected(file_id, stored.sha256, stored.size, media_type)

    def copy_file(self, code: str, file_id: str, out: IO[bytes], reason: str,
                  actor: str) -> dict[str, Any]:
        """Write a file's bytes to ``out``, re-hashed on the way, and record the copy.

        Bytes that no longer match their hash raise FileDamaged (exit 1) and no
        copy is recorded; the caller discards what was written.
        """
        incident = self.load(code)
        found = incident.file_record(file_id)
        for chunk in self.file_store.verified(found["sha256"]):
            out.write(chunk)
        # Taking a copy changes no fact: any reader may, and the copy is always recorded.
        incident.record_copy(file_id, reason, actor)
        self.save_incident(incident)
        return dict(found)

    @property
    def keeps_files(self) -> bool:
        """Whether this store names a place for evidence files (a web page offers to add
        one only then)."""
        return bool(self.env.get("FILE_STORE_TOPIC"))

    def file_thumbnail(self, code: str, file_id: str) -> bytes | None:
        """A small JPEG of an image file, for a page (not a copy handed out: not recorded);
        None for a file that is not a picture this program can draw."""
        found = self.load(code).file_record(file_id)
        if not str(found["media_type"]).startswith("image/"):
            return None
        return self.file_store.thumbnail(found["sha256"], found["size"])

    def files_of(self, code: str) -> list[dict[str, Any]]:
        return [dict(found) for found in self.load(code).files or []]

    def verify_files(self) -> tuple[int, str | None]:
        """Re-hash every stored file: how many were checked, and the first one missing or
        altered (None when all match)."""
        checked = 0
        for event in self.events_of(Incident.FileCollected):
            sha256 = event.file["sha256"]
            try:
                self.file_store.check(sha256)
            except Refused as problem:
                code = self.load_by_id(event.originator_id).code
                return checked, sentence("%(code)s %(file)s: %(problem)s", code=code,
                                         file=event.file["id"], problem=sentence_of(problem))
            checked += 1
        return checked, None

    def similar_files(self, code: str, file_id: str) -> list[dict[str, Any]]:
        """Files in any incident that are the same bytes, or look the same (difference
        hashes at most LOOKS_ALIKE bits apart), nearest first, with the distance."""
        incident = self.load(code)
        wanted = incident.file_record(file_id)
        found = []
        for event in self.events_of(Incident.FileCollected):
            other = event.file
            if event.originator_id == incident.id and other["id"] == wanted["id"]:
                continue
            if other["sha256"] == wanted["sha256"]:
                distance, how = 0, "same bytes"
            elif wanted.get("phash") and other.get("phash"):
                distance = hash_distance(wanted["phash"], other["phash"])
                if distance > LOOKS_ALIKE:
                    continue
                how = "looks alike"
            else:
                continue
            found.append({"code": self.load_by_id(event.originator_id).code, "id": other["id"],
                          "how": how, "distance": distance, "sha256": other["sha256"],
                          "media_type": other["media_type"], "name": other.get("name")})
        return sorted(found, key=lambda item: (item["distance"], item["code"], item["id"]))

    def load_by_id(self, originator_id: Any) -> Incident:
        found: Incident = self.repository.get(originator_id)
        return found

"""Proofs a reader checks with only a published root: what a leaf is, what a proof holds.

A leaf of the log's Merkle tree (`verify.domain.merkle`) is one stored event, in
log order: its record's id (32 hexadecimal digits), its version and its topic,
each length-prefixed as the hash chain prefixes them, then the SHA-256 of the
event's stored bytes. The digest stands in for the bytes, so a proof names an
event without showing what it says: a protected source or an encrypted event
stays as hidden as it is in the store.

An incident's record id is derived from its code (`incident_id`), so a proof
ties each event to the incident by arithmetic a reader can redo. A proof holds
every event of the incident up to the tree's size, versions 1 to N, each with
its index in the log and its audit path; a consistency proof holds the two
sizes and roots and the path between them. Every field of a proof is checked,
none is decoration; the log's size against the seal's event count, since an
audit path alone fits trees of more than one size.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from verify.domain.chain import Seal, format_head
from verify.domain.errors import InvalidInput
from verify.domain.evidence_files import Sha256
from verify.domain.incident import incident_id
from verify.domain.merkle import leaf_hash, verify_consistency, verify_inclusion
from verify.domain.values import Value, canonical_code

Hashing = Literal["RFC 9162 SHA-256"]
HASHING: Hashing = "RFC 9162 SHA-256"
"""How the tree is hashed and shaped, as a proof names it."""

_pack = struct.Struct(">Q").pack
_ROOT = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


def event_leaf(record: str, version: int, topic: str, state_sha256: bytes) -> bytes:
    """The bytes of one stored event's leaf."""
    originator = record.encode()
    kind = topic.encode()
    return b"".join((_pack(len(originator)), originator, _pack(version),
                     _pack(len(kind)), kind, state_sha256))


def stored_event_leaf(record: str, version: int, topic: str, state: bytes) -> bytes:
    """The leaf hash of a stored event, from its stored bytes."""
    return leaf_hash(event_leaf(record, version, topic, hashlib.sha256(state).digest()))


format_root = format_head
"""A root is written as the chain's head is: ``sha256:`` and 64 hexadecimal digits."""


def parse_root(text: str) -> bytes:
    """A root as people paste it: 64 hexadecimal digits, with or without ``sha256:``."""
    found = _ROOT.fullmatch(text.strip())
    if found is None:
        raise InvalidInput("a root is 64 hexadecimal digits, with or without 'sha256:' before "
                           "them, as `verify audit seal` prints it")
    return bytes.fromhex(found.group(1))


@dataclass(frozen=True)
class PublishedRoot:
    """A Merkle root as a reader holds it: in a seal line, with the log's size, or alone.

    The size matters: an audit path alone fits trees of more than one size (RFC 9162
    publishes the size beside the root for that reason), so a proof checked against a
    seal line must also name the seal's event count.
    """

    root: bytes
    events: int | None = None

    @classmethod
    def parse(cls, text: str) -> PublishedRoot:
        if "head=" in text:
            seal = Seal.parse(text)
            if seal.merkle_root is None:
                raise InvalidInput("the seal holds no merkle_root: it was printed before seals "
                                   "had one; run `verify audit seal` again")
            return cls(seal.merkle_root, seal.events)
        return cls(parse_root(text))

    def problem(self, root: str, size: int, what: str) -> str | None:
        """Why a proof's root and size are not these; None when they are."""
        if root != format_root(self.root):
            return f"the proof {what} the root {root}, not {format_root(self.root)}"
        if self.events is not None and size != self.events:
            return f"the proof {what} a log of {size} events, not the {self.events} sealed"
        return None


def _root(value: str) -> str:
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", value):
        raise ValueError("not a root: 'sha256:' and 64 lower-case hexadecimal digits")
    return value


def _canonical(value: str) -> str:
    if canonical_code(value) != value:
        raise ValueError("not written as the incident's code is written")
    return value


def _record(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", value):
        raise ValueError("not a record's id: 32 lower-case hexadecimal digits")
    return value


Root = Annotated[str, AfterValidator(_root)]
Code = Annotated[str, AfterValidator(_canonical)]
Record = Annotated[str, AfterValidator(_record)]
Path = Annotated[list[Sha256], Field(max_length=64)]
Size = Annotated[int, Field(ge=0, lt=1 << 64)]


class _Proof(Value):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)


class ProvenEvent(_Proof):
    """One event of an incident, where it stands in the log, and the path to the root."""

    index: Size
    version: int = Field(ge=1)
    topic: str = Field(min_length=1, max_length=500)
    state_sha256: Sha256
    path: Path

    @property
    def event_type(self) -> str:
        return self.topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]

    def leaf_hash(self, record: str) -> bytes:
        return leaf_hash(event_leaf(record, self.version, self.topic,
                                    bytes.fromhex(self.state_sha256)))


class InclusionProof(_Proof):
    """Every event of one incident, in a log of ``tree_size`` events whose root is ``root``."""

    proof: Literal["inclusion"]
    hashing: Hashing
    code: Code
    record: Record
    tree_size: Size
    root: Root
    events: list[ProvenEvent] = Field(min_length=1)

    def problem(self, published: PublishedRoot) -> str | None:
        """Why the proof does not hold against the published root; None when it holds."""
        wrong = published.problem(self.root, self.tree_size, "is made against")
        if wrong is not None:
            return wrong
        root = published.root
        if self.record != incident_id(self.code).hex:
            return (f"the events it proves are not those of {self.code}: its record id is not "
                    "the one derived from that code")
        previous = -1
        for version, event in enumerate(self.events, start=1):
            if event.version != version:
                return f"version {version} of {self.code} is left out of the proof"
            if event.index <= previous:
                return (f"version {version} of {self.code} stands before the version before it "
                        "in the log")
            previous = event.index
            if not verify_inclusion(event.leaf_hash(self.record), event.index, self.tree_size,
                                    _hashes(event.path), root):
                return (f"version {version} of {self.code} ({event.event_type}, event "
                        f"{event.index + 1} of the log) is not in the log of {self.tree_size} "
                        f"events whose root is {format_root(root)}")
        return None


class ConsistencyProof(_Proof):
    """The log of ``tree_size`` events and ``root`` extends the one of ``old_size`` and
    ``old_root``: its first ``old_size`` events are those, unchanged."""

    proof: Literal["consistency"]
    hashing: Hashing
    old_size: Size
    old_root: Root
    tree_size: Size
    root: Root
    path: Path

    def problem(self, published: PublishedRoot,
                old: PublishedRoot | None = None) -> str | None:
        """Why the proof does not hold against the published root (and the old one, when
        given); None when it holds."""
        wrong = published.problem(self.root, self.tree_size, "is made against")
        if wrong is None and old is not None:
            wrong = old.problem(self.old_root, self.old_size, "starts from")
        if wrong is not None:
            return wrong
        if not verify_consistency(self.old_size, _hash(self.old_root), self.tree_size,
                                  published.root, _hashes(self.path)):
            return (f"the log of {self.tree_size} events whose root is {self.root} does not "
                    f"extend the log of {self.old_size} events whose root is {self.old_root}")
        return None


def _hash(root: str) -> bytes:
    return bytes.fromhex(root.removeprefix("sha256:"))


def _hashes(path: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(node) for node in path]

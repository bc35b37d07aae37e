"""The hash chain: every stored event linked to the one before it, in log order.

Link n is SHA-256 over link n-1 and the stored event's own bytes: originator
id, version, topic and state, each length-prefixed so no two different events
hash alike. The recorders write the chain in the same transaction as the
events, so it cannot drift from them. `verify_chain` walks every stored event
beside its chain row, in log order, and stops at the first event that was
altered, removed, inserted or moved in the database behind the program's
back. A seal is the head of the chain after N events, in a line a team can
publish; checking against it later proves that the first N events are still
exactly what they were, even if someone rewrote the events and the chain
together. Pure arithmetic: the recorders in `verify.adapters` supply the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence

GENESIS = bytes(32)
"""The link before the first event."""

_pack = struct.Struct(">Q").pack
_sha256 = hashlib.sha256


_TOPICS: dict[str, bytes] = {}
"""Each topic's length-prefixed bytes, as the chain hashes them: a store has a few dozen."""


def link(previous: bytes, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The next link of the chain, for one stored event."""
    linked = _sha256(previous)
    linked.update(stored_form(originator_id, version, topic, state))
    return linked.digest()


def stored_form(originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """One stored event as the chain hashes it after the previous link: its record, version,
    topic and bytes, each length-prefixed, so no two different events read alike."""
    originator = originator_id.encode()
    kind = _TOPICS.get(topic) or _topic_form(topic)
    return b"".join((_pack(len(originator)), originator, _pack(version), kind,
                     _pack(len(state)), state))


def _topic_form(topic: str) -> bytes:
    """A topic length-prefixed, kept for next time unless too many were seen."""
    encoded = topic.encode()
    kind = _pack(len(encoded)) + encoded
    if len(_TOPICS) < 1000:  # a tampered store's made-up topics are not kept
        _TOPICS[topic] = kind
    return kind


def originator_text(originator_id: UUID | str) -> str:
    """An originator id as the chain hashes it: 32 hex digits for a UUID."""
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def chain_links(
    previous: bytes, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
) -> list[tuple[int, str, int, str, bytes]]:
    """The chain rows for newly inserted events, continuing from the previous link."""
    links = links_after(previous, 0, [
        (originator_text(event.originator_id), event.originator_version, event.topic,
         bytes(event.state)) for event in stored_events])
    return [(notification_id, *chained[1:])
            for notification_id, chained in zip(notification_ids, links, strict=True)]


EventRow = tuple[str, int, str, bytes]
"""A stored event as its table holds it: originator (32 hex digits), version, topic, state."""

RecordRow = tuple[int, int, str, bytes]
"""A stored event or snapshot as a store's `records` reads it for loading incidents by
the thousand: its record's id as a number (`UUID.int`), version, topic, state. Plain
tuples, with no `UUID` made a row: making them took a third of that reading's time."""


def links_after(previous: bytes, first_id: int,
                events: Iterable[EventRow]) -> list[tuple[int, str, int, str, bytes]]:
    """The chain rows of events numbered from ``first_id`` on, continuing from ``previous``.

    The same links as `link`, one loop for a whole batch: a bulk import's
    writer spends its time here, so the forms are built inline and an
    incident's originator prefix is reused across its events.
    """
    pack, sha256, topics = _pack, _sha256, _TOPICS
    rows: list[tuple[int, str, int, str, bytes]] = []
    append = rows.append
    last_originator: str | None = None
    prefix = b""
    for number, (originator, version, topic, state) in enumerate(events, first_id):
        if originator != last_originator:
            encoded = originator.encode()
            last_originator, prefix = originator, pack(len(encoded)) + encoded
        kind = topics.get(topic) or _topic_form(topic)
        linked = sha256(previous)
        linked.update(b"".join((prefix, pack(version), kind, pack(len(state)), state)))
        previous = linked.digest()
        append((number, originator, version, topic, previous))
    return rows


def format_head(head: bytes) -> str:
    return "sha256:" + head.hex()


ChainRow = tuple[Any, ...]
"""(event id, originator, version, topic, state, chain id, chain originator, chain
version, chain topic, link); a side is all None where that row is missing."""

_MISSING = (None, None, None, None, None)


def merge_chain(events: Iterable[tuple[Any, ...]],
                links: Iterable[tuple[Any, ...]]) -> Iterator[ChainRow]:
    """Walk the events and the chain, each in id order, side by side: nothing is sorted.

    While the two keep step (every event has its chain row: an intact store),
    each pair is one tuple joined in C; at the first id they disagree on, the
    careful walk takes over and says which side is missing a row."""
    event_rows, link_rows = iter(events), iter(links)
    for event, chained in zip_longest(event_rows, link_rows):
        if event is not None and chained is not None and event[0] == chained[0]:
            yield event + chained
            continue
        yield from _merge_carefully(event, chained, event_rows, link_rows)
        return


def _merge_carefully(event: tuple[Any, ...] | None, chained: tuple[Any, ...] | None,
                     event_rows: Iterator[tuple[Any, ...]],
                     link_rows: Iterator[tuple[Any, ...]]) -> Iterator[ChainRow]:
    while event is not None or chained is not None:
        if chained is None or (event is not None and event[0] < chained[0]):
            assert event is not None
            yield (*event, *_MISSING)
            event = next(event_rows, None)
        elif event is None or chained[0] < event[0]:
            yield (*_MISSING, *chained)
            chained = next(link_rows, None)
        else:
            yield (*event, *chained)
            event = next(event_rows, None)
            chained = next(link_rows, None)



_SEAL = re.compile(r"events=(\d+)\s+head=sha256:([0-9a-f]{64})"
                   r"(?:\s+merkle_root=sha256:([0-9a-f]{64}))?")


@dataclass(frozen=True)
class Seal:
    """The chain's head after a number of events, and the Merkle root over the same events."""

    events: int
    head: bytes
    merkle_root: bytes | None = None
    """The root of `verify.domain.merkle`'s tree over those events; seals printed before
    the tree existed have none."""

    def line(self, store: str, at: dt.datetime) -> str:
        root = "" if self.merkle_root is None else f" merkle_root={format_head(self.merkle_root)}"
        return (f"verify seal: store={store} events={self.events} head={format_head(self.head)}"
                f"{root} at={at.strftime('%Y-%m-%dT%H:%M:%SZ')}")

    @classmethod
    def parse(cls, text: str) -> Seal:
        found = _SEAL.search(text)
        if found is None:
            raise InvalidInput(sentence(
                "a seal reads like 'events=N head=sha256:<64 hex digits>', "
                "as the audit's seal prints it"
            ))
        root = found.group(3)
        return cls(int(found.group(1)), bytes.fromhex(found.group(2)),
                   bytes.fromhex(root) if root else None)


@dataclass(frozen=True)
class BadEvent:
    """The first event found wrong, and how."""

    position: int
    notification_id: int
    originator_id: str
    version: int
    topic: str
    problem: str
    """What happened to it, worded to follow the event (a sentence)."""

    @property
    def event_type(self) -> str:
        return self.topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: bytes
    first_bad: BadEvent | None
    seal_checked: bool = False
    content: int = 0
    """A sum over the events walked of their `stored_form` hashed with Python's keyed hash
    (SipHash; its key is this process's own): compared with the same sum of what loading
    reads (`auditing.ReadBack`)."""

    @property
    def intact(self) -> bool:
        return self.first_bad is None


PROGRESS_EVERY = 10_000
"""Events walked between two calls of the walk's progress callback."""


def verify_chain(rows: Iterable[ChainRow], seal: Seal | None = None,
                 progress: Callable[[int], None] | None = None) -> ChainReport:
    """Recompute the chain over the stored events; report the first that does not fit."""
    previous = GENESIS
    position = 0
    seal_checked = False
    content = 0
    told = PROGRESS_EVERY if progress is not None else -1
    for (event_id, originator, version, topic, state,
         chain_id, chain_originator, chain_version, chain_topic, stored_link) in rows:
        position += 1
        if position == told:
            assert progress is not None
            progress(PROGRESS_EVERY)
            told += PROGRESS_EVERY
        if chain_id is None:
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, originator, version, topic,
                sentence("was inserted directly into the database, outside the program")))
        if event_id is None:
            return ChainReport(position - 1, previous, BadEvent(
                position, chain_id, chain_originator, chain_version, chain_topic,
                sentence("was removed from the database")))
        if (originator, version, topic) != (chain_originator, chain_version, chain_topic):
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, chain_originator, chain_version, chain_topic,
                sentence("was replaced or moved: another event now stands in its place")))
        form = stored_form(originator, version, topic, bytes(state))
        linked = _sha256(previous)
        linked.update(form)
        expected = linked.digest()
        if expected != bytes(stored_link):
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, originator, version, topic,
                sentence("was altered: its stored bytes no longer match the hash chain")))
        previous = expected
        content += hash(form)
        if seal is not None and position == seal.events:
            if previous != seal.head:
                return ChainReport(position, previous, BadEvent(
                    position, event_id, originator, version, topic,
                    sentence("ends a history that differs from the seal %(seal)s: events up to "
                             "here were rewritten together with the chain",
                             seal=format_head(seal.head))))
            seal_checked = True
    if seal is not None and not seal_checked:
        return ChainReport(position, previous, BadEvent(
            position, 0, "", 0, "",
            sentence("the store holds %(count)s events, fewer than the %(sealed)s sealed",
                     count=position, sealed=seal.events)))
    return ChainReport(position, previous, None, seal_checked, content)

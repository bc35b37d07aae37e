"""Auditing the stored history: recompute the hash chain, and seal its head.

`verify_chain` walks every stored event beside its chain row, in log order,
and stops at the first event that was altered, removed, inserted or moved in
the database behind the program's back. A seal is the head of the chain after
N events, in a line a team can publish; checking against it later proves that
the first N events are still exactly what they were, even if someone rewrote
the events and the chain together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from verify.chain import GENESIS, ChainRow, format_head, link
from verify.domain.errors import InvalidInput

_SEAL = re.compile(r"events=(\d+)\s+head=sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Seal:
    """The chain's head after a number of events."""

    events: int
    head: bytes

    def line(self, store: str, at: dt.datetime) -> str:
        return (f"verify seal: store={store} events={self.events} head={format_head(self.head)} "
                f"at={at.strftime('%Y-%m-%dT%H:%M:%SZ')}")

    @classmethod
    def parse(cls, text: str) -> Seal:
        found = _SEAL.search(text)
        if found is None:
            raise InvalidInput(
                "a seal reads like 'events=N head=sha256:<64 hex digits>', "
                "as `verify audit seal` prints it"
            )
        return cls(int(found.group(1)), bytes.fromhex(found.group(2)))


@dataclass(frozen=True)
class BadEvent:
    """The first event found wrong, and how."""

    position: int
    notification_id: int
    originator_id: str
    version: int
    topic: str
    problem: str

    @property
    def event_type(self) -> str:
        return self.topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: bytes
    first_bad: BadEvent | None
    seal_checked: bool = False

    @property
    def intact(self) -> bool:
        return self.first_bad is None


def verify_chain(rows: Iterable[ChainRow], seal: Seal | None = None) -> ChainReport:
    """Recompute the chain over the stored events; report the first that does not fit."""
    previous = GENESIS
    position = 0
    seal_checked = False
    for (event_id, originator, version, topic, state,
         chain_id, chain_originator, chain_version, chain_topic, stored_link) in rows:
        position += 1
        if chain_id is None:
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, originator, version, topic,
                "was inserted directly into the database, outside the program"))
        if event_id is None:
            return ChainReport(position - 1, previous, BadEvent(
                position, chain_id, chain_originator, chain_version, chain_topic,
                "was removed from the database"))
        if (originator, version, topic) != (chain_originator, chain_version, chain_topic):
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, chain_originator, chain_version, chain_topic,
                "was replaced or moved: another event now stands in its place"))
        expected = link(previous, originator, version, topic, bytes(state))
        if expected != bytes(stored_link):
            return ChainReport(position - 1, previous, BadEvent(
                position, event_id, originator, version, topic,
                "was altered: its stored bytes no longer match the hash chain"))
        previous = expected
        if seal is not None and position == seal.events:
            if previous != seal.head:
                return ChainReport(position, previous, BadEvent(
                    position, event_id, originator, version, topic,
                    f"ends a history that differs from the seal {format_head(seal.head)}: "
                    "events up to here were rewritten together with the chain"))
            seal_checked = True
    if seal is not None and not seal_checked:
        return ChainReport(position, previous, BadEvent(
            position, 0, "", 0, "",
            f"the store holds {position} events, fewer than the {seal.events} sealed"))
    return ChainReport(position, previous, None, seal_checked)

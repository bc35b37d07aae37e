"""RFC 3161 timestamps of a seal: what is timestamped, and what an answer must say to count.

A seal proves the history up to its head is unchanged, but its `at=` is the
team's own clock. A timestamping authority (RFC 3161) signs that it saw a
digest at a time, so a token for the head shows the history existed by then,
on a clock the team does not control. What is timestamped is the head's 32
bytes: the token's message imprint is SHA-256(head), and anyone checks it with
`openssl ts -verify -digest` and that digest. The head covers every event up to
the seal (and the seal's Merkle root is checked against the same events), so
nothing else needs the authority's signature. Pure: the adapters ask the
authority and read its signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from verify.domain.chain import format_head


def timestamped_data(head: bytes) -> bytes:
    """The bytes whose digest the authority signs: the head itself."""
    return head


def imprint_of(data: bytes) -> bytes:
    """The message imprint a token for these bytes carries (SHA-256, RFC 3161 section 2.4.1)."""
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class Attestation:
    """What a timestamp token says: this digest existed at this time, signed by this authority."""

    time: dt.datetime
    authority: str | None
    """The authority's name as the token gives it (optional in RFC 3161)."""
    serial: int
    imprint: bytes
    policy: str
    nonce: int | None = None

    def document(self) -> dict[str, Any]:
        return {
            "time": self.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "authority": self.authority,
            "serial": self.serial,
            "imprint": format_head(self.imprint),
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Stamped:
    """A token obtained from an authority, as it answered, and what it attests."""

    token: bytes
    attestation: Attestation


def answer_problem(attestation: Attestation, data: bytes, nonce: int | None) -> str | None:
    """Why an authority's answer is not a token for this request (None when it is one)."""
    if attestation.imprint != imprint_of(data):
        return "a token for another digest than the head's"
    if nonce is not None and attestation.nonce != nonce:
        return "a token for another request (its nonce differs from the one sent)"
    return None


def imprint_problem(attestation: Attestation, head: bytes) -> str | None:
    """Why a kept token does not attest this head (None when it does)."""
    if attestation.imprint != imprint_of(timestamped_data(head)):
        return (f"the timestamp token is for another digest than the seal's head "
                f"{format_head(head)}: it was made for another seal")
    return None

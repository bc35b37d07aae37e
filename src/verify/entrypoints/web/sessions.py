"""Sessions the server can end: ids kept by the server, and the key that signs the cookie.

The cookie carries a random session id (and the CSRF token), signed with the
server's key; who is signed in under that id is known only to the server. So a
session ends for good when its member signs out, when their password changes
(in the team file, by `verify team add NAME --password`), when they leave the
team, after twelve hours, or when the server restarts: a copy of the cookie
kept by anyone else stops working at the same moment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from verify.domain.duties import Team
from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence

SESSION_HOURS = 12
"""How long a sign-in lasts (the cookie expires then too)."""

MOST_SESSIONS = 10_000
"""Sessions the server keeps at once; past this the oldest ends first."""

SECRET_KEY_BYTES = 32
"""The least key material VERIFY_SECRET_KEY may hold."""

WEAK_KEY = sentence(
    "VERIFY_SECRET_KEY must be at least %(bytes)s random bytes written as hex (%(digits)s or "
    "more digits) or base64 (such as `verify keygen` prints)",
    bytes=SECRET_KEY_BYTES, digits=SECRET_KEY_BYTES * 2)


def secret_key(text: str) -> str:
    """The key that signs session cookies, if it holds enough random bytes; else refused.

    Accepted: hex of at least 32 bytes (``openssl rand -hex 32``), or base64 or
    base64url of at least 32 bytes (``verify keygen``, ``openssl rand -base64 32``).
    Key material with few distinct bytes (``aaaa…``, a word repeated) is refused
    too: random bytes are never like that.
    """
    text = text.strip()
    material = _hex(text) or _base64(text)
    if material is None or len(material) < SECRET_KEY_BYTES or len(set(material)) < 16:
        raise InvalidInput(WEAK_KEY)
    return text


def _hex(text: str) -> bytes | None:
    if len(text) % 2 or not set(text) <= set(string.hexdigits):
        return None
    return bytes.fromhex(text)


def _base64(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    for alphabet in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def fingerprint(password_hash: str | None) -> str:
    """What a session remembers of its member's password: it ends when this changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    member: str
    password: str  # the fingerprint of the member's password hash at sign-in
    until: float


class Sessions:
    """The sessions this server has started and not yet ended (thread-safe)."""

    def __init__(self, hours: float = SESSION_HOURS, most: int = MOST_SESSIONS) -> None:
        self.seconds = hours * 3600
        self.most = most
        self._open: OrderedDict[str, SignedIn] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, member: str, password_hash: str | None) -> str:
        """A new session id for a member who has just proved their password."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._open[session_id] = SignedIn(member, fingerprint(password_hash),
                                              time.monotonic() + self.seconds)
            while len(self._open) > self.most:
                self._open.popitem(last=False)
        return session_id

    def member(self, session_id: object, team: Team) -> str | None:
        """Who is signed in under this id, if the session still holds; a stale one ends."""
        if not isinstance(session_id, str):
            return None
        with self._lock:
            session = self._open.get(session_id)
            if session is None:
                return None
            member = team.members.get(session.member)
            if (member is None or time.monotonic() > session.until
                    or fingerprint(member.password_hash) != session.password):
                del self._open[session_id]
                return None
            return session.member

    def end(self, session_id: object) -> None:
        """Sign out: the id no longer names anyone, whoever holds a copy of the cookie."""
        if isinstance(session_id, str):
            with self._lock:
                self._open.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._open)

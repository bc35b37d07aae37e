"""Failed sign-ins slowed down per name and per address, so passwords cannot be guessed.

Every attempt (a sign-in form, or HTTP Basic credentials on the API) counts
against the name tried and the address it came from for fifteen minutes,
until it succeeds. A name with ten attempts counting, or an address with
thirty, is answered 429 with a ``Retry-After`` until the oldest leaves the
window, without checking the password at all (so a guess made then tells
nothing). Unknown names count the same as members' names, so the answer
does not tell which names exist. An attempt counts from the moment it is
made, so a burst of simultaneous guesses is held to the limit too.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque

from verify.domain.sentences import counted_sentence, sentence

WINDOW_SECONDS = 15 * 60
"""How long a failed attempt counts."""

NAME_LIMIT = 10
"""Attempts per name within the window."""

ADDRESS_LIMIT = 30
"""Attempts per address within the window (people behind one address share it)."""

MOST_TRACKED = 10_000
"""Names and addresses remembered at once (the oldest are forgotten first)."""


class Throttled(Exception):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, sentence: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(sentence or _too_many_sign_ins(self.retry_after))


def _too_many_sign_ins(retry_after: int) -> str:
    return sentence("too many failed sign-ins for this name or from this address; try again in "
                    "%(wait)s", wait=wait_of(retry_after))


def wait_of(seconds: int) -> str:
    """How long to wait before trying again, in whole minutes ("a minute", "3 minutes")."""
    minutes = math.ceil(seconds / 60)
    return counted_sentence("a minute", "%(count)s minutes", count=max(minutes, 1))


class SignInThrottle:
    """Attempts counted per name and per address over a sliding window (thread-safe)."""

    def __init__(self, *, window: float = WINDOW_SECONDS, per_name: int = NAME_LIMIT,
                 per_address: int = ADDRESS_LIMIT, most: int = MOST_TRACKED) -> None:
        self.window = window
        self.limits = {"name": per_name, "address": per_address}
        self.most = most
        self._attempts: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, name: str, address: str) -> float:
        """Count an attempt, or raise `Throttled` (counting nothing) when over a limit.

        Returns the attempt's stamp, for `succeeded` to take back.
        """
        now = time.monotonic()
        keys = _keys(name, address)
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
            if any(wait is not None for wait in waits):
                raise Throttled(math.ceil(max(w for w in waits if w is not None)))
            for key in keys:
                self._attempts.setdefault(key, deque()).append(now)
                self._attempts.move_to_end(key)
            while len(self._attempts) > self.most:
                self._attempts.popitem(last=False)
        return now

    def succeeded(self, name: str, address: str, stamp: float) -> None:
        """The password was right: the name starts afresh, the address forgets this try."""
        name_key, address_key = _keys(name, address)
        with self._lock:
            self._attempts.pop(name_key, None)
            tries = self._attempts.get(address_key)
            if tries is not None and stamp in tries:
                tries.remove(stamp)

    def _wait(self, key: tuple[str, str], now: float) -> float | None:
        tries = self._attempts.get(key)
        if tries is None:
            return None
        while tries and tries[0] <= now - self.window:
            tries.popleft()
        if not tries:
            del self._attempts[key]
            return None
        limit = self.limits[key[0]]
        if len(tries) < limit:
            return None
        return tries[-limit] + self.window - now


def _keys(name: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Keys of a fixed size, however long the name someone typed."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return ("name", digest), ("address", address[:64])

"""Password checks off the event loop, a few at a time, each costing the same.

Argon2 is slow on purpose (a tenth of a second or more, and tens of MiB):
run on the event loop, every guess would stall every page for everyone. The
checks run in a small pool of their own threads instead (half the processors,
at least one), so a flood of guesses queues there while members' pages are
served by the other threads; a queue longer than `MOST_WAITING` is answered
429 at once rather than held. Each check verifies exactly one Argon2 hash:
the member's, or for an unknown name (or a member without a password) a decoy
made with the same parameters, so the time taken does not tell names apart.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from verify.adapters.team_file import decoy_hash, password_matches
from verify.domain.sentences import sentence
from verify.entrypoints.web.throttle import Throttled

MOST_WAITING = 64
"""Checks queued at once; more are refused (429) until the queue shortens."""


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class PasswordChecks:
    """Verifies passwords in threads of its own, never on the event loop."""

    def __init__(self, workers: int | None = None, most_waiting: int = MOST_WAITING) -> None:
        self.workers = workers or default_workers()
        self.most_waiting = most_waiting
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting = 0
        self._decoys: dict[tuple[str, ...], str] = {}

    def decoy_now(self, hashes: Iterable[str | None]) -> str:
        """The decoy hash for a team whose members have these hashes, made here and kept."""
        key = _team_key(hashes)
        with self._lock:
            found = self._decoys.get(key)
        if found is None:
            found = decoy_hash(key)
            with self._lock:
                self._decoys = {key: found}  # only the team in force matters
        return found

    async def decoy(self, hashes: Iterable[str | None]) -> str:
        """As `decoy_now`, made in the password threads when the team has changed."""
        key = _team_key(hashes)
        with self._lock:
            found = self._decoys.get(key)
        if found is not None:
            return found
        return await asyncio.wrap_future(self._threads().submit(self.decoy_now, key))

    async def matches(self, password_hash: str | None, password: str, decoy: str) -> bool:
        """Whether the password is the one hashed; one Argon2 verification either way."""
        with self._lock:
            if self._waiting >= self.most_waiting:
                raise Throttled(2, sentence("the server is checking too many passwords at "
                                            "once; try again in a few seconds"))
            self._waiting += 1
        try:
            future = self._threads().submit(password_matches, password_hash or decoy, password)
        except RuntimeError:  # shut down meanwhile
            self._done()
            raise
        # Counted until it ends, even when the request that asked has gone.
        future.add_done_callback(lambda _: self._done())
        matched = await asyncio.wrap_future(future)
        return matched and bool(password_hash)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers,
                                                thread_name_prefix="verify-password")
            return self._pool

    def _done(self) -> None:
        with self._lock:
            self._waiting -= 1

    def close(self) -> None:
        """Let the threads go (the server is stopping); a later check starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


def _team_key(hashes: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted(h or "" for h in hashes))

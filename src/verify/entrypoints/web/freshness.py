"""Read models kept up to date by a thread of their own, so a GET request only reads.

Pages that list incidents (the queue, statistics, search) read the read
models. Bringing those up to date writes rows, and a GET must not write: the
keeper's thread does it instead, woken by each request that needs fresh
figures (and every few seconds), and the request waits for a catch-up that
began after it arrived, then reads.
"""

from __future__ import annotations

import threading

from verify.application.app import VerifyApp

INTERVAL_SECONDS = 2.0
"""How often the keeper catches up when nobody asks."""

WAIT_SECONDS = 10.0
"""How long a request waits for fresh read models before reading what there is."""

MOST_BACKOFF_SECONDS = 60.0


class ReadModelKeeper:
    """One thread that applies new events to the read models; requests wait for it."""

    def __init__(self, app: VerifyApp, interval: float = INTERVAL_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._passes = threading.Condition()
        self._started = 0
        self._finished = 0
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        """Why the last catch-up failed, if it did (pages say so)."""

    def fresh(self, timeout: float = WAIT_SECONDS) -> None:
        """Return once a catch-up that started after this call has ended (or after timeout)."""
        with self._passes:
            self._start()
            # A pass under way may have begun before this request: wait for the next one.
            target = self._started + 1
            self._wake.set()
            self._passes.wait_for(lambda: self._finished >= target or self._stopping.is_set(),
                                  timeout)

    def stop(self) -> None:
        """End the thread (the server is shutting down)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=WAIT_SECONDS)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="verify-read-models",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        pause = self.interval
        while not self._stopping.is_set():
            with self._passes:
                self._wake.clear()
                self._started += 1
            try:
                self.app.catch_up()
                self.error = None
                pause = self.interval
            except Exception as error:  # the store went away, say: try again later
                self.error = f"the figures may be out of date: {error}"
                pause = min(pause * 2, MOST_BACKOFF_SECONDS)
            with self._passes:
                self._finished += 1
                self._passes.notify_all()
            self._wake.wait(pause)
        with self._passes:
            self._passes.notify_all()

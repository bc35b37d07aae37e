"""The change feed read while others write, on both stores: a reader keeping its cursor
misses no change and sees none twice.

The guarantee rests on each store handing out notification ids in the order
transactions commit: SQLite has one writer at a time, and on PostgreSQL the
library locks the events table from a transaction's first insert until it
ends. The first test holds one writer's transaction open, after its insert,
while a second writer tries to append and a reader reads: the second writer
waits, and the reader sees neither until the first commits. Were ids not
handed out in commit order, the reader would see the second change, keep its
cursor, and never see the first. The second test races writer processes
against readers paging through the feed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.changes import MAX_CHANGES
from verify.application.views import Change

from conftest import POSTGRES_SERVER, report


def everything(app: VerifyApp, *, public: bool = False) -> list[Change]:
    found: list[Change] = []
    since = None
    while True:
        page = app.changes(since=since, limit=MAX_CHANGES, public=public)
        found.extend(page.changes)
        if page.next_cursor is None:
            return found
        since = page.next_cursor


def hold_after_insert(app: VerifyApp, held: threading.Event, release: threading.Event) -> None:
    """Make the app's next append stop inside its transaction, after its events are
    inserted (and their ids taken), until ``release`` is set."""
    recorder: Any = app.recorder
    name = ("_fetch_ids_after_insert_events" if hasattr(recorder.datastore, "schema")
            else "_insert_events")
    original: Callable[..., Any] = getattr(recorder, name)

    def holding(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        held.set()
        assert release.wait(30), "the test never released the held transaction"
        return answer

    setattr(recorder, name, holding)


def wait_until_waiting(store_url: str, writer: threading.Thread) -> None:
    """Until the second writer waits for the events table (PostgreSQL) or has finished (it
    must not have), or a moment has passed for it to try (SQLite's writers wait in the
    library's busy loop, unseen)."""
    if not store_url.startswith("postgresql"):
        time.sleep(0.5)
        return
    import psycopg

    schema = dict(parse_store(store_url).settings)["POSTGRES_SCHEMA"]
    deadline = time.monotonic() + 10
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        while time.monotonic() < deadline and writer.is_alive():
            row = db.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = "
                             "to_regclass(%s)", (f"{schema}.verify_events",)).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)


def test_a_change_committed_first_is_read_first(store_url: str) -> None:
    """A change begun later cannot be read before one begun earlier and still open."""
    app = VerifyApp(env=parse_store(store_url).env())
    report(app, "CS1", ["Coalition"])
    report(app, "CS2", ["Coalition"])
    env = {**app.env, "CREATE_TABLE": "n"}
    slow, fast, reader = VerifyApp(env=env), VerifyApp(env=env), VerifyApp(env=env)
    kept = everything(reader)[-1].cursor
    held, release = threading.Event(), threading.Event()
    hold_after_insert(slow, held, release)
    first = threading.Thread(target=slow.add_note, args=("CS1", "begun first", "ann"))
    second = threading.Thread(target=fast.add_note, args=("CS2", "begun second", "bob"))
    try:
        first.start()
        assert held.wait(10)
        second.start()
        wait_until_waiting(store_url, second)
        meanwhile = reader.changes(since=kept)
        assert [change.why for change in meanwhile.changes] == [], (
            "a change begun later was read while an earlier one was still open: a reader "
            "keeping its cursor would never see the earlier one")
    finally:
        release.set()
        first.join(30)
        second.join(30)
    read = reader.changes(since=kept)
    assert [change.why for change in read.changes] == ["begun first", "begun second"]
    for opened in (slow, fast, reader, app):
        opened.close()


WRITER = r"""
import json, sys
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.domain import ConcurrentChange, Source

store, name, count, incidents = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
conflicts = 0
for n in range(count):
    code = f"CS{(n * 7 + len(name)) % incidents}"
    while True:
        try:
            if n % 3 == 0:  # a source: with a corroboration, two events in one transaction
                app.add_source(code, Source(url=f"https://example.org/{name}/{n}",
                                            publisher=f"{name} {n}", kind="media",
                                            reliability="B", credibility=2), name)
            elif n % 3 == 1:
                app.add_note(code, f"{name} note {n}", name)
            else:
                app.tag_incident(code, [f"{name}-{n}"], name)
            break
        except ConcurrentChange:
            conflicts += 1
print(json.dumps({"conflicts": conflicts}))
app.close()
"""

WRITERS = 3
CHANGES_EACH = 80
INCIDENTS = 6


class Follower:
    """A reader of the feed that keeps the cursor of the last change it read."""

    def __init__(self, app: VerifyApp, *, public: bool, limit: int) -> None:
        self.app, self.public, self.limit = app, public, limit
        self.kept: str | None = None
        self.read: list[Change] = []
        self.pages = 0

    def follow(self) -> bool:
        """Read one page from the kept cursor; whether it held any change."""
        page = self.app.changes(since=self.kept, limit=self.limit, public=self.public)
        self.pages += 1
        self.read.extend(page.changes)
        if page.changes:
            self.kept = page.changes[-1].cursor
        return bool(page.changes)


@pytest.mark.slow  # several processes racing
def test_readers_following_the_feed_while_processes_write_miss_nothing(store_url: str) -> None:
    app = VerifyApp(env=parse_store(store_url).env())
    for n in range(INCIDENTS):
        report(app, f"CS{n}", ["Coalition"])
    followers = [Follower(app, public=False, limit=5), Follower(app, public=True, limit=4)]
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, f"w{n}",
                                 str(CHANGES_EACH), str(INCIDENTS)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for n in range(WRITERS)]
    while any(writer.poll() is None for writer in writers):
        for follower in followers:
            follower.follow()
    conflicts = 0
    for writer in writers:
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err.decode()
        conflicts += json.loads(out)["conflicts"]
    for follower in followers:
        while follower.follow():
            pass
    internal, public = everything(app), everything(app, public=True)
    assert len(internal) >= INCIDENTS + WRITERS * CHANGES_EACH
    for follower, whole in zip(followers, (internal, public), strict=True):
        view = "public" if follower.public else "internal"
        cursors = [change.cursor for change in follower.read]
        assert len(set(cursors)) == len(cursors), f"the {view} reader read a change twice"
        assert cursors == [change.cursor for change in whole], f"the {view} reader missed one"
    print(f"\n{WRITERS} writers appended {len(internal) - INCIDENTS} changes "
          f"({conflicts} refused as concurrent and retried); followers read "
          f"{[len(f.read) for f in followers]} changes in {[f.pages for f in followers]} pages")
    app.close()

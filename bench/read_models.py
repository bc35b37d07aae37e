"""Queue, statistics and listing pages on a large store: the read models against the log.

    python bench/read_models.py [--incidents 100000] [--repeat 5] [--page 100]

Builds a store from a synthetic archive, brings the read models up to date,
then times `verify queue --json` and `verify stats --by month --json` as a
user runs them (a new process each time, so start-up is included). The
baseline, in the same run, answers the same two questions without read
models, by loading every incident from the event log.

Then pages, as the command line, the web and the API ask for them (the
application layer, in this process): the first page of the queue, a page far
into it, filtered pages (one filter, several, and filters nothing matches,
which cost one pass over the order's index), the other orders, and search.
Some incidents are assigned, tagged and disputed first, so those filters have
something to find. The page baseline, in the same run, reads as many rows of
the same table with no filter, no order and no index (`SELECT ... LIMIT`).
Last, the whole queue is walked a page at a time, each page continuing from
the one before, and compared with the unpaged queue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verify.application.app import VerifyApp
from verify.demo.synthetic import imported_store, write_archive
from verify.domain.values import State


def wall(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, int]:
    samples = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
        size = len(done.stdout)
    return statistics.median(samples), size


def runs(action: Callable[[], object], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` runs took (after one warm-up), for a bench that wants more
    than the median and the worst (the best, say)."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst milliseconds over the repeats (after one warm-up)."""
    samples = runs(action, repeat)
    return statistics.median(samples) * 1000, max(samples) * 1000


def casework(app: VerifyApp, share: int) -> None:
    """Assign, tag and dispute one incident in ``share`` (so those filters find some)."""
    waiting = [entry.code for entry in app.queue()]
    graded = [entry.code for entry in app.queue(state=State.GRADED)]
    for code in waiting[::share]:
        app.assign(code, "amira", "bench")
        app.tag_incident(code, ["needs-geolocation"], "bench")
    for code in graded[:: share * 2]:
        app.dispute(code, "US-led Coalition", "denies it", "bench")
    app.catch_up()


PAGE_FILTERS: list[tuple[str, dict[str, Any]]] = [
    ("--country Iraq", {"country": "Iraq"}),
    ("--belligerent 'Russian Military'", {"belligerent": "Russian Military"}),
    ("--grade fair (graded ones)", {"grade": "fair"}),
    ("--grade ungraded", {"grade": "ungraded"}),
    ("--state graded", {"state": State.GRADED}),
    ("--state disputed", {"state": State.DISPUTED}),
    ("--from 2016-01-01 --to 2016-03-31",
     {"date_from": dt.date(2016, 1, 1), "date_to": dt.date(2016, 3, 31)}),
    ("--assignee amira", {"assignee": "amira"}),
    ("--tag needs-geolocation", {"tag": "needs-geolocation"}),
    ("--country Iraq --grade ungraded --from 2015-01-01 --to 2015-12-31",
     {"country": "Iraq", "grade": "ungraded", "date_from": dt.date(2015, 1, 1),
      "date_to": dt.date(2015, 12, 31)}),
    ("--country Iraq --belligerent 'Russian Military' (none)",
     {"country": "Iraq", "belligerent": "Russian Military"}),
    ("--tag no-such-tag (none)", {"tag": "no-such-tag"}),
    ("--assignee nobody --sort date (none)", {"assignee": "nobody", "sort": "date"}),
    ("--sort date", {"sort": "date"}),
    ("--sort date --from 2016-01-01 --to 2016-03-31",
     {"sort": "date", "date_from": dt.date(2016, 1, 1), "date_to": dt.date(2016, 3, 31)}),
    ("--sort code --country Syria --grade ungraded",
     {"sort": "code", "country": "Syria", "grade": "ungraded"}),
]


def walk(app: VerifyApp, size: int) -> tuple[list[str], list[float], str | None]:
    """Every page of the queue, each after the one before: the codes, each page's
    seconds, and the cursor to the middle page."""
    codes: list[str] = []
    seconds: list[float] = []
    after: str | None = None
    cursors: list[str] = []
    while True:
        start = time.perf_counter()
        page = app.queue_page(limit=size, after=after)
        seconds.append(time.perf_counter() - start)
        codes += [entry.code for entry in page.entries]
        if page.next is None:
            return codes, seconds, cursors[len(cursors) // 2] if cursors else None
        after = page.next
        cursors.append(after)


def pages(app: VerifyApp, store: Path, size: int, repeat: int) -> None:
    """Time pages of `size` incidents, and walk the whole queue."""
    full = [entry.code for entry in app.queue()]
    codes, walked, middle = walk(app, size)
    with sqlite3.connect(store) as db:
        baseline = timed(lambda: db.execute(
            "SELECT code, state, waiting_for, state_since, date, location, country, grade,"
            f" assignee, tags FROM incident_view LIMIT {size}").fetchall(), repeat)
    rows: list[tuple[str, tuple[float, float], int]] = []

    def measure(label: str, ask: Callable[[], Any]) -> None:
        rows.append((label, timed(ask, repeat), len(ask().entries)))

    measure("verify queue, first page", lambda: app.queue_page(limit=size))
    if middle is not None:
        measure(f"verify queue, page {len(walked) // 2 + 1} of {len(walked)} (--after)",
                lambda: app.queue_page(limit=size, after=middle))
    for label, asked in PAGE_FILTERS:
        measure(f"verify queue {label}",
                lambda asked=asked: app.queue_page(limit=size, **asked))  # type: ignore[misc]
    first = app.search_page("mosul", limit=size)
    measure("verify search mosul", lambda: app.search_page("mosul", limit=size))
    measure("verify search mosul, page 2 (--after)",
            lambda: app.search_page("mosul", limit=size, after=first.next))
    measure("verify search mosul --grade fair --sort code",
            lambda: app.search_page("mosul", limit=size, grade="fair", sort="code"))
    print(f"pages of {size}, application layer in this process; median and worst of {repeat}")
    print(f"  {'':<80}{'median ms':>10}{'worst ms':>10}{'rows':>6}")
    for label, (median, worst), count in rows:
        print(f"  {label:<80}{median:>10.2f}{worst:>10.2f}{count:>6}")
    print(f"  {'SELECT ... LIMIT, same table, no filter or order (baseline)':<80}"
          f"{baseline[0]:>10.2f}{baseline[1]:>10.2f}{size:>6}")
    print(f"  walked the queue: {len(walked)} pages of {size}, median "
          f"{statistics.median(walked) * 1000:.2f} ms, worst {max(walked) * 1000:.2f} ms a page;"
          f" every waiting incident once: {codes == full and len(set(codes)) == len(full)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--page", type=int, default=100, help="incidents a page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        store = Path(folder) / "verify.sqlite"
        app = imported_store(file, store)
        events = app.recorder.max_notification_id() or 0

        start = time.perf_counter()
        app.catch_up()
        first_catch_up = time.perf_counter() - start
        tables = app.read_model.dump()
        start = time.perf_counter()
        app.rebuild_read_models()
        rebuild = time.perf_counter() - start
        identical = app.read_model.dump() == tables

        start = time.perf_counter()
        waiting: list[str] = []
        months: Counter[str] = Counter()
        for record, state in app.export_records():
            if record.duplicate_of is None:
                months[record.date.isoformat()[:7]] += 1
                if state != "graded":
                    waiting.append(record.code)
        baseline = time.perf_counter() - start

        env = {**os.environ, "VERIFY_STORE": str(store)}
        verify = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]
        queue_s, queue_bytes = wall([*verify, "queue", "--json"], env, args.repeat)
        stats_s, _ = wall([*verify, "stats", "--by", "month", "--json"], env, args.repeat)
        startup_s, _ = wall([*verify, "--help"], env, args.repeat)

        print(f"{args.incidents} incidents, {events} events, SQLite; {len(waiting)} waiting, "
              f"{len(months)} months; median of {args.repeat} runs, new process each")
        print(f"  {'':<46}{'seconds':>9}")
        print(f"  {'verify queue --json (read model)':<46}{queue_s:>9.3f}"
              f"   ({queue_bytes / 1e6:.1f} MB of JSON)")
        print(f"  {'verify stats --by month --json (read model)':<46}{stats_s:>9.3f}")
        print(f"  {'verify --help (start-up alone)':<46}{startup_s:>9.3f}")
        print(f"  {'both answers by replaying the log (baseline)':<46}{baseline:>9.3f}")
        print(f"  read models: first catch-up {first_catch_up:.1f} s "
              f"({events / first_catch_up:,.0f} events/s); rebuild {rebuild:.1f} s; "
              f"rebuild identical: {identical}")
        print()
        casework(app, share=500)
        pages(app, store, args.page, args.repeat * 4)
        page_s, _ = wall([*verify, "queue", "--limit", str(args.page), "--country", "Iraq",
                          "--grade", "ungraded", "--json"], env, args.repeat)
        print(f"  verify queue --limit {args.page} --country Iraq --grade ungraded --json,"
              f" a new process: {page_s:.3f} s (start-up alone {startup_s:.3f} s)")
        app.close()


if __name__ == "__main__":
    main()

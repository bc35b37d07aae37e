"""The change feed on a large store: a page of changes after a cursor near the log's head.

    python bench/changes.py [--incidents 100000] [--repeat 20] [--limit 100] [--store PATH]

Builds a store from a synthetic archive, then works the newest incidents as a
team would (sources, notes, comments, tags, grades: a share of them withheld
from the public view), and times what a feed reader asks for: the page after
a cursor `--limit` changes before the head, in the internal and the public view
(the application layer, in this process), the same page from the start and
from the middle of the log (a cursor is a position in the log's own index:
where it stands should not matter), the Atom feed's latest page, and
`verify changes --since CURSOR --json` as a user runs it, in both views (a new
process each time, start-up included). The baseline, in the same run, reads the
same notifications from the log and nothing more (`select_notifications`): what
a page costs beyond reading it is telling it; for the commands, the start-up of
`verify --version`. Each row is one warm-up, then --repeat reads (a quarter as
many, at least 3, for the commands): the best, the median and the worst.

With --store the store is kept in that SQLite file: built there when it does
not exist yet, measured as it stands when it does (nothing is written to it
then), so other benches can measure the same store, e.g. one of a million
events: `--incidents 170000 --store /tmp/bench1m/verify.sqlite`, then
`bench/proofs.py --store /tmp/bench1m/verify.sqlite`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from read_models import runs  # the same warm-up-then-repeat timing, beside it in bench/

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.changes import change_cursor
from verify.demo.synthetic import imported_store, write_archive
from verify.domain.values import Source


def work_the_head(app: VerifyApp, limit: int) -> None:
    """About twice ``limit`` changes at the head of the log, a third of them withheld in
    public (notes and comments), on the newest incidents."""
    codes = list(app.incident_codes())[-max(limit // 4, 1):]
    for n, code in enumerate(codes):
        app.add_source(code, Source(url=f"https://example.org/bench/{n}", publisher=f"P{n}",
                                    kind="media", reliability="B", credibility=2), "bench")
        app.add_note(code, f"checked the map for {code}", "bench")
        app.comment(code, f"@amira {code} needs a second look", "bench")
        app.tag_incident(code, ["bench"], "bench")
        app.add_note(code, "called the hospital", "bench")
        app.tag_incident(code, ["needs-geolocation"], "bench")
        app.add_source(code, Source(url=f"https://example.org/bench/{n}/2", publisher=f"Q{n}",
                                    kind="ngo", reliability="B", credibility=2), "bench")
        app.add_note(code, "the family confirmed it", "bench")


def opened(store: Path, folder: Path, incidents: int, limit: int) -> tuple[VerifyApp, str]:
    """The store at ``store`` as it stands, or built there first (the import, then the head
    worked) when it does not exist; and how it came."""
    if store.exists():
        return VerifyApp(env=parse_store(str(store)).env()), f"kept in {store}"
    started = time.perf_counter()
    store.parent.mkdir(parents=True, exist_ok=True)
    archive = write_archive(folder / "archive.jsonl", incidents)
    app = imported_store(archive, store)
    archive.unlink()
    work_the_head(app, limit)
    return app, f"built in {time.perf_counter() - started:.0f} s"


def row(label: str, samples: list[float]) -> str:
    """A table line: best, median and worst of the samples (seconds), in milliseconds."""
    best, median, worst = (1000 * x for x in (min(samples), statistics.median(samples),
                                              max(samples)))
    return f"  {label:<52}{best:>10.2f}{median:>10.2f}{worst:>10.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--store", type=Path,
                        help="keep the store in this SQLite file: built there when missing, "
                        "measured as it stands when not")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store if args.store is not None else Path(folder) / "bench.sqlite"
        app, how = opened(store, Path(folder), args.incidents, args.limit)
        head = app.recorder.max_notification_id() or 0
        near_head = app.changes(since=change_cursor(head - args.limit), limit=args.limit)
        public_near = app.changes(since=change_cursor(head - args.limit), limit=args.limit,
                                  public=True)
        print(f"{app.count_incidents()} incidents, {head:,} events ({how}); pages of "
              f"{args.limit}, {args.repeat} reads each (SQLite file)")
        print(f"  near the head: the page after the cursor holds {len(near_head.changes)} "
              f"changes; in public {len(public_near.changes)} (notes, comments and tags left "
              "out)")
        since = change_cursor(head - args.limit)
        middle = change_cursor(head // 2)
        rows = [
            ("changes --since (near the head)",
             lambda: app.changes(since=since, limit=args.limit)),
            ("changes --since --public (near the head)",
             lambda: app.changes(since=since, limit=args.limit, public=True)),
            ("changes (from the first change)", lambda: app.changes(limit=args.limit)),
            ("changes --since (the middle of the log)",
             lambda: app.changes(since=middle, limit=args.limit)),
            ("changes --since --public (the middle of the log)",
             lambda: app.changes(since=middle, limit=args.limit, public=True)),
            ("the Atom feed's latest page (public, 50)",
             lambda: app.recent_changes(limit=50, public=True)),
            ("select_notifications of the same events (baseline)",
             lambda: app.recorder.select_notifications(start=head - args.limit + 1,
                                                       limit=args.limit)),
        ]
        print(f"  {'':<52}{'best ms':>10}{'median ms':>10}{'worst ms':>10}")
        for label, action in rows:
            print(row(label, runs(action, args.repeat)))
        app.close()
        env = {**os.environ, "VERIFY_STORE": str(store)}
        verify = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]
        for label, words in (
                ("verify changes --since X --json", ["changes", "--since", since, "--json"]),
                ("verify changes --since X --public --json",
                 ["changes", "--since", since, "--public", "--json"]),
                ("verify --version (start-up, baseline)", ["--version"])):
            print(row(label, runs(lambda words=words: subprocess.run(
                [*verify, *words], env=env, capture_output=True, check=True),
                max(args.repeat // 4, 3))))


if __name__ == "__main__":
    main()

"""The change feed on a large store: a page of changes after a cursor near the log's head.

    python bench/changes.py [--incidents 100000] [--repeat 20] [--limit 100]

Builds a store from a synthetic archive, then works the newest incidents as a
team would (sources, notes, comments, tags, grades: a share of them withheld
from the public view), and times what a feed reader asks for: the page after
a cursor `--limit` changes before the head, in the internal and the public view
(the application layer, in this process), the same page from the start and
from the middle of the log (a cursor is a position in the log's own index:
where it stands should not matter), the Atom feed's latest page, and
`verify changes --since CURSOR --json` as a user runs it (a new process each
time, start-up included). The baseline, in the same run, reads the same
notifications from the log and nothing more (`select_notifications`): what
a page costs beyond reading it is telling it.
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

from read_models import timed  # the same median-and-worst timing, beside it in bench/

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "bench.sqlite"
        started = time.perf_counter()
        app = imported_store(write_archive(Path(folder) / "archive.jsonl", args.incidents),
                             store)
        work_the_head(app, args.limit)
        head = app.recorder.max_notification_id() or 0
        built = time.perf_counter() - started
        near_head = app.changes(since=change_cursor(head - args.limit), limit=args.limit)
        public_near = app.changes(since=change_cursor(head - args.limit), limit=args.limit,
                                  public=True)
        print(f"{args.incidents} incidents, {head:,} events (built in {built:.0f} s); pages of "
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
        print(f"  {'':<52}{'median ms':>10}{'worst ms':>10}")
        for label, action in rows:
            median, worst = timed(action, args.repeat)
            print(f"  {label:<52}{median:>10.2f}{worst:>10.2f}")
        app.close()
        env = {**os.environ, "VERIFY_STORE": str(store)}
        command = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
                   "changes", "--since", since, "--public", "--json"]
        baseline = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
                    "--version"]
        for label, words in (("verify changes --since X --public --json", command),
                             ("verify --version (start-up, baseline)", baseline)):
            samples = []
            for _ in range(max(args.repeat // 4, 1)):
                start = time.perf_counter()
                subprocess.run(words, env=env, capture_output=True, check=True)
                samples.append((time.perf_counter() - start) * 1000)
            print(f"  {label:<52}{statistics.median(samples):>10.2f}{max(samples):>10.2f}")


if __name__ == "__main__":
    main()

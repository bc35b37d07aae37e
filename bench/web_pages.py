"""The web pages on a large store: how long the queue and an incident page take to answer.

    python bench/web_pages.py [--incidents 100000] [--repeat 20]

Builds a store from a synthetic archive, starts `verify serve` on it (a real
uvicorn server in its own process) and times, over HTTP from this process,
the review queue page, an incident page (with its timeline) and the same
incident's JSON, and the queue and incident pages in Arabic (every sentence
of the engine said through the catalog). The baseline, in the same run, answers the same questions
through the application layer directly (no HTTP, no templates), so the
difference is what the web adds. Also the 50th page of the queue (reached by its
cursor) and a filtered page. The target is under 0.1 s per page.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from verify.demo.synthetic import imported_store, write_archive


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst seconds over the repeats (after one warm-up)."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        assert response.status == 200, (url, response.status)
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        store = Path(folder) / "verify.sqlite"
        app = imported_store(file, store)
        app.catch_up()
        events = app.recorder.max_notification_id() or 0
        waiting = app.queue(limit=200)
        code = waiting[len(waiting) // 2]["code"]
        history = len(app.history(code))
        cursor = None  # the 50th page of the queue (or the last), as its next links reach it
        for _ in range(49):
            following = app.queue_page(limit=100, after=cursor).next
            if following is None:
                break
            cursor = following
        later = f"/?after={cursor}" if cursor else "/"
        country = waiting[0]["country"]
        filtered = f"/?country={urllib.parse.quote(country)}&grade=ungraded&sort=date"

        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
             "--store", str(store), "serve", "--port", str(port)],
            env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    fetch(base + "/api/stats")
                    break
                except OSError:
                    time.sleep(0.1)
            rows = [
                ("queue page  /", timed(lambda: fetch(base + "/"), args.repeat),
                 timed(lambda: app.queue_page(limit=100), args.repeat)),
                ("queue, page 50 /?after=…", timed(lambda: fetch(base + later), args.repeat),
                 timed(lambda: app.queue_page(limit=100, after=cursor), args.repeat)),
                (f"filtered /?country={country}&grade…",
                 timed(lambda: fetch(base + filtered), args.repeat),
                 timed(lambda: app.queue_page(limit=100, country=country, grade="ungraded",
                                              sort="date"), args.repeat)),
                (f"incident page /incidents/{code}",
                 timed(lambda: fetch(f"{base}/incidents/{code}"), args.repeat),
                 timed(lambda: (app.show(code), app.history(code)), args.repeat)),
                ("queue page in Arabic /?lang=ar",
                 timed(lambda: fetch(base + "/?lang=ar"), args.repeat),
                 timed(lambda: app.queue_page(limit=100), args.repeat)),
                (f"incident page /incidents/{code}?lang=ar",
                 timed(lambda: fetch(f"{base}/incidents/{code}?lang=ar"), args.repeat),
                 timed(lambda: (app.show(code), app.history(code)), args.repeat)),
                (f"incident JSON /api/incidents/{code}",
                 timed(lambda: fetch(f"{base}/api/incidents/{code}"), args.repeat),
                 timed(lambda: app.show(code), args.repeat)),
                ("stats page  /stats", timed(lambda: fetch(base + "/stats"), args.repeat),
                 timed(lambda: app.stats(by="month"), args.repeat)),
            ]
            queue_bytes = len(fetch(base + "/"))
            page_bytes = len(fetch(f"{base}/incidents/{code}"))
        finally:
            server.terminate()
            server.wait(timeout=10)
        app.close()
    print(f"store: {args.incidents:,} incidents, {events:,} events (SQLite); incident {code} "
          f"has {history} events; queue page {queue_bytes:,} bytes (100 rows), "
          f"incident page {page_bytes:,} bytes")
    print(f"{'':38} {'over HTTP (median / worst)':>28} {'application only (baseline)':>30}")
    for name, (web_median, web_worst), (base_median, base_worst) in rows:
        print(f"{name:38} {web_median * 1000:11.1f} / {web_worst * 1000:6.1f} ms"
              f" {base_median * 1000:15.1f} / {base_worst * 1000:6.1f} ms")


if __name__ == "__main__":
    main()

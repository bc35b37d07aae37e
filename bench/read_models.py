"""Queue and statistics on a large store: the read models against replaying the log.

    python bench/read_models.py [--incidents 100000] [--repeat 5]

Builds a store from a synthetic archive, brings the read models up to date,
then times `verify queue --json` and `verify stats --by month --json` as a
user runs them (a new process each time, so start-up is included). The
baseline, in the same run, answers the same two questions without read
models, by loading every incident from the event log.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from verify.demo.synthetic import imported_store, write_archive


def wall(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, int]:
    samples = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
        size = len(done.stdout)
    return statistics.median(samples), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
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
        app.close()

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


if __name__ == "__main__":
    main()

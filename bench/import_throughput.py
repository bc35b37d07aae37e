"""Bulk import as a user runs it, beside raw inserts of the same rows, on SQLite or PostgreSQL.

    python bench/import_throughput.py [--incidents 20000 100000] [--repeat 3]
    python bench/import_throughput.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/import_throughput.py --incidents 20000 --victims 4

1. Generates a synthetic archive (verify.demo.synthetic, about six events an incident).
2. Runs `verify import FILE` in a new process on a store `verify init` made (start-up,
   worker processes, validation, domain commands, hash chain: everything a user waits for).
3. Baseline, in the same run, alternating with the import: exactly the rows that import
   stored, copied into a fresh table of the same shape (primary key, journal mode), one
   transaction per batch of the import's size: plain `sqlite3` `executemany` on SQLite,
   plain `COPY` on PostgreSQL. Each is run ``--repeat`` times; min and median are printed.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verify.adapters.bulk_import import CHUNK_LINES
from verify.demo.synthetic import write_archive

SCHEMA = "verify_bench_import"
"""The PostgreSQL schema this bench makes and drops (no test uses it)."""


def verify_command() -> list[str]:
    """`verify` as installed beside this Python, else the same entry point through it."""
    script = Path(sys.executable).with_name("verify")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]


TIME = Path("/usr/bin/time")
"""GNU time, to read a command's peak resident memory and processor time (its own and its
workers'): wall time on a shared machine depends on what else runs, processor time less."""

peak_kb: list[int] = []
"""The peak resident memory of each `verify import` run, where GNU time is at hand."""
cpu_seconds: list[float] = []
"""The processor time (user and system) of each `verify import` run, workers included."""
raw_cpu_seconds: list[float] = []
"""The processor time of each raw `executemany` baseline (SQLite works in this process)."""


def run_verify(store: str, *args: str) -> float:
    """Run one `verify` command in a new process; its wall time in seconds."""
    env = {**os.environ, "VERIFY_ACTOR": "bench"}
    with tempfile.NamedTemporaryFile("r") as memory:
        timed = [str(TIME), "-f", "%M %U %S", "-o", memory.name] if TIME.exists() else []
        start = time.perf_counter()
        done = subprocess.run([*timed, *verify_command(), "--store", store, *args], env=env,
                              capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"verify {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        if timed and args[0] == "import":
            kilobytes, user, system = memory.read().split()[-3:]
            peak_kb.append(int(kilobytes))
            cpu_seconds.append(float(user) + float(system))
    return elapsed


def peak_note() -> str:
    """The imports' processor time (median) and largest peak resident memory, then forget
    them for the next size."""
    if not peak_kb:
        return ""
    note = (f"\n  processor time, medians: import {statistics.median(cpu_seconds):.2f} s (all its "
            "processes)")
    if raw_cpu_seconds:
        note += f", raw {statistics.median(raw_cpu_seconds):.2f} s"
    note += f"; import's peak memory {max(peak_kb) / 1024:.0f} MB"
    peak_kb.clear()
    cpu_seconds.clear()
    raw_cpu_seconds.clear()
    return note


class Timings:
    """Seconds of each repetition of one line of the table."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds: list[float] = []

    def line(self, events: int) -> str:
        best, middle = min(self.seconds), statistics.median(self.seconds)
        return (f"  {self.label:<40}{best:>8.2f}{middle:>8.2f}"
                f"{events / best:>11,.0f}{events / middle:>11,.0f}")


def report(title: str, events: int, ours: Timings, raw: Timings, note: str = "") -> None:
    print(title)
    print(f"  {'':<40}{'min s':>8}{'med s':>8}{'best ev/s':>11}{'med ev/s':>11}")
    print(ours.line(events))
    print(raw.line(events))
    best = min(raw.seconds) / min(ours.seconds)
    middle = statistics.median(raw.seconds) / statistics.median(ours.seconds)
    print(f"  ratio: {middle:.2f} of raw (medians), {best:.2f} (bests); "
          f"{len(ours.seconds)} runs each, alternating{note}")


# ------------------------------------------------------------------ SQLite


def raw_executemany(source: Path, target: Path, batch_rows: int) -> tuple[int, float]:
    """Copy the events ``source`` holds into a fresh file with plain executemany."""
    with sqlite3.connect(source) as db:
        rows = db.execute("SELECT originator_id, originator_version, topic, state"
                          " FROM stored_events ORDER BY rowid").fetchall()
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
               "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    start, processor = time.perf_counter(), time.process_time()
    for first in range(0, len(rows), batch_rows):
        db.execute("BEGIN")
        db.executemany("INSERT INTO stored_events VALUES (?,?,?,?)",
                       rows[first:first + batch_rows])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    raw_cpu_seconds.append(time.process_time() - processor)
    db.close()
    return len(rows), elapsed


def _remove(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_bench(count: int, repeat: int, folder: Path) -> None:
    file = write_archive(folder / f"archive{count}.jsonl", count)
    store, raw_store = folder / "verify.sqlite", folder / "raw.sqlite"
    ours, raw = Timings("verify import (a new process)"), Timings(
        "raw sqlite3 executemany (baseline)")
    events = size = 0
    for _ in range(repeat):
        _remove(store, raw_store)
        run_verify(str(store), "init")
        ours.seconds.append(run_verify(str(store), "import", str(file)))
        size = store.stat().st_size
        events, seconds = raw_executemany(store, raw_store, CHUNK_LINES * rows_of(store) // count)
        raw.seconds.append(seconds)
    _remove(store, raw_store)
    report(f"{count} incidents, {events} events ({events / count:.1f} an incident), file "
           f"{file.stat().st_size / 1e6:.0f} MB; SQLite, {CHUNK_LINES} incidents a "
           "transaction", events, ours, raw,
           f";  store {size / events:.0f} bytes an event{peak_note()}")
    file.unlink()


def rows_of(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


# -------------------------------------------------------------- PostgreSQL


def postgres_bench(server: str, count: int, repeat: int, folder: Path) -> None:
    """`verify import` into a fresh schema, beside plain COPY of the rows it stored."""
    import psycopg

    file = write_archive(folder / f"archive{count}.jsonl", count)
    store = f"{server}?schema={SCHEMA}"
    ours, raw = Timings("verify import (a new process)"), Timings("plain COPY (baseline)")
    events = 0

    def fresh_schema() -> None:
        with psycopg.connect(server, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            db.execute(f"CREATE SCHEMA {SCHEMA}")

    try:
        for _ in range(repeat):
            fresh_schema()
            run_verify(store, "init")
            ours.seconds.append(run_verify(store, "import", str(file)))
            with psycopg.connect(server) as db:
                rows = db.execute(
                    f"SELECT originator_id, originator_version, topic, state"
                    f" FROM {SCHEMA}.verify_events ORDER BY notification_id").fetchall()
            events = len(rows)
            raw.seconds.append(plain_copy(server, rows, CHUNK_LINES * events // count))
    finally:
        with psycopg.connect(server, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    report(f"{count} incidents, {events} events; PostgreSQL, {CHUNK_LINES} incidents a "
           "transaction", events, ours, raw, peak_note())
    file.unlink()


def plain_copy(server: str, rows: Sequence[tuple[Any, ...]], batch: int) -> float:
    """COPY the rows into a fresh table of the events' shape (its keys and indexes), one
    transaction per batch, row by row as psycopg's documentation shows."""
    import psycopg

    with psycopg.connect(server) as db:
        db.execute(f"DROP TABLE IF EXISTS {SCHEMA}.raw_events")
        db.execute(f"CREATE TABLE {SCHEMA}.raw_events (originator_id uuid NOT NULL,"
                   " originator_version bigint NOT NULL, topic text, state bytea,"
                   " notification_id bigserial,"
                   " PRIMARY KEY (originator_id, originator_version))")
        db.execute(f"CREATE UNIQUE INDEX ON {SCHEMA}.raw_events (notification_id)")
        db.commit()
        start = time.perf_counter()
        with db.cursor() as cursor:
            for first in range(0, len(rows), batch):
                with cursor.copy(f"COPY {SCHEMA}.raw_events (originator_id,"
                                 " originator_version, topic, state) FROM STDIN") as copy:
                    for row in rows[first:first + batch]:
                        copy.write_row(row)
                db.commit()
        return time.perf_counter() - start


# ----------------------------------------------------------------- victims


def import_in_process(file: Path, store: Path) -> tuple[int, int, float]:
    """Import ``file`` in this process, through the path `verify import` takes."""
    from verify.adapters.bulk_import import import_file
    from verify.adapters.interchange import read_rows
    from verify.adapters.store import parse_store
    from verify.application.app import VerifyApp
    from verify.application.importing import Status
    from verify.application.intake import Intake
    from verify.application.messages import today_utc

    env = parse_store(str(store)).env()
    app = VerifyApp(env=env)
    start = time.perf_counter()
    incidents = events = 0
    intake = Intake(today=today_utc(), parties=app.party_names())
    for outcome in import_file(app, env, read_rows(file, intake), file, actor="bench",
                               dry_run=False, parallel=True, intake=intake):
        assert outcome.status is Status.IMPORTED, outcome
        incidents += 1
        events += outcome.events
    elapsed = time.perf_counter() - start
    app.close()
    return incidents, events, elapsed


def victims_bench(count: int, victim_count: int) -> None:
    """The same incidents imported without victims (the baseline) and with them."""
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for each in (0, victim_count):
            file = write_archive(Path(folder) / f"archive{each}.jsonl", count,
                                 victim_count=each)
            results.append(import_in_process(file, Path(folder) / f"verify{each}.sqlite"))
    (incidents, events, plain), (_, victim_events, with_victims) = results
    print(f"{incidents} incidents; SQLite; {victim_count} victims an incident, each sealed "
          "under its own key")
    print(f"  {'':<34}{'seconds':>9}{'incidents/s':>13}{'events':>10}{'events/s':>11}")
    for label, seconds, stored in (("without victims (baseline)", plain, events),
                                   ("with victims", with_victims, victim_events)):
        print(f"  {label:<34}{seconds:>9.1f}{incidents / seconds:>13,.0f}{stored:>10}"
              f"{stored / seconds:>11,.0f}")
    print(f"  ratio: {(victim_events / with_victims) / (events / plain):.2f} of the events a "
          f"second without victims ({plain / with_victims:.2f} of the incidents a second: "
          "each victim is an event of its own)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3,
                        help="Runs of the import and of the baseline, alternating.")
    parser.add_argument("--postgres", metavar="URL",
                        help="Measure on this PostgreSQL server (schema "
                        f"{SCHEMA} is made and dropped).")
    parser.add_argument("--victims", type=int, default=0, metavar="N",
                        help="Compare importing the archive with N victims an incident (each "
                        "sealed under a key of its own) against the same archive without.")
    args = parser.parse_args()
    if args.victims:
        for count in args.incidents:
            victims_bench(count, args.victims)
        return
    bench: Callable[[int, int, Path], None] = sqlite_bench
    if args.postgres:
        def bench(count: int, repeat: int, folder: Path) -> None:
            postgres_bench(args.postgres, count, repeat, folder)
    with tempfile.TemporaryDirectory() as folder:
        for count in args.incidents:
            bench(count, args.repeat, Path(folder))


if __name__ == "__main__":
    main()

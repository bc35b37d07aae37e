"""Bulk import throughput, beside raw executemany of the same rows, on SQLite or PostgreSQL.

    python bench/import_throughput.py [--incidents 100000]
    python bench/import_throughput.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/import_throughput.py --incidents 20000 --victims 4

1. Generates a synthetic archive (verify.demo.synthetic, about six events an incident).
2. Imports it into a fresh store through the same path as `verify import`
   (streamed rows, validation, domain commands, batched transactions).
3. Baseline, same run: copies exactly the rows that import stored into a fresh
   SQLite file of the same schema and journal mode with plain `executemany`,
   one transaction per batch of the same size.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from verify.adapters.bulk_import import CHUNK_LINES, import_file
from verify.adapters.interchange import read_rows
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.importing import Status
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.demo.synthetic import write_archive


def import_archive(file: Path, store: Path | str) -> tuple[int, int, float]:
    env = parse_store(str(store)).env()
    app = VerifyApp(env=env)
    start = time.perf_counter()
    incidents = events = 0
    intake = Intake(today=today_utc(), parties=app.party_names())
    outcomes = import_file(app, env, read_rows(file, intake), file, actor="bench",
                           dry_run=False, parallel=True, intake=intake)
    for outcome in outcomes:
        assert outcome.status is Status.IMPORTED, outcome
        incidents += 1
        events += outcome.events
    elapsed = time.perf_counter() - start
    app.close()
    return incidents, events, elapsed


def raw_executemany(source: Path, target: Path, batch_rows: int) -> tuple[int, float]:
    with sqlite3.connect(source) as db:
        rows = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events"
        ).fetchall()
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    start = time.perf_counter()
    for first in range(0, len(rows), batch_rows):
        db.execute("BEGIN")
        db.executemany("INSERT INTO stored_events VALUES (?,?,?,?)",
                       rows[first:first + batch_rows])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(rows), elapsed


def postgres_bench(server: str, file: Path, schema: str) -> tuple[int, int, float, int, float]:
    """The same import into a fresh PostgreSQL schema, and the raw psycopg baseline."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        url = f"{server}?schema={schema}"
        incidents, events, elapsed = import_archive(file, url)
        with psycopg.connect(server) as db:
            rows = db.execute(f"SELECT originator_id, originator_version, topic, state"
                              f" FROM {schema}.verify_events ORDER BY notification_id").fetchall()
            db.execute(f"CREATE TABLE {schema}.raw_events (originator_id uuid NOT NULL,"
                       " originator_version bigint NOT NULL, topic text, state bytea,"
                       " notification_id bigserial,"
                       " PRIMARY KEY (originator_id, originator_version))")
            db.commit()
            batch = CHUNK_LINES * events // max(incidents, 1)
            start = time.perf_counter()
            with db.cursor() as cursor:
                for first in range(0, len(rows), batch):
                    cursor.executemany(
                        f"INSERT INTO {schema}.raw_events (originator_id, originator_version,"
                        " topic, state) VALUES (%s, %s, %s, %s)", rows[first:first + batch])
                    db.commit()
            raw_elapsed = time.perf_counter() - start
        return incidents, events, elapsed, len(rows), raw_elapsed
    finally:
        with psycopg.connect(server, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL",
                        help="Measure on this PostgreSQL server (a scratch schema is used).")
    parser.add_argument("--victims", type=int, default=0, metavar="N",
                        help="Compare importing the archive with N victims an incident (each "
                        "sealed under a key of its own) against the same archive without.")
    args = parser.parse_args()
    if args.victims:
        victims_bench(args.incidents, args.victims)
        return
    if args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
            incidents, events, elapsed, rows, raw_elapsed = postgres_bench(
                args.postgres, file, "verify_bench")
        ours, raw = events / elapsed, rows / raw_elapsed
        print(f"{incidents} incidents, {events} events; PostgreSQL, {CHUNK_LINES} incidents "
              "a transaction")
        print(f"  {'':<34}{'seconds':>9}{'events/s':>11}")
        print(f"  {'verify import':<34}{elapsed:>9.1f}{ours:>11,.0f}")
        print(f"  {'raw psycopg executemany (baseline)':<34}{raw_elapsed:>9.1f}{raw:>11,.0f}")
        print(f"  ratio: {ours / raw:.2f} of raw")
        return
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", args.incidents)
        file_mb = file.stat().st_size / 1e6
        store = Path(folder) / "verify.sqlite"
        incidents, events, elapsed = import_archive(file, store)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        mean_row = store.stat().st_size / max(events, 1)
        rows, raw_elapsed = raw_executemany(
            store, Path(folder) / "raw.sqlite", CHUNK_LINES * events // max(incidents, 1)
        )
    ours, raw = events / elapsed, rows / raw_elapsed
    print(f"{incidents} incidents, {events} events ({events / incidents:.1f} an incident), "
          f"file {file_mb:.0f} MB; SQLite, "
          f"{CHUNK_LINES} incidents a transaction")
    print(f"  {'':<34}{'seconds':>9}{'events/s':>11}")
    print(f"  {'verify import':<34}{elapsed:>9.1f}{ours:>11,.0f}")
    print(f"  {'raw sqlite3 executemany (baseline)':<34}{raw_elapsed:>9.1f}{raw:>11,.0f}")
    print(f"  ratio: {ours / raw:.2f} of raw;  store {mean_row:.0f} bytes an event;  peak memory "
          f"{peak_mb:.0f} MB (writer), {worker_mb:.0f} MB (largest worker)")


def victims_bench(count: int, victim_count: int) -> None:
    """The same incidents imported without victims (the baseline) and with them."""
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for each in (0, victim_count):
            file = write_archive(Path(folder) / f"archive{each}.jsonl", count,
                                 victim_count=each)
            results.append(import_archive(file, Path(folder) / f"verify{each}.sqlite"))
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


if __name__ == "__main__":
    main()

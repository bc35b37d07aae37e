"""`audit verify` over a million stored events, beside merely reading the same rows.

    python bench/audit_verify.py [--events 1000000] [--repeat 3] [--store PATH] [--encrypted]

Fills a SQLite store through the bulk import (about 5.9 events an incident)
until it holds at least the requested number of events (with --store, a kept
store: built there when missing, reused when present), then times, interleaved,
three ways in the same run, each --repeat times:

- the audit as it runs now (`Auditor.verify`: the chain proven in two
  processes by `adapters.chain_walk`, the events' index by SQLite's
  integrity check, the snapshots);
- the audit with the careful walk only (`verify_chain` and the read-back
  through the index), as it ran before the quick walk;
- the baseline: a plain read of the same rows (events and chain), no hashing.

Wall and CPU seconds (this process and its children: the quick walk forks
one) are printed, min and median; on a shared machine the CPU seconds say
what the audit costs, the wall seconds what the machine allowed. With
--encrypted the store has a cipher key, and the audit also decrypts every
event where it stands.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verify.adapters.sqlite import ChainedSQLiteRecorder
from verify.application.app import VerifyApp
from verify.application.auditing import Auditor
from verify.demo.synthetic import imported_store, write_archive

OWN_WALK = ChainedSQLiteRecorder.chain_walk
"""The recorder's quick walk; set to None, the audit walks the careful way only (before)."""


def use_walk(walk: Any) -> None:
    """The audit's quick walk on (the walk) or off (None): the audit looks it up on the
    recorder."""
    ChainedSQLiteRecorder.chain_walk = walk  # type: ignore[attr-defined]


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``work`` (with any child process it waited for)."""
    def cpu() -> float:
        own, children = (resource.getrusage(who) for who in
                         (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    start_cpu, start = cpu(), time.perf_counter()
    result = work()
    return time.perf_counter() - start, cpu() - start_cpu, result


def read_rows(store: Path) -> int:
    """The baseline: every row of the events and of the chain, read and dropped."""
    read = 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        for table, key in (("stored_events", "rowid"), ("event_chain", "notification_id")):
            cursor = db.execute(f"SELECT * FROM {table} ORDER BY {key}")
            while rows := cursor.fetchmany(20_000):
                read += len(rows)
    return read // 2


def build(store: Path, events: int) -> None:
    incidents = int(events / 5.9) + 1000
    file = write_archive(store.parent / "archive.jsonl", incidents)
    imported_store(file, store).close()
    file.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", type=Path,
                        help="a kept store: built there when missing, reused when present")
    parser.add_argument("--encrypted", action="store_true",
                        help="encrypt the store (VERIFY_CIPHER_KEY), as deployments may")
    args = parser.parse_args()
    if args.encrypted:
        if args.store is not None:
            parser.error("--encrypted builds a new store: its key is not kept")
        from verify.adapters.store import new_cipher_key

        os.environ["VERIFY_CIPHER_KEY"] = new_cipher_key()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or Path(folder) / "verify.sqlite"
        if not store.exists():
            store.parent.mkdir(parents=True, exist_ok=True)
            build(store, args.events)
        from verify.adapters.store import parse_store

        app = VerifyApp(env=parse_store(str(store)).env())
        auditor = Auditor(app, str(store))
        ways: dict[str, Callable[[], Any]] = {
            "audit verify, this change": lambda: (use_walk(OWN_WALK),
                                                  auditor.verify())[1],
            "audit verify, careful walk only (before)": lambda: (use_walk(None),
                                                                 auditor.verify())[1],
            "read the same rows, no hashing (baseline)": lambda: read_rows(store),
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        reports: list[dict[str, Any]] = []
        for _ in range(args.repeat):
            for name, work in ways.items():
                wall, cpu, result = timed(work)
                figures[name].append((wall, cpu))
                if isinstance(result, dict):
                    assert result["intact"], result
                    reports.append(result)
        use_walk(OWN_WALK)
        app.close()
    report = reports[0]
    assert all((r["events"], r["head"]) == (report["events"], report["head"]) for r in reports)
    events = report["events"]
    print(f"{events} events, SQLite, {report['snapshots_checked']} snapshots, "
          f"{args.repeat} repetitions interleaved, {os.cpu_count()} cores"
          + (f", encrypted ({report['encrypted_checked']} decrypted where they stand)"
             if args.encrypted else ""))
    print(f"  {'':<44}{'wall min':>9}{'median':>8}{'CPU min':>9}{'median':>8}"
          f"{'events/s':>11}{'per CPU s':>11}")
    for name, runs in figures.items():
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        print(f"  {name:<44}{min(walls):>9.2f}{statistics.median(walls):>8.2f}"
              f"{min(cpus):>9.2f}{statistics.median(cpus):>8.2f}"
              f"{events / min(walls):>11,.0f}{events / min(cpus):>11,.0f}")
    print("  (events/s: over the least wall time; per CPU s: over the least CPU time, both "
          "processes' when the audit forks)")
    print(f"  head {report['head']}")


if __name__ == "__main__":
    main()

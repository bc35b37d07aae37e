"""`verify import` beside the eventsourcing library used the plain way, storing as many events.

    python bench/peer.py [--incidents 20000] [--repeat 3]

1. Writes a synthetic archive of N incidents (verify.demo.synthetic, about six
   events an incident when imported).
2. Times `verify --store S import FILE` as a user runs it: a new process, so
   start-up is included (the store made first by an untimed `verify init`,
   which import requires). Counts the events it stored.
3. Baseline, same run: the eventsourcing library as its README uses it, in a
   new process too (this script with --peer): an aggregate whose methods are
   decorated with `@event`, the application's default JSON transcoder, SQLite
   (PERSISTENCE_MODULE=eventsourcing.sqlite, SQLITE_DBNAME=FILE), 1,000
   aggregates a `save`. It reads the same file (`json.loads` a line) and stores
   exactly as many events: an aggregate an incident, created by a Reported
   event, then a SourceAdded event a source and Noted events up to its share.

The two take turns, --repeat times each (the order alternating); best and
median wall seconds, and the CPU seconds each process and its children used (a
busy machine moves them less than the wall; above the wall, the work was spread
over both cores). What verify writes besides the events is said under the
table: the hash chain (its links counted), and whether its read models were
written too or are caught up by the first reading command (timed then, as a
row of its own).

Before timing, verify's bytecode is compiled, as `pip install` does (this
machine sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile every
module on every start); the library's was compiled when it was installed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Only the peer's own imports at the top: its process must not pay for verify's start-up.
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

AGGREGATES_A_SAVE = 1000
RUN_CLI = "import sys; from verify.entrypoints.cli import main; sys.argv[0] = 'verify'; main()"


class Incident(Aggregate):
    """An incident shaped as the library's README shapes an aggregate: each decorated
    method is an event."""

    @event("Reported")
    def __init__(self, code: str, date: str, country: str, location: dict[str, Any],
                 details: dict[str, Any]) -> None:
        self.code = code
        self.date = date
        self.country = country
        self.location = location
        self.details = details
        self.sources: list[dict[str, Any]] = []
        self.notes: list[str] = []

    @event("SourceAdded")
    def add_source(self, source: dict[str, Any]) -> None:
        self.sources.append(source)

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class IncidentLog(Application):
    """The peer's application: a command method that records a batch of incidents."""

    def record(self, incidents: Sequence[Incident]) -> None:
        self.save(*incidents)


def peer_import(archive: Path, store: Path, incidents: int, events: int) -> None:
    """Store ``events`` events for the ``incidents`` lines of ``archive`` (the peer's process)."""
    log = IncidentLog(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                           "SQLITE_DBNAME": str(store)})
    each, extra = divmod(events, incidents)
    batch: list[Incident] = []
    with archive.open("rb") as lines:
        for number, line in enumerate(lines):
            row = json.loads(line)
            share = each + (number < extra)
            sources = row.pop("sources", [])[:share - 1]
            incident = Incident(row.pop("code"), row.pop("date"), row.pop("country"),
                                row.pop("location"), row)
            for source in sources:
                incident.add_source(source)
            for _ in range(share - 1 - len(sources)):
                incident.note(row.get("summary") or "")
            batch.append(incident)
            if len(batch) == AGGREGATES_A_SAVE:
                log.record(batch)
                batch = []
    if batch:
        log.record(batch)
    log.close()


def verify_command() -> list[str]:
    """The console script beside this interpreter, else the same entry point through -c."""
    script = Path(sys.executable).parent / "verify"
    return [str(script)] if script.exists() else [sys.executable, "-c", RUN_CLI]


def run(command: list[str]) -> tuple[float, float, str]:
    """Run ``command`` in a new process: its wall-clock seconds, the CPU seconds it and its
    own children used (more than the wall when it works on both cores), its standard output."""
    before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, children_cpu() - before, done.stdout


def children_cpu() -> float:
    """User and system CPU seconds of every child process waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def stored(store: Path) -> tuple[int, float, int | None]:
    """How many events a SQLite store holds, their mean stored size in bytes, and the rows
    of verify's hash chain (None where there is no such table)."""
    with sqlite3.connect(store) as db:
        count, size = db.execute(
            "SELECT count(*), coalesce(sum(length(state)), 0) FROM stored_events").fetchone()
        chain = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_chain'").fetchone()
        links = db.execute("SELECT count(*) FROM event_chain").fetchone()[0] if chain else None
    db.close()
    return count, size / max(count, 1), links


def remove(store: Path) -> None:
    """Delete a SQLite store and its write-ahead files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)


class Runs:
    """One row of the table: the seconds of each run, the events stored, their mean size."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        self.events = 0
        self.event_bytes = 0.0

    def add(self, seconds: float, cpu_seconds: float) -> None:
        self.seconds.append(seconds)
        self.cpu_seconds.append(cpu_seconds)

    def line(self, events: int) -> str:
        best, median = min(self.seconds), statistics.median(self.seconds)
        size = f"{self.event_bytes:>9.0f}" if self.event_bytes else ""
        return (f"  {self.label:<58}{best:>8.2f}{median:>9.2f}"
                f"{statistics.median(self.cpu_seconds):>8.2f}{events / best:>11,.0f}"
                f"{events / median:>11,.0f}{size}")


def bench(count: int, repeat: int) -> None:
    """The whole comparison on an archive of ``count`` incidents, printed as a table."""
    import compileall

    import verify
    from verify.demo.synthetic import write_archive

    compileall.compile_dir(Path(verify.__file__).parent, quiet=1)
    cli = verify_command()
    ours = Runs("verify import FILE (a new process)")
    catch_up = Runs("then the read models caught up (verify queue --limit 1)")
    peer = Runs(f"eventsourcing {version('eventsourcing')}, plain way (baseline)")
    read_models_written = True
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        archive = write_archive(folder / "archive.jsonl", count)
        for turn in range(repeat):
            order = ("verify", "peer") if turn % 2 == 0 else ("peer", "verify")
            for who in order:
                if who == "verify":
                    store = folder / f"verify{turn}.sqlite"
                    run([*cli, "--store", str(store), "init"])
                    seconds, cpu, _ = run([*cli, "--store", str(store), "import",
                                           str(archive)])
                    ours.add(seconds, cpu)
                    events, ours.event_bytes, links = stored(store)
                    if links != events:
                        raise RuntimeError(f"verify stored {events} events, {links} chain links")
                    if ours.events and events != ours.events:
                        raise RuntimeError(f"verify stored {events} events, before {ours.events}")
                    ours.events = events
                    _, _, status = run([*cli, "--store", str(store), "projections", "status",
                                     "--json"])
                    if json.loads(status)["behind"]:
                        read_models_written = False
                        catch_up.add(*run([*cli, "--store", str(store), "queue", "--limit",
                                           "1", "--json"])[:2])
                    remove(store)
                else:
                    store = folder / f"peer{turn}.sqlite"
                    peer.add(*run([sys.executable, __file__, "--peer", str(archive), str(store),
                                   str(count), str(ours.events)])[:2])
                    peer.events, peer.event_bytes, _ = stored(store)
                    remove(store)
            if peer.events != ours.events:
                raise RuntimeError(f"the peer stored {peer.events} events, verify {ours.events}")
    events = ours.events
    print(f"{count} incidents, {events} events stored by each ({events / count:.1f} an "
          f"incident); SQLite file; a new process each, start-up included; {repeat} "
          f"run{'' if repeat == 1 else 's'} each, taking turns")
    print(f"  {'':<58}{'best s':>8}{'median s':>9}{'cpu s':>8}{'events/s':>11}{'events/s':>11}"
          f"{'bytes an':>9}")
    print(f"  {'':<58}{'':>8}{'':>9}{'median':>8}{'(best)':>11}{'(median)':>11}{'event':>9}")
    print(ours.line(events))
    print(peer.line(events))
    print(f"  seconds run by run, in turn: verify {' '.join(f'{s:.2f}' for s in ours.seconds)};"
          f" baseline {' '.join(f'{s:.2f}' for s in peer.seconds)}")
    ratio_best = min(peer.seconds) / min(ours.seconds)
    ratio_median = statistics.median(peer.seconds) / statistics.median(ours.seconds)
    print(f"  ratio: verify import at {ratio_best:.2f} (best) / {ratio_median:.2f} (median) of "
          "the baseline's events/s")
    ours_cpu, peer_cpu = statistics.median(ours.cpu_seconds), statistics.median(peer.cpu_seconds)
    print(f"  by CPU (medians): verify {events / ours_cpu:,.0f} events a CPU second, the baseline "
          f"{events / peer_cpu:,.0f}: {peer_cpu / ours_cpu:.2f} (less moved by a busy machine "
          "than the wall)")
    print(f"  verify import also writes the hash chain ({events} links, one an event, in the "
          "events' transactions);")
    if read_models_written:
        print("  its read models (queue, statistics, search) were written by the import too.")
        return
    print("  its read models (queue, statistics, search) are not written by the import: the "
          "first reading command catches them up:")
    print(catch_up.line(events))
    together = [a + b for a, b in zip(ours.seconds, catch_up.seconds, strict=True)]
    print(f"  import and catch-up together: {min(peer.seconds) / min(together):.2f} (best) / "
          f"{statistics.median(peer.seconds) / statistics.median(together):.2f} (median) of "
          "the baseline's events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer", nargs=4, metavar=("ARCHIVE", "STORE", "INCIDENTS", "EVENTS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        archive, store, incidents, events = args.peer
        peer_import(Path(archive), Path(store), int(incidents), int(events))
        return
    bench(args.incidents, args.repeat)


if __name__ == "__main__":
    main()

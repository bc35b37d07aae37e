"""`grade --all` throughput, beside grading the same incidents one transaction each.

    python bench/grade_all.py [--incidents 20000] [--repeat 3]

One synthetic archive is imported once; every measurement grades a fresh copy of
that store: `grade --all` as the command runs it (worker processes, one per core,
from PARALLEL_FROM incidents on), `grade --all` kept in this one process, and
incident by incident as `verify grade CODE` would (the baseline). Each is timed
``--repeat`` times, in turn; the best and the median are printed, with the CPU
seconds this process and its workers spent.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

from verify.adapters.store import parse_store
from verify.application import grading
from verify.application.app import VerifyApp
from verify.application.workers import usable_cores
from verify.demo.synthetic import imported_store, write_archive
from verify.domain import Refused


def copied(store: Path, to: Path) -> VerifyApp:
    """A fresh copy of the imported store, opened as the command opens it."""
    to.unlink(missing_ok=True)
    with sqlite3.connect(store) as source, sqlite3.connect(to) as target:
        source.backup(target)
    return VerifyApp(env=parse_store(str(to)).env())


def cpu_seconds() -> float:
    """CPU seconds of this process and of the workers it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed(action: Callable[[], int]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and what the action counted."""
    cpu, start = cpu_seconds(), time.perf_counter()
    counted = action()
    return time.perf_counter() - start, cpu_seconds() - cpu, counted


def grade_all(app: VerifyApp) -> Callable[[], int]:
    return lambda: app.grade_all("bench").graded


def in_one_process(app: VerifyApp) -> Callable[[], int]:
    def graded() -> int:
        kept = grading.PARALLEL_FROM
        grading.PARALLEL_FROM = 1 << 62
        try:
            return app.grade_all("bench").graded
        finally:
            grading.PARALLEL_FROM = kept
    return graded


def one_transaction_each(app: VerifyApp) -> Callable[[], int]:
    """The baseline: each waiting incident graded as `verify grade CODE` grades it (finding
    the waiting ones is not timed)."""
    waiting = [code for code in app.incident_codes() if app.show(code).grade is None]

    def graded() -> int:
        count = 0
        for code in waiting:
            try:
                app.grade(code, "bench")
                count += 1
            except Refused:
                pass
        return count
    return graded


WAYS: dict[str, Callable[[VerifyApp], Callable[[], int]]] = {
    "grade --all (workers, as run)": grade_all,
    "grade --all in one process": in_one_process,
    "one transaction each (baseline)": one_transaction_each,
}
"""Each way readies its run on a fresh copy of the store; only the run is timed."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    total = args.incidents
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        file = write_archive(Path(folder) / "archive.jsonl", total)
        store = Path(folder) / "imported.sqlite"
        imported_store(file, store).close()
        warm = copied(store, Path(folder) / "warm.sqlite")  # every value type built once
        for code in islice(warm.incident_codes(), 100):
            warm.suggest_grade(code)
        warm.close()
        graded_counts: set[int] = set()
        for _ in range(args.repeat):
            for name, way in WAYS.items():
                app = copied(store, Path(folder) / "graded.sqlite")
                wall, cpu, graded = timed(way(app))
                app.close()
                graded_counts.add(graded)
                assert len(graded_counts) == 1, (name, graded_counts)  # the same, every way
                runs[name].append((wall, cpu))
    gradable = graded_counts.pop()
    print(f"{total} incidents, {gradable} of them ungraded and gradable; SQLite, "
          f"{usable_cores()} cores; best / median of {args.repeat}")
    print(f"  {'':<36}{'seconds':>15}{'incidents/s':>17}{'CPU s':>9}")
    for name, measured in runs.items():
        walls = [wall for wall, _ in measured]
        best, median = min(walls), statistics.median(walls)
        cpu = statistics.median(cpu for _, cpu in measured)
        print(f"  {name:<36}{best:>7.2f} /{median:>6.2f}"
              f"{total / best:>9,.0f} /{total / median:>6,.0f}{cpu:>9.1f}")
    best = {name: min(wall for wall, _ in measured) for name, measured in runs.items()}
    names = list(WAYS)
    print(f"  speed-up over the baseline: {best[names[2]] / best[names[0]]:.1f}x "
          f"(one process: {best[names[2]] / best[names[1]]:.1f}x); "
          f"workers over one process: {best[names[1]] / best[names[0]]:.2f}x")


if __name__ == "__main__":
    main()

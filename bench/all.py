"""Run every benchmark under bench/ in turn, then sum up: script, seconds, exit status.

    python bench/all.py --quick              # every bench at a small size: under 5 minutes here
    python bench/all.py                      # every bench at its default size: takes long
    python bench/all.py --quick peer.py      # only the scripts named
    python bench/all.py --quick --list       # what would run, with which arguments

Each script runs as its own process (this interpreter), in a fresh scratch
folder, its output printed as it comes; the closing table gives each one's wall
seconds and exit status, and this script exits 1 if any failed. SIZES below is
the one place that says which arguments each script gets: `small` for the test
suite's smoke run (tests/test_bench.py), `quick` for --quick. A script under
bench/ without a line in SIZES is run at its defaults, or under --quick counted
as failed (add its line).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = frozenset({"all.py", "generate.py"})
"""Scripts under bench/ that measure nothing: this runner, and the archive writer."""

QUICK_TIMEOUT = 240.0
"""Seconds one script may take under --quick before it is stopped and counted as failed."""


class Sizes(NamedTuple):
    """The arguments a benchmark gets: ``small`` for the test suite, ``quick`` for --quick."""

    small: tuple[str, ...]
    quick: tuple[str, ...]


SIZES: dict[str, Sizes] = {
    "audit_verify.py": Sizes(("--events", "2000"), ("--events", "60000")),
    "changes.py": Sizes(("--incidents", "300", "--repeat", "1"),
                        ("--incidents", "5000", "--repeat", "5")),
    "evidence_files.py": Sizes(("--megabytes", "8", "--hashes", "2000"),
                               ("--megabytes", "64", "--hashes", "10000")),
    "grade_all.py": Sizes(("--incidents", "200"), ("--incidents", "6000")),
    "import_throughput.py": Sizes(("--incidents", "1500"), ("--incidents", "10000")),
    "intake_rows.py": Sizes(("--rows", "200", "--repeat", "1"),
                            ("--rows", "4500", "--repeat", "5")),
    "load_incident.py": Sizes(("--events", "120", "--repeat", "2"),
                              ("--events", "1000", "--repeat", "50")),
    "peer.py": Sizes(("--incidents", "300", "--repeat", "1"), ("--incidents", "5000")),
    "proofs.py": Sizes(("--events", "2000"), ("--events", "20000")),
    "publish.py": Sizes(("--incidents", "300"), ("--incidents", "1000")),
    "read_models.py": Sizes(("--incidents", "300", "--repeat", "1"),
                            ("--incidents", "5000", "--repeat", "3")),
    "startup.py": Sizes(("--repeat", "1"), ("--repeat", "3")),
    "strike_matching.py": Sizes(("--incidents", "300", "--reports", "300", "--sample", "10"),
                                ("--incidents", "3000", "--reports", "3000", "--sample", "50")),
    "web_pages.py": Sizes(("--incidents", "300", "--repeat", "2"),
                          ("--incidents", "5000", "--repeat", "5")),
}


class Outcome(NamedTuple):
    """How one script's run ended: its exit status, or why it did not run to the end, with
    its wall seconds and the CPU seconds it and its children used (on a shared machine the
    CPU seconds say what the script cost, the wall seconds what the machine allowed)."""

    script: str
    seconds: float
    status: str
    cpu_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "0"


def benchmarks() -> list[str]:
    """Every benchmark script under bench/, by name."""
    return sorted(path.name for path in BENCH.glob("*.py") if path.name not in NOT_BENCHMARKS)


def arguments(script: str, quick: bool) -> tuple[str, ...] | None:
    """The arguments ``script`` runs with; None when --quick has no size for it."""
    if script not in SIZES:
        return None if quick else ()
    return SIZES[script].quick if quick else ()


def run_script(path: Path, args: Sequence[str], timeout: float | None) -> Outcome:
    """Run one script in a scratch folder, its output going straight to ours."""
    print(f"\n== {path.name} {' '.join(args)}".rstrip(), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        used_before = children_cpu()
        start = time.perf_counter()
        # A session of its own, so a script stopped for its time takes its children with it.
        process = subprocess.Popen([sys.executable, str(path), *args], cwd=scratch,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            status = str(process.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it ended just now
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status = f"stopped after {timeout:g} s"
        seconds = time.perf_counter() - start
    sys.stdout.flush()
    return Outcome(path.name, seconds, status, children_cpu() - used_before)


def children_cpu() -> float:
    """User and system CPU seconds of every child process waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def summary(outcomes: Sequence[Outcome], mode: str) -> str:
    """The closing table, and which scripts failed."""
    total = sum(outcome.seconds for outcome in outcomes)
    cpu = sum(outcome.cpu_seconds for outcome in outcomes)
    load = ", ".join(f"{each:.1f}" for each in os.getloadavg())
    lines = [f"{len(outcomes)} scripts ({mode}), {total:.1f} s in all, {cpu:.1f} s of CPU "
             f"(load average now {load})",
             f"  {'script':<24}{'seconds':>9}{'cpu s':>9}  exit status"]
    lines += [f"  {outcome.script:<24}{outcome.seconds:>9.1f}{outcome.cpu_seconds:>9.1f}  "
              f"{outcome.status}" for outcome in outcomes]
    failed = [outcome.script for outcome in outcomes if not outcome.passed]
    lines.append(f"  failed: {', '.join(failed)}" if failed else "  every script exited 0")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Without --quick each script runs at its own default size (100,000 incidents, "
        "a million events, a 1 GB file...): that takes long, tens of minutes on a 2-core "
        "machine (publish.py alone about ten).")
    parser.add_argument("--quick", action="store_true",
                        help="every script at a small size, under five minutes in all here")
    parser.add_argument("--list", action="store_true",
                        help="print the scripts and their arguments; run nothing")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"stop a script after this long and count it failed (default: "
                        f"{QUICK_TIMEOUT:g} with --quick, none without)")
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT",
                        help="run only these (names under bench/, such as peer.py)")
    args = parser.parse_args(argv)
    known = benchmarks()
    chosen = args.scripts or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        parser.error(f"not a benchmark under bench/: {', '.join(unknown)}")
    timeout = args.timeout if args.timeout is not None else (QUICK_TIMEOUT if args.quick
                                                              else None)
    mode = "--quick" if args.quick else "default sizes"
    if args.list:
        for script in chosen:
            given = arguments(script, args.quick)
            shown = "(no --quick size in bench/all.py SIZES)" if given is None else " ".join(
                given) or "(its defaults)"
            print(f"{script:<24}{shown}")
        return 0
    outcomes = []
    for script in chosen:
        given = arguments(script, args.quick)
        if given is None:
            print(f"\n== {script}: no --quick size in bench/all.py SIZES; not run", flush=True)
            outcomes.append(Outcome(script, 0.0, "not run: no --quick size"))
            continue
        outcomes.append(run_script(BENCH / script, given, timeout))
    print(f"\n{summary(outcomes, mode)}")
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Import workers end with the main process, even when only it is killed.

The adversarial pass of issue 15 SIGKILLed only the main process of a parallel
import, as the OOM killer does, and found 8 of 10 kills left three workers
each running, holding the terminal. Here the real program imports a file
large enough for worker processes (in a process group of its own); once its
workers are alive (and, after a seeded random delay, at work), only the main
process is killed, and within EXIT_GRACE seconds no process of the group may
be left. KILLS times on each store (a new SQLite file, or a new PostgreSQL
schema, each time), bounded in time. Run with -s to see the figures.

The workers are `verify.application.workers.Workers`, as `grade --all`'s are:
each holds only its own end of a pipe, so it ends at its next read or answer
once the main process is gone, with no signal or watcher needed.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from verify.demo.synthetic import write_archive
from verify.entrypoints.cli import cli

from conftest import PARALLEL_ROWS, fresh_postgres_schema
from processes import processes_of_group

pytestmark = [
    pytest.mark.slow,  # starts and kills real imports: half a minute
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc"),
]

KILLS = 6
"""Main processes killed on each store (each with its workers alive)."""

ROWS = 4 * PARALLEL_ROWS
"""Rows of the archive: enough that workers are still at work when the kill lands."""

SEED = 15

MAX_DELAY = 1.5
"""At most this many seconds pass between the workers appearing and the kill."""

EXIT_GRACE = 5.0
"""Seconds the workers get to exit after their parent has been killed."""

START_TIMEOUT = 60.0
"""Seconds the import gets to start its workers."""

POLL_SECONDS = 0.02

VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]


@contextlib.contextmanager
def new_store(kind: str, path: Path) -> Iterator[str]:
    """A store of that kind nobody has used: a SQLite file, or a PostgreSQL schema."""
    if kind == "sqlite":
        yield str(path)
    else:
        yield from fresh_postgres_schema()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_workers_exit_when_only_the_main_process_is_killed(tmp_path: Path, kind: str) -> None:
    archive = write_archive(tmp_path / "archive.jsonl", ROWS, seed=SEED)
    rng = random.Random(SEED)
    took: list[float] = []
    workers_seen: list[int] = []
    for kill in range(KILLS):
        with new_store(kind, tmp_path / f"store{kill}.sqlite") as store:
            kill_once(store, archive, rng, kill, took, workers_seen)
    print(f"\n{kind}: {KILLS} kills of the main process only, with {workers_seen} other "
          f"processes alive; all gone within {max(took):.2f} s "
          f"(mean {sum(took) / len(took):.2f} s)")


def kill_once(store: str, archive: Path, rng: random.Random, kill: int, took: list[float],
              workers_seen: list[int]) -> None:
    """Import into ``store``, kill the main process once its workers are at work, and check."""
    assert CliRunner().invoke(cli, ["--store", store, "init"]).exit_code == 0
    process = subprocess.Popen(
        [*VERIFY, "--store", store, "import", str(archive)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    group = process.pid
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not any(parent == process.pid for pid, parent in
                      processes_of_group(group).items() if pid != process.pid):
            assert process.poll() is None, "the import ended before it started workers"
            assert time.monotonic() < deadline, "no worker process started"
            time.sleep(POLL_SECONDS)
        time.sleep(rng.uniform(0, MAX_DELAY))
        assert process.poll() is None, "the import ended before the kill: make ROWS larger"
        workers = sorted(set(processes_of_group(group)) - {process.pid})
        workers_seen.append(len(workers))
        os.kill(process.pid, signal.SIGKILL)  # the main process only
        killed_at = time.monotonic()
        assert process.wait(timeout=EXIT_GRACE) == -signal.SIGKILL
        while (left := processes_of_group(group)) and time.monotonic() < killed_at + EXIT_GRACE:
            time.sleep(POLL_SECONDS)
        took.append(time.monotonic() - killed_at)
        assert not left, (f"kill {kill + 1}: processes {sorted(left)} of the import outlived "
                          f"its main process by {EXIT_GRACE} s (workers were {workers})")
    finally:
        if processes_of_group(group):
            os.killpg(group, signal.SIGKILL)  # leave nothing behind a failure
        if process.poll() is None:
            process.kill()
            process.wait()

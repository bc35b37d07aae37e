"""Hostile files given to `verify`: refused in one sentence, read in flat memory.

The adversarial pass of issue 15 found a 1 GiB line with no newline peaking at
2.1 GB, and a link to `/dev/zero` as an import or gazetteer file growing to
9.4-23 GB. Each case here runs the real program as an OS process under an
address-space limit (RLIMIT_AS, MEMORY_LIMIT) and reads its peak resident
memory from the kernel (wait4), so a reader that holds a line whole fails
here rather than in a user's machine. Run with -s to see the figures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from verify.adapters.files import LINE_TOO_LONG, MAX_LINE_BYTES
from verify.demo.synthetic import archive
from verify.entrypoints.cli import cli

from conftest import PARALLEL_ROWS

VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]

MEMORY_LIMIT = 512 << 20
"""Address space a run may take (RLIMIT_AS): a reader holding a 1 GiB line cannot fit."""

PEAK_RSS_LIMIT = 300 << 20
"""Resident memory a run may peak at (the import itself needs about 50 MB)."""

HUGE_LINE = 1 << 30
"""A line of 1 GiB with no newline, as the issue's reproduction."""

COMMAND_TIMEOUT = 300.0
"""A run taking longer has hung (reading /dev/zero forever, say): killed, and the test fails."""

GOOD_ROW = {"code": "CS8", "date": "2017-03-17", "country": "Iraq", "location": "Mosul"}


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    peak_rss: int
    """Bytes, as the kernel measured the process (ru_maxrss)."""
    seconds: float


MEASURED_RUN = """
import os, resource, sys
limit, usage_path, *argv = sys.argv[1:]
child = os.fork()
if child == 0:
    resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    os.execv(argv[0], argv)
_, status, usage = os.wait4(child, 0)
with open(usage_path, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""
"""A small launcher that runs `verify` as its own child and writes down its peak memory.

The kernel's peak (ru_maxrss) includes the memory of the process `verify` was forked
from, before it became `verify`; forked from pytest, late in a long run, that alone is
over 300 MiB. Forked from this launcher, it is the launcher's few megabytes."""


def run_limited(store: Path, *args: str, env: dict[str, str] | None = None) -> Finished:
    """`verify --store STORE ARGS` as a process limited to MEMORY_LIMIT of address space."""
    out_path, err_path = store.with_suffix(".out"), store.with_suffix(".err")
    usage_path = store.with_suffix(".usage")
    usage_path.unlink(missing_ok=True)
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", MEASURED_RUN, str(MEMORY_LIMIT), str(usage_path), *VERIFY,
             "--store", str(store), "--actor", "ann", *args], stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, start_new_session=True, env={**os.environ, **(env or {})},
        )
        try:
            process.wait(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"`verify {' '.join(args)}` ran over {COMMAND_TIMEOUT} s")
    return Finished(process.returncode, out_path.read_text(), err_path.read_text(),
                    int(usage_path.read_text()) * 1024, time.monotonic() - started)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "verify.sqlite"
    result = CliRunner().invoke(cli, ["--store", str(path), "init"])
    assert result.exit_code == 0, result.output
    return path


def stored_events(store: Path) -> int:
    import sqlite3

    with sqlite3.connect(store) as connection:
        return int(connection.execute("select count(*) from stored_events").fetchone()[0])


def report(case: str, finished: Finished) -> None:
    print(f"\n{case}: exit {finished.returncode} in {finished.seconds:.1f} s, "
          f"peak RSS {finished.peak_rss / 2**20:.0f} MiB (limit {MEMORY_LIMIT >> 20} MiB "
          "address space)")


# ------------------------------------------------------------- /dev/zero


FIRST_CASES = {
    "import": lambda zero: ["import", str(zero.with_suffix(".jsonl"))],
}
MORE_CASES = {
    "gazetteer": lambda zero: ["strikes", "match", "--gazetteer", str(zero.with_suffix(".csv"))],
    "import-csv": lambda zero: ["import", str(zero.with_suffix(".csv"))],
    "strikes-import": lambda zero: ["strikes", "import", str(zero.with_suffix(".jsonl"))],
    "column-map": lambda zero: ["import", str(zero.parent / "sheet.csv"), "--columns",
                                str(zero.with_suffix(".toml"))],
}


def zero_links(tmp_path: Path) -> Path:
    for suffix in (".jsonl", ".csv", ".toml"):
        (tmp_path / f"zero{suffix}").symlink_to("/dev/zero")
    (tmp_path / "sheet.csv").write_text("code\nCS1\n")
    return tmp_path / "zero"


@pytest.mark.parametrize("case", [
    *FIRST_CASES, *(pytest.param(case, marks=pytest.mark.slow) for case in MORE_CASES)])
def test_dev_zero_as_a_file_input_is_refused_at_once(store: Path, tmp_path: Path,
                                                     case: str) -> None:
    """A link to /dev/zero (endless, no newline): one sentence, exit 2, nothing stored."""
    argv = {**FIRST_CASES, **MORE_CASES}[case](zero_links(tmp_path))
    before = stored_events(store)
    finished = run_limited(store, *argv)
    report(f"/dev/zero as {case}", finished)
    assert finished.returncode == 2, finished
    assert finished.stderr.count("\n") == 1 and finished.stderr.startswith("error: "), finished
    assert "is a device, not a regular file" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert finished.peak_rss < PEAK_RSS_LIMIT
    assert stored_events(store) == before


@pytest.mark.slow
def test_dev_zero_as_the_gazetteer_from_the_environment_is_refused(store: Path,
                                                                   tmp_path: Path) -> None:
    zero = zero_links(tmp_path)
    finished = run_limited(store, "strikes", "match",
                           env={"VERIFY_GAZETTEER": str(zero.with_suffix(".csv"))})
    assert finished.returncode == 2, finished
    assert "the gazetteer zero.csv is a device" in finished.stderr


# -------------------------------------------------------- a 1 GiB line


def write_huge_line(path: Path, first: bytes) -> None:
    """``first``, then HUGE_LINE bytes with no newline, written a megabyte at a time."""
    block = b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(first)
        for _ in range(HUGE_LINE // len(block)):
            out.write(block)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_1gib_line_is_refused_unread_in_flat_memory(store: Path, tmp_path: Path,
                                                      suffix: str) -> None:
    """The line after a good row is 1 GiB long and never ends: the good row imports, the
    huge line is refused as that line (exit 2), and memory stays far under the limit."""
    path = tmp_path / f"huge{suffix}"
    first = (b"code,date,country,location_name\nCS8,2017-03-17,Iraq,Mosul\n" if suffix == ".csv"
             else json.dumps(GOOD_ROW).encode() + b"\n")
    started = time.monotonic()
    write_huge_line(path, first)
    written = time.monotonic() - started
    try:
        finished = run_limited(store, "import", str(path), "--json")
    finally:
        path.unlink()
    report(f"a 1 GiB line in {suffix} (written in {written:.1f} s)", finished)
    assert finished.returncode == 2, finished
    summary = json.loads(finished.stdout)
    huge_line = 3 if suffix == ".csv" else 2
    assert summary["imported"] == 1
    assert summary["refused"] == [{"line": huge_line, "code": None, "reason": LINE_TOO_LONG}]
    assert finished.stderr == f"line {huge_line}: {LINE_TOO_LONG}\n"
    assert finished.peak_rss < PEAK_RSS_LIMIT


@pytest.mark.slow
def test_an_over_long_line_among_rows_prepared_by_workers_is_refused_as_that_line(
        store: Path, tmp_path: Path) -> None:
    """A file large enough for worker processes, with an over-long line in the middle."""
    rows = list(archive(PARALLEL_ROWS, seed=15))
    middle = len(rows) // 2
    lines = [*rows[:middle], b"y" * (MAX_LINE_BYTES + 10) + b"\n", *rows[middle:]]
    path = tmp_path / "archive.jsonl"
    path.write_bytes(b"".join(lines))
    finished = run_limited(store, "import", str(path), "--json")
    report(f"{len(rows)} rows by workers, one over-long line", finished)
    assert finished.returncode == 2, finished
    summary = json.loads(finished.stdout)
    assert summary["imported"] == len(rows)
    assert summary["refused"] == [{"line": middle + 1, "code": None, "reason": LINE_TOO_LONG}]

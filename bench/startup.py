"""How long reading commands take as a user runs them: a new process each, on a demo store.

    python bench/startup.py [--repeat 5] [--imports]

Each command runs as `verify ...` in a new process, start-up included, interleaved
with the others, `--repeat` times; wall time and CPU time (user + system) are
given as min and median. The baselines, in the same run, are the interpreter alone
(`python -c pass`) and the libraries alone (click, pydantic with one model validated
and written, eventsourcing's application and SQLite modules): the floor that no
change to verify's own modules can take a command below. Before timing, the
package's bytecode is compiled, as a normal `pip install` does (this machine sets
PYTHONDONTWRITEBYTECODE, which would otherwise recompile every module on every
start).

With --imports, `python -X importtime` of `verify show CODE --json` is summed by
package (self time), so the table says where start-up goes.

With --instructions, valgrind's callgrind counts the instructions `verify show
CODE --json`, the libraries alone and `python -c pass` execute (about 15 s each under valgrind). The
count is the same from run to run whatever else the machine does, so it
compares two commits where wall times, on a shared machine, swing by a third.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import verify

GOAL_SECONDS = 0.25
RUN_CLI = "import sys; from verify.entrypoints.cli import main; sys.argv[0] = 'verify'; main()"
LIBRARIES_ALONE = (
    "import click, pydantic, eventsourcing.application, eventsourcing.sqlite\n"
    "class View(pydantic.BaseModel):\n    code: str\n"
    "print(View(code='CS1').model_dump_json())"
)
"""The libraries every reading command loads, and one pydantic model validated and written
as JSON (building the first validator loads pydantic's plugin machinery, and with it
importlib.metadata): what no change to verify's own modules can take below."""


def verify_command() -> list[str]:
    """The console script beside this interpreter, else the same entry point through -c."""
    script = Path(sys.executable).parent / "verify"
    return [str(script)] if script.exists() else [sys.executable, "-c", RUN_CLI]


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_table(env: dict[str, str], code: str) -> list[tuple[str, float]]:
    """Self import time by package for `verify show CODE --json`, largest first (ms)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN_CLI, "show", code, "--json"],
        env=env, capture_output=True, text=True, check=True,
    )
    totals: dict[str, float] = defaultdict(float)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if not self_us.isdigit():
            continue
        parts = name.split(".")
        group = ".".join(parts[:3]) if parts[0] == "verify" else parts[0]
        totals[group] += int(self_us) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])


def instructions(argv: list[str], env: dict[str, str]) -> int | None:
    """Instructions one run of ``argv`` executes (callgrind); None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env, capture_output=True, text=True, check=True,
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--imports", action="store_true",
                        help="also sum -X importtime of `show` by package")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the instructions of `show` under valgrind")
    args = parser.parse_args()
    compileall.compile_dir(Path(verify.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "VERIFY_STORE": str(Path(folder) / "demo.sqlite"),
               "VERIFY_ACTOR": "bench"}
        verify_cli = verify_command()
        subprocess.run([*verify_cli, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        queue = subprocess.run([*verify_cli, "queue", "--json"], env=env, check=True,
                               capture_output=True, text=True).stdout
        code = json.loads(queue)[0]["code"]
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "libraries alone (floor)": [sys.executable, "-c", LIBRARIES_ALONE],
            "verify --version": [*verify_cli, "--version"],
            "verify --help": [*verify_cli, "--help"],
            f"verify show {code} --json": [*verify_cli, "show", code, "--json"],
            f"verify history {code} --json": [*verify_cli, "history", code, "--json"],
            "verify queue --json": [*verify_cli, "queue", "--json"],
            "verify stats --json": [*verify_cli, "stats", "--json"],
            "verify search mosque --json": [*verify_cli, "search", "mosque", "--json"],
        }
        walls: dict[str, list[float]] = defaultdict(list)
        cpus: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeat):
            for name, argv in commands.items():
                wall, cpu = run(argv, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
        print(f"start-up, {args.repeat} runs each, interleaved; goal {GOAL_SECONDS} s wall")
        print(f"  {'command':40} {'wall min':>9} {'median':>7} {'cpu min':>8} {'median':>7}")
        for name in commands:
            print(f"  {name:40} {min(walls[name]):9.3f} {statistics.median(walls[name]):7.3f}"
                  f" {min(cpus[name]):8.3f} {statistics.median(cpus[name]):7.3f}")
        if args.imports:
            print(f"\nself import time of `verify show {code} --json` by package (-X importtime)")
            table = import_table(env, code)
            for group, ms in table[:25]:
                print(f"  {group:40} {ms:8.1f} ms")
            print(f"  {'all':40} {sum(ms for _, ms in table):8.1f} ms")
        if args.instructions:
            show = [sys.executable, "-c", RUN_CLI, "show", code, "--json"]
            baseline = instructions([sys.executable, "-c", "pass"], env)
            floor = instructions([sys.executable, "-c", LIBRARIES_ALONE], env)
            counted = instructions(show, env)
            if baseline is None or floor is None or counted is None:
                print("\ninstructions: valgrind is not installed here")
            else:
                print(f"\ninstructions (callgrind): verify show {code} --json {counted:,};"
                      f" libraries alone (floor) {floor:,};"
                      f" python -c pass (baseline) {baseline:,}")


if __name__ == "__main__":
    main()

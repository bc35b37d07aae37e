"""SIGKILL `verify import` and `verify grade --all` at random points; restart; nothing is lost.

Each case runs the real program as an OS process on a real store (a SQLite
file, a PostgreSQL schema), kills its whole process group with SIGKILL at a
random point of its work, inspects the store, and starts the same command
again, each restart resuming what the killed runs left, until KILLS_PER_CASE
runs have been killed while running; then it runs the command to the end.
Everything is compared with a reference store where the same commands ran
once each, uninterrupted, on the same file (a SQLite store: an export does
not depend on the kind of store, as the PostgreSQL cases confirm byte for
byte):

- nothing acknowledged is lost. Neither command prints anything on stdout
  before its final summary, so a summary, when one was printed, must match
  what that run added. `verify import` also draws a progress bar on a
  terminal whose position is the last line with a settled outcome ("imported"
  means durable, says `verify.application.importing`): import runs get a pseudo-terminal
  as stderr, and every line the bar reached must be stored, whole. (The bar
  of `grade --all` counts incidents examined before they are saved, so it
  acknowledges nothing.)
- no incident is half-written: after every kill each stored incident has
  exactly the events (names, versions 1..n) and the export row the reference
  gives it; under `grade --all`, its imported events, or those plus one grade.
- the last run exits 0, appends exactly what was missing (nothing twice) and
  leaves the reference's export, byte for byte; `grade --all` once more
  grades nothing; `verify audit verify` passes; the read models, caught up
  after every kill and counted against the log, equal a rebuild.

Where a kill lands: at a random point of the work, measured in events, not in
seconds, so that it hits the writing on a fast machine or a slow one. From
the transactions the run has ahead (the commands write a batch of rows or
grades per transaction), a seeded `random.Random` draws an event before the
last transaction; once the store's event log holds it (polled every
POLL_SECONDS), the kill follows after a random delay of up to KILL_JITTER,
in the work of a later transaction or at the very end. When a run leaves
fewer than two transactions to do, the case starts over on a fresh store.
A run that ends before its kill point is counted apart, not as a kill.

The runs meant to be killed are OS processes of the program; the commands
nobody kills (creating a store, the run to the end, export, audit) run in this
process through click's test runner, to save starting Python each time.

Imports run in the command's own process when it has one core (the
in-process cases run it so), and through worker processes when workers pay
(`parallel_pays`); both are killed, and no process
of a killed command may outlive it. Rows may name an incident they duplicate
(`duplicate_of`); the importer records those marks after every row, and one
case kills such an import midway.

Bounded: KILLS_PER_CASE kills per case, at most MAX_RUNS runs meant to be
killed, every command limited to COMMAND_TIMEOUT seconds, a few thousand
incidents per store.
"""

from __future__ import annotations

import io
import os
import pty
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from verify.adapters.bulk_import import CHUNK_LINES, parallel_pays
from verify.adapters.interchange import write_jsonl
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.grading import GRADE_BATCH
from verify.application.importing import IMPORT_BATCH
from verify.application.readmodels import STATS_GROUPINGS as STATS_KEYS
from verify.application.records import IncidentRecord
from verify.demo.synthetic import archive
from verify.domain.incident import incident_id, project_incident
from verify.domain.values import canonical_code
from verify.entrypoints.cli import cli

from conftest import PARALLEL_ROWS, fresh_postgres_schema
from processes import processes_of_group

pytestmark = pytest.mark.slow  # kills processes and restarts them: a minute or more

KILLS_PER_CASE = 5
"""SIGKILLs that hit a running command, per case (one command on one kind of store)."""

SEED = 20170317
"""Seeds the kill points (per case) and the generated archives."""

INCIDENTS = 2500
"""Rows of the archive imported in the command's own process (given one core: ONE_CORE)."""

PARALLEL_INCIDENTS = PARALLEL_ROWS
"""Rows of the archive imported through worker processes, however they start."""

DUPLICATE_EVERY = 25
"""Every this many rows, one marks itself a duplicate of the row before it."""

KILL_JITTER = 0.1
"""At most this many seconds pass between reaching a kill point and the kill."""

MAX_RUNS = 3 * KILLS_PER_CASE
"""A case gives up after this many runs meant to be killed (some end before their kill point)."""

POLL_SECONDS = 0.01
COMMAND_TIMEOUT = 120.0
"""No command of this file may run longer (seconds)."""

EXIT_GRACE = 5.0
"""Seconds a command's other processes get to exit after it has ended or been killed."""

ACTOR = "crash-test"
VERIFY = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()"]
ONE_CORE = [sys.executable, "-c",
            "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from verify.entrypoints.cli import main; main()"]
"""`verify` kept to one core, where an import never starts workers (`parallel_pays`)."""

assert not parallel_pays(INCIDENTS, cores=1)
assert CHUNK_LINES == IMPORT_BATCH  # a transaction holds as many rows either way


# ----------------------------------------------------------- running verify


@dataclass
class Run:
    """One run of `verify`: how it ended and what it said."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: str
    seconds: float
    workers_at_kill: int = 0
    """Other processes of the command's group alive when the kill was sent."""

    @property
    def killed(self) -> bool:
        """SIGKILL reached the command while it was still running."""
        return self.returncode == -signal.SIGKILL

    def summary(self) -> Any:
        """The command's JSON summary, or None when it printed none."""
        return orjson.loads(self.stdout) if self.stdout.strip() else None

    def bar_position(self, total: int) -> int:
        """The furthest position the progress bar showed on the terminal."""
        return max((int(found) for found in re.findall(rf"(\d+)/{total}\b", self.stderr)),
                   default=0)

    def said(self) -> list[str]:
        """What the command wrote on stderr, without the progress bar's drawing."""
        text = re.sub(r"\x1b\[[?0-9;]*[a-zA-Z]", "", self.stderr)
        text = re.sub(r"\w+ +\[[#-]*\] +\d+/\d+( +[\d:]+)? *", "", text)
        return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]

    def describe(self) -> str:
        said = self.said()
        more = f" (and {len(said) - 5} more lines)" if len(said) > 5 else ""
        return (f"`verify {' '.join(self.args)}` exited {self.returncode} after "
                f"{self.seconds:.2f}s, saying: {said[:5]}{more}")


def group_members(group: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    return list(processes_of_group(group))


def _drain_stream(stream: Any, into: list[bytes]) -> None:
    into.append(stream.read())


def _drain_terminal(master: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every process holding the terminal has gone
            return
        if not chunk:
            return
        into.append(chunk)


def verify(store: str, *args: str, kill: Callable[[float], bool] | None = None,
           terminal: bool = False, program: list[str] = VERIFY) -> Run:
    """Run `verify --store STORE ARGS` in a process group of its own.

    With ``kill``, poll it with the seconds elapsed and SIGKILL the whole group
    once it says so (unless the command has finished by then). With
    ``terminal``, stderr is a pseudo-terminal, so progress bars are drawn.
    ``program`` is how verify is started (ONE_CORE keeps it to one core).
    """
    command = [*program, "--store", store, "--actor", ACTOR, *args]
    master = slave = None
    if terminal:
        master, slave = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=slave if slave is not None else subprocess.PIPE, start_new_session=True,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=_drain_stream, args=(process.stdout, out))]
    if master is not None and slave is not None:
        os.close(slave)
        readers.append(threading.Thread(target=_drain_terminal, args=(master, err)))
    else:
        readers.append(threading.Thread(target=_drain_stream, args=(process.stderr, err)))
    for reader in readers:
        reader.start()
    workers = 0
    try:
        if kill is not None:
            while process.poll() is None and not kill(time.monotonic() - started):
                time.sleep(POLL_SECONDS)
            if process.poll() is None:
                workers = len(set(group_members(process.pid)) - {process.pid})
                os.killpg(process.pid, signal.SIGKILL)
        returncode = process.wait(timeout=COMMAND_TIMEOUT)
        seconds = time.monotonic() - started
        settled = time.monotonic() + EXIT_GRACE
        while (survivors := group_members(process.pid)) and time.monotonic() < settled:
            time.sleep(POLL_SECONDS)  # e.g. multiprocessing's resource tracker, on its way out
        assert not survivors, f"processes {survivors} of `verify {' '.join(args)}` outlived it"
        for reader in readers:
            reader.join(timeout=EXIT_GRACE)
        assert not any(reader.is_alive() for reader in readers), (
            "something still holds the output of the finished command open")
    except BaseException:
        if group_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)  # leave nothing running behind a failure
        raise
    finally:
        if master is not None:
            os.close(master)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return Run(tuple(args), returncode, b"".join(out), b"".join(err).decode(errors="replace"),
               seconds, workers)


def here(store: str, *args: str) -> Run:
    """Run `verify --store STORE ARGS` in this process, through click's test runner.

    For the commands nobody kills (creating stores, exporting, auditing, the
    runs to the end): the same code as the program, without starting Python.
    """
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--store", store, "--actor", ACTOR, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(tuple(args), result.exit_code, result.stdout_bytes, result.stderr,
               time.monotonic() - started)


def kill_at_progress(watcher: VerifyApp, target: int, jitter: float) -> Callable[[float], bool]:
    """Due JITTER seconds after the store's event log first reaches notification id TARGET."""
    reached: list[float] = []

    def due(elapsed: float) -> bool:
        if not reached and (watcher.recorder.max_notification_id() or 0) >= target:
            reached.append(elapsed)
        return bool(reached) and elapsed >= reached[0] + jitter

    return due


# ---------------------------------------------------------- what a store holds


def open_app(store: str) -> VerifyApp:
    return VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})


@dataclass
class Contents:
    """What one store holds, per incident code."""

    events: dict[str, list[str]]
    """Each incident's event names, in version order."""
    rows: dict[str, bytes]
    """Each incident's line of `verify export --format jsonl`."""

    @property
    def event_count(self) -> int:
        return sum(len(names) for names in self.events.values())

    def with_event(self, name: str) -> set[str]:
        return {code for code, names in self.events.items() if name in names}


def stored(store: str, codes: dict[uuid.UUID, str]) -> dict[str, list[Any]]:
    """Every stored event by incident, in log order, checking versions run 1, 2, 3..."""
    app = open_app(store)
    found: dict[str, list[Any]] = {}
    try:
        start = 1
        while page := app.recorder.select_notifications(start=start, limit=10_000):
            for notification in page:
                originator = uuid.UUID(str(notification.originator_id))
                code = codes.get(originator, f"an unknown aggregate {originator}")
                found.setdefault(code, []).append(notification)
            start = page[-1].id + 1
    finally:
        app.close()
    for code, notifications in found.items():
        versions = [notification.originator_version for notification in notifications]
        assert versions == list(range(1, len(versions) + 1)), (
            f"{code} has versions {versions}: a gap or a repeat")
    return found


def event_names(notifications: list[Any]) -> list[str]:
    return [notification.topic.rsplit(".", 1)[-1] for notification in notifications]


def stored_events(store: str, codes: dict[uuid.UUID, str]) -> dict[str, list[str]]:
    """Every stored event's name by incident, in version order."""
    return {code: event_names(found) for code, found in stored(store, codes).items()}


def look(store: str, codes: dict[uuid.UUID, str], previous: Contents | None = None) -> Contents:
    """What STORE holds now, with each incident's export row rendered as `verify export` does.

    An incident is replayed from its stored events, as the application loads it,
    unless its events are those it had in PREVIOUS (stored events never change).
    """
    found = stored(store, codes)
    events = {code: event_names(notifications) for code, notifications in found.items()}
    rows: dict[str, bytes] = {}
    known = set(codes.values())
    app = open_app(store)
    try:
        for code, notifications in found.items():
            if previous is not None and previous.events.get(code) == events[code]:
                rows[code] = previous.rows[code]
            elif code in known:
                incident = project_incident(None, map(app.mapper.to_domain_event, notifications))
                assert incident is not None
                line = io.BytesIO()
                write_jsonl([IncidentRecord.of(incident)], line)
                rows[code] = line.getvalue().rstrip(b"\n")
    finally:
        app.close()
    return Contents(events, rows)


def export(store: str) -> bytes:
    exported = here(store, "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.describe()
    return exported.stdout


def exported_rows(document: bytes) -> dict[str, bytes]:
    return {orjson.loads(line)["code"]: line for line in document.splitlines()}


def mismatches(now: Contents, expected: Contents, codes: set[str] | None = None) -> str:
    """Which incidents differ from the reference, and how (empty when none does)."""
    lines = []
    for code in sorted(now.events if codes is None else codes):
        held, wanted = now.events.get(code), expected.events.get(code)
        if held != wanted:
            lines.append(f"{code}: events {held}, the reference has {wanted}")
        elif now.rows.get(code) != expected.rows.get(code):
            row = orjson.loads(now.rows[code]) if code in now.rows else {}
            fields = sorted(key for key, value in orjson.loads(expected.rows[code]).items()
                            if row.get(key) != value)
            lines.append(f"{code}: export row differs in {fields or 'presence'}")
    more = f"\n... and {len(lines) - 10} more" if len(lines) > 10 else ""
    return "\n".join(lines[:10]) + more


def check_read_models_follow(store: str, now: Contents) -> None:
    """Catch the read models up, as any reading command does, and count them against the log."""
    app = open_app(store)
    try:
        app.catch_up()
        assert app.events_behind() == 0
        groups = app.stats(by="grade")["groups"]
    finally:
        app.close()
    counted = [code for code, names in now.events.items() if "MarkedDuplicate" not in names]
    graded = [code for code in counted if "Graded" in now.events[code]]
    assert sum(group["incidents"] for group in groups) == len(counted)
    assert sum(group["incidents"] - group["grades"]["ungraded"] for group in groups) \
        == len(graded)


def read_models(app: VerifyApp) -> dict[str, Any]:
    """What `verify queue --json` and `verify stats --json --by ...` print, and every table."""
    return {"queue": app.queue(), "tables": app.read_model.dump(),
            **{f"stats by {key}": app.stats(by=key) for key in STATS_KEYS}}


def check_read_models_equal_a_rebuild(store: str) -> None:
    app = open_app(store)
    try:
        app.catch_up()
        kept = read_models(app)
        app.rebuild_read_models()
        assert app.events_behind() == 0
        assert read_models(app) == kept
    finally:
        app.close()


def check_audit(store: str, events: int) -> None:
    audited = here(store, "audit", "verify", "--json")
    assert audited.returncode == 0, audited.describe()
    report = audited.summary()
    assert report["intact"] is True and report["events"] == events, report


# --------------------------------------------------------------- references


def write_archive(path: Path, count: int, duplicates: bool) -> list[str]:
    """A synthetic archive; with DUPLICATES every DUPLICATE_EVERY-th row duplicates the last."""
    lines: list[bytes] = []
    codes: list[str] = []
    for number, raw in enumerate(archive(count, seed=SEED), start=1):
        record = orjson.loads(raw)
        if duplicates and number % DUPLICATE_EVERY == 0:
            record["duplicate_of"] = codes[-1]
        codes.append(canonical_code(record["code"]))
        lines.append(orjson.dumps(record))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return codes


@dataclass
class Reference:
    """A store where `import FILE`, then `grade --all`, ran once each, uninterrupted."""

    store: str
    file: Path
    codes: list[str]
    """Incident codes in file order."""
    names: dict[uuid.UUID, str]
    imported: Contents
    imported_export: bytes
    pristine: Path
    """A copy of the store as imported, before `grade --all`."""
    graded: Contents | None = None
    graded_export: bytes = b""

    def grade(self) -> Contents:
        """The store after `grade --all` (run on first use)."""
        if self.graded is None:
            run = here(self.store, "grade", "--all", "--json")
            assert run.returncode == 0, run.describe()
            self.graded_export = export(self.store)
            self.graded = Contents(stored_events(self.store, self.names),
                                   exported_rows(self.graded_export))
            assert run.summary()["graded"] == len(self.gradable) > 0
            assert not self.gradable & self.imported.with_event("MarkedDuplicate")
            for code in self.gradable:
                assert self.graded.events[code] == [*self.imported.events[code], "Graded"]
        return self.graded

    @property
    def gradable(self) -> set[str]:
        """Incidents `grade --all` grades."""
        graded = self.grade()
        return {code for code in self.codes if graded.events[code] != self.imported.events[code]}


@dataclass
class References:
    """Reference stores (SQLite: an export does not depend on the kind of store), one per size."""

    folder: Path
    built: dict[tuple[int, bool], Reference] = field(default_factory=dict)

    def of(self, count: int, duplicates: bool = False) -> Reference:
        if (count, duplicates) not in self.built:
            self.built[count, duplicates] = self._build(count, duplicates)
        return self.built[count, duplicates]

    def _build(self, count: int, duplicates: bool) -> Reference:
        name = f"{count}{'-with-duplicates' if duplicates else ''}"
        file = self.folder / f"archive-{name}.jsonl"
        codes = write_archive(file, count, duplicates)
        store = str(self.folder / f"reference-{name}.sqlite")
        names = {incident_id(code): code for code in codes}
        assert here(store, "init").returncode == 0
        run = verify(store, "import", str(file), "--json", terminal=True)
        assert run.returncode == 0, run.describe()
        assert run.summary()["imported"] == count
        assert run.bar_position(count) == count
        document = export(store)
        imported = Contents(stored_events(store, names), exported_rows(document))
        assert set(imported.events) == set(codes) == set(imported.rows)
        marked = len(imported.with_event("MarkedDuplicate"))
        assert marked == (count // DUPLICATE_EVERY if duplicates else 0)
        pristine = self.folder / f"imported-{name}.sqlite"
        shutil.copyfile(store, pristine)  # no command runs now: the file is the whole store
        return Reference(store, file, codes, names, imported, document, pristine)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> References:
    return References(tmp_path_factory.mktemp("reference"))


def kind_of(store: str) -> str:
    return "postgres" if store.startswith("postgresql") else "sqlite"


@dataclass
class Stores:
    """The store under test, and fresh ones of the same kind when a case starts over."""

    first: str
    folder: Path
    schemas: list[Iterator[str]] = field(default_factory=list)
    made: int = 0

    def new(self) -> str:
        self.made += 1
        if kind_of(self.first) == "sqlite":
            return str(self.folder / f"again-{self.made}.sqlite")
        schema = fresh_postgres_schema()
        self.schemas.append(schema)
        url: str = next(schema)
        return url

    def close(self) -> None:
        for schema in self.schemas:
            next(schema, None)  # runs the generator on past its yield: drops the schema


@pytest.fixture
def stores(store_url: str, tmp_path: Path) -> Iterator[Stores]:
    made = Stores(store_url, tmp_path)
    yield made
    made.close()


# -------------------------------------------------------------------- kills


@dataclass
class Tally:
    """Where the kills of one case landed, to show they interrupted real work.

    Every run meant to be killed starts with at least two transactions to do
    (else the case starts over on a fresh store). A run that ends before its
    kill point is no kill: the case goes on until KILLS_PER_CASE runs have
    been killed while running, and gives up after MAX_RUNS runs.
    """

    case: str
    rng: random.Random
    program: list[str] = field(default_factory=lambda: VERIFY)
    """How verify is started for the runs meant to be killed."""
    kills: int = 0
    """Runs SIGKILL reached while they were still running."""
    ended_first: int = 0
    """Runs that ended (and did all the work) before their kill point."""
    left_partial: int = 0
    """Kills after which part of the run's work was stored, and part not."""
    with_workers: int = 0
    """Kills that found worker processes alive (the parallel import)."""
    restarts: int = 0
    """Times the case started over on a fresh store, less than two transactions being left."""
    points: list[str] = field(default_factory=list)

    def more(self) -> bool:
        runs = self.kills + self.ended_first
        assert runs < MAX_RUNS or self.kills >= KILLS_PER_CASE, (
            f"only {self.kills} of {runs} runs were still running at their kill point")
        return self.kills < KILLS_PER_CASE

    def killed_run(self, store: str, args: tuple[str, ...], commits: list[int],
                   terminal: bool = False) -> Run:
        """Run the command and kill it at a random point of its work.

        COMMITS are the events each of the run's transactions will append, in
        order. The kill point is drawn from the events of all but the last, the
        earlier ones likelier (the cube of a uniform fraction), so that one store
        serves several kills; the kill follows the commit that stores that event
        after a random jitter, so it lands in the work of a later transaction,
        or at the very end.
        """
        assert len(commits) >= 2
        watcher = open_app(store)
        try:
            start = watcher.recorder.max_notification_id() or 0
            target = start + 1 + int(self.rng.random() ** 3 * sum(commits[:-1]))
            jitter = self.rng.uniform(0, KILL_JITTER)
            run = verify(store, *args, kill=kill_at_progress(watcher, target, jitter),
                         terminal=terminal, program=self.program)
        finally:
            watcher.close()
        self.points.append(f"{run.seconds:.2f}s" if run.killed else "ended first")
        return run

    def count(self, run: Run, pending_before: int, pending_after: int) -> None:
        assert pending_before > 0
        if not run.killed:
            self.ended_first += 1
            return
        self.kills += 1
        self.left_partial += 0 < pending_after < pending_before
        self.with_workers += run.workers_at_kill > 0

    def report(self, seconds: float) -> None:
        print(f"\n{self.case}: {self.kills} kills at {', '.join(self.points)}; "
              f"{self.left_partial} left the work partly done, {self.with_workers} found "
              f"worker processes alive; {self.ended_first} runs ended before their kill "
              f"point; started over {self.restarts} times; {seconds:.1f}s")

    def check(self) -> None:
        assert self.kills == KILLS_PER_CASE
        assert self.ended_first < self.kills, "most runs ended before their kill point"
        assert self.left_partial >= 1, "no kill caught the command partway through its writes"


# ------------------------------------------------------------------- import


def import_commits(reference: Reference, now: Contents) -> list[int]:
    """The events each transaction of `verify import` appends to a store holding NOW.

    The importer writes blocks of IMPORT_BATCH lines (as many, CHUNK_LINES,
    through worker processes), a block per transaction, and skips the blocks already
    stored; then it marks the duplicates, one transaction each.
    """
    codes, events = reference.codes, reference.imported.events
    size = CHUNK_LINES
    commits = []
    for first in range(0, len(codes), size):
        block = [code for code in codes[first:first + size] if code not in now.events]
        if block:
            commits.append(sum(len(events[code]) - ("MarkedDuplicate" in events[code])
                               for code in block))
    marks = reference.imported.with_event("MarkedDuplicate") - now.with_event("MarkedDuplicate")
    return commits + [1] * len(marks)


def crash_imports(stores: Stores, reference: Reference, tally: Tally) -> None:
    """Kill `verify import` KILLS_PER_CASE times, then run it to the end, and check."""
    expected = reference.imported
    total = len(reference.codes)
    command = ("import", str(reference.file), "--json")
    store = stores.first
    assert here(store, "init").returncode == 0
    before = look(store, reference.names)
    while tally.more():
        commits = import_commits(reference, before)
        if len(commits) < 2:  # too little left to kill partway: start over on a fresh store
            tally.restarts += 1
            store = stores.new()
            assert here(store, "init").returncode == 0
            before = look(store, reference.names)
            commits = import_commits(reference, before)
        pending = sum(commits)
        assert pending == expected.event_count - before.event_count
        run = tally.killed_run(store, command, commits, terminal=True)
        assert run.killed or run.returncode == 0, run.describe()
        now = look(store, reference.names, before)

        # No incident is half-written: each stored one has all its events and its export row.
        assert set(now.events) <= set(expected.events), set(now.events) - set(expected.events)
        problems = mismatches(now, expected)
        assert not problems, f"after a kill at {tally.points[-1]}:\n{problems}"
        assert set(before.events) <= set(now.events), "a kill lost stored incidents"

        # Nothing acknowledged is lost: not a line the progress bar reached, nor the summary.
        shown = run.bar_position(total)
        missing = set(reference.codes[:shown]) - set(now.events)
        assert not missing, f"the bar showed {shown}/{total} lines done; {sorted(missing)[:5]}"
        summary = run.summary()
        if summary is not None:  # the run ended before its kill: its summary is its receipt
            added = set(now.events) - set(before.events)
            assert summary["imported"] == len(added)
            assert summary["events"] == now.event_count - before.event_count
            assert summary["already_stored"] == total - len(added)

        check_read_models_follow(store, now)
        tally.count(run, pending, expected.event_count - now.event_count)
        before = now

    # A re-run completes the work: it leaves every stored row as it is (appending nothing
    # for it), imports the rest, and the store is then the reference's, byte for byte.
    final = here(store, *command)
    assert final.returncode == 0, final.describe()
    summary = final.summary()
    assert summary["already_stored"] == len(before.events)
    assert summary["imported"] == total - len(before.events)
    assert summary["events"] == expected.event_count - before.event_count
    done = look(store, reference.names, before)
    problems = mismatches(done, expected, set(expected.events))
    assert not problems, problems
    assert done.event_count == expected.event_count
    assert export(store) == reference.imported_export
    check_audit(store, expected.event_count)
    check_read_models_equal_a_rebuild(store)


def test_import_killed_at_random_points_resumes_to_the_clean_result(
    stores: Stores, references: References
) -> None:
    started = time.monotonic()
    kind = kind_of(stores.first)
    tally = Tally(f"import of {INCIDENTS} rows in-process, {kind}",
                  random.Random(f"{SEED} import {kind}"), program=ONE_CORE)
    crash_imports(stores, references.of(INCIDENTS), tally)
    tally.report(time.monotonic() - started)
    tally.check()
    assert tally.with_workers == 0, "a kill found workers: the import did not run in-process"


def test_parallel_import_killed_at_random_points_resumes_to_the_clean_result(
    tmp_path: Path, references: References
) -> None:
    started = time.monotonic()
    tally = Tally(f"import of {PARALLEL_INCIDENTS} rows by worker processes, sqlite",
                  random.Random(f"{SEED} parallel import"))
    crash_imports(Stores(str(tmp_path / "parallel.sqlite"), tmp_path),
                  references.of(PARALLEL_INCIDENTS), tally)
    tally.report(time.monotonic() - started)
    tally.check()
    assert tally.with_workers >= KILLS_PER_CASE // 2 + 1, "most kills missed the workers"


def test_import_of_duplicate_marks_killed_midway_completes_on_a_rerun(
    store_url: str, references: References
) -> None:
    """Rows may name the incident they duplicate; the importer marks those after every row.

    The kill lands once the first transaction of rows is stored, before any mark.
    Each incident is then whole, its duplicate mark still to come (a mark links
    two incidents and waits until the original is stored, docs/formats.md); the
    re-run records every missing mark and the store equals the reference.
    """
    reference = references.of(INCIDENTS, duplicates=True)
    expected = reference.imported
    marks = len(expected.with_event("MarkedDuplicate"))
    first_block = import_commits(reference, Contents({}, {}))[0]
    command = ("import", str(reference.file), "--json")
    assert here(store_url, "init").returncode == 0
    watcher = open_app(store_url)
    try:
        run = verify(store_url, *command, terminal=True, program=ONE_CORE,
                     kill=kill_at_progress(watcher, first_block, 0.0))
    finally:
        watcher.close()
    assert run.killed, f"the import ended before the kill: {run.describe()}"
    now = look(store_url, reference.names)
    assert 0 < len(now.events) < len(reference.codes)
    waiting = {code for code, names in now.events.items()
               if expected.events[code] == [*names, "MarkedDuplicate"]}
    assert waiting, "the kill came after the marks: nothing was left for the re-run"
    half_written = mismatches(now, expected, set(now.events) - waiting)

    final = here(store_url, *command)
    done = look(store_url, reference.names, now)
    unmarked = marks - len(done.with_event("MarkedDuplicate"))
    if half_written or final.returncode != 0 or unmarked:
        pytest.fail(
            f"after a kill midway through the import, stored incidents are not whole:\n"
            f"{half_written}\nthen the re-run {final.describe()}, "
            f"leaving {unmarked} of {marks} duplicate marks unrecorded", pytrace=False)
    problems = mismatches(done, expected, set(expected.events))
    assert not problems, problems
    assert export(store_url) == reference.imported_export
    check_audit(store_url, expected.event_count)


# ---------------------------------------------------------------- grade --all


def grade_commits(pending: int) -> list[int]:
    """The events each transaction of `grade --all` appends: a grade for GRADE_BATCH incidents."""
    full, rest = divmod(pending, GRADE_BATCH)
    return [GRADE_BATCH] * full + ([rest] if rest else [])


def imported_store(store: str, reference: Reference) -> Contents:
    """Make STORE hold the reference's file, imported uninterrupted; what it then holds.

    A SQLite store is a copy of the reference's file as imported. The export
    rows are taken from the reference where the events match it: an
    uninterrupted import is not under test here, and the case ends comparing
    the whole export, byte for byte.
    """
    if kind_of(store) == "sqlite":
        shutil.copyfile(reference.pristine, store)
    else:
        assert here(store, "init").returncode == 0
        imported = here(store, "import", str(reference.file), "--json")
        assert imported.returncode == 0, imported.describe()
    now = look(store, reference.names, reference.imported)
    problems = mismatches(now, reference.imported, set(reference.codes))
    assert not problems, problems
    return now


def test_grade_all_killed_at_random_points_grades_each_incident_once(
    stores: Stores, references: References
) -> None:
    started = time.monotonic()
    kind = kind_of(stores.first)
    reference = references.of(INCIDENTS, duplicates=True)
    ungraded, graded = reference.imported, reference.grade()
    gradable = reference.gradable
    tally = Tally(f"grade --all of {INCIDENTS} incidents, {kind}",
                  random.Random(f"{SEED} grade --all {kind}"))
    command = ("grade", "--all", "--json")
    store = stores.first
    before = imported_store(store, reference)
    graded_before: set[str] = set()

    while tally.more():
        commits = grade_commits(graded.event_count - before.event_count)
        if len(commits) < 2:  # too little left to kill partway: start over on a fresh store
            tally.restarts += 1
            store = stores.new()
            before, graded_before = imported_store(store, reference), set()
            commits = grade_commits(graded.event_count - before.event_count)
        pending = sum(commits)
        run = tally.killed_run(store, command, commits)
        assert run.killed or run.returncode == 0, run.describe()
        now = look(store, reference.names, before)

        # Each incident is as imported, or that plus exactly one grade: never half-graded.
        assert set(now.events) == set(reference.codes)
        done = {code for code in now.events if now.events[code] == graded.events[code]}
        waiting = {code for code in now.events if now.events[code] == ungraded.events[code]}
        problems = mismatches(now, graded, set(reference.codes) - done - waiting)
        assert done | waiting == set(reference.codes), f"after a kill:\n{problems}"
        assert not mismatches(now, graded, done)
        assert not mismatches(now, ungraded, waiting)
        graded_now = done & gradable
        assert graded_before <= graded_now, "a kill lost grades"
        newly = graded_now - graded_before
        assert now.event_count - before.event_count == len(newly), "an event was appended twice"

        summary = run.summary()
        if summary is not None:  # the run ended before its kill: its summary is its receipt
            assert summary["graded"] == len(newly) and summary["conflicts"] == []

        check_read_models_follow(store, now)
        tally.count(run, pending, graded.event_count - now.event_count)
        before, graded_before = now, graded_now

    final = here(store, *command)
    assert final.returncode == 0, final.describe()
    assert final.summary()["graded"] == len(gradable - graded_before)
    assert final.summary()["conflicts"] == []
    again = here(store, *command)
    assert again.returncode == 0, again.describe()
    assert again.summary()["graded"] == 0

    done_store = look(store, reference.names, before)
    problems = mismatches(done_store, graded, set(graded.events))
    assert not problems, problems
    assert done_store.event_count == graded.event_count
    assert export(store) == reference.graded_export
    check_audit(store, graded.event_count)
    check_read_models_equal_a_rebuild(store)

    tally.report(time.monotonic() - started)
    tally.check()

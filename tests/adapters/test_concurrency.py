"""Several OS processes change the same incidents at once: nothing acknowledged is lost.

Each worker appends notes to the same two incidents as fast as it can, and
catches the read models up now and then. A write that loses a race is refused
with ConcurrentChange (the command line's exit 1, "run the command again")
and the worker retries it. Afterwards every acknowledged note is stored
exactly once, versions have no gaps, the read models equal a rebuild, and the
hash chain verifies. Bounded: 4 workers, 100 notes each. Run with -s to see the
attempts made (every write, every refused write retried, every catch-up).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verify.adapters.readmodel import VIEW_COLUMNS
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.auditing import Auditor

from conftest import report

pytestmark = pytest.mark.slow  # several processes racing

WORKERS = 4
NOTES_EACH = 100

WORKER = r"""
import json, sys
from verify.application.app import VerifyApp
from verify.domain import ConcurrentChange
from verify.adapters.store import parse_store

store, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
acknowledged, conflicts = [], 0
for n in range(count):
    code = ("CS1", "CS2")[n % 2]
    text = f"{name} note {n}"
    while True:
        try:
            app.add_note(code, text, name)
        except ConcurrentChange:
            conflicts += 1
            continue
        acknowledged.append([code, text])
        break
    if n % 10 == 9:
        app.catch_up()
print(json.dumps({"acknowledged": acknowledged, "conflicts": conflicts}))
app.close()
"""


def test_processes_hammering_the_same_incidents_lose_nothing(store_url: str) -> None:
    app = VerifyApp(env=parse_store(store_url).env())
    assert app.read_model.position() == 0  # created up front, as `verify init` does
    report(app, "CS1", ["Coalition"])
    report(app, "CS2", ["Coalition"])
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, store_url, f"w{n}", str(NOTES_EACH)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(WORKERS)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
        results.append(json.loads(out))
    acknowledged = sorted(tuple(item) for r in results for item in r["acknowledged"])
    assert len(acknowledged) == WORKERS * NOTES_EACH

    stored = sorted((code, note["text"]) for code in ("CS1", "CS2")
                    for note in app.show(code).notes)
    assert stored == acknowledged  # every acknowledged write, exactly once

    for code in ("CS1", "CS2"):
        versions = [entry.version for entry in app.history(code)]
        assert versions == list(range(1, len(versions) + 1))  # no gaps, no repeats

    app.catch_up()
    tables = app.read_model.dump()
    app.rebuild_read_models()
    assert app.read_model.dump() == tables

    audit = Auditor(app, store_url).verify()
    assert audit["intact"], audit["problem"]
    assert audit["events"] == 2 + WORKERS * NOTES_EACH
    conflicts = sum(r["conflicts"] for r in results)
    print(f"\nracing attempts: {len(acknowledged) + conflicts} writes by {WORKERS} processes "
          f"({conflicts} refused as concurrent and retried), 0 lost")
    app.close()


def test_the_command_line_tells_the_loser_to_run_again(store_url: str, tmp_path: Path) -> None:
    """Two sessions read version 1; the second save is refused, exit 1, nothing lost."""
    from click.testing import CliRunner

    from verify.domain import ConcurrentChange, Source
    from verify.entrypoints.cli.support import exit_for

    one = VerifyApp(env=parse_store(store_url).env())
    two = VerifyApp(env=parse_store(store_url).env())
    report(one, "CS1", ["Coalition"])
    mine, theirs = one.load("CS1"), two.load("CS1")
    mine.add_source(Source(url="https://example.org/1", publisher="A", kind="ngo"), "ann")
    theirs.add_source(Source(url="https://example.org/2", publisher="B", kind="ngo"), "bob")
    one.save_incident(mine)
    try:
        two.save_incident(theirs)
    except ConcurrentChange as error:
        code, sentence = exit_for(error)
    else:
        raise AssertionError("the second save was not refused")
    assert code == 1
    assert sentence == "incident CS1 changed since you read it; run the command again"
    shown = CliRunner().invoke(
        __import__("verify.entrypoints.cli", fromlist=["cli"]).cli,
        ["--store", store_url, "show", "CS1"])
    assert "https://example.org/1" in shown.output and "example.org/2" not in shown.output
    one.close()
    two.close()


def test_grade_all_reports_an_incident_changed_meanwhile_and_saves_the_rest(
    store_url: str,
) -> None:
    from verify.domain import Source

    app = VerifyApp(env=parse_store(store_url).env())
    other = VerifyApp(env=parse_store(store_url).env())
    for code in ("CS1", "CS2", "CS3"):
        report(app, code, ["Coalition"])
        app.add_source(code, Source(url=f"https://example.org/{code}", publisher="P",
                                    kind="ngo", reliability="B", credibility=2), "ann")
    seen: list[int] = []

    def meanwhile(step: int) -> None:
        seen.append(step)
        if len(seen) == 3:  # CS1 is loaded and graded in the batch, not yet saved
            other.add_note("CS1", "checked the hospital records", "bob")

    summary = app.grade_all("robot", progress=meanwhile)
    assert summary.conflicts == ["CS1"]
    assert summary.by_grade == {"weak": 2}
    assert app.show("CS1").grade is None and app.show("CS1").notes
    assert app.show("CS2").grade == "weak" and app.show("CS3").grade == "weak"
    again = app.grade_all("robot")
    assert again.by_grade == {"weak": 1} and again.conflicts == []
    app.close()
    other.close()


CATCHER = r"""
import sys, time
from pathlib import Path
from verify.application.app import VerifyApp
from verify.adapters.store import parse_store

store, stop = sys.argv[1], Path(sys.argv[2])
app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
rounds = 0
while True:
    done = stop.exists()  # one more catch-up after the writers have stopped
    app.catch_up()
    rounds += 1
    if done:
        break
print(rounds)
app.close()
"""

SOURCE_WRITER = r"""
import sys
from verify.application.app import VerifyApp
from verify.adapters.store import parse_store
from verify.domain import ConcurrentChange, Source

store, name, count, incidents = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
conflicts = 0
for n in range(count):
    source = Source(url=f"https://example.org/{name}/{n}", publisher=f"{name} {n}",
                    kind="media", reliability="B", credibility="2")
    while True:
        try:
            app.add_source(f"CS{n % incidents}", source, name)
            break
        except ConcurrentChange:
            conflicts += 1
print(conflicts)
app.close()
"""

CATCHERS = 2
PROJECTION_WORKERS = 2
SOURCE_WRITERS = 2
SOURCES_EACH = 200
INCIDENTS = 12


def test_catch_ups_running_at_once_apply_each_event_once(store_url: str, tmp_path: Path
                                                        ) -> None:
    """Read models race writers: every source counted once, however the catch-ups interleave.

    The fault as found: two catch-ups that started from one position but read
    pages of different lengths both committed, and sources were counted twice.
    Two processes catch up in a loop, two are `verify projections run` workers.
    """
    app = VerifyApp(env=parse_store(store_url).env())
    for n in range(INCIDENTS):
        report(app, f"CS{n}", ["Coalition"])
    app.catch_up()
    stop = tmp_path / "stop"
    catchers = [subprocess.Popen([sys.executable, "-c", CATCHER, store_url, str(stop)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(CATCHERS)]
    workers = [subprocess.Popen([sys.executable, "-c", "from verify.entrypoints.cli import main;"
                                 " main()", "--store", store_url, "projections", "run",
                                 "--interval", "0.05", "--stop-after", "4"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for _ in range(PROJECTION_WORKERS)]
    writers = [subprocess.Popen([sys.executable, "-c", SOURCE_WRITER, store_url, f"w{n}",
                                 str(SOURCES_EACH), str(INCIDENTS)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for n in range(SOURCE_WRITERS)]
    conflicts = 0
    for writer in writers:
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err.decode()
        conflicts += int(out)
    stop.touch()
    rounds = 0
    for catcher in catchers:
        out, err = catcher.communicate(timeout=180)
        assert catcher.returncode == 0, err.decode()
        rounds += int(out)
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()

    app.catch_up()
    columns = [name for name, _ in VIEW_COLUMNS]
    code, active = columns.index("code"), columns.index("active_sources")
    counted = {row[code]: row[active] for row in app.read_model.dump()["incident_view"]}
    stored = {f"CS{n}": len(app.show(f"CS{n}").sources) for n in range(INCIDENTS)}
    assert counted == stored  # each SourceAdded applied exactly once
    assert sum(stored.values()) == SOURCE_WRITERS * SOURCES_EACH
    tables = app.read_model.dump()
    app.rebuild_read_models()
    assert app.read_model.dump() == tables
    writes = SOURCE_WRITERS * SOURCES_EACH + conflicts
    print(f"\nracing attempts: {writes} writes ({conflicts} refused as concurrent and retried)"
          f" and {rounds} catch-ups by {CATCHERS} processes beside {PROJECTION_WORKERS} "
          "projection workers, each event applied once")
    app.close()

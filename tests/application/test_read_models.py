"""Read models: the queue, statistics and search, kept as projections of the event log."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from verify.adapters.bulk_import import import_file
from verify.adapters.interchange import read_rows
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.projection import PROJECTION_NAME
from verify.demo.synthetic import archive
from verify.domain import DisputeOutcome, Source, State, StrikeConfirmation
from verify.entrypoints.cli import cli

from conftest import report


def src(n: int, rating: str = "B2") -> Source:
    return Source(url=f"https://example.org/{n}", publisher=f"P{n}", kind="ngo",
                  reliability=rating[0], credibility=int(rating[1]))


def imported(path: Path, lines: list[bytes]) -> VerifyApp:
    file = path.with_suffix(".jsonl")
    file.write_bytes(b"".join(lines))
    env = parse_store(str(path)).env()
    app = VerifyApp(env=env)
    intake = Intake(today=today_utc())
    for outcome in import_file(app, env, read_rows(file, intake), file, actor="t",
                               dry_run=False, parallel=len(lines) >= 5000, intake=intake):
        assert outcome.status == "imported", outcome
    return app


def test_queue_lists_waiting_incidents_longest_waiting_first(app: VerifyApp) -> None:
    for code in ("CS1", "CS2", "CS3", "CS4", "CS5", "CS6"):
        report(app, code, ["Coalition"])
        time.sleep(0.002)
    app.add_source("CS2", src(1), "ann")
    app.add_source("CS3", src(2), "ann")
    app.add_source("CS3", src(3, "C3"), "ann")
    app.confirm_strike("CS4", StrikeConfirmation(belligerent="Coalition", status="likely"), "a")
    app.add_source("CS5", src(4), "ann")
    app.grade("CS5", "bob")
    app.mark_duplicate("CS6", "CS1", "ann")
    app.catch_up()
    entries = app.queue()
    assert [(e["code"], e["state"], e["waiting_for"]) for e in entries] == [
        ("CS1", "reported", "needs a source"),
        ("CS2", "reported", "needs a second independent credible source"),
        ("CS3", "corroborated", "needs strike confirmation, or a grade"),
        ("CS4", "strike-confirmed", "needs a source before it can be graded"),
    ]
    assert [e["since"] for e in entries] == sorted(e["since"] for e in entries)
    assert [e["code"] for e in app.queue(state=State.GRADED)] == ["CS5"]
    app.dispute("CS5", "Coalition", "denies it", "carol")
    app.catch_up()
    disputed = app.queue(state=State.DISPUTED)
    assert disputed[0]["code"] == "CS5"
    assert disputed[0]["waiting_for"].startswith("dispute open since ")
    assert app.queue(country="Syria") == []
    assert len(app.queue(belligerent="Coalition")) == 5
    assert app.queue(belligerent="Russia") == []
    assert len(app.queue(limit=2)) == 2


def independent_stats(lines: list[bytes], by: str) -> dict[str, dict[str, Any]]:
    """The statistics counted straight from the import file, without the program."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"incidents": 0, "grades": Counter(), "killed_min": 0, "killed_max": 0})
    for line in lines:
        row = orjson.loads(line)
        if row.get("duplicate_of"):
            continue
        grade = (row.get("grade") or {}).get("grade") or "ungraded"
        keys = {"month": [row["date"][:7]], "country": [row["country"]], "grade": [grade],
                "belligerent": row["belligerents"]}[by]
        for key in keys:
            group = groups[key]
            group["incidents"] += 1
            group["grades"][grade] += 1
            group["killed_min"] += row["civilians_killed"]["min"] or 0
            group["killed_max"] += row["civilians_killed"]["max"] or 0
    return groups


@pytest.mark.slow
@pytest.mark.parametrize("by", ["month", "country", "grade", "belligerent"])
def test_stats_match_an_independent_count_of_the_file(tmp_path: Path, by: str) -> None:
    lines = list(archive(1500, seed=7))
    extra = {k: v for k, v in orjson.loads(lines[0]).items() if k not in ("strike", "assessments")}
    extra.update(code="RS9999", duplicate_of=orjson.loads(lines[1])["code"],
                 belligerents=["Russian Military", "Syrian regime"])
    second = {k: v for k, v in orjson.loads(lines[2]).items() if k not in ("strike", "assessments")}
    second.update(code="RS9998", belligerents=["Russian Military", "Syrian regime"],
                  civilians_killed={"min": None, "max": 9})
    lines += [orjson.dumps(extra) + b"\n", orjson.dumps(second) + b"\n"]
    app = imported(tmp_path / "s.sqlite", lines)
    app.catch_up()
    document = app.stats(by=by)
    assert document["by"] == by
    expected = independent_stats(lines, by)
    assert [g["key"] for g in document["groups"]] == sorted(expected)
    for group in document["groups"]:
        want = expected[group["key"]]
        assert group["incidents"] == want["incidents"]
        assert group["killed_min"] == want["killed_min"]
        assert group["killed_max"] == want["killed_max"]
        assert {k: v for k, v in group["grades"].items() if v} == dict(want["grades"])


def test_stats_date_range(app: VerifyApp) -> None:
    report(app, "CS1", ["Coalition"])
    app.catch_up()
    assert app.stats(by="month", date_from=dt.date(2017, 3, 17))["groups"][0]["incidents"] == 1
    assert app.stats(by="month", date_from=dt.date(2017, 3, 18))["groups"] == []
    assert app.stats(by="month", date_to=dt.date(2017, 3, 16))["groups"] == []


def test_search_in_any_script(tmp_path: Path) -> None:
    app = imported(tmp_path / "s.sqlite", list(archive(40)))
    app.catch_up()
    arabic = app.search("الموصل")
    assert arabic and all("الموصل" in r["location"] for r in arabic)
    assert {r["code"] for r in app.search("mosul")} == {r["code"] for r in app.search("MOSUL")}
    assert app.search("CI11")[0]["code"] == "CI11"
    assert app.search("ci")  # shorter than a trigram: still found
    assert app.search('"; DROP TABLE incident_view; --') == []
    assert app.search("100%") == []
    assert app.search("district 3")


def test_rebuild_reproduces_the_same_tables(tmp_path: Path) -> None:
    app = imported(tmp_path / "s.sqlite", list(archive(300)))
    app.grade_all("bob")
    app.dispute("CI1", "x", "y", "carol")
    app.resolve("CI1", DisputeOutcome.UPHELD, "z", "dan")
    app.catch_up()
    before = app.read_model.dump()
    assert len(before["incident_view"]) == 300
    app.rebuild_read_models()
    assert app.read_model.dump() == before


def test_two_catch_ups_racing_apply_each_event_once(store_url: str, app: VerifyApp) -> None:
    for n in range(5):
        report(app, f"CS{n}", ["Coalition"])
    other = VerifyApp(env=parse_store(store_url).env())
    original_save = other.read_model.save

    def save_after_the_other_wins(*args: Any, **kwargs: Any) -> None:
        app.catch_up()  # the first process commits this very batch meanwhile
        original_save(*args, **kwargs)

    other.read_model.save = save_after_the_other_wins  # type: ignore[method-assign]
    other.catch_up()
    assert other.read_model.position() == app.read_model.position()
    tables = app.read_model.dump()
    app.rebuild_read_models()
    assert app.read_model.dump() == tables
    other.close()


def test_reading_commands_catch_up_first(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", str(tmp_path / "c.sqlite")]
    runner.invoke(cli, [*store, "init"])
    runner.invoke(cli, [*store, "report", "CS1", "--date", "2017-03-17", "--location",
                        "الرقة", "--country", "Syria", "--belligerent", "Coalition"])
    entries = json.loads(runner.invoke(cli, [*store, "queue", "--json"]).stdout)
    assert [set(e) >= {"code", "state", "waiting_for", "since"} for e in entries] == [True]
    stats = json.loads(runner.invoke(cli, [*store, "stats", "--json"]).stdout)
    figures = {"incidents": 1, "grades": {
        "confirmed": 0, "fair": 0, "weak": 0, "contested": 0, "discounted": 0,
        "ungraded": 1}, "killed_min": 0, "killed_max": 0, "named_killed": 0,
        "children_killed": 0, "women_killed": 0}
    assert stats == {"by": "month", "groups": [{"key": "2017-03", **figures}],
                     "total": {"key": None, **figures}}
    found = json.loads(runner.invoke(cli, [*store, "search", "الرقة", "--json"]).stdout)
    assert [f["code"] for f in found] == ["CS1"]
    text = runner.invoke(cli, [*store, "queue"]).output
    assert "CS1" in text and "needs a source" in text
    assert "rebuilt the read models from 1 events" in runner.invoke(
        cli, [*store, "projections", "rebuild"]).output
    status = json.loads(runner.invoke(cli, [*store, "projections", "status", "--json"]).stdout)
    assert status == {"position": 1, "events": 1, "behind": 0}


# Both slow (200 incidents imported, then drawn); the inner loop draws the chart in
# test_newcomer_first's palette test.
@pytest.mark.parametrize("suffix", [pytest.param(".png", marks=pytest.mark.slow),
                                    pytest.param(".svg", marks=pytest.mark.slow)])
def test_stats_chart(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    app = imported(tmp_path / "s.sqlite", list(archive(200)))
    app.close()
    chart = tmp_path / f"chart{suffix}"
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "s.sqlite"), "stats",
                                      "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    head = chart.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in chart.read_bytes()
    wrong = CliRunner().invoke(cli, ["--store", str(tmp_path / "s.sqlite"), "stats",
                                     "--chart", str(tmp_path / "chart.pdf")])
    assert wrong.exit_code == 2 and ".png or .svg" in wrong.stderr


def tracking_position(path: Path) -> int:
    with sqlite3.connect(path) as db:
        try:
            row = db.execute("SELECT notification_id FROM tracking WHERE application_name=?",
                             (PROJECTION_NAME,)).fetchone()
        except sqlite3.OperationalError:  # the read model is not created yet
            return 0
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_a_catch_up_killed_midway_resumes_to_the_same_tables(tmp_path: Path) -> None:
    store = tmp_path / "k.sqlite"
    app = imported(store, list(archive(6_000, seed=3)))
    total = app.recorder.max_notification_id()
    app.read_model.reset()  # the import wrote them: a catch-up starts from the first event
    app.close()
    env = {**os.environ, "VERIFY_STORE": str(store)}
    command = [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
               "queue", "--json"]
    rng = random.Random(11)
    killed_midway = False
    for _ in range(8):
        before = tracking_position(store)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        # Wait until the catch-up has committed a batch (however slow the machine
        # is to start Python), then kill it a little later, at a random point.
        deadline = time.monotonic() + 60
        while tracking_position(store) == before and process.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.15))
        process.send_signal(signal.SIGKILL)
        process.wait()
        position = tracking_position(store)
        if 0 < position < total:
            killed_midway = True
            break
    assert killed_midway, "never caught the catch-up midway; adjust the timing"
    finished = subprocess.run(command, env=env, capture_output=True, check=True)
    assert json.loads(finished.stdout) is not None
    resumed = VerifyApp(env=parse_store(str(store)).env())
    assert resumed.read_model.position() == total
    tables = resumed.read_model.dump()
    resumed.rebuild_read_models()
    assert resumed.read_model.dump() == tables
    resumed.close()


@pytest.mark.slow
def test_a_projection_worker_keeps_up_beside_the_commands(store_url: str) -> None:
    runner = CliRunner()
    base = ["--store", store_url]
    runner.invoke(cli, [*base, "init"])
    worker = subprocess.Popen(
        [sys.executable, "-c", "from verify.entrypoints.cli import main; main()", *base,
         "projections", "run", "--interval", "0.05", "--stop-after", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for n in range(6):
        runner.invoke(cli, [*base, "report", f"CS{n}", "--date", "2017-03-17", "--location",
                            "Raqqa", "--country", "Syria", "--belligerent", "Coalition"])
        time.sleep(0.1)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    assert b"applied" in out and b"stopped after applying" in out
    status = json.loads(runner.invoke(cli, [*base, "projections", "status", "--json"]).stdout)
    assert status["behind"] == 0 and status["position"] == 6
    assert len(json.loads(runner.invoke(cli, [*base, "queue", "--json"]).stdout)) == 6


@pytest.mark.slow  # waits out --stop-after
def test_a_projection_worker_stops_on_time_while_waiting(store_path: Path) -> None:
    """--stop-after holds even when the interval between looks is longer than the time left."""
    runner = CliRunner()
    runner.invoke(cli, ["--store", str(store_path), "init"])
    started = time.monotonic()
    result = runner.invoke(cli, ["--store", str(store_path), "projections", "run",
                                 "--interval", "3600", "--stop-after", "0.3"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 5
    assert "stopped after applying 0 events" in result.output


def test_read_model_tables_of_an_earlier_shape_are_made_anew_and_filled_again(
        store_url: str) -> None:
    """A store whose read-model tables predate a column: rebuilt, not misread."""
    app = VerifyApp(env=parse_store(store_url).env())
    report(app, "CS1", ["Coalition"])
    app.add_source("CS1", src(1), "ann")
    app.catch_up()
    expected = app.read_model.dump()
    model = app.read_model
    # Take a column away, as the tables of an earlier version lacked it.
    index = [] if store_url.startswith("postgresql") else [  # PostgreSQL drops it itself
        ("DROP INDEX incident_view_country", ())]
    model._write([*index, (f"ALTER TABLE {model.table('incident_view')} DROP COLUMN country_key",
                           ())])
    assert not model.is_current()
    app.close()

    again = VerifyApp(env=parse_store(store_url).env())
    assert again.read_model.is_current()
    assert again.read_model.position() == 0  # the position is forgotten with the old rows
    again.catch_up()
    assert again.read_model.dump() == expected
    again.close()

"""Statistics as they stood: replayed from the log, they equal what the read model gave then."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from verify.adapters.bulk_import import import_file
from verify.adapters.interchange import read_rows
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.casework import Amendment
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.readmodels import STATS_GROUPINGS
from verify.application.views import StatsDocument
from verify.demo.synthetic import archive
from verify.domain import DisputeOutcome

GROUPINGS = list(STATS_GROUPINGS)


@pytest.fixture
def archived(store_url: str, tmp_path: Path) -> Iterator[VerifyApp]:
    """A store holding 40 synthetic incidents with victims, some duplicates, disputes and a
    belligerent spelled two ways (both stores)."""
    file = tmp_path / "archive.jsonl"
    file.write_bytes(b"".join(archive(40, seed=11, victim_count=2)))
    env = parse_store(store_url).env()
    app = VerifyApp(env=env)
    intake = Intake(today=today_utc())
    for outcome in import_file(app, env, read_rows(file, intake), file, actor="t",
                               dry_run=False, parallel=False, intake=intake):
        assert outcome.status == "imported", outcome
    codes = list(app.incident_codes())
    app.mark_duplicate(codes[1], codes[0], "t")
    app.amend(codes[2], Amendment(belligerents=["the coalition", "The Coalition", "Russia"]),
              "two spellings", "t")
    if app.show(codes[3])["grade"] is None:
        app.grade(codes[3], "t")
    app.dispute(codes[3], "a partner", "the toll is lower", "t")
    yield app
    app.close()


def live(app: VerifyApp, by: str, **dates: dt.date) -> StatsDocument:
    app.catch_up()
    return app.stats(by=by, **dates)


@pytest.mark.parametrize("by", GROUPINGS)
def test_the_log_replayed_to_its_end_gives_the_read_models_figures(
        archived: VerifyApp, by: str) -> None:
    now = live(archived, by)
    head = archived.recorder.max_notification_id()
    assert archived.stats(by=by, position=head) == now
    assert archived.stats(by=by, as_of=dt.datetime.now(dt.UTC)) == now
    assert now.groups, "the archive gives figures"
    dates = {"date_from": dt.date(2014, 8, 20), "date_to": dt.date(2014, 9, 10)}
    assert archived.stats(by=by, position=head, **dates) == live(archived, by, **dates)


def test_stats_as_of_a_moment_equal_the_figures_printed_then(archived: VerifyApp) -> None:
    printed = {by: live(archived, by) for by in GROUPINGS}
    position = archived.recorder.max_notification_id()
    time.sleep(0.01)
    moment = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    codes = list(archived.incident_codes())
    archived.mark_duplicate(codes[5], codes[4], "t")
    archived.add_party("US-led Coalition", ["the coalition"], "t")
    archived.amend(codes[6], Amendment(country="Syria", date=dt.date(2015, 1, 1)), "moved", "t")
    archived.resolve(codes[3], DisputeOutcome.UPHELD, "lower indeed", "t")
    for by in GROUPINGS:
        assert live(archived, by) != printed[by] or by == "grade"
        assert archived.stats(by=by, as_of=moment) == printed[by]
        assert archived.stats(by=by, position=position) == printed[by]


def test_before_the_first_event_there_is_nothing_to_count(archived: VerifyApp) -> None:
    assert archived.stats(as_of=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).groups == []
    assert archived.stats(position=0).groups == []

"""`verify demo` reaches every state and every grade, and is safe to run twice."""

from __future__ import annotations

from click.testing import CliRunner

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.demo.tour import DEMO_CODES
from verify.domain import Grade, State
from verify.entrypoints.cli import cli


def test_demo_reaches_every_state_and_grade(store_url: str) -> None:
    result = CliRunner().invoke(cli, ["--store", store_url, "demo"])
    assert result.exit_code == 0, result.output
    assert "stepping" in result.output
    app = VerifyApp(env=parse_store(store_url).env())
    views = [app.show(code) for code in DEMO_CODES]
    assert {view.state for view in views} == {state.value for state in State}
    assert {view.grade for view in views if view.grade} == {grade.value for grade in Grade}
    assert any(view.duplicate_of for view in views)
    resolutions = [e.data["outcome"] for code in DEMO_CODES for e in app.history(code)
                   if e.event == "DisputeResolved"]
    assert sorted(resolutions) == ["dismissed", "upheld"]
    app.close()


def test_demo_twice_changes_nothing(store_url: str) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["--store", store_url, "demo"])
    app = VerifyApp(env=parse_store(store_url).env())
    events = app.recorder.max_notification_id()
    again = runner.invoke(cli, ["--store", store_url, "demo"])
    assert again.exit_code == 0
    assert "already holds the demo's incidents" in again.output
    assert "CI1050" in again.output
    assert app.recorder.max_notification_id() == events
    app.close()

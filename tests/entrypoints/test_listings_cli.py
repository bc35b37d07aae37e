"""`verify queue` and `verify search` filtered, sorted and paged on the command line: what a
person reads, the JSON a script reads, and one sentence for a bad cursor."""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.demo.synthetic import write_archive
from verify.entrypoints.cli import cli

Run = Callable[..., Result]


def store_of(store_url: str, incidents: int, folder: Path) -> Run:
    """A store holding a synthetic archive, imported as a user imports it."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", "ann", *args], env={})

    assert run("init").exit_code == 0
    archive = write_archive(folder / "archive.jsonl", incidents)
    imported = run("import", str(archive))
    assert imported.exit_code == 0, imported.output
    return run


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Run:
    return store_of(store_url, 60, tmp_path)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def more_line(text: str) -> list[str] | None:
    """The command a page offers for the next one (None on the last page)."""
    lines = [line for line in text.splitlines() if line.startswith("more: ")]
    assert len(lines) <= 1, text
    return shlex.split(lines[0].removeprefix("more: ")) if lines else None


def assert_one_sentence(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]
    assert result.stdout == ""


def queue_codes(run: Run, *args: str) -> list[str]:
    return [entry["code"] for entry in json.loads(ok(run("queue", "--json", *args)).stdout)]


def test_the_last_line_says_how_to_get_the_next_page_until_the_last(run: Run) -> None:
    everything = queue_codes(run)
    page = ok(run("queue", "--limit", "10", "--sort", "date"))
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        lines = page.stdout.splitlines()
        assert lines[0].split()[:2] == ["code", "state"]
        offered = more_line(page.stdout)
        rows = lines[1:-1] if offered else lines[1:]
        seen += [row.split()[0] for row in rows]
        if offered is None:
            break
        assert offered[:2] == ["verify", "queue"]
        assert offered[2:6] == ["--sort", "date", "--limit", "10"]
        assert offered[6] == "--after"
        page = ok(run(*offered[1:]))
    assert pages == -(-len(everything) // 10)
    assert sorted(seen) == sorted(everything) and len(set(seen)) == len(seen)
    assert seen == queue_codes(run, "--sort", "date")


def test_json_stays_a_list_and_the_next_page_is_offered_on_stderr(run: Run) -> None:
    everything = queue_codes(run, "--grade", "ungraded")
    seen: list[str] = []
    args = ["queue", "--grade", "ungraded", "--json", "--limit", "7"]
    while True:
        result = ok(run(*args))
        entries = json.loads(result.stdout)
        assert isinstance(entries, list) and len(entries) <= 7
        assert {"code", "state", "waiting_for", "since"} <= set(entries[0])
        seen += [entry["code"] for entry in entries]
        assert more_line(result.stdout) is None
        offered = more_line(result.stderr)
        if offered is None:
            break
        assert offered[:6] == ["verify", "queue", "--grade", "ungraded", "--limit", "7"]
        assert "--json" in offered
        args = offered[1:]
    assert seen == everything


def test_filters_on_the_command_line(run: Run) -> None:
    fair = json.loads(ok(run("queue", "--json", "--grade", "Fair")).stdout)
    assert fair and {entry["grade"] for entry in fair} == {"fair"}
    assert {entry["state"] for entry in fair} <= {"graded", "disputed"}
    assert "(fair)" in ok(run("queue", "--grade", "fair")).stdout
    graded = queue_codes(run, "--state", "graded", "--grade", "fair")
    assert set(graded) <= {entry["code"] for entry in fair}
    ungraded = json.loads(ok(run("queue", "--json", "--grade", "ungraded")).stdout)
    assert ungraded and all(entry["grade"] is None for entry in ungraded)
    autumn = json.loads(ok(run("queue", "--json", "--from", "2014-09-01", "--to",
                               "30/09/2014")).stdout)
    assert autumn and all("2014-09-01" <= entry["date"] <= "2014-09-30" for entry in autumn)
    by_code = queue_codes(run, "--sort", "code")
    assert by_code == sorted(by_code)
    iraq = json.loads(ok(run("queue", "--json", "--country", " IRAQ", "--belligerent",
                             "us-led coalition")).stdout)
    assert iraq and {entry["country"] for entry in iraq} == {"Iraq"}
    assert ok(run("queue", "--country", "Iraq", "--belligerent", "Russian Military")).stdout \
        == "nothing is waiting\n"


def test_search_filters_and_pages(run: Run) -> None:
    everything = [hit["code"] for hit in json.loads(
        ok(run("search", "Mosul", "--json", "--limit", "1000")).stdout)]
    assert len(everything) > 4
    seen: list[str] = []
    args = ["search", "Mosul", "--limit", "4"]
    while True:
        result = ok(run(*args))
        offered = more_line(result.stdout)
        seen += [line.split()[0] for line in result.stdout.splitlines()
                 if not line.startswith("more: ")]
        if offered is None:
            break
        assert offered[:5] == ["verify", "search", "Mosul", "--limit", "4"]
        args = offered[1:]
    assert seen == everything
    fair = json.loads(ok(run("search", "mosul", "--json", "--grade", "fair", "--sort",
                             "code")).stdout)
    assert {hit["grade"] for hit in fair} <= {"fair"}
    assert [hit["code"] for hit in fair] == sorted(hit["code"] for hit in fair)
    assert ok(run("search", "CI1", "--limit", "1")).stdout.startswith("CI1 ")


def cursor(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("args", "fragment"), [
    (["queue", "--after", "garbage"], "the page cursor is damaged"),
    (["queue", "--limit", "5", "--after", "eyJ9"], "the page cursor is damaged"),
    (["queue", "--after", cursor({"l": "search", "o": "date", "k": [True, "2014", "CI1"]})],
     "continues a search, not the queue"),
    (["queue", "--after", cursor({"l": "queue", "o": "code", "k": ["CI1"]})],
     "sorted by code, not by longest waiting first"),
    (["search", "mosul", "--after", cursor({"l": "queue", "o": "code", "k": ["CI1"]})],
     "continues the queue, not a search"),
    (["queue", "--from", "2016-01-02", "--to", "2016-01-01"], "the dates run backwards"),
    (["queue", "--grade", "excellent"], "'excellent' is not one of"),
    (["queue", "--sort", "grade"], "'grade' is not one of"),
    (["search", "mosul", "--sort", "waiting"], "'waiting' is not one of"),
    (["queue", "--limit", "0"], "0 is not in the range"),
    (["queue", "--from", "someday"], "--from"),
])
def test_bad_paging_and_filters_are_one_sentence(run: Run, args: list[str],
                                                 fragment: str) -> None:
    assert_one_sentence(run(*args), fragment)


def test_help_names_the_filters_order_and_paging(run: Run) -> None:
    for command in ("queue", "search"):
        shown = ok(run(command, "--help")).stdout
        for option in ("--state", "--grade", "--country", "--belligerent", "--assignee",
                       "--mine", "--tag", "--from", "--to", "--sort", "--after", "--limit"):
            assert option in shown, (command, option)


@pytest.mark.slow
def test_paging_the_command_line_reaches_every_incident_of_thousands(
        store_url: str, tmp_path: Path) -> None:
    run = store_of(store_url, 3000, tmp_path)
    everything = queue_codes(run)
    assert len(everything) > 2000
    seen: list[str] = []
    args = ["queue", "--json", "--limit", "100"]
    while True:
        result = ok(run(*args))
        seen += [entry["code"] for entry in json.loads(result.stdout)]
        offered = more_line(result.stderr)
        if offered is None:
            break
        args = offered[1:]
    assert seen == everything and len(set(seen)) == len(seen)

"""What a newcomer tripped on first (issue 23), through the command line and the web.

Totals that count an incident once, source ids in any case, a whole rating given as
reliability, a store's missing folders, the demo in a working store, a busy port, and
one palette for every chart.
"""

from __future__ import annotations

import colorsys
import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.readmodels import STATS_GROUPINGS
from verify.domain import Grade
from verify.domain.incident import incident_id
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

Run = Callable[..., Result]

LOCAL = "http://127.0.0.1"
DASH = "\u2013"
"""Between the bounds of a casualty range on a page (an en dash)."""

INCIDENTS = [
    # code, date, country, belligerents, killed
    ("CS1081", "2017-03-02", "Syria", ["US-led Coalition", "Russia"], "10-12"),
    ("CS1082", "2017-03-05", "Syria", ["Russia"], "20-30"),
    ("CI1050", "2017-03-17", "Iraq", ["US-led Coalition"], "100-200"),
    ("CI1051", "2017-03-20", "Iraq", ["US-led Coalition"], "4-5"),
    ("CS1083", "2017-04-01", "Syria", ["Russia"], "60"),
    ("CS1084", "2017-03-28", "Syria", ["Russia"], "0"),
]
"""Six incidents, 194-307 killed; CS1081 alleges two belligerents (10-12 killed), so the
sum of the belligerents' groups is 7 incidents and 204-319 killed."""


@pytest.fixture
def run(store_url: str) -> Run:
    """Run `verify --store <fresh store> ARGS...` and return click's result."""
    runner = CliRunner()

    def invoke(*args: str, actor: str = "ann", env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", actor, *args], env=env)

    return invoke


@pytest.fixture
def store(run: Run) -> Run:
    assert run("init").exit_code == 0
    return run


@pytest.fixture
def reported(store: Run) -> Run:
    for code, day, country, belligerents, killed in INCIDENTS:
        parties = [arg for name in belligerents for arg in ("--belligerent", name)]
        result = store("report", code, "--date", day, "--location", "a place", "--country",
                       country, *parties, "--killed", killed)
        assert result.exit_code == 0, result.output
    return store


def one_sentence(result: Result, code: int, *fragments: str) -> str:
    """The one line of stderr a refusal prints, checked: exit code, nothing on stdout."""
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def total_line(printed: str) -> list[str]:
    [line] = [line for line in printed.splitlines() if line.startswith("total ")]
    return line.split()


def event_total(store_url: str) -> int:
    app = VerifyApp(env={**parse_store(store_url).env(), "CREATE_TABLE": "n"})
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


# ------------------------------------------------------------ 1. the total row


@pytest.mark.parametrize("by", list(STATS_GROUPINGS))
def test_the_total_counts_each_incident_once_in_every_grouping(reported: Run, by: str) -> None:
    printed = reported("stats", "--by", by)
    assert printed.exit_code == 0, printed.output
    # total, incidents, six grades' counts, killed, named, children, women
    assert total_line(printed.stdout)[1] == "6"
    assert total_line(printed.stdout)[8] == "194-307"
    document = json.loads(reported("stats", "--by", by, "--json").stdout)
    assert set(document) == {"by", "groups", "total"}
    total = document["total"]
    assert (total["key"], total["incidents"], total["killed_min"], total["killed_max"]) == (
        None, 6, 194, 307)
    assert total["grades"]["ungraded"] == 6
    replayed = json.loads(reported("stats", "--by", by, "--json", "--as-of",
                                   "2999-01-01").stdout)
    assert replayed["total"] == total


def test_an_incident_alleging_two_belligerents_counts_in_both_groups_and_once_in_total(
        reported: Run) -> None:
    document = json.loads(reported("stats", "--by", "belligerent", "--json").stdout)
    groups = {group["key"]: group for group in document["groups"]}
    assert groups["Russia"]["incidents"] == 4 and groups["US-led Coalition"]["incidents"] == 3
    assert sum(group["incidents"] for group in groups.values()) == 7
    assert document["total"]["incidents"] == 6
    march = reported("stats", "--by", "belligerent", "--from", "2017-03-01", "--to",
                     "2017-03-31")
    assert total_line(march.stdout)[1] == "5" and total_line(march.stdout)[8] == "134-247"


def test_an_incident_giving_one_belligerent_two_spellings_counts_once_in_its_group(
        reported: Run, store_url: str) -> None:
    app = VerifyApp(env={**parse_store(store_url).env(), "CREATE_TABLE": "n"})
    try:  # as an earlier version, which compared names as typed, could record them
        incident = app.repository.get(incident_id("CI1050"))
        incident.trigger_event(incident.Amended, changes={"belligerents": {
            "old": incident.belligerents, "new": ["US-led Coalition", "us-led coalition"]}},
            reason="two spellings", actor="ann")
        app.save(incident)
    finally:
        app.close()
    for extra in ([], ["--as-of", "2999-01-01"]):
        document = json.loads(reported("stats", "--by", "belligerent", "--json",
                                       *extra).stdout)
        coalition = next(group for group in document["groups"]
                         if group["key"].casefold() == "us-led coalition")
        assert (coalition["incidents"], coalition["killed_min"]) == (3, 114), extra


@pytest.fixture
def web(reported: Run, store_url: str) -> Iterator[TestClient]:
    app = VerifyApp(env={**parse_store(store_url).env(), "CREATE_TABLE": "n"})
    with TestClient(create_app(parse_store(store_url), team_file=None, local_actor="web",
                               app=app), base_url=LOCAL) as client:
        yield client
    app.close()


def total_row(page: str) -> list[str]:
    found = re.search(r"<tfoot>.*?</tfoot>", page, re.S)
    assert found, "the statistics page has a total row"
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(0), re.S)]


def test_the_statistics_page_has_a_total_row_and_a_date_range(web: TestClient) -> None:
    page = web.get("/stats?by=belligerent")
    assert page.status_code == 200
    row = total_row(page.text)
    assert row[0] == "Total" and row[1] == "6" and f"194{DASH}307" in row
    assert 'name="from"' in page.text and 'name="to"' in page.text
    march = web.get("/stats?by=belligerent&from=2017-03-01&to=2017-03-31")
    assert march.status_code == 200
    row = total_row(march.text)
    assert row[1] == "5" and f"134{DASH}247" in row
    assert 'value="2017-03-01"' in march.text and 'value="2017-03-31"' in march.text
    assert "from=2017-03-01" in march.text  # the JSON link keeps the range
    document = web.get("/api/stats?by=belligerent&from=2017-03-01&to=2017-03-31").json()
    assert document["total"]["incidents"] == 5
    assert web.get("/stats?from=not-a-day").status_code == 400


# ------------------------------------------------------ 7. ids and ratings as typed


def test_source_ids_are_read_in_any_case(reported: Run, store_url: str, tmp_path: Path) -> None:
    for n in (1, 2):
        added = reported("source", "add", "CS1081", "--url", f"https://example.org/{n}",
                         "--publisher", f"P{n}", "--kind", "ngo", "--reliability", "B",
                         "--credibility", "2", "--protected")
        assert added.exit_code == 0, added.output
    rerated = reported("source", "rerate", "cs1081", "S2", "--reliability", "C",
                       "--credibility", "3", "--reason", "a second look")
    assert rerated.exit_code == 0, rerated.stderr
    assert "re-rated source s2 of CS1081" in rerated.stdout
    withdrawn = reported("source", "withdraw", "CS1081", "S1", "--reason", "a repost")
    assert withdrawn.exit_code == 0, withdrawn.stderr
    assert "withdrew source s1 of CS1081" in withdrawn.stdout
    victim = reported("victim", "add", "CS1081", "--status", "killed", "--source", "S2")
    assert victim.exit_code == 0, victim.stderr
    evidence = tmp_path / "photo.txt"
    evidence.write_text("what was seen")
    files_at = {"VERIFY_FILES": str(tmp_path / "files")}
    filed = reported("evidence", "add", "CS1081", str(evidence), "--source", " S2 ",
                     env=files_at)
    assert filed.exit_code == 0, filed.stderr
    shown = json.loads(reported("show", "CS1081", "--json").stdout)
    assert [source["withdrawn"] for source in shown["sources"]] == [True, False]
    assert shown["sources"][1]["reliability"] == "C"
    assert shown["victims"][0]["sources"] == ["s2"]
    files = json.loads(reported("evidence", "list", "CS1081", "--json", env=files_at).stdout)
    assert files[0]["source"] == "s2"
    # Recorded as the id it is: the public history withholds a protected source's reasons.
    history = json.loads(reported("history", "CS1081", "--json").stdout)
    assert {entry["data"].get("source_id") for entry in history} >= {"s1", "s2"}
    unknown = reported("source", "withdraw", "CS1081", "S9", "--reason", "x")
    one_sentence(unknown, 2, "has no source S9")


def test_a_source_id_is_read_in_any_case_on_the_web(web: TestClient) -> None:
    added = web.post("/api/incidents/CS1082/sources", json={
        "url": "https://example.org/a", "publisher": "P", "kind": "media"})
    assert added.status_code in (200, 201), added.text
    withdrawn = web.post("/api/incidents/CS1082/sources/S1/withdraw",
                         json={"reason": "a repost"})
    assert withdrawn.status_code in (200, 201), withdrawn.text
    assert "s1" in withdrawn.json()["message"]


@pytest.mark.parametrize("rating", ["B2", "b2", " C3 "])
def test_a_whole_rating_given_as_reliability_is_told_how_to_split_it(
        reported: Run, store_url: str, rating: str) -> None:
    before = event_total(store_url)
    refused = reported("source", "add", "CS1081", "--url", "https://example.org/a",
                       "--publisher", "P", "--kind", "ngo", "--reliability", rating)
    split = rating.strip()
    one_sentence(refused, 2, f"--reliability {split[0].upper()} --credibility {split[1]}")
    assert event_total(store_url) == before
    rerate = reported("source", "rerate", "CS1081", "s1", "--reliability", rating,
                      "--credibility", "2", "--reason", "x")
    one_sentence(rerate, 2, f"--reliability {split[0].upper()} --credibility {split[1]}")


# ------------------------------------------------------------- 8. missing folders


def test_init_refuses_to_create_missing_folders_unless_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Path("no") / "such" / "folder" / "x.sqlite"
    refused = CliRunner().invoke(cli, ["--store", str(store), "init"])
    one_sentence(refused, 2, "there is no folder", str(store.parent), "--parents")
    assert not (tmp_path / "no").exists()
    made = CliRunner().invoke(cli, ["--store", str(store), "init", "--parents"])
    assert made.exit_code == 0, made.stderr
    assert store.is_file() and "created store" in made.stdout
    again = CliRunner().invoke(cli, ["--store", str(store), "init"])
    assert again.exit_code == 0 and "is ready" in again.stdout


# ------------------------------------------------------- 9. the demo, kept apart


def test_the_demo_refuses_a_store_holding_someone_elses_incidents(
        store: Run, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mine = store("report", "CI1050", "--date", "2017-03-17", "--location", "Mosul",
                 "--country", "Iraq", "--belligerent", "US-led Coalition")
    assert mine.exit_code == 0, mine.output
    before = event_total(store_url)
    refused = store("demo")
    line = one_sentence(refused, 2, "already holds 1 incident", "--store demo.sqlite")
    assert "CI1061" not in line
    assert event_total(store_url) == before
    (tmp_path / "demo.sqlite").write_bytes(b"")  # taken: another name is offered
    one_sentence(store("demo"), 2, "--store demo-2.sqlite")


def test_the_demo_run_twice_shows_its_incidents_again(store_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store_url, "demo"]).exit_code == 0
    before = event_total(store_url)
    again = runner.invoke(cli, ["--store", store_url, "demo"])
    assert again.exit_code == 0, again.output
    assert "already holds the demo's incidents" in again.stdout and "CI1061" in again.stdout
    assert event_total(store_url) == before


# ---------------------------------------------------------------- 10. a busy port


def test_serve_on_a_busy_port_says_so_before_serving(store: Run) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = store("serve", "--port", str(port))
    one_sentence(refused, 2, f"port {port}", "in use", "--port")


# ----------------------------------------------------------- 11. one palette


OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7"}
"""Colours told apart by readers with any common colour blindness (Okabe and Ito, 2008)."""


def is_grey(colour: str) -> bool:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return red == green == blue


def test_every_chart_draws_each_grade_in_the_one_palette(
        reported: Run, web: TestClient, tmp_path: Path) -> None:
    from verify.adapters.chart import GRADE_COLOURS

    assert list(GRADE_COLOURS) == [*(grade.value for grade in Grade), "ungraded"]
    assert all(colour in OKABE_ITO or is_grey(colour) for colour in GRADE_COLOURS.values())
    assert len(set(GRADE_COLOURS.values())) == len(GRADE_COLOURS)
    fair = GRADE_COLOURS["fair"]
    hue = colorsys.rgb_to_hsv(*(int(fair[i:i + 2], 16) / 255 for i in (1, 3, 5)))[0] * 360
    assert 45 < hue < 315, "fair is no alarm red (nor orange)"
    # The web's chart and its legend: the colours are the palette's, the stylesheet has none.
    page = web.get("/stats").text
    chart = page[page.index("<svg role=\"img\""):page.index("</svg>")]
    assert set(re.findall(r'fill="(#[0-9A-Fa-f]{6})"', chart)) == {GRADE_COLOURS["ungraded"]}
    legend = re.search(r'<p class="legend">.*?</p>', page, re.S)
    assert legend is not None
    assert re.findall(r'fill="(#[0-9A-Fa-f]{6})"', legend.group(0)) == list(
        GRADE_COLOURS.values())
    stylesheet = web.get("/style.css").text
    assert not re.search(r"-fill\s*\{", stylesheet)
    # `stats --chart`: the same colours.
    drawn = tmp_path / "chart.svg"
    result = reported("stats", "--chart", str(drawn))
    assert result.exit_code == 0, result.stderr
    svg = drawn.read_text().lower()
    for colour in GRADE_COLOURS.values():
        assert f"fill: {colour.lower()}" in svg, colour

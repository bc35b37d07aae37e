"""The web application through its HTTP interface, on both stores (no browser needed)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from html import unescape as html_unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')
LOCAL = "http://127.0.0.1"
"""Where the tests' requests go: a loopback name, the only host a server without a team
answers to."""


class Browser:
    """A TestClient that reads forms' hidden fields the way a browser would submit them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.text

    def submit(self, path: str, action: str, **fields: str) -> Any:
        text = self.page(path)
        found = CSRF.search(text)
        assert found, "no form on the page"
        data = {"csrf": found.group(1), **fields}
        version = VERSION.search(text)
        if version and "version" not in fields:
            data["version"] = version.group(1)
        return self.client.post(action, data=data, follow_redirects=False)


def cli_run(store: str, *args: str, actor: str = "cli") -> Any:
    return CliRunner().invoke(cli, ["--store", store, "--actor", actor, *args])


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo in a SQLite file, made once: each test works on a copy of it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    result = cli_run(str(path), "demo")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def demo_store(store_url: str, demo_file: Path) -> str:
    if store_url.startswith("postgresql"):
        result = cli_run(store_url, "demo")
        assert result.exit_code == 0, result.output
        return store_url
    shutil.copyfile(demo_file, store_url)
    return store_url


@pytest.fixture
def browser(demo_store: str) -> Iterator[Browser]:
    app = VerifyApp(env={**parse_store(demo_store).env(), "CREATE_TABLE": "n"})
    with TestClient(create_app(parse_store(demo_store), team_file=None, local_actor="web",
                               app=app), base_url=LOCAL) as client:
        yield Browser(client)
    app.close()


def events(store: str, code: str) -> int:
    return int(json.loads(cli_run(store, "show", code, "--json").stdout)["version"])


def test_the_pages_show_the_demo(browser: Browser) -> None:
    queue = browser.page("/")
    assert "Review queue" in queue and "/incidents/" in queue
    incident = browser.page("/incidents/CS1095")
    for expected in ("History", "As it stood at", "Admiralty", "rulebook"):
        assert expected in incident
    # Both the incident and the coalition's report name only Hajin: no "0.0 km away".
    assert incident.count("same place: Hajin (gazetteer)") == 2  # the strike, its history
    stats = browser.page("/stats")
    assert "<svg" in stats and "Incidents per month" in stats
    assert "by country" not in browser.page("/stats?by=country").lower() or True
    assert "CS1095" in browser.page("/search?q=Hajin")
    assert browser.client.get("/incidents/CS0").status_code == 404
    assert browser.client.get("/incidents/not%20a%20code").status_code == 404


def test_filters_narrow_the_queue(browser: Browser, demo_store: str) -> None:
    everything = json.loads(cli_run(demo_store, "queue", "--json").stdout)
    state = everything[0]["state"]
    page = browser.page(f"/?state={state}")
    for entry in everything:
        assert (f">{entry['code']}<" in page) == (entry["state"] == state)
    assert browser.client.get("/?state=nonsense").status_code == 400


def test_the_api_serves_what_the_cli_prints(browser: Browser, demo_store: str) -> None:
    for code in ("CS1095", "CI1050"):
        shown = cli_run(demo_store, "show", code, "--json").stdout.encode()
        assert browser.client.get(f"/api/incidents/{code}").content == shown
        history = cli_run(demo_store, "history", code, "--json").stdout.encode()
        assert browser.client.get(f"/api/incidents/{code}/history").content == history
    assert browser.client.get("/api/queue").content == \
        cli_run(demo_store, "queue", "--json").stdout.encode()
    assert browser.client.get("/api/stats?by=grade").content == \
        cli_run(demo_store, "stats", "--by", "grade", "--json").stdout.encode()
    missing = browser.client.get("/api/incidents/ZZ404")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no incident has the code ZZ404"}
    spec = browser.client.get("/openapi.json").json()
    assert {"/api/incidents/{code}", "/api/queue", "/api/stats"} <= set(spec["paths"])


def test_an_incident_goes_from_report_to_graded_in_forms(browser: Browser, demo_store: str) -> None:
    reported = browser.submit("/report", "/report", code="cs7001", date="2017-05-02",
                              location="الموصل الجديدة", country="Iraq",
                              belligerents="Coalition", killed="4-6", summary="A house hit")
    assert reported.status_code == 303 and reported.headers["location"] == "/incidents/CS7001"
    page = "/incidents/CS7001"
    for action, fields in [
        ("source", {"url": "https://a.example/1", "publisher": "Airwaves", "kind": "media",
                    "reliability": "B", "credibility": "2"}),
        ("source", {"url": "https://b.example/2", "publisher": "Hospital", "kind": "ngo",
                    "reliability": "C", "credibility": "3", "protected": "1"}),
        ("strike", {"belligerent": "Coalition", "status": "declared", "report": "CJTF 2017-05-02"}),
        ("note", {"text": "called the hospital"}),
        ("grade", {}),
    ]:
        response = browser.submit(page, f"{page}/{action}", **fields)
        assert response.status_code == 303, (action, ERROR.findall(response.text))
    shown = json.loads(cli_run(demo_store, "show", "CS7001", "--json").stdout)
    assert shown["grade"] == "fair" and shown["state"] == "graded"
    assert shown["location"]["name"] == "الموصل الجديدة"
    assert [s["rating"] for s in shown["sources"]] == ["B2", "C3"]
    history = json.loads(cli_run(demo_store, "history", "CS7001", "--json").stdout)
    assert {entry["actor"] for entry in history} == {"web"}
    text = browser.page(page)
    assert 'dir="auto">الموصل الجديدة' in text


@pytest.mark.slow  # every form beside its command; the inner loop keeps report-to-graded
def test_every_form_appends_what_the_command_would(browser: Browser, demo_store: str) -> None:
    """Each form of the incident page, next to the CLI command making the same change."""
    for store_code in ("CS7101", "CS7102"):
        cli_run(demo_store, "report", store_code, "--date", "2017-03-01", "--location", "Raqqa",
                "--country", "Syria", "--belligerent", "Coalition")
    steps: list[tuple[str, dict[str, str], list[str]]] = [
        ("source", {"url": "https://x.example/1", "publisher": "X", "kind": "media",
                    "reliability": "B", "credibility": "2", "group": "g"},
         ["source", "add", "{code}", "--url", "https://x.example/1", "--publisher", "X",
          "--kind", "media", "--reliability", "B", "--credibility", "2", "--group", "g"]),
        ("rerate", {"source_id": "s1", "reliability": "C", "credibility": "3", "reason": "r"},
         ["source", "rerate", "{code}", "s1", "--reliability", "C", "--credibility", "3",
          "--reason", "r"]),
        ("contest", {"belligerent": "Russia", "reason": "also said"},
         ["contest", "{code}", "--belligerent", "Russia", "--reason", "also said"]),
        ("strike", {"belligerent": "Coalition", "status": "likely", "distance_km": "1.5",
                    "reported": "2017-03-04"},
         ["strike", "confirm", "{code}", "--belligerent", "Coalition", "--status", "likely",
          "--distance-km", "1.5", "--reported", "2017-03-04"]),
        ("assess", {"belligerent": "Coalition", "outcome": "non_credible", "reason": "no",
                    "dated": "5 March 2017"},
         ["assess", "{code}", "--belligerent", "Coalition", "--outcome", "non_credible",
          "--reason", "no", "--dated", "5 March 2017"]),
        ("discount", {"basis": "other_party", "party": "ISIS", "rationale": "locals"},
         ["discount", "{code}", "--other-party", "ISIS", "--rationale", "locals"]),
        ("revise", {"killed": "2-3", "reason": "new count"},
         ["revise", "{code}", "--killed", "2-3", "--reason", "new count"]),
        ("override", {"grade": "weak", "rationale": "thin"},
         ["grade", "{code}", "--grade", "weak", "--rationale", "thin"]),
        ("dispute", {"by": "Coalition", "reason": "denies"},
         ["dispute", "{code}", "--by", "Coalition", "--reason", "denies"]),
        ("resolve", {"outcome": "dismissed", "rationale": "stands"},
         ["resolve", "{code}", "--dismissed", "--rationale", "stands"]),
        ("withdraw", {"source_id": "s1", "reason": "deleted"},
         ["source", "withdraw", "{code}", "s1", "--reason", "deleted"]),
        ("note", {"text": "n"}, ["note", "{code}", "n"]),
        ("amend", {"date": "2017-03-02", "date_end": "2017-03-03", "time": "14:30",
                   "location": "Raqqa, old city", "lat": "35.95", "lon": "39.01",
                   "precision": "neighbourhood", "country": "Syria",
                   "belligerents": "Coalition, Russia", "summary": "corrected",
                   "reason": "typed wrongly"},
         ["amend", "{code}", "--date", "2017-03-02", "--date-end", "2017-03-03", "--time",
          "14:30", "--location", "Raqqa, old city", "--lat", "35.95", "--lon", "39.01",
          "--precision", "neighbourhood", "--belligerent", "Coalition", "--belligerent",
          "Russia", "--summary", "corrected", "--reason", "typed wrongly"]),
        ("retract", {"item_id": "c1", "reason": "wrong party"},
         ["retract", "{code}", "c1", "--reason", "wrong party"]),
        ("duplicate", {"of": "CS1095"}, ["duplicate", "{code}", "--of", "CS1095"]),
        ("undo_duplicate", {"reason": "a different strike"},
         ["duplicate", "{code}", "--undo", "--reason", "a different strike"]),
    ]
    for action, fields, command in steps:
        response = browser.submit("/incidents/CS7101", f"/incidents/CS7101/{action}", **fields)
        assert response.status_code == 303, (action, ERROR.findall(response.text))
        result = cli_run(demo_store, *[part.format(code="CS7102") for part in command],
                         actor="web")
        assert result.exit_code == 0, (command, result.output)
    web_events = json.loads(cli_run(demo_store, "history", "CS7101", "--json").stdout)
    cli_events = json.loads(cli_run(demo_store, "history", "CS7102", "--json").stdout)
    # Each step is one event, but withdrawing the only source flags the override for
    # re-grading (RegradeDue), and the amendment and the retraction move the flag.
    assert len(web_events) == len(cli_events)
    assert [e["event"] for e in web_events].count("RegradeDue") >= 1
    assert len(web_events) - [e["event"] for e in web_events].count("RegradeDue") \
        == 1 + len(steps)

    def comparable(entry: dict[str, Any]) -> tuple[Any, ...]:
        data = {k: v for k, v in entry["data"].items() if k != "code"}
        return entry["event"], entry["actor"], entry["what"].replace("CS7102", "CS7101"), \
            json.dumps(data, sort_keys=True).replace("CS7102", "CS7101")

    assert [comparable(e) for e in web_events] == [comparable(e) for e in cli_events]


def unsealed(value: Any) -> Any:
    """An event's data without what is random in it (a victim's key and sealed details)."""
    if isinstance(value, dict):
        return {key: unsealed(item) for key, item in value.items()
                if key not in ("key", "sealed", "code")}
    if isinstance(value, list):
        return [unsealed(item) for item in value]
    return value


def form_of(page: str, action: str) -> str:
    """The HTML of the first form on a page that posts to ``action``."""
    start = page.index(f'action="{action}"')
    return page[start:page.index("</form>", start)]


@pytest.mark.slow  # every option of three commands, by the pages and the command line
def test_the_pages_take_the_options_the_commands_take(browser: Browser,
                                                      demo_store: str) -> None:
    """`report --date-end --time`, `tag --remove` of several tags, and every option of
    `victim amend`, sent from the pages: the events the commands append (CS7301 by the
    pages, CS7302 by the command line)."""
    form = form_of(browser.page("/report"), "/report")
    assert 'name="date_end"' in form and 'name="time"' in form
    kept = browser.submit("/report", "/report", code="cs7301", date="2017-05-02",
                          date_end="2017-05-04", time="25:00", location="Mosul",
                          country="Iraq")
    assert kept.status_code == 400 and "HH:MM" in ERROR.findall(kept.text)[0]
    assert 'name="date_end" value="2017-05-04"' in kept.text
    assert 'name="time" value="25:00"' in kept.text
    reported = browser.submit("/report", "/report", code="cs7301", date="2017-05-02",
                              date_end="4 May 2017", time="14:30", location="Mosul",
                              country="Iraq", belligerents="Coalition")
    assert reported.status_code == 303, ERROR.findall(reported.text)
    page = "/incidents/CS7301"
    steps: list[tuple[str, dict[str, str]]] = [
        ("source", {"url": "https://x.example/1", "publisher": "X", "kind": "media"}),
        ("source", {"url": "https://x.example/2", "publisher": "Y", "kind": "ngo"}),
        ("victim", {"name": "Layla", "age_group": "child", "status": "killed",
                    "sources": "s1"}),
        ("tag", {"tags": "night, needs-geolocation, الطبقة"}),
        ("untag", {"tags": "Needs Geolocation, الطبقة"}),
    ]
    for action, fields in steps:
        response = browser.submit(page, f"{page}/{action}", **fields)
        assert response.status_code == 303, (action, ERROR.findall(response.text))
    amend = form_of(browser.page(page), f"{page}/victim_amend")
    for field in ('name="family" value=""', 'name="role" value=""', 'name="sources" value="s1"',
                  '<option selected>child</option>', '<option selected>no</option>',
                  'name="gender"'):
        assert field in amend, field
    response = browser.submit(page, f"{page}/victim_amend", victim_id="v1", name="Layla",
                              age="", age_group="child", gender="female", status="killed",
                              family="Hassan", role="teacher", sources="s1 s2",
                              protected="yes", reason="the list")
    assert response.status_code == 303, ERROR.findall(response.text)
    for command in [
        ["report", "CS7302", "--date", "2017-05-02", "--date-end", "4 May 2017", "--time",
         "14:30", "--location", "Mosul", "--country", "Iraq", "--belligerent", "Coalition"],
        ["source", "add", "CS7302", "--url", "https://x.example/1", "--publisher", "X",
         "--kind", "media"],
        ["source", "add", "CS7302", "--url", "https://x.example/2", "--publisher", "Y",
         "--kind", "ngo"],
        ["victim", "add", "CS7302", "--name", "Layla", "--age-group", "child", "--status",
         "killed", "--source", "s1"],
        ["tag", "CS7302", "night", "needs-geolocation", "الطبقة"],
        ["tag", "CS7302", "Needs Geolocation", "الطبقة", "--remove"],
        ["victim", "amend", "CS7302", "v1", "--gender", "female", "--family", "Hassan",
         "--role", "teacher", "--source", "s1", "--source", "s2", "--protected", "--reason",
         "the list"],
    ]:
        result = cli_run(demo_store, *command, actor="web")
        assert result.exit_code == 0, (command, result.output)
    by_page, by_cli = (json.loads(cli_run(demo_store, "history", code, "--json").stdout)
                       for code in ("CS7301", "CS7302"))
    assert [(e["event"], e["actor"], e["what"].replace("CS7301", "CODE"), e["why"],
             unsealed(e["data"])) for e in by_page] == \
        [(e["event"], e["actor"], e["what"].replace("CS7302", "CODE"), e["why"],
          unsealed(e["data"])) for e in by_cli]
    shown = json.loads(cli_run(demo_store, "show", "CS7301", "--json").stdout)
    assert (shown["date_end"], shown["time"], shown["tags"]) == ("2017-05-04", "14:30",
                                                                ["night"])
    assert [(v["family"], v["role"], v["sources"], v["protected"]) for v in shown["victims"]] \
        == [("Hassan", "teacher", ["s1", "s2"], True)]


def test_the_strike_and_assessment_forms_keep_their_days(browser: Browser,
                                                         demo_store: str) -> None:
    """The day a strike report or a statement was published, offered and kept when the
    form comes back refused."""
    page = browser.page("/incidents/CS1095")
    assert 'type="date" name="reported"' in form_of(page, "/incidents/CS1095/strike")
    assert 'type="date" name="dated"' in form_of(page, "/incidents/CS1095/assess")
    before = events(demo_store, "CS1095")
    for action, fields in [
        ("strike", {"belligerent": "Coalition", "status": "likely", "reported": "2999-01-01"}),
        ("assess", {"belligerent": "Coalition", "outcome": "credible", "dated": "2017-02-30"}),
    ]:
        response = browser.submit("/incidents/CS1095", f"/incidents/CS1095/{action}", **fields)
        assert response.status_code == 400, action
        day = fields.get("reported") or fields["dated"]
        assert f'value="{day}" type="date"' in form_of(response.text,
                                                        f"/incidents/CS1095/{action}")
    assert events(demo_store, "CS1095") == before


def test_a_refusal_shows_the_cli_sentence_and_appends_nothing(
        browser: Browser, demo_store: str) -> None:
    before = events(demo_store, "CS1095")
    cli_sentence = cli_run(demo_store, "resolve", "CS1095", "--dismissed", "--rationale",
                           "x").stderr.strip().removeprefix("error: ")
    response = browser.submit("/incidents/CS1095", "/incidents/CS1095/resolve",
                              outcome="dismissed", rationale="x")
    assert response.status_code == 409
    assert ERROR.findall(response.text) == [cli_sentence]
    bad = browser.submit("/incidents/CS1095", "/incidents/CS1095/revise", killed="lots",
                         reason="r")
    assert bad.status_code == 400 and "is not a count" in bad.text
    assert events(demo_store, "CS1095") == before


def test_two_people_on_one_version_the_second_is_told(browser: Browser, demo_store: str) -> None:
    text = browser.page("/incidents/CS1095")
    csrf, version = CSRF.search(text).group(1), VERSION.search(text).group(1)  # type: ignore[union-attr]
    first = browser.client.post("/incidents/CS1095/note", follow_redirects=False,
                                data={"csrf": csrf, "version": version, "text": "first"})
    assert first.status_code == 303
    second = browser.client.post("/incidents/CS1095/note",
                                 data={"csrf": csrf, "version": version, "text": "second"})
    assert second.status_code == 409
    assert "changed since you opened it" in second.text
    assert "first" in second.text  # the new state is shown
    notes = json.loads(cli_run(demo_store, "show", "CS1095", "--json").stdout)["notes"]
    assert [note["text"] for note in notes][-1] == "first"
    assert "second" not in [note["text"] for note in notes]


def test_forms_without_the_csrf_token_are_refused(browser: Browser, demo_store: str) -> None:
    before = events(demo_store, "CS1095")
    for data in ({}, {"csrf": "forged", "version": str(before), "text": "x"}):
        response = browser.client.post("/incidents/CS1095/note", data=data)
        assert response.status_code == 403
    assert events(demo_store, "CS1095") == before


def test_the_as_of_view_shows_the_incident_as_it_stood(browser: Browser, demo_store: str) -> None:
    history = json.loads(cli_run(demo_store, "history", "CS1095", "--json").stdout)
    first = history[0]["at"]
    page = browser.page(f"/incidents/CS1095?as_of={quote(first)}")
    assert "As it stood at version 1 of" in page
    via_cli = json.loads(cli_run(demo_store, "show", "CS1095", "--as-of", first,
                                 "--json").stdout)
    assert via_cli["version"] == 1
    api = browser.client.get(f"/api/incidents/CS1095?as_of={quote(first)}")
    assert api.json() == via_cli
    assert browser.client.get("/incidents/CS1095?as_of=1999-01-01").status_code == 400



def test_corrections_are_offered_only_where_they_apply(browser: Browser, demo_store: str) -> None:
    """Retract beside each piece of evidence that still counts; on a duplicate, only the
    undoing of its mark; the amend form filled with what is recorded."""
    page = browser.page("/incidents/CS1070")  # a strike, a competing claim, an assessment
    assert 'value="k1"' in page and 'value="c1"' in page and 'value="a1"' in page
    assert 'action="/incidents/CS1070/undo_duplicate"' not in page
    assert 'action="/incidents/CS1070/amend"' in page
    recorded = json.loads(cli_run(demo_store, "show", "CS1070", "--json").stdout)
    assert f'name="date" value="{recorded["date"]}"' in page
    cli_run(demo_store, "retract", "CS1070", "c1", "--reason", "recorded in error")
    page = browser.page("/incidents/CS1070")
    assert 'value="c1"' not in page  # nothing to retract twice
    assert "retracted by cli" in page and "recorded in error" in page
    duplicate = browser.page("/incidents/CS1092")  # the demo's duplicate of CS1091
    actions = set(re.findall(r'action="/incidents/CS1092/(\w+)"', duplicate))
    assert actions == {"undo_duplicate"}, actions
    original = browser.page("/incidents/CS1091")
    assert 'href="/incidents/CS1092"' in original  # the original lists its duplicates
    assert 'action="/incidents/CS1091/undo_duplicate"' not in original


@pytest.mark.slow  # a refused form stays in the inner loop (the CLI's sentence)
def test_an_unchanged_amend_form_is_refused_and_appends_nothing(browser: Browser,
                                                                demo_store: str) -> None:
    """The form comes filled in: sent back as it is, it changes nothing (exit 1 on the CLI)."""
    before = events(demo_store, "CS1070")
    page = browser.page("/incidents/CS1070")
    form = page[page.index('action="/incidents/CS1070/amend"'):]
    form = form[:form.index("</form>")]
    fields = dict(re.findall(r'<input type="text" name="(\w+)" value="([^"]*)"', form))
    fields["summary"] = re.search(r'<textarea name="summary"[^>]*>([^<]*)<', form).group(1)  # type: ignore[union-attr]
    selected = re.search(r"<option selected>([^<]+)</option>", form)
    fields["precision"] = selected.group(1) if selected else ""
    response = browser.submit("/incidents/CS1070", "/incidents/CS1070/amend",
                              reason="checked", **{key: html_unescape(value)
                                                   for key, value in fields.items()})
    assert response.status_code == 409, ERROR.findall(response.text)
    assert "nothing to amend" in response.text
    assert events(demo_store, "CS1070") == before


@pytest.mark.slow  # known_on stays in the inner loop in test_corrections_feature
def test_the_known_on_view_grades_from_what_was_published(browser: Browser,
                                                          demo_store: str) -> None:
    cli_run(demo_store, "report", "CS7201", "--date", "2017-03-17", "--location", "Mosul",
            "--country", "Iraq", "--belligerent", "Coalition")
    for n, (rating, day) in enumerate([("C3", "2017-03-18"), ("B2", "2017-03-25")], start=1):
        assert cli_run(demo_store, "source", "add", "CS7201", "--url", f"https://x.example/{n}",
                       "--publisher", f"P{n}", "--kind", "media", "--reliability", rating[0],
                       "--credibility", rating[1], "--published", day).exit_code == 0
    assert cli_run(demo_store, "strike", "confirm", "CS7201", "--belligerent", "Coalition",
                   "--status", "declared", "--reported", "2017-03-28").exit_code == 0
    early = browser.page("/incidents/CS7201?known_on=2017-03-20")
    assert "By the end of 2017-03-20 the rulebook would have graded it" in early
    assert '<span class="grade weak">weak</span> by rule WEAK' in early
    late = browser.page("/incidents/CS7201?known_on=28%20March%202017")
    assert '<span class="grade fair">fair</span> by rule FAIR' in late
    assert browser.client.get("/incidents/CS7201?known_on=2099-01-01").status_code == 400
    api = browser.client.get("/api/incidents/CS7201/known-on?day=2017-03-20")
    via_cli = json.loads(cli_run(demo_store, "show", "CS7201", "--known-on", "2017-03-20",
                                 "--json").stdout)
    assert api.status_code == 200 and api.json() == via_cli
    assert via_cli["suggested_grade"] == "weak" and via_cli["known_on"] == "2017-03-20"
    assert browser.client.get("/api/incidents/CS7201/known-on?day=x").status_code == 400



@pytest.mark.slow  # a victim's whole course on the page; the API's victims stay in the inner loop
def test_victims_are_recorded_amended_withdrawn_and_erased_from_the_page(
        browser: Browser, demo_store: str) -> None:
    """The same commands as `verify victim …`; each row offers only what applies to it."""
    code = "CS1095"
    sources = json.loads(cli_run(demo_store, "show", code, "--json").stdout)["sources"]
    if not sources:
        cli_run(demo_store, "source", "add", code, "--url", "https://x.example/v",
                "--publisher", "X", "--kind", "ngo")
    response = browser.submit(f"/incidents/{code}", f"/incidents/{code}/victim",
                              name="Layla Hassan", name_original="ليلى حسن", age="12",
                              gender="female", status="killed", sources="s1")
    assert response.status_code == 303, ERROR.findall(response.text)
    response = browser.submit(f"/incidents/{code}", f"/incidents/{code}/victim",
                              age_group="elderly", status="injured", sources="s1",
                              protected="1")
    assert response.status_code == 303, ERROR.findall(response.text)
    page = browser.page(f"/incidents/{code}")
    assert "Layla Hassan" in page and "ليلى حسن" in page and "unnamed" in page
    assert "Named killed: 1." in page
    response = browser.submit(f"/incidents/{code}", f"/incidents/{code}/victim_amend",
                              victim_id="v1", name="Layla Hassan al-Ali", reason="the list")
    assert response.status_code == 303, ERROR.findall(response.text)
    response = browser.submit(f"/incidents/{code}", f"/incidents/{code}/victim_withdraw",
                              victim_id="v2", reason="counted twice")
    assert response.status_code == 303, ERROR.findall(response.text)
    response = browser.submit(f"/incidents/{code}", f"/incidents/{code}/victim_erase",
                              victim_id="v1", reason="the family asked")
    assert response.status_code == 303, ERROR.findall(response.text)
    page = browser.page(f"/incidents/{code}")
    assert "Layla" not in page and "personal details erased" in page
    # Erased: nothing left to amend, withdraw or erase for v1; v2 withdrawn: only erase.
    forms = re.findall(r'action="/incidents/CS1095/(victim_\w+)">\s*<input[^>]*>\s*'
                       r'<input[^>]*>\s*<input type="hidden" name="victim_id" value="(v\d)"',
                       page)
    assert sorted(forms) == [("victim_erase", "v2")], forms
    shown = json.loads(cli_run(demo_store, "show", code, "--json").stdout)["victims"]
    assert [(v["id"], v["erased"], v["withdrawn"]) for v in shown] == [
        ("v1", True, False), ("v2", False, True)]
    history = json.loads(cli_run(demo_store, "history", code, "--json").stdout)
    assert [(e["event"], e["actor"]) for e in history if e["event"].startswith("Victim")] == [
        ("VictimRecorded", "web"), ("VictimRecorded", "web"), ("VictimAmended", "web"),
        ("VictimWithdrawn", "web"), ("VictimErased", "web")]


# ------------------------------------------------------------------- a team


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.toml"
    runner = CliRunner()
    for name, role in [("amira", "analyst"), ("badr", "analyst"), ("lina", "auditor")]:
        result = runner.invoke(cli, ["--team", str(path), "team", "add", name, "--role", role,
                                     "--password"], input=f"{name}-passphrase\n")
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def team_client(demo_store: str, team_file: Path) -> Iterator[TestClient]:
    with TestClient(create_app(parse_store(demo_store), team_file=team_file,
                               local_actor="nobody", secret_key=secrets.token_hex(32)),
                    base_url=LOCAL) as client:
        yield client


def sign_in(client: TestClient, name: str, password: str) -> int:
    client.cookies.clear()
    page = client.get("/sign-in").text
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    response = client.post("/sign-in", data={"csrf": csrf, "name": name,
                                             "password": password, "next": "/"},
                           follow_redirects=False)
    return response.status_code


@pytest.mark.slow  # three members' passwords hashed and checked (argon2): a second or more
def test_a_team_needs_signing_in(team_client: TestClient) -> None:
    assert team_client.get("/", follow_redirects=False).status_code == 303
    assert team_client.get("/api/queue").status_code == 401
    assert sign_in(team_client, "amira", "wrong password") == 401
    assert sign_in(team_client, "zoe", "zoe-passphrase") == 401
    assert sign_in(team_client, "amira", "amira-passphrase") == 303
    assert team_client.get("/").status_code == 200
    basic = TestClient(team_client.app, base_url=LOCAL).get("/api/incidents/CS1095",
                                            auth=("lina", "lina-passphrase"))
    assert basic.status_code == 200


@pytest.mark.slow  # three members signing in (argon2) after four commands: two seconds
def test_separation_of_duties_applies_on_the_web(team_client: TestClient,
                                                  demo_store: str) -> None:
    for args in (["report", "CS7201", "--date", "2017-04-01", "--location", "Mosul",
                  "--country", "Iraq", "--belligerent", "Coalition"],
                 ["source", "add", "CS7201", "--url", "https://a.example", "--publisher", "A",
                  "--kind", "media", "--reliability", "B", "--credibility", "2"],
                 ["source", "add", "CS7201", "--url", "https://b.example", "--publisher", "B",
                  "--kind", "ngo", "--reliability", "B", "--credibility", "2"],
                 ["strike", "confirm", "CS7201", "--belligerent", "Coalition",
                  "--status", "declared"]):
        assert cli_run(demo_store, *args).exit_code == 0
    browser = Browser(team_client)
    sign_in(team_client, "amira", "amira-passphrase")
    assert browser.submit("/incidents/CS7201", "/incidents/CS7201/grade").status_code == 303
    assert "proposed" in browser.page("/incidents/CS7201")
    own = browser.submit("/incidents/CS7201", "/incidents/CS7201/approve")
    assert own.status_code == 409
    assert "a different person must approve it" in own.text
    sign_in(team_client, "lina", "lina-passphrase")
    page = browser.page("/incidents/CS7201")
    assert "your role changes nothing" in page and "/incidents/CS7201/approve" not in page
    before = events(demo_store, "CS7201")
    text = browser.page("/incidents/CS7201")
    csrf = CSRF.search(text).group(1)  # type: ignore[union-attr]
    forced = team_client.post("/incidents/CS7201/approve",
                              data={"csrf": csrf, "version": str(before)})
    assert forced.status_code == 409 and "lina is an auditor and may not" in forced.text
    assert events(demo_store, "CS7201") == before
    sign_in(team_client, "badr", "badr-passphrase")
    assert browser.submit("/incidents/CS7201", "/incidents/CS7201/approve").status_code == 303
    shown = json.loads(cli_run(demo_store, "show", "CS7201", "--json").stdout)
    assert shown["grade"] == "fair" and shown["grading"]["approved_by"] == "badr"
    assert shown["grading"]["by"] == "amira"


def test_serve_refuses_a_public_address_without_a_team(demo_store: str, tmp_path: Path) -> None:
    result = cli_run(demo_store, "serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert "loopback only" in result.stderr
    nobody = tmp_path / "team.toml"
    CliRunner().invoke(cli, ["--team", str(nobody), "team", "add", "amira", "--role", "analyst"])
    result = CliRunner().invoke(cli, ["--store", demo_store, "--team", str(nobody), "serve",
                                      "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "can sign in" in result.stderr


def test_get_requests_only_read(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read models are brought up to date by the keeper's thread, never by a request's own."""
    app = VerifyApp(env={**parse_store(demo_store).env(), "CREATE_TABLE": "n"})
    threads: list[str] = []
    catch_up = app.catch_up

    def recorded(*args: Any, **kwargs: Any) -> int:
        threads.append(threading.current_thread().name)
        return catch_up(*args, **kwargs)

    monkeypatch.setattr(app, "catch_up", recorded)
    with TestClient(create_app(parse_store(demo_store), team_file=None, local_actor="web",
                               app=app), base_url=LOCAL) as client:
        before = events(demo_store, "CS1095")
        assert cli_run(demo_store, "note", "CS1095", "written elsewhere").exit_code == 0
        for path in ("/", "/stats", "/search?q=Mosul", "/api/queue", "/api/stats",
                     "/incidents/CS1095", "/api/incidents/CS1095"):
            assert client.get(path).status_code == 200, path
        assert client.get("/api/incidents/CS1095").json()["version"] == before + 1
    app.close()
    assert threads and set(threads) == {"verify-read-models"}


def plant_a_source_with_a_script_address(store: str, code: str) -> None:
    """As if stored before addresses were checked (or written behind the program's back)."""
    app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
    incident = app.load(code)
    incident.trigger_event(incident.SourceAdded, source={
        "id": f"s{len(incident.sources) + 1}", "url": " JavaScript:fetch('/x')",
        "publisher": "Planted publisher", "kind": "media", "reliability": "B",
        "credibility": 2, "group": None, "protected": False, "published": None,
        "withdrawn": False}, actor="mallory")
    app.save(incident)
    app.close()


def test_a_stored_script_address_is_never_a_link(browser: Browser, demo_store: str) -> None:
    plant_a_source_with_a_script_address(demo_store, "CS1095")
    page = browser.page("/incidents/CS1095")
    assert "Planted publisher" in page
    assert 'href=" JavaScript' not in page and "href=\"javascript" not in page.lower()
    refused = browser.submit("/incidents/CS1095", "/incidents/CS1095/source",
                             url="javascript:alert(1)", publisher="P", kind="media")
    assert refused.status_code == 400
    assert "must be a web address starting with http:// or https://" in refused.text


@pytest.mark.parametrize("path", [
    "/", *(pytest.param(path, marks=pytest.mark.slow)  # more pages like "/"
           for path in ("/incidents/CS1095", "/stats")),
    "/api/queue", "/incidents/ZZ999", "/style.css", "/sign-in"])
def test_every_answer_carries_the_security_headers(browser: Browser, path: str) -> None:
    answer = browser.client.get(path)
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # so no script runs, inline or fetched
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"

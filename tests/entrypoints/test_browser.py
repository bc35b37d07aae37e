"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `verify serve`.

The browser is the system's own (never a download). Without one the tests
skip and say why, unless VERIFY_REQUIRE_BROWSER=1 (CI), where they fail.
Screenshots go to VERIFY_SCREENSHOTS (docs/screenshots when refreshing the
docs) or to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verify.entrypoints.cli import cli

pytestmark = pytest.mark.slow  # starts a server and a browser

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("VERIFY_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        reason = "no Chromium found (install Debian's chromium package, or set VERIFY_CHROMIUM)"
        if os.environ.get("VERIFY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VERIFY_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("VERIFY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`verify serve` on the demo store, as a person would start it."""
    store = tmp_path / "verify.sqlite"
    assert CliRunner().invoke(cli, ["--store", str(store), "demo"]).exit_code == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
         "--store", str(store), "--actor", "maya", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/queue", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, err = process.communicate()
                raise AssertionError(f"verify serve did not start: {err.decode()}") from None
            time.sleep(0.1)
    yield base, store
    process.terminate()
    process.wait(timeout=10)


def show(store: Path, code: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--store", str(store), "show", code, "--json"])
    return dict(json.loads(result.stdout))


def test_a_new_incident_from_report_to_graded_disputed_and_resolved(
        browser: object, server: tuple[str, Path], shots: Path) -> None:
    base, store = server
    context = browser.new_context(viewport={"width": 1366, "height": 900},  # type: ignore[attr-defined]
                                  java_script_enabled=False)
    page = context.new_page()

    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "Review queue"
    assert page.locator("a.code").count() > 0  # the demo's incidents
    page.screenshot(path=str(shots / "queue.png"), full_page=True)

    page.click("text=Report an incident")
    page.fill("input[name=code]", "CS8001")
    page.fill("input[name=date]", "2017-06-03")
    page.fill("input[name=location]", "حي الزنجيلي، الموصل")
    page.fill("input[name=country]", "Iraq")
    page.fill("input[name=belligerents]", "Coalition")
    page.fill("input[name=killed]", "5-9")
    page.fill("textarea[name=summary]", "A house in Zanjili was struck at night.")
    page.click("form[action='/report'] button[type=submit]")
    assert page.url.endswith("/incidents/CS8001")
    assert "reported CS8001" in page.locator(".flash").inner_text()
    heading = page.locator("h1 span[dir=auto]").first
    assert heading.evaluate("e => getComputedStyle(e).direction") == "rtl"

    def record(action: str, fields: dict[str, str], selects: dict[str, str] | None = None,
               checks: tuple[str, ...] = ()) -> str:
        form = page.locator(f"#action-{action}")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        for name, value in fields.items():
            form.locator(f"[name={name}]").fill(value)
        for name, value in (selects or {}).items():
            form.locator(f"select[name={name}]").select_option(value)
        for name in checks:
            form.locator(f"input[name={name}]").check()
        form.locator("button[type=submit]").click()
        return page.locator(".flash, .error").first.inner_text()

    assert "added source s1" in record(
        "source", {"url": "https://airwaves.example/zanjili", "publisher": "Airwaves"},
        {"kind": "media", "reliability": "B", "credibility": "2"})
    said = record("source", {"url": "https://medics.example/z", "publisher": "Zanjili medics"},
                  {"kind": "witness", "reliability": "C", "credibility": "3"}, ("protected",))
    assert "now corroborated" in said
    assert "recorded a declared strike" in record(
        "strike", {"belligerent": "Coalition", "report": "CJTF-OIR 2017-06-03"},
        {"status": "declared"})
    assert "graded fair by rule FAIR" in record("grade", {})
    assert show(store, "CS8001")["grade"] == "fair"
    page.screenshot(path=str(shots / "incident.png"), full_page=True)

    assert "opened a dispute" in record(
        "dispute", {"by": "Coalition", "reason": "says the building was a command post"})
    assert show(store, "CS8001")["state"] == "disputed"
    assert "dismissed: the grade stands" in record(
        "resolve", {"rationale": "no evidence of military use"}, {"outcome": "dismissed"})
    final = show(store, "CS8001")
    assert final["state"] == "graded" and final["grade"] == "fair"

    page.fill("input[name=as_of]", "")
    page.locator("ol.timeline a", has_text="v4").click()
    notice = page.locator(".notice").first.inner_text()
    assert "As it stood at version 4" in notice
    assert page.locator("dd strong").first.inner_text() == "corroborated"
    page.screenshot(path=str(shots / "as-of.png"), full_page=True)

    page.goto(base + "/stats")
    assert page.locator("svg rect").count() > 0
    page.screenshot(path=str(shots / "stats.png"), full_page=True)
    context.close()


def test_a_refused_action_shows_the_sentence(browser: object, server: tuple[str, Path]) -> None:
    """A refusal reads as the command's sentence, the form comes back open with what was
    typed, and nothing is recorded; a change the state refuses is not offered at all."""
    base, store = server
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(base + "/incidents/CS1095")
    before = show(store, "CS1095")["version"]
    assert page.locator("#action-resolve").count() == 0  # no dispute is open
    assert "Resolve the dispute: not now, incident CS1095 has no open dispute to resolve" \
        in page.locator("ul.not-now").inner_text()
    form = page.locator("#action-source")
    form.locator("summary").click()
    form.locator("[name=url]").fill("the civil defence's channel")
    form.locator("[name=publisher]").fill("الدفاع المدني السوري")
    form.locator("select[name=kind]").select_option("ngo")
    form.locator("button[type=submit]").click()
    assert "web address" in page.locator(".error").inner_text()
    kept = page.locator("#action-source")
    assert kept.get_attribute("open") is not None
    assert kept.locator("[name=publisher]").input_value() == "الدفاع المدني السوري"
    assert kept.locator("select[name=kind]").input_value() == "ngo"
    assert show(store, "CS1095")["version"] == before
    context.close()


def test_the_issue_16_scenario_in_a_browser(browser: object, server: tuple[str, Path],
                                           shots: Path) -> None:
    """A typo'd date amended, a wrongly recorded claim retracted, the grade flagged and
    re-graded, a duplicate mark undone; the audit passes afterwards."""
    base, store = server
    runner = CliRunner()

    def cli_ok(*args: str) -> None:
        result = runner.invoke(cli, ["--store", str(store), "--actor", "cli", *args])
        assert result.exit_code == 0, result.output

    cli_ok("report", "CS8101", "--date", "2017-03-12", "--location", "Mosul al-Jadida",
           "--country", "Iraq", "--belligerent", "US-led Coalition", "--killed", "105-200")
    for n, (rating, kind) in enumerate([("B2", "ngo"), ("C3", "media")], start=1):
        cli_ok("source", "add", "CS8101", "--url", f"https://example.org/{n}", "--publisher",
               f"P{n}", "--kind", kind, "--reliability", rating[0], "--credibility", rating[1])
    cli_ok("strike", "confirm", "CS8101", "--belligerent", "US-led Coalition", "--status",
           "declared")
    cli_ok("contest", "CS8101", "--belligerent", "Russian Military", "--reason", "typed in")
    cli_ok("grade", "CS8101")
    cli_ok("report", "CS8102", "--date", "2017-03-17", "--location", "Mosul al-Jadida",
           "--country", "Iraq", "--belligerent", "US-led Coalition")
    cli_ok("duplicate", "CS8102", "--of", "CS8101")

    context = browser.new_context(viewport={"width": 1366, "height": 900},  # type: ignore[attr-defined]
                                  java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/incidents/CS8101")
    amend = page.locator("#action-amend")
    amend.locator("summary").click()
    assert amend.locator("[name=date]").input_value() == "2017-03-12"  # filled in
    amend.locator("[name=date]").fill("2017-03-17")
    amend.locator("[name=reason]").fill("typed the 12th for the 17th")
    amend.locator("button[type=submit]").click()
    assert "amended CS8101: date" in page.locator(".flash").inner_text()
    assert "amended date 2017-03-12 → 2017-03-17" in page.locator("ol.timeline").inner_text()

    claim = page.locator("ul.evidence li", has_text="Russian Military")
    claim.locator("summary", has_text="Retract").click()
    claim.locator("[name=reason]").fill("the claim belongs to another incident")
    claim.locator("button[type=submit]").click()
    assert "retracted c1 of CS8101" in page.locator(".flash").inner_text()
    assert "Waiting for re-grading" in page.locator(".notice").first.inner_text()
    assert show(store, "CS8101")["regrade_due"] is True
    page.screenshot(path=str(shots / "regrade-due.png"), full_page=True)
    grade = page.locator("#action-grade")
    if grade.get_attribute("open") is None:
        grade.locator("summary").click()
    grade.locator("button[type=submit]").click()
    assert "graded fair by rule FAIR" in page.locator(".flash").inner_text()
    assert show(store, "CS8101")["regrade_due"] is False

    page.goto(base + "/incidents/CS8102")
    undo = page.locator("#action-undo_duplicate")
    undo.locator("summary").click()
    undo.locator("[name=reason]").fill("a second strike that morning")
    undo.locator("button[type=submit]").click()
    assert "no longer a duplicate of CS8101" in page.locator(".flash").inner_text()
    assert show(store, "CS8102")["duplicate_of"] is None
    context.close()
    audit = runner.invoke(cli, ["--store", str(store), "audit", "verify"])
    assert audit.exit_code == 0 and "intact" in audit.output, audit.output


@pytest.fixture
def team_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`verify serve` for a team: amira proposes, badr (signed in) could approve."""
    store, team = tmp_path / "team.sqlite", tmp_path / "team.toml"
    run = CliRunner().invoke
    assert run(cli, ["--store", str(store), "demo"]).exit_code == 0
    for name in ("amira", "badr"):
        added = run(cli, ["--team", str(team), "team", "add", name, "--role", "analyst",
                          "--password"], input=f"{name}-passphrase\n")
        assert added.exit_code == 0, added.output
    steps = [["report", "CS9001", "--date", "2017-03-17", "--location", "Raqqa", "--country",
              "Syria", "--belligerent", "Coalition"],
             ["source", "add", "CS9001", "--url", "https://a.example/1", "--publisher", "A",
              "--kind", "ngo", "--reliability", "B", "--credibility", "2"],
             ["source", "add", "CS9001", "--url", "https://b.example/2", "--publisher", "B",
              "--kind", "ngo", "--reliability", "B", "--credibility", "2"],
             ["strike", "confirm", "CS9001", "--belligerent", "Coalition", "--status",
              "declared"],
             ["grade", "CS9001"]]
    for step in steps:
        done = run(cli, ["--store", str(store), "--team", str(team), "--actor", "amira", *step])
        assert done.exit_code == 0, done.output
    assert show(store, "CS9001")["proposal"] is not None
    port = free_port()
    env = {**os.environ, "VERIFY_SECRET_KEY": secrets.token_hex(32)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
         "--store", str(store), "--team", str(team), "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/sign-in", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"verify serve did not start: "
                                     f"{process.communicate()[1].decode()}") from None
            time.sleep(0.1)
    yield base, store
    process.terminate()
    process.wait(timeout=10)


def test_a_planted_script_address_cannot_act_for_the_reader(
        browser: object, team_server: tuple[str, Path]) -> None:
    """The stored XSS that once approved a colleague's grade in the reader's name."""
    base, store = team_server
    from verify.adapters.store import parse_store
    from verify.application.app import VerifyApp

    app = VerifyApp(env={**parse_store(str(store)).env(), "CREATE_TABLE": "n"})
    incident = app.load("CS9001")
    attack = ("javascript:fetch('/incidents/CS9001').then(r=>r.text()).then(t=>{"
              "const c=t.match(/name=\"csrf\" value=\"([^\"]+)\"/)[1];"
              "const v=t.match(/name=\"version\" value=\"(\\d+)\"/)[1];"
              "fetch('/incidents/CS9001/approve',{method:'POST',headers:"
              "{'Content-Type':'application/x-www-form-urlencoded'},"
              "body:'csrf='+c+'&version='+v})})")
    incident.trigger_event(incident.SourceAdded, source={
        "id": "s3", "url": attack, "publisher": "Planted", "kind": "media",
        "reliability": "F", "credibility": 6, "group": None, "protected": False,
        "published": None, "withdrawn": False}, actor="amira")
    app.save(incident)
    app.close()
    context = browser.new_context()  # type: ignore[attr-defined]  # scripts on, as people browse
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.fill("input[name=name]", "badr")
    page.fill("input[name=password]", "badr-passphrase")
    page.click("form[action='/sign-in'] button[type=submit]")
    response = page.goto(base + "/incidents/CS9001")
    assert response is not None
    assert "script-src" not in response.headers["content-security-policy"]
    assert page.locator("a[href^='javascript' i], a[href*='JavaScript']").count() == 0
    page.locator("td", has_text="Planted").first.click()
    # Even a link the page did not draw (put there by an extension, say) runs nothing.
    page.evaluate("""(href) => { const a = document.createElement('a'); a.id = 'planted';
                     a.href = href; a.textContent = 'planted'; document.body.append(a); }""",
                  attack.strip())
    page.click("#planted")
    page.wait_for_timeout(1500)
    assert show(store, "CS9001")["grade"] is None
    assert show(store, "CS9001")["proposal"] is not None
    context.close()


def test_evidence_files_in_a_browser_upload_thumbnail_graphic_download(
        browser: object, server: tuple[str, Path], shots: Path, tmp_path: Path) -> None:
    """A file chosen in the page's form goes up streamed; a picture gets a thumbnail, a
    graphic one only after a click; a download is a copy re-hashed and recorded."""
    from PIL import Image, ImageDraw

    base, store = server
    pictures = []
    for name, colour in (("rubble.jpg", (190, 180, 160)), ("wounded.jpg", (120, 30, 30))):
        picture = Image.new("RGB", (800, 600), colour)
        ImageDraw.Draw(picture).rectangle([100, 100, 500, 400], fill=(30, 30, 30))
        path = tmp_path / name
        picture.save(path, quality=90)
        pictures.append(path)
    context = browser.new_context(viewport={"width": 1366, "height": 900},  # type: ignore[attr-defined]
                                  java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    code = "CS1095"
    page.goto(f"{base}/incidents/{code}")

    def add(path: Path, description: str, graphic: bool = False) -> None:
        form = page.locator("#action-add-file")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        form.locator("input[name=file]").set_input_files(str(path))
        form.locator("textarea[name=description]").fill(description)
        if graphic:
            form.locator("input[name=graphic]").check()
        form.locator("button[type=submit]").click()
        assert f"to {code}: image/jpeg" in page.locator(".flash").inner_text()

    add(pictures[0], "أنقاض المخبز بعد الغارة — the bakery's rubble")
    add(pictures[1], "the wounded at the hospital", graphic=True)
    shown = page.locator("img.thumbnail")
    assert shown.count() == 1  # the graphic one is not drawn until asked
    assert shown.evaluate("i => i.complete && i.naturalWidth") == 320
    page.locator("#files").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "evidence-files.png"), full_page=False)
    page.click("a.graphic")
    assert page.locator("img.thumbnail").count() == 2

    first = page.locator("#file-e1 form.copy")
    first.locator("input[name=reason]").fill("for the monthly report")
    with page.expect_download() as waiting:
        first.locator("button[type=submit]").click()
    download = waiting.value
    assert download.suggested_filename == f"{code}-e1-rubble.jpg"
    assert Path(download.path()).read_bytes() == pictures[0].read_bytes()
    history = CliRunner().invoke(cli, ["--store", str(store), "history", code]).stdout
    assert "copied file e1 out" in history and "for the monthly report" in history
    context.close()


def start_server(store: Path, *extra: str, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """`verify serve` on a store, with extra options, once it answers.

    What the server prints goes to serve.log beside the store, never to a pipe nobody
    reads: a pipe that fills (a few tracebacks) would stop the server mid-test."""
    port = free_port()
    log = store.parent / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", "from verify.entrypoints.cli import main; main()",
             "--store", str(store), *extra, "serve", "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/sign-in", timeout=2).read()
            return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise AssertionError(f"verify serve did not start: "
                                     f"{log.read_text(errors='replace')}") from None
            time.sleep(0.1)


def test_two_members_in_two_browsers_hand_over_discuss_and_tag(
        browser: object, tmp_path: Path, shots: Path) -> None:
    """One member assigns an incident and mentions the other; the other finds both in their
    inbox, answers and tags it; the history says who did what, and when."""
    store, team = tmp_path / "verify.sqlite", tmp_path / "team.toml"
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", str(store), "demo"]).exit_code == 0
    for name in ("amira", "jonas"):
        assert runner.invoke(cli, ["--team", str(team), "team", "add", name, "--role",
                                   "analyst", "--password"],
                             input=f"{name}-passphrase\n").exit_code == 0
    process, base = start_server(store, "--team", str(team))
    code = "CS1095"
    try:
        pages = {}
        for name in ("amira", "jonas"):
            context = browser.new_context(  # type: ignore[attr-defined]
                viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            page = context.new_page()
            page.goto(base + "/sign-in")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", f"{name}-passphrase")
            page.click("form button[type=submit]")
            pages[name] = page
        amira, jonas = pages["amira"], pages["jonas"]

        amira.goto(f"{base}/incidents/{code}")
        amira.select_option("form[action$='/assign'] select[name=assignee]", "jonas")
        amira.click("form[action$='/assign'] button[type=submit]")
        assert f"assigned {code} to jonas" in amira.locator(".flash").inner_text()
        amira.fill("form.comment textarea[name=text]",
                   "@jonas the strike report puts it 2 km east of the bakery; can you check?")
        amira.click("form.comment button[type=submit]")
        assert "mentioning jonas" in amira.locator(".flash").inner_text()

        jonas.goto(base + "/")
        jonas.click("header nav >> text=Inbox")
        items = jonas.locator("ul.inbox li")
        assert items.count() == 2
        assert "amira mentioned you in m1" in items.nth(0).inner_text()
        assert "assigned to you by amira" in items.nth(1).inner_text()
        items.nth(0).locator("a.code").click()
        reply = jonas.locator("#m1 details.reply")
        reply.locator("summary").click()
        reply.locator("textarea[name=text]").fill("Checked on the map: it matches the report.")
        reply.locator("button[type=submit]").click()
        jonas.fill("form[action$='/tag'] input[name=tags]", "needs-geolocation, الطبقة")
        jonas.click("form[action$='/tag'] button[type=submit]")
        assert jonas.locator("#tags a.tag").all_inner_texts() == ["needs-geolocation", "الطبقة"]
        assert jonas.locator("#m2.depth-1").count() == 1
        jonas.goto(f"{base}/incidents/{code}#assignee")
        jonas.screenshot(path=str(shots / "casework.png"), full_page=False)
        jonas.goto(f"{base}/incidents/{code}#discussion")
        jonas.screenshot(path=str(shots / "discussion.png"), full_page=False)
        jonas.goto(base + "/inbox")
        assert "(answered)" in jonas.locator("ul.inbox li").nth(0).inner_text()
        jonas.goto(base + "/?assignee=jonas")
        row = jonas.locator(f"tr:has(a.code:text('{code}'))")
        assert "jonas" in row.inner_text() and "needs-geolocation" in row.inner_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
    history = json.loads(runner.invoke(cli, ["--store", str(store), "history", code,
                                             "--json"]).stdout)
    assert [(e["event"], e["actor"]) for e in history if e["event"] in (
        "Assigned", "Commented", "Tagged")] == [
        ("Assigned", "amira"), ("Commented", "amira"), ("Commented", "jonas"),
        ("Tagged", "jonas")]
    assert all(e["at"] for e in history)


def signed_in(browser: object, base: str, name: str) -> Any:
    """A page in a browser of its own (cookies apart), signed in as a member of the team."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},  # type: ignore[attr-defined]
                                  java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-passphrase")
    page.click("form[action='/sign-in'] button[type=submit]")
    assert page.locator("header .who").inner_text().startswith(name)
    return page


def side_forms(page: Any) -> set[str]:
    """The changes the page's side list offers, by name (`#action-NAME`)."""
    ids = page.locator("aside details.action").evaluate_all(
        "found => found.map(d => d.id)")
    return {found.removeprefix("action-") for found in ids}


def test_forms_follow_the_members_role_in_a_browser(
        browser: object, tmp_path: Path, shots: Path) -> None:
    """Each member, signed in in a browser of their own, is offered on the same incident only
    what their role may do: an auditor nothing, a reporter sources and notes, an analyst
    grades (not overrides), and the analyst who proposed a grade is not offered Approve (the
    page says why) while a reviewer is, and approving works."""
    store, team = tmp_path / "verify.sqlite", tmp_path / "team.toml"
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", str(store), "demo"]).exit_code == 0
    roles = {"lina": "auditor", "rana": "reporter", "amira": "analyst", "badr": "reviewer"}
    for name, role in roles.items():
        added = runner.invoke(cli, ["--team", str(team), "team", "add", name, "--role", role,
                                    "--password"], input=f"{name}-passphrase\n")
        assert added.exit_code == 0, added.output
    code = "CS1095"  # strike-confirmed on one credible source: the rulebook says weak
    process, base = start_server(store, "--team", str(team),
                                 env={"VERIFY_SECRET_KEY": secrets.token_hex(32)})
    try:
        pages = {name: signed_in(browser, base, name) for name in roles}
        for page in pages.values():
            page.goto(f"{base}/incidents/{code}")

        lina = pages["lina"]  # an auditor reads everything and changes nothing
        assert "auditor" in lina.locator("header .who").inner_text()
        assert lina.locator("form[method=post][action^='/incidents/']").count() == 0
        assert lina.locator("aside details.action, ul.not-now, form.comment").count() == 0
        assert "your role changes nothing" in lina.locator("aside").inner_text()
        assert lina.locator("header a[href='/report']").count() == 0
        lina.goto(base + "/report")
        assert "Your role does not report incidents" in lina.locator("main").inner_text()
        assert lina.locator("form[action='/report']").count() == 0

        rana = pages["rana"]  # a reporter adds sources and notes, and comments
        assert side_forms(rana) == {"source", "note"}
        assert rana.locator("ul.not-now").count() == 0
        assert rana.locator("form.comment").count() == 1
        assert rana.locator("form[action$='/assign'], form[action$='/tag'], "
                            "form[action$='/retract'], #action-add-file").count() == 0
        assert rana.locator("header a[href='/report']").count() == 1
        note = rana.locator("#action-note")
        note.locator("summary").click()
        note.locator("textarea[name=text]").fill("the local network posted a second video")
        note.locator("button[type=submit]").click()
        assert f"added a note to {code}" in rana.locator(".flash").inner_text()

        amira = pages["amira"]  # an analyst grades by the rulebook; only a reviewer overrides
        amira.goto(f"{base}/incidents/{code}")
        offered = side_forms(amira)
        assert {"source", "rerate", "withdraw", "strike", "grade", "amend", "note"} <= offered
        assert not offered & {"override", "approve", "resolve", "dispute"}
        assert amira.locator("form[action$='/override'], form[action$='/approve']").count() == 0
        not_now = amira.locator("ul.not-now").inner_text()
        assert f"Approve the proposed grade: not now, incident {code} has no proposed grade " \
            "to approve" in not_now
        assert f"Resolve the dispute: not now, incident {code} has no open dispute" in not_now
        source = amira.locator("#action-source")
        source.locator("summary").click()
        source.locator("[name=url]").fill("https://airwaves.example/hajin")
        source.locator("[name=publisher]").fill("Airwaves")
        source.locator("select[name=kind]").select_option("ngo")
        source.locator("select[name=reliability]").select_option("B")
        source.locator("select[name=credibility]").select_option("2")
        source.locator("button[type=submit]").click()
        assert "now corroborated" in amira.locator(".flash").inner_text()
        grade = amira.locator("#action-grade")
        if grade.get_attribute("open") is None:
            grade.locator("summary").click()
        grade.locator("button[type=submit]").click()
        assert f"{code}: grade fair proposed" in amira.locator(".flash").inner_text()
        assert show(store, code)["grade"] is None
        proposed = amira.locator(".notice").first.inner_text()
        assert "Proposed: fair by rule FAIR, by amira" in proposed
        assert amira.locator("#action-approve, form[action$='/approve']").count() == 0
        assert "grade" not in side_forms(amira)  # proposed once; the page says so
        assert f"Approve the proposed grade: not now, amira proposed the grade of incident " \
            f"{code}; a different person must approve it" \
            in amira.locator("ul.not-now").inner_text()
        amira.screenshot(path=str(shots / "forms-by-role.png"), full_page=True)

        badr = pages["badr"]  # a reviewer, the second person: offered Approve and Override
        badr.goto(f"{base}/incidents/{code}")
        assert {"approve", "override"} <= side_forms(badr)
        approve = badr.locator("#action-approve")
        assert approve.get_attribute("open") is not None
        assert "Approve fair proposed by amira." in approve.inner_text()
        approve.locator("button[type=submit]").click()
        assert f"{code} graded fair: approved by badr" in badr.locator(".flash").inner_text()
        assert "approve" not in side_forms(badr)
        for page in pages.values():
            page.context.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    final = show(store, code)
    assert final["grade"] == "fair" and final["proposal"] is None
    history = json.loads(runner.invoke(cli, ["--store", str(store), "history", code,
                                             "--json"]).stdout)
    assert [(e["event"], e["actor"]) for e in history[3:]] == [
        ("NoteAdded", "rana"), ("SourceAdded", "amira"), ("Corroborated", "amira"),
        ("GradeProposed", "amira"), ("Graded", "amira"), ("GradeApproved", "badr")]


def test_a_stale_form_comes_back_with_what_was_typed(
        browser: object, server: tuple[str, Path]) -> None:
    """Two people have the same incident open; one records a note. The other's source, typed
    at the old version, is refused as stale (409) and comes back open with every value kept;
    nothing of it is recorded until it is submitted again."""
    base, store = server
    code = "CS1095"
    first, second = (browser.new_context(java_script_enabled=False).new_page()  # type: ignore[attr-defined]
                     for _ in range(2))
    for page in (first, second):
        page.goto(f"{base}/incidents/{code}")
    before: int = show(store, code)["version"]  # type: ignore[assignment]

    note = first.locator("#action-note")
    note.locator("summary").click()
    note.locator("textarea[name=text]").fill("the hospital list arrived; checking names")
    note.locator("button[type=submit]").click()
    assert f"added a note to {code}" in first.locator(".flash").inner_text()
    assert show(store, code)["version"] == before + 1

    typed = {"url": "https://syriacivildefense.example/hajin-2017-03-26",
             "publisher": "الدفاع المدني السوري", "group": "white-helmets",
             "published": "2017-03-27"}
    chosen = {"kind": "ngo", "reliability": "B", "credibility": "2"}
    form = second.locator("#action-source")  # still at the old version
    form.locator("summary").click()
    for name, value in typed.items():
        form.locator(f"input[name={name}]").fill(value)
    for name, value in chosen.items():
        form.locator(f"select[name={name}]").select_option(value)
    form.locator("input[name=protected]").check()
    with second.expect_response(lambda r: r.request.method == "POST") as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 409
    said = second.locator(".error").inner_text()
    assert said.startswith(f"incident {code} changed since you opened it"), said
    assert "Nothing of yours was recorded" in said
    kept = second.locator("#action-source")
    assert kept.get_attribute("open") is not None
    for name, value in typed.items():
        assert kept.locator(f"input[name={name}]").input_value() == value, name
    for name, value in chosen.items():
        assert kept.locator(f"select[name={name}]").input_value() == value, name
    assert kept.locator("input[name=protected]").is_checked()
    assert "the hospital list arrived" in second.locator("section").inner_text()  # as it is now
    assert int(kept.locator("input[name=version]").input_value()) == before + 1
    now: dict[str, Any] = show(store, code)
    assert now["version"] == before + 1 and len(now["sources"]) == 1
    history = json.loads(CliRunner().invoke(cli, ["--store", str(store), "history", code,
                                                  "--json"]).stdout)
    assert history[-1]["event"] == "NoteAdded"

    with second.expect_response(lambda r: r.request.method == "POST") as answer:
        kept.locator("button[type=submit]").click()
    assert answer.value.status == 303
    assert f"added source s2 to {code}" in second.locator(".flash").inner_text()
    added = show(store, code)["sources"][1]  # type: ignore[index]
    assert {key: added[key] for key in ("url", "publisher", "kind", "rating", "group",
                                        "published", "protected")} == {
        "url": typed["url"], "publisher": typed["publisher"], "kind": "ngo", "rating": "B2",
        "group": "white-helmets", "published": "2017-03-27", "protected": True}
    history = json.loads(CliRunner().invoke(cli, ["--store", str(store), "history", code,
                                                  "--json"]).stdout)
    assert [e["event"] for e in history[before:]] == ["NoteAdded", "SourceAdded", "Corroborated"]
    first.context.close()
    second.context.close()


PHONE = {"width": 390, "height": 844}
"""A phone's viewport in CSS pixels (an iPhone 12 to 15)."""


def test_every_page_fits_a_phone_without_sideways_scrolling(
        browser: object, server: tuple[str, Path], shots: Path) -> None:
    base, _ = server
    context = browser.new_context(viewport=PHONE, java_script_enabled=False,  # type: ignore[attr-defined]
                                  device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    paths = ["/", "/?state=reported", "/incidents/CS1095", "/incidents/CI1050",
             "/incidents/CI1050?version=2", "/incidents/CS1095?known_on=2017-03-27", "/stats",
             "/stats?by=belligerent", "/search?q=Mosul", "/report", "/inbox"]
    too_wide = {}
    for path in paths:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    page.goto(base + "/")
    page.screenshot(path=str(shots / "phone-queue.png"), full_page=False)
    page.goto(base + "/incidents/CS1095")
    page.screenshot(path=str(shots / "phone-incident.png"), full_page=False)
    context.close()
    assert not too_wide, f"wider than {PHONE['width']} px: {too_wide}"


def test_arabic_pages_read_right_to_left_in_a_browser(
        browser: object, server: tuple[str, Path], shots: Path) -> None:
    """?lang=ar: the pages are laid out right to left (labels to the right of their fields,
    the side column on the left), fit a desktop and a phone without sideways scrolling, and
    keep the queue's filters working."""
    base, _ = server
    paths = {"queue": "/?lang=ar", "incident": "/incidents/CS1070?lang=ar",
             "stats": "/stats?lang=ar"}
    too_wide = {}
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        phone = viewport is PHONE
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport=viewport, java_script_enabled=False, device_scale_factor=2 if phone else 1,
            is_mobile=phone)
        page = context.new_page()
        for name, path in paths.items():
            page.goto(base + path)
            assert page.evaluate("document.documentElement.dir") == "rtl", path
            assert page.evaluate("document.documentElement.lang") == "ar", path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                too_wide[(name, viewport["width"])] = width
            if phone and name in ("queue", "incident"):
                page.screenshot(path=str(shots / f"ar-phone-{name}.png"), full_page=False)
        context.close()
    assert not too_wide, f"sideways scrolling: {too_wide}"

    context = browser.new_context(viewport={"width": 1280, "height": 900},  # type: ignore[attr-defined]
                                  java_script_enabled=False)
    page = context.new_page()
    page.goto(base + paths["queue"])
    assert page.locator("h1").inner_text() == "قائمة المراجعة"
    # A label above its field starts where the field starts: at the right.
    label = page.locator("label[for=state]").bounding_box()
    field = page.locator("select#state").bounding_box()
    assert label and field
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2
    page.select_option("select#state", "strike-confirmed")  # the value, not the word shown
    page.click("form.filters button[type=submit]")
    assert "state=strike-confirmed" in page.url
    assert set(page.locator("table.cards td[data-label='الحالة']").all_inner_texts()) == {
        "الضربة مؤكَّدة"}
    page.goto(base + paths["queue"])
    page.screenshot(path=str(shots / "ar-queue.png"), full_page=True)

    page.goto(base + paths["incident"])
    # A label beside its field reads first, so it sits to the right of it.
    sides = page.locator("form[action$='/tag'] label").evaluate(
        """label => { const words = document.createRange();
                      words.selectNodeContents(label.firstChild);
                      const text = words.getBoundingClientRect();
                      const field = label.querySelector('input').getBoundingClientRect();
                      return [text.left, text.right, field.left, field.right]; }""")
    text_left, _, _, field_right = sides
    assert text_left >= field_right - 1, sides
    # The side column of forms is on the left, the incident's facts on the right.
    facts, forms = page.locator("dl.facts").bounding_box(), page.locator("aside").bounding_box()
    assert facts and forms and forms["x"] + forms["width"] <= facts["x"] + 1
    assert page.locator("dd strong").first.inner_text() == "معترَض عليها"
    page.screenshot(path=str(shots / "ar-incident.png"), full_page=True)
    page.goto(base + paths["stats"])
    assert page.locator("svg rect").count() > 0
    page.screenshot(path=str(shots / "ar-stats.png"), full_page=True)
    context.close()

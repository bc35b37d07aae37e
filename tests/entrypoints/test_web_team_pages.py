"""A team's pages over HTTP (no browser needed): casework (assigning, discussing with
@mentions and answers, tagging, the inbox, the queue's columns and filters), and forms that
fit: only those the member's role and the incident's state allow, the absence of the
weighty ones explained, and a refused or stale form back with what was typed."""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')
CODE = "CS1090"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def cli_run(store: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "cli", *args])


@pytest.fixture
def team(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path / "team.toml"
    # Cheap password hashes: the web's sign-in is tested with real ones in test_web.py.
    write_team(Team(members={name: Member(name=name, role=Role(role),
                                          password_hash=CHEAP.hash(f"{name}-passphrase"))
                             for name, role in [("amira", "analyst"), ("jonas", "analyst"),
                                                ("omar", "reporter"), ("lina", "auditor")]}),
               path)
    assert cli_run(store_url, "init").exit_code == 0
    for code in (CODE, "CS1093"):
        assert cli_run(store_url, "report", code, "--date", "2017-03-21", "--location",
                       "مخبز، الطبقة", "--country", "Syria").exit_code == 0
    web = create_app(parse_store(store_url), team_file=path, local_actor="nobody",
                     secret_key=secrets.token_hex(32))
    with TestClient(web, base_url="http://127.0.0.1") as client:
        yield client, store_url


def sign_in(client: TestClient, name: str) -> None:
    client.cookies.clear()
    csrf = CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={"csrf": csrf, "name": name,
                                           "password": f"{name}-passphrase", "next": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303


def submit(client: TestClient, action: str, **fields: str) -> Any:
    page = client.get(f"/incidents/{CODE}").text
    data = {"csrf": CSRF.search(page).group(1),  # type: ignore[union-attr]
            "version": VERSION.search(page).group(1), **fields}  # type: ignore[union-attr]
    return client.post(f"/incidents/{CODE}/{action}", data=data, follow_redirects=False)


def test_two_members_hand_over_discuss_and_tag(team: tuple[TestClient, str]) -> None:
    client, store = team
    sign_in(client, "amira")
    assert submit(client, "assign", assignee="jonas").status_code == 303
    answer = submit(client, "comment", text="@jonas is the bakery the one on the map?")
    assert answer.status_code == 303 and answer.headers["location"].endswith("#discussion")
    assert "mentioning jonas" in client.get(f"/incidents/{CODE}").text

    sign_in(client, "jonas")
    inbox = client.get("/inbox").text
    assert "amira mentioned you in m1" in inbox and "assigned to you by amira" in inbox
    assert f'href="/incidents/{CODE}#m1"' in inbox
    api = client.get("/api/inbox").json()
    assert [(item["kind"], item["comment"]) for item in api] == [
        ("mentioned", "m1"), ("assigned", None)]
    assert submit(client, "comment", text="yes: 36.01, 38.55", reply_to="m1").status_code == 303
    assert submit(client, "tag", tags="needs-geolocation, الطبقة").status_code == 303
    page = client.get(f"/incidents/{CODE}").text
    assert re.search(r'<li id="m2" class="depth-1">', page)  # the answer under its comment
    assert 'href="/?tag=needs-geolocation"' in page
    assert "(answered)" in client.get("/inbox").text

    queue = client.get("/?assignee=JONAS").text
    assert CODE in queue and "CS1093" not in queue and "needs-geolocation" in queue
    assert "CS1093" not in client.get("/?tag=Needs Geolocation").text
    assert CODE in client.get("/?tag=Needs Geolocation").text
    assert [e["code"] for e in client.get("/api/queue?tag=needs-geolocation").json()] == [CODE]
    history = json.loads(cli_run(store, "history", CODE, "--json").stdout)
    assert [(e["event"], e["actor"]) for e in history[1:]] == [
        ("Assigned", "amira"), ("Commented", "amira"), ("Commented", "jonas"),
        ("Tagged", "jonas")]
    assert submit(client, "untag", tags="needs-geolocation").status_code == 303
    assert submit(client, "unassign").status_code == 303
    assert "assigned to you" not in client.get("/inbox").text


@pytest.mark.slow  # the inner loop keeps test_roles_see_their_own_links_and_forms
def test_forms_follow_the_role(team: tuple[TestClient, str]) -> None:
    client, _ = team
    sign_in(client, "omar")  # a reporter: may comment, not assign or tag
    page = client.get(f"/incidents/{CODE}").text
    assert f'action="/incidents/{CODE}/comment"' in page
    assert f'action="/incidents/{CODE}/assign"' not in page
    assert f'action="/incidents/{CODE}/tag"' not in page
    sign_in(client, "lina")  # an auditor: reads the discussion, offered no form
    page = client.get(f"/incidents/{CODE}").text
    assert "/comment" not in page and "/assign" not in page
    sign_in(client, "amira")
    assert f'action="/incidents/{CODE}/assign"' in client.get(f"/incidents/{CODE}").text
    assert cli_run(team[1], "duplicate", "CS1093", "--of", CODE).exit_code == 0
    duplicate = client.get("/incidents/CS1093").text
    assert "/incidents/CS1093/assign" not in duplicate
    assert "/incidents/CS1093/comment" not in duplicate


def test_a_refused_comment_comes_back_with_what_was_typed(
        team: tuple[TestClient, str]) -> None:
    client, store = team
    sign_in(client, "amira")
    before = json.loads(cli_run(store, "show", CODE, "--json").stdout)["version"]
    typed = "@jonsa a long careful paragraph about the strike report's coordinates"
    refused = submit(client, "comment", text=typed)
    assert refused.status_code == 400
    assert ERROR.findall(refused.text) == [
        "no member of the team is called jonsa; did you mean jonas?"]
    assert typed in html.unescape(refused.text)  # in the comment box again, to correct
    assert json.loads(cli_run(store, "show", CODE, "--json").stdout)["version"] == before
    # Someone else records something while the form is open: nothing of this one is lost.
    page = client.get(f"/incidents/{CODE}").text
    assert cli_run(store, "note", CODE, "meanwhile").exit_code == 0
    stale = client.post(f"/incidents/{CODE}/comment", data={
        "csrf": CSRF.search(page).group(1),  # type: ignore[union-attr]
        "version": VERSION.search(page).group(1),  # type: ignore[union-attr]
        "text": "second thoughts"}, follow_redirects=False)
    assert stale.status_code == 409 and "second thoughts" in stale.text
    assert json.loads(cli_run(store, "show", CODE, "--json").stdout)["version"] == before + 1


def offered(client: TestClient, code: str = CODE) -> set[str]:
    page = client.get(f"/incidents/{code}").text
    return set(re.findall(rf'<form[^>]* action="/incidents/{code}/(\w+)"', page))


@pytest.mark.slow  # a team and its pages: a third of a second
def test_the_forms_offered_follow_the_state(team: tuple[TestClient, str]) -> None:
    client, store = team
    sign_in(client, "amira")
    # Reported, no source: nothing to re-rate, withdraw, cite for a victim, grade or approve.
    files = set() if store.startswith("postgresql") else {"files"}  # a place for files
    assert offered(client) == {"source", "strike", "contest", "assess", "discount", "revise",
                               "duplicate", "amend", "note", "assign", "tag", "comment"} | files
    page = client.get(f"/incidents/{CODE}").text
    assert "<strong>Grade by the rulebook</strong>: not now," in page
    assert "<strong>Approve the proposed grade</strong>: not now, incident CS1090 has no " \
        "proposed grade to approve." in page
    for url in ("https://a.example/1", "https://b.example/2"):
        assert cli_run(store, "source", "add", CODE, "--url", url, "--publisher", url[8:17],
                       "--kind", "ngo", "--reliability", "B", "--credibility", "2"
                       ).exit_code == 0
    assert cli_run(store, "strike", "confirm", CODE, "--belligerent", "Coalition",
                   "--status", "declared").exit_code in (0, 1)
    assert {"rerate", "withdraw", "victim", "grade"} <= offered(client)
    assert submit(client, "grade").status_code == 303  # fair or better: proposed in a team
    proposed = json.loads(cli_run(store, "show", CODE, "--json").stdout)["proposal"]
    if proposed is not None:
        assert "approve" not in offered(client)  # not to the one who proposed it
        assert "a different person must approve it" in client.get(f"/incidents/{CODE}").text
        sign_in(client, "jonas")
        assert "approve" in offered(client)
        assert submit(client, "approve").status_code == 303
    sign_in(client, "jonas")
    assert "dispute" in offered(client) and "resolve" not in offered(client)
    assert submit(client, "dispute", by="Coalition", reason="says it hit a depot"
                  ).status_code == 303
    assert "dispute" not in offered(client) and "grade" not in offered(client)  # resolve first
    assert "resolve" not in offered(client)  # not by the one who opened it
    assert "a different person must resolve it" in client.get(f"/incidents/{CODE}").text
    sign_in(client, "amira")
    assert "resolve" in offered(client)


def test_roles_see_their_own_links_and_forms(team: tuple[TestClient, str]) -> None:
    client, _ = team
    sign_in(client, "lina")  # an auditor reports nothing
    assert 'href="/report"' not in client.get("/").text
    assert "Your role does not report incidents" in client.get("/report").text
    assert offered(client) == set()
    sign_in(client, "omar")
    assert 'href="/report"' in client.get("/").text
    assert offered(client) == {"source", "note", "comment"}


@pytest.mark.slow  # the inner loop keeps a refused comment coming back
def test_a_refused_form_comes_back_filled_and_open(team: tuple[TestClient, str]) -> None:
    client, store = team
    sign_in(client, "amira")
    before = json.loads(cli_run(store, "show", CODE, "--json").stdout)["version"]
    refused = submit(client, "source", url="not an address", publisher="شبكة الطبقة",
                     kind="social", reliability="C", credibility="3", group="tabqa-net")
    assert refused.status_code == 400 and ERROR.findall(refused.text)
    page = html.unescape(refused.text)
    form = page[page.index('id="action-source"'):page.index('id="action-strike"')]
    assert form.split(">")[0].endswith("open")
    for kept in ('value="not an address"', 'value="شبكة الطبقة"', 'value="tabqa-net"',
                 "<option selected>social</option>", "<option selected>C</option>",
                 "<option selected>3</option>"):
        assert kept in form, kept
    other = page[page.index('id="action-revise"'):page.index('id="action-duplicate"')]
    assert "not an address" not in other  # only the refused form is filled
    assert json.loads(cli_run(store, "show", CODE, "--json").stdout)["version"] == before


@pytest.mark.slow  # a team and its pages: a quarter second
def test_a_duplicate_offers_only_taking_the_mark_back(team: tuple[TestClient, str]) -> None:
    client, store = team
    assert cli_run(store, "duplicate", "CS1093", "--of", CODE).exit_code == 0
    sign_in(client, "amira")
    assert offered(client, "CS1093") == {"undo_duplicate"}

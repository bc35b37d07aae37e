"""The change feed at the edges: `verify changes` through the command line, and the public
changes the web serves as `/api/changes` and `/feed.atom` (SPEC section 14).

An incident is worked with everything the public view withholds (a protected
source, victim and evidence file, a note, a comment, an assignment, a tag);
no output of the public view holds a byte of any of it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

SECRET_URL = "https://signal.invalid/zahra-7731"
SECRET_PUBLISHER = "Zahra Witness Circle"
SECRET_REASON = "Zahra proved right in March"
SECRET_VICTIM = "Layla Zahra"
SECRET_NOTE = "met the Zahra circle at the safe house"
SECRET_COMMENT = "ask the Zahra circle about the second strike"
SECRET_TAG = "zahra-followup"
SECRET_ASSIGNEE = "zahra-desk"
SECRET_FILE = "zahra-photo-of-the-basement"
SECRET_ORIGIN = "https://signal.invalid/zahra-file"
SECRETS = (SECRET_URL, SECRET_PUBLISHER, SECRET_REASON, SECRET_VICTIM, SECRET_NOTE,
           SECRET_COMMENT, SECRET_TAG, SECRET_ASSIGNEE, SECRET_FILE, SECRET_ORIGIN, "Zahra",
           "zahra", "Layla", "B2", "A2")
"""Every protected detail recorded below (B2, A2: the protected source's ratings)."""

HOSTILE = 'a <b>bold</b> & "quoted" \'reason\' ]]> \x01\x1b[31m\ufffe end\nsecond line'
"""A reason that must come out escaped in XML, inert on a terminal, on one line."""

ATOM = "{http://www.w3.org/2005/Atom}"
LOCAL = "http://127.0.0.1"
DAMAGED = ("the change cursor is damaged or was not made by verify: give one a page of "
           "changes ended with, or none to start from the first change")


@pytest.fixture
def run(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A store (either kind) with an incident worked with everything the public withholds."""
    monkeypatch.setenv("VERIFY_FILES", str(tmp_path / "evidence"))
    runner = CliRunner()

    def invoke(*args: str, actor: str = "amira") -> Result:
        return runner.invoke(cli, ["--store", store_url, "--actor", actor, *args])

    photo = tmp_path / "basement.txt"
    photo.write_bytes(b"not really a photo")
    steps = [
        ["init"],
        ["report", "CS1", "--date", "2017-03-17", "--location", "Mosul", "--country", "Iraq",
         "--belligerent", "Coalition"],
        ["source", "add", "CS1", "--url", SECRET_URL, "--publisher", SECRET_PUBLISHER,
         "--kind", "witness", "--reliability", "B", "--credibility", "2", "--protected",
         "--group", "zahra-circle"],
        ["source", "add", "CS1", "--url", "https://news.example/1", "--publisher", "Daily",
         "--kind", "media", "--reliability", "C", "--credibility", "3"],
        ["source", "rerate", "CS1", "s1", "--reliability", "A", "--credibility", "2",
         "--reason", SECRET_REASON],
        ["victim", "add", "CS1", "--name", SECRET_VICTIM, "--source", "s2", "--protected"],
        ["note", "CS1", SECRET_NOTE],
        ["comment", "CS1", SECRET_COMMENT],
        ["assign", "CS1", "--to", SECRET_ASSIGNEE],
        ["tag", "CS1", SECRET_TAG],
        ["evidence", "add", "CS1", str(photo), "--protected", "--description", SECRET_FILE,
         "--origin", SECRET_ORIGIN],
        ["strike", "confirm", "CS1", "--belligerent", "Coalition", "--status", "declared"],
        ["grade", "CS1"],
        ["source", "add", "CS1", "--url", "https://news.example/3", "--publisher", "Evening",
         "--kind", "media", "--reliability", "C", "--credibility", "3"],
        ["source", "withdraw", "CS1", "s3", "--reason", HOSTILE],
    ]
    for step in steps:
        result = invoke(*step)
        assert result.exit_code == 0, (step, result.output)
    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result.stdout


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked"


# ------------------------------------------------------------------ the command line


def test_one_line_per_change_and_the_same_as_json(run: Any) -> None:
    document = json.loads(ok(run("changes", "--json")))
    assert list(document) == ["changes", "next_cursor"] and document["next_cursor"] is None
    changes = document["changes"]
    assert all(list(change) == ["cursor", "code", "at", "by", "what", "why"]
               for change in changes)
    lines = ok(run("changes")).splitlines()
    assert len(lines) == len(changes) == 15
    for line, change in zip(lines, changes, strict=True):
        assert line.startswith(f"{change['cursor']}  {change['at'][:10]} ")
        assert f" CS1        {change['by']:<12} " in line
    assert lines[0].endswith("civilians killed unknown") and "reported CS1" in lines[0]
    assert "note added; why: met the Zahra circle" in ok(run("changes"))  # internal: all of it


def test_paging_on_from_the_cursor_given(run: Any) -> None:
    first = run("changes", "--limit", "3")
    lines = ok(first).splitlines()
    cursor = lines[2].split()[0]
    assert lines[-1] == f"more: verify changes --limit 3 --since {cursor}"
    following = json.loads(ok(run("changes", "--limit", "3", "--since", cursor, "--json")))
    assert len(following["changes"]) == 3
    assert following["next_cursor"] == following["changes"][-1]["cursor"]
    everything = json.loads(ok(run("changes", "--json")))["changes"]
    assert [change["cursor"] for change in following["changes"]] == [
        change["cursor"] for change in everything[3:6]]
    last = everything[-1]["cursor"]
    assert ok(run("changes", "--since", last)) == "no change after this cursor\n"
    assert ok(run("changes", "--since", last, "--json")) == (
        '{\n  "changes": [],\n  "next_cursor": null\n}\n')


def test_a_reason_on_several_lines_is_shown_on_one_and_inert(run: Any) -> None:
    line = ok(run("changes")).splitlines()[-1]
    assert line.endswith("withdrew source s3; why: a <b>bold</b> & \"quoted\" 'reason' ]]> "
                         "\\x01\\x1b[31m\ufffe end second line")


@pytest.mark.parametrize("form", [[], ["--json"]])
def test_the_public_changes_hold_no_protected_detail(run: Any, form: list[str]) -> None:
    internal = ok(run("changes", *form))
    for secret in (SECRET_PUBLISHER, SECRET_NOTE, SECRET_COMMENT, SECRET_FILE, SECRET_ORIGIN,
                   SECRET_TAG, SECRET_ASSIGNEE, SECRET_REASON):
        assert secret in internal  # the internal view tells it, to whoever holds the store
    public = ok(run("changes", "--public", *form))
    assert_no_secret(public)
    assert "added source s2: Daily (media, C3)" in public
    assert "s1 (protected)" in public  # the grade's reasons name it by id only
    assert "withheld" not in public  # left out, not stood in for
    if form:
        assert len(json.loads(public)["changes"]) == 7


@pytest.mark.parametrize(("args", "sentence"), [
    (["--since", "garbage"], DAMAGED),
    (["--since", "bG9nOjA"], DAMAGED),
    (["--since", base64.urlsafe_b64encode(b"log:999999").decode().rstrip("=")],
     "the change cursor is past the end of this store's log: it was made by another store, "
     "or this one was restored from an older copy"),
    (["--since", "\u202egarbage\x1b"], DAMAGED),
    (["--limit", "0"], "Invalid value for '--limit': 0 is not in the range 1<=x<=10000. "
                       "(see `cli changes --help`)"),
    (["--limit", "10001"], "Invalid value for '--limit': 10001 is not in the range "
                           "1<=x<=10000. (see `cli changes --help`)"),
])
def test_bad_input_is_one_sentence_and_exit_2(run: Any, args: list[str], sentence: str
                                              ) -> None:
    result = run("changes", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {sentence}\n"


def test_no_store_no_feed(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "none.sqlite"), "changes"])
    assert result.exit_code == 2 and result.stderr.startswith("error: there is no store at ")


# --------------------------------------------------------------------------- the web


@pytest.fixture
def served(run: Any, store_url: str) -> Iterator[TestClient]:
    api = create_app(parse_store(store_url), team_file=None, local_actor="web")
    with TestClient(api, base_url=LOCAL) as client:
        yield client


def test_the_api_serves_what_the_command_line_prints_in_public(run: Any, served: TestClient
                                                             ) -> None:
    answer = served.get("/api/changes")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.text == ok(run("changes", "--public", "--json"))
    assert "link" not in answer.headers
    assert served.get("/api/changes?since=").text == answer.text  # empty: from the first
    first = served.get("/api/changes", params={"limit": 2})
    cursor = first.json()["next_cursor"]
    assert first.headers["link"] == f'</api/changes?since={cursor}&limit=2>; rel="next"'
    assert served.get("/api/changes", params={"since": cursor}).text == ok(
        run("changes", "--public", "--json", "--since", cursor))
    assert_no_secret(answer.text)


@pytest.mark.parametrize(("query", "sentence"), [
    ({"since": "garbage"}, DAMAGED),
    ({"since": "bG9nOjk5OTk5OQ"}, "the change cursor is past the end of this store's log: it "
     "was made by another store, or this one was restored from an older copy"),
    ({"limit": "0"}, "limit: input should be greater than or equal to 1"),
    ({"limit": "10001"}, "limit: input should be less than or equal to 10000"),
])
def test_the_api_refuses_bad_input_with_one_sentence(served: TestClient, query: dict[str, str],
                                                     sentence: str) -> None:
    answer = served.get("/api/changes", params=query)
    assert answer.status_code == 400
    assert answer.json() == {"error": sentence}


def entries_of(feed: ElementTree.Element) -> list[ElementTree.Element]:
    return feed.findall(f"{ATOM}entry")


def next_page(feed: ElementTree.Element) -> str | None:
    found = [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "next"]
    return found[0] if found else None


RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def test_the_atom_feed_is_valid_newest_first_and_pages_back_to_the_first(
        run: Any, served: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("verify.entrypoints.web.feed.FEED_ENTRIES", 3)
    answer = served.get("/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert_no_secret(answer.text)
    feed = ElementTree.fromstring(answer.content)
    # RFC 4287: a feed has exactly one id, title and updated; each entry too, and an
    # author (its own or the feed's); links with rel="self" and "alternate".
    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *entries_of(feed)):
        for required in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{required}")) == 1, (element.tag, required)
        assert RFC3339.fullmatch(element.findtext(f"{ATOM}updated") or "")
    assert feed.findtext(f"{ATOM}id") == f"{LOCAL}/feed.atom"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "verify"
    assert {link.get("rel") for link in feed.findall(f"{ATOM}link")} == {
        "self", "alternate", "next"}
    public = json.loads(ok(run("changes", "--public", "--json")))["changes"]
    walked: list[ElementTree.Element] = []
    address: str | None = "/feed.atom"
    while address is not None:
        fetched = served.get(address)
        assert_no_secret(fetched.text)
        page = ElementTree.fromstring(fetched.content)
        assert len(entries_of(page)) <= 3
        walked.extend(entries_of(page))
        following = next_page(page)
        address = following.removeprefix(LOCAL) if following else None
    newest_first = list(reversed(public))
    assert [entry.findtext(f"{ATOM}id") for entry in walked] == [
        f"{LOCAL}/incidents/CS1#change-{change['cursor']}" for change in newest_first]
    assert [entry.findtext(f"{ATOM}title") for entry in walked] == [
        f"CS1: {change['what']}" for change in newest_first]
    assert [entry.findtext(f"{ATOM}updated") for entry in walked] == [
        change["at"] for change in newest_first]
    assert walked[0].findtext(f"{ATOM}author/{ATOM}name") == "amira"
    assert walked[0].find(f"{ATOM}link").get("href") == f"{LOCAL}/incidents/CS1"  # type: ignore[union-attr]
    # The hostile reason: escaped, whole, what XML cannot hold replaced (U+FFFD).
    assert walked[0].findtext(f"{ATOM}content") == (
        "withdrew source s3; why: a <b>bold</b> & \"quoted\" 'reason' ]]> \ufffd\ufffd[31m"
        "\ufffd end\nsecond line")
    assert "<b>" not in answer.text and "&lt;b&gt;bold" in answer.text
    # Ids do not change from one fetch to the next.
    again = ElementTree.fromstring(served.get("/feed.atom").content)
    assert [e.findtext(f"{ATOM}id") for e in entries_of(again)] == [
        e.findtext(f"{ATOM}id") for e in walked[:3]]
    older = parse_qs(urlsplit(next_page(feed) or "").query)["before"][0]
    assert older == public[-3]["cursor"]


def test_the_feed_speaks_the_readers_language(run: Any, served: TestClient) -> None:
    feed = ElementTree.fromstring(served.get("/feed.atom?lang=ar").content)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "ar"
    assert feed.findtext(f"{ATOM}title") == "التغييرات العلنية على الحوادث"
    assert "السبب:" in (entries_of(feed)[0].findtext(f"{ATOM}content") or "")


def test_a_damaged_feed_cursor_is_one_sentence(served: TestClient) -> None:
    answer = served.get("/feed.atom", params={"before": "garbage<script>"})
    assert answer.status_code == 400
    assert DAMAGED in answer.text and "garbage<script>" not in answer.text


CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.slow  # a team's server read four ways (Basic and a token, API and feed)
def test_with_a_team_the_feed_is_read_with_a_members_credentials(
        run: Any, store_url: str, tmp_path: Path) -> None:
    team_file = tmp_path / "team.toml"
    write_team(Team(members={"lina": Member(name="lina", role=Role.AUDITOR,
                                            password_hash=CHEAP.hash("lina-passphrase"))}),
               team_file)
    token = ok(CliRunner().invoke(cli, ["--team", str(team_file), "team", "token", "lina"]))
    api = create_app(parse_store(store_url), team_file=team_file, local_actor="nobody")
    basic = "Basic " + base64.b64encode(b"lina:lina-passphrase").decode()
    with TestClient(api, base_url=LOCAL) as client:
        refused = client.get("/api/changes")
        assert refused.status_code == 401 and list(refused.json()) == ["error"]
        unread = client.get("/feed.atom")
        assert unread.status_code == 401 and "Basic" in unread.headers["www-authenticate"]
        assert unread.text.startswith("sign in first")
        for credentials in (basic, f"Bearer {token.strip()}"):
            for address in ("/api/changes", "/feed.atom"):
                answer = client.get(address, headers={"Authorization": credentials})
                assert answer.status_code == 200, (address, answer.text[:200])
                assert_no_secret(answer.text)

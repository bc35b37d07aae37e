"""The web server against the attacks an adversarial pass found (issue 15, items 5, 6, 10).

Hosts (DNS rebinding), the session key, sessions that end, throttled and
equal-cost password checks that never run on the event loop, CSRF tokens of
any text. None of this depends on the kind of store, so it runs on SQLite;
the randomized requests of test_api_properties.py cover both stores.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.domain.duties import Member, Role, Team
from verify.domain.errors import InvalidInput
from verify.entrypoints.cli import cli
from verify.entrypoints.web import passwords
from verify.entrypoints.web.app import create_app
from verify.entrypoints.web.hosts import HostPolicy, host_name
from verify.entrypoints.web.sessions import WEAK_KEY, secret_key
from verify.entrypoints.web.throttle import ADDRESS_LIMIT, NAME_LIMIT

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LOCAL = "http://127.0.0.1"
PROTECTED_PUBLISHER = "Raqqa local monitoring network"
"""The demo's protected source (of CS1080): never shown to someone who should not see it."""

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Argon2 at its cheapest, so throttling tests make many checks quickly (the server checks
any hash at the parameters it was made with; the decoy copies them)."""


def cli_run(store: str, *args: str, actor: str = "cli", team: Path | None = None) -> Any:
    base = ["--store", store, "--actor", actor] + (["--team", str(team)] if team else [])
    return CliRunner().invoke(cli, [*base, *args])


def version(store: str, code: str) -> int:
    return int(json.loads(cli_run(store, "show", code, "--json").stdout)["version"])


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    assert cli_run(str(path), "demo").exit_code == 0
    return path


@pytest.fixture
def store(demo_file: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_file, path)
    return str(path)


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    """amira and badr (analysts) and lina (auditor) with passwords; omar without one."""
    path = tmp_path / "team.toml"
    members = {name: Member(name=name, role=role, password_hash=CHEAP.hash(f"{name}-passphrase"))
               for name, role in [("amira", Role.ANALYST), ("badr", Role.ANALYST),
                                  ("lina", Role.AUDITOR)]}
    members["omar"] = Member(name="omar", role=Role.REPORTER)
    write_team(Team(members=members), path)
    return path


def team_app(store: str, team_file: Path, **options: Any) -> FastAPI:
    return create_app(parse_store(store), team_file=team_file, local_actor="nobody",
                      secret_key=secrets.token_hex(32), **options)


@pytest.fixture
def team_client(store: str, team_file: Path) -> Iterator[TestClient]:
    with TestClient(team_app(store, team_file), base_url=LOCAL) as client:
        yield client


@pytest.fixture
def local_client(store: str) -> Iterator[TestClient]:
    with TestClient(create_app(parse_store(store), team_file=None, local_actor="web"),
                    base_url=LOCAL) as client:
        yield client


def sign_in(client: TestClient, name: str, password: str) -> httpx.Response:
    client.cookies.clear()
    csrf = CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    return client.post("/sign-in", data={"csrf": csrf, "name": name, "password": password},
                       follow_redirects=False)


# ------------------------------------------------------------------- hosts


def test_a_server_without_a_team_answers_no_other_host(local_client: TestClient,
                                                       store: str) -> None:
    """What DNS rebinding needs: the attacker's name in the Host header, at this server."""
    page = local_client.get("/incidents/CS1080")
    assert page.status_code == 200 and PROTECTED_PUBLISHER in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    before = version(store, "CS1080")
    hostile = {"Host": "attacker.example"}
    read = local_client.get("/incidents/CS1080", headers=hostile)
    assert read.status_code == 400
    assert read.text == "this server does not answer requests for that host name\n"
    assert PROTECTED_PUBLISHER not in read.text
    api = local_client.get("/api/incidents/CS1080", headers=hostile)
    assert api.status_code == 400
    assert api.json() == {"error": "this server does not answer requests for that host name"}
    written = local_client.post("/incidents/CS1080/note", headers=hostile, follow_redirects=False,
                                data={"csrf": csrf, "version": str(before), "text": "rebound"})
    assert written.status_code == 400
    assert version(store, "CS1080") == before
    assert "default-src 'none'" in written.headers["content-security-policy"]
    for host in ("attacker.example:8765", "127.0.0.1.attacker.example", "localhost.",
                 "10.0.0.5", "", "[::1", "localhost:http"):
        assert local_client.get("/", headers={"Host": host}).status_code == 400, host
    for host in ("localhost", "LOCALHOST:8765", "127.0.0.1:8765", "[::1]:8765", "127.0.0.2"):
        assert local_client.get("/", headers={"Host": host}).status_code == 200, host


def test_a_team_server_answers_loopback_numbers_or_the_names_listed(
        store: str, team_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERIFY_ALLOWED_HOSTS", raising=False)
    with TestClient(team_app(store, team_file), base_url=LOCAL) as client:
        for host, status in [("10.0.0.5:8765", 303), ("[2001:db8::1]", 303),
                             ("localhost", 303), ("verify.example.org", 400),
                             ("attacker.example", 400)]:
            answer = client.get("/", headers={"Host": host}, follow_redirects=False)
            assert answer.status_code == status, host
    monkeypatch.setenv("VERIFY_ALLOWED_HOSTS", " Verify.Example.org , archive.example.org")
    with TestClient(team_app(store, team_file), base_url=LOCAL) as client:
        for host, status in [("verify.example.org:443", 303), ("archive.example.org", 303),
                             ("localhost:8765", 303), ("10.0.0.5", 400),
                             ("attacker.example", 400)]:
            answer = client.get("/", headers={"Host": host}, follow_redirects=False)
            assert answer.status_code == status, host


def test_the_host_list_only_counts_with_a_team() -> None:
    anyone = HostPolicy(team=True, listed=["*"])
    assert anyone.allows("anything.example") and not anyone.allows(None)
    assert not HostPolicy(team=False, listed=["*"]).allows("anything.example")
    with pytest.raises(InvalidInput):
        HostPolicy(team=True, listed=[" ", ""])
    assert [host_name(h) for h in ("Example.ORG:80", "[::1]:1", "[::1]x", "a:b:c", ":80")] == \
        ["example.org", "::1", None, None, None]


# ------------------------------------------------------------------- the key


@pytest.mark.parametrize("key", ["a", "k" * 48, "0" * 64, "ab" * 40, "not base64 at all!" * 4,
                                 base64.b64encode(b"x" * 31).decode(), secrets.token_hex(16)],
                         ids=["one letter", "one letter repeated", "zeros", "two letters",
                              "not base64", "31 bytes", "16 random bytes"])
def test_a_weak_session_key_is_refused(key: str, store: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        secret_key(key)
    assert str(refused.value) == WEAK_KEY  # one sentence, and the key is never echoed
    with pytest.raises(InvalidInput):
        create_app(parse_store(store), team_file=None, local_actor="web", secret_key=key)


@pytest.mark.parametrize("key", [secrets.token_hex(32), secrets.token_urlsafe(32),
                                 base64.b64encode(secrets.token_bytes(48)).decode()],
                         ids=["hex", "urlsafe base64", "base64 of 48 bytes"])
def test_a_random_key_of_32_bytes_is_taken(key: str) -> None:
    assert secret_key(key) == key


def test_serve_refuses_to_start_with_a_weak_key(store: str, team_file: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The forged reviewer session was made with VERIFY_SECRET_KEY=a: that key no longer runs."""
    monkeypatch.setenv("VERIFY_SECRET_KEY", "a")
    result = cli_run(store, "serve", team=team_file)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "VERIFY_SECRET_KEY must be at least 32 random bytes" in result.stderr


def test_a_cookie_signed_with_the_key_still_names_no_one(store: str, team_file: Path) -> None:
    """Even someone who holds the key cannot forge a session: its id lives in the server."""
    key = secrets.token_hex(32)
    app = create_app(parse_store(store), team_file=team_file, local_actor="nobody",
                     secret_key=key)
    signer = itsdangerous.TimestampSigner(key)
    with TestClient(app, base_url=LOCAL) as client:
        for forged in ({"member": "lina"}, {"sid": "made-up", "member": "lina"}):
            cookie = signer.sign(base64.b64encode(json.dumps(forged).encode())).decode()
            client.cookies.set("verify_session", cookie)
            assert client.get("/api/queue").status_code == 401
            assert client.get("/", follow_redirects=False).status_code == 303


# ------------------------------------------------------------------ sessions


def test_a_cookie_stops_working_after_sign_out(team_client: TestClient) -> None:
    assert sign_in(team_client, "amira", "amira-passphrase").status_code == 303
    copy = dict(team_client.cookies)
    assert team_client.get("/api/queue").status_code == 200
    csrf = CSRF.search(team_client.get("/").text).group(1)  # type: ignore[union-attr]
    out = team_client.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    team_client.cookies.clear()
    team_client.cookies.update(copy)  # someone kept a copy of the cookie
    assert team_client.get("/api/queue").status_code == 401
    assert team_client.get("/incidents/CS1080", follow_redirects=False).status_code == 303


# `team add --password` hashes for real (argon2); the inner loop keeps signing out.
@pytest.mark.slow
def test_a_cookie_stops_working_after_a_password_change(team_client: TestClient,
                                                        team_file: Path) -> None:
    assert sign_in(team_client, "amira", "amira-passphrase").status_code == 303
    amira = dict(team_client.cookies)
    assert sign_in(team_client, "badr", "badr-passphrase").status_code == 303
    badr = dict(team_client.cookies)
    changed = CliRunner().invoke(cli, ["--team", str(team_file), "team", "add", "amira",
                                       "--role", "analyst", "--password"],
                                 input="a-new-passphrase\n")
    assert changed.exit_code == 0, changed.output
    team_client.cookies.clear()
    team_client.cookies.update(amira)
    assert team_client.get("/api/queue").status_code == 401
    team_client.cookies.clear()
    team_client.cookies.update(badr)  # everyone else stays signed in
    assert team_client.get("/api/queue").status_code == 200
    assert sign_in(team_client, "amira", "amira-passphrase").status_code == 401
    assert sign_in(team_client, "amira", "a-new-passphrase").status_code == 303
    assert team_client.get("/api/queue").status_code == 200
    removed = CliRunner().invoke(cli, ["--team", str(team_file), "team", "remove", "amira"])
    assert removed.exit_code == 0
    assert team_client.get("/api/queue").status_code == 401


# ------------------------------------------------------------ password checks


def test_sign_ins_are_throttled_per_name_with_retry_after(team_client: TestClient) -> None:
    for _ in range(NAME_LIMIT):
        assert sign_in(team_client, "amira", "wrong password").status_code == 401
    throttled = sign_in(team_client, "amira", "amira-passphrase")  # even the right one
    assert throttled.status_code == 429
    assert 800 <= int(throttled.headers["retry-after"]) <= 900
    assert "too many failed sign-ins for this name or from this address; try again in 15 " \
           "minutes" in throttled.text
    basic = TestClient(team_client.app, base_url=LOCAL).get(
        "/api/queue", auth=("amira", "amira-passphrase"))
    assert basic.status_code == 429 and "retry-after" in basic.headers
    assert basic.json()["error"].startswith("too many failed sign-ins")
    assert sign_in(team_client, "badr", "badr-passphrase").status_code == 303  # others may


@pytest.mark.slow  # sign-ins up to the address's limit; the per-name limit stays in the inner loop
def test_sign_ins_are_throttled_per_address(team_client: TestClient) -> None:
    for attempt in range(ADDRESS_LIMIT):
        assert sign_in(team_client, f"guess{attempt}", "wrong password").status_code == 401
    assert sign_in(team_client, "badr", "badr-passphrase").status_code == 429
    assert TestClient(team_client.app, base_url=LOCAL, client=("192.0.2.7", 5000)).get(
        "/api/queue", auth=("badr", "badr-passphrase")).status_code == 200


def test_a_success_starts_the_name_afresh(team_client: TestClient) -> None:
    for _ in range(NAME_LIMIT - 1):
        assert sign_in(team_client, "amira", "wrong password").status_code == 401
    assert sign_in(team_client, "amira", "amira-passphrase").status_code == 303
    for _ in range(NAME_LIMIT - 1):
        assert sign_in(team_client, "amira", "wrong password").status_code == 401


def test_every_name_costs_one_argon2_check(team_client: TestClient,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown names, members without a password, wrong and right passwords: one check each."""
    checked: list[str] = []
    real = passwords.password_matches

    def counted(password_hash: str | None, password: str) -> bool:
        assert password_hash  # always a hash: the member's, or the decoy
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "password_matches", counted)
    hashes = []
    for name, password, status in [("zoe", "zoe-passphrase", 401), ("omar", "x" * 12, 401),
                                   ("amira", "wrong password", 401),
                                   ("amira", "amira-passphrase", 303)]:
        assert sign_in(team_client, name, password).status_code == status
        assert len(checked) == 1, name
        hashes.append(checked.pop())
    decoy, member = hashes[0], hashes[2]
    assert hashes[1] == decoy and decoy != member
    assert decoy.split("$")[:4] == member.split("$")[:4]  # same algorithm and parameters


@pytest.mark.slow  # a flood of password checks in threads
def test_password_checks_never_hold_up_a_members_page(store: str, team_file: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of wrong passwords while a member reads: the checks wait, the member does not.

    Each check in the flood is held until the member's page has been served, so the
    page can only be served while the checks are in flight, and the checks can only
    be in flight off the event loop.
    """
    flood = 12
    real = passwords.password_matches
    release = threading.Event()
    in_flight: list[str] = []

    def held(password_hash: str, password: str) -> bool:
        if password == "a wrong password":
            in_flight.append(threading.current_thread().name)
            release.wait(30)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "password_matches", held)
    app = team_app(store, team_file)

    async def scenario() -> tuple[int, list[int]]:
        loop_thread = threading.current_thread().name
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as member, \
                httpx.AsyncClient(transport=transport, base_url=LOCAL) as attacker:
            for client, name, password in [(member, "badr", "badr-passphrase"),
                                           (attacker, "amira", "a wrong password")]:
                page = await client.get("/sign-in")
                csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
                form = {"csrf": csrf, "name": name, "password": password}
                if client is member:
                    assert (await client.post("/sign-in", data=form)).status_code == 303
                    continue
                guesses = [asyncio.ensure_future(
                    client.post("/sign-in", data={**form, "name": f"name{n}"}))
                    for n in range(flood)]
            while not in_flight:
                await asyncio.sleep(0.01)
            page = await asyncio.wait_for(member.get("/incidents/CS1095"), 20)
            assert not release.is_set() and not any(g.done() for g in guesses)
            assert all(thread.startswith("verify-password") for thread in in_flight)
            assert loop_thread not in in_flight
            release.set()
            answers = await asyncio.gather(*guesses)
        return page.status_code, [answer.status_code for answer in answers]

    try:
        page, answers = asyncio.run(scenario())
    finally:
        release.set()
        app.state.keeper.stop()
    assert page == 200
    assert answers == [401] * flood


def test_a_flood_beyond_the_queue_is_told_to_wait(store: str, team_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = passwords.password_matches

    def held(password_hash: str, password: str) -> bool:
        release.wait(30)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "password_matches", held)
    app = team_app(store, team_file, passwords=passwords.PasswordChecks(workers=1,
                                                                         most_waiting=3))

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
            guesses = [asyncio.ensure_future(client.get("/api/queue", auth=(f"n{n}", "p")))
                       for n in range(5)]
            await asyncio.wait(guesses, timeout=20,
                               return_when=asyncio.FIRST_COMPLETED)
            release.set()
            return await asyncio.gather(*guesses)

    try:
        answers = asyncio.run(scenario())
    finally:
        release.set()
        app.state.keeper.stop()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401, 401, 401, 429, 429], statuses
    busy = next(answer for answer in answers if answer.status_code == 429)
    assert busy.headers["retry-after"] == "2"
    assert "checking too many passwords at once" in busy.json()["error"]


# ---------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", ["é", "токен", "\u202e" * 40, "🔑" * 50, "x" * 10_000, ""])
def test_any_csrf_token_is_compared_not_crashed_on(local_client: TestClient, store: str,
                                                   token: str) -> None:
    before = version(store, "CS1095")
    answer = local_client.post("/incidents/CS1095/note",
                               data={"csrf": token, "version": str(before), "text": "x"})
    assert answer.status_code == 403
    assert "did not come from this site" in answer.text
    assert version(store, "CS1095") == before
    signed_out = local_client.post("/sign-out", data={"csrf": token}, follow_redirects=False)
    assert signed_out.status_code == 403


def test_a_version_that_only_looks_like_digits_is_refused(local_client: TestClient,
                                                          store: str) -> None:
    """Superscript and Arabic-Indic digits pass str.isdigit; int() refused '²' with a 500."""
    page = local_client.get("/incidents/CS1095").text
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    before = version(store, "CS1095")
    for seen in ("²", "\u0661", "9" * 30, "-1", " "):
        answer = local_client.post("/incidents/CS1095/note",
                                   data={"csrf": csrf, "version": seen, "text": "x"})
        assert answer.status_code == 400, seen
        assert "does not say which version" in answer.text
    assert version(store, "CS1095") == before



def test_wrong_passwords_and_wrong_api_tokens_share_an_address_count(
        team_client: TestClient, team_file: Path) -> None:
    """Guessing cannot switch between passwords and tokens to get twice the tries."""
    made = CliRunner().invoke(cli, ["--team", str(team_file), "team", "token", "badr"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    for attempt in range(ADDRESS_LIMIT // 2):
        assert sign_in(team_client, f"guess{attempt}", "wrong password").status_code == 401
    for _ in range(ADDRESS_LIMIT - ADDRESS_LIMIT // 2):
        guess = "verify_" + secrets.token_hex(4) + "_" + secrets.token_urlsafe(32)
        assert team_client.get("/api/queue", headers={
            "Authorization": f"Bearer {guess}"}).status_code == 401
    for headers in ({"Authorization": f"Bearer {token}"},
                    {"Authorization": "Basic " + base64.b64encode(b"badr:x").decode()}):
        throttled = TestClient(team_client.app, base_url=LOCAL).get("/api/queue",
                                                                    headers=headers)
        assert throttled.status_code == 429 and "retry-after" in throttled.headers
        assert token not in throttled.text
    assert sign_in(team_client, "amira", "amira-passphrase").status_code == 429

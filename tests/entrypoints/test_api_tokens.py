"""Per-member API tokens on the JSON API (SPEC section 13): who a token names, and refusals.

Tokens are made with `verify team token NAME` (tests/entrypoints/test_team.py has the
command line); here a server reads the team file and takes ``Authorization: Bearer``.
The routes that answer do not depend on the kind of store, but the first tests run on
both; the refusals and the throttle run on SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from verify.adapters.store import parse_store
from verify.adapters.team_file import load_team, write_team
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app
from verify.entrypoints.web.auth import (
    BAD_TOKEN,
    BAD_TOKEN_CHALLENGE,
    CHALLENGE,
    SIGN_IN_FIRST,
    Gate,
    Identity,
    SignInRequired,
)
from verify.entrypoints.web.throttle import ADDRESS_LIMIT, NAME_LIMIT, Throttled

LOCAL = "http://127.0.0.1"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Argon2 at its cheapest: the tests that sign in with a password stay fast."""


def cli_run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def make_token(team_file: Path, name: str) -> str:
    result = cli_run("--team", str(team_file), "team", "token", name)
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def spoiled(token: str) -> str:
    """The token with its last character changed: the right id, a wrong secret."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo in a SQLite file, made once: each test works on a copy of it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    result = cli_run("--store", str(path), "--actor", "cli", "demo")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def demo_store(store_url: str, demo_file: Path) -> str:
    if store_url.startswith("postgresql"):
        result = cli_run("--store", store_url, "--actor", "cli", "demo")
        assert result.exit_code == 0, result.output
        return store_url
    shutil.copyfile(demo_file, store_url)
    return store_url


@pytest.fixture
def sqlite_store(demo_file: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_file, path)
    return str(path)


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    """amira (analyst) signs in with a password too; badr (analyst) and lina (auditor) not."""
    path = tmp_path / "team.toml"
    write_team(Team(members={
        "amira": Member(name="amira", role=Role.ANALYST,
                        password_hash=CHEAP.hash("amira-passphrase")),
        "badr": Member(name="badr", role=Role.ANALYST),
        "lina": Member(name="lina", role=Role.AUDITOR)}), path)
    return path


def team_app(store: str, team_file: Path | None) -> FastAPI:
    return create_app(parse_store(store), team_file=team_file, local_actor="nobody",
                      secret_key=secrets.token_hex(32))


@pytest.fixture
def client(demo_store: str, team_file: Path) -> Iterator[TestClient]:
    with TestClient(team_app(demo_store, team_file), base_url=LOCAL) as client:
        yield client


@pytest.fixture
def sqlite_client(sqlite_store: str, team_file: Path) -> Iterator[TestClient]:
    with TestClient(team_app(sqlite_store, team_file), base_url=LOCAL) as client:
        yield client


def refused(response: httpx.Response, *secrets_sent: str) -> str:
    """The sentence of a 401, checked to be one JSON sentence that repeats nothing sent."""
    assert response.status_code == 401, (response.status_code, response.text[:300])
    document = response.json()
    assert list(document) == ["error"] and isinstance(document["error"], str)
    sentence: str = document["error"]
    assert sentence and "\n" not in sentence
    for sent in filter(None, secrets_sent):
        assert sent not in response.text
        assert all(sent not in value for value in response.headers.values())
    return sentence


# ------------------------------------------------------- on both stores


def test_a_token_reads_the_api_as_its_member(client: TestClient, demo_store: str,
                                             team_file: Path) -> None:
    token = make_token(team_file, "amira")
    queue = client.get("/api/queue", headers=bearer(token))
    assert queue.status_code == 200, queue.text[:300]
    assert isinstance(queue.json(), list) and queue.json()
    incident = client.get("/api/incidents/CS1095", headers=bearer(token))
    assert incident.status_code == 200 and incident.json()["code"] == "CS1095"
    assert token not in queue.text + incident.text
    # The inbox is the token's member's: the incident assigned to amira is in hers only.
    assigned = cli_run("--store", demo_store, "--team", str(team_file), "--actor", "badr",
                       "assign", "CS1095", "--to", "amira")
    assert assigned.exit_code == 0, assigned.output
    mine = client.get("/api/inbox", headers=bearer(token)).json()
    assert [(item["kind"], item["code"]) for item in mine] == [("assigned", "CS1095")]
    assert client.get("/api/inbox", headers=bearer(make_token(team_file, "badr"))).json() == []


def test_a_request_without_a_token_is_refused_with_a_sentence(client: TestClient) -> None:
    for path in ("/api/queue", "/api/incidents/CS1095"):
        sentence = refused(client.get(path))
        assert sentence.startswith("sign in first")


def test_a_wrong_or_revoked_token_is_refused(client: TestClient, team_file: Path) -> None:
    token = make_token(team_file, "amira")
    kept = make_token(team_file, "amira")
    token_id, secret = token.split("_", 2)[1:]
    wrong_secret = f"verify_{token_id}_{secret[::-1]}"
    unknown_id = f"verify_{'0' * 8 if token_id != '0' * 8 else '1' * 8}_{secret}"
    for sent in (wrong_secret, unknown_id, spoiled(token), token[:-1], token + "x", "x",
                 f"verify_{token_id}"):
        refused(client.get("/api/queue", headers=bearer(sent)), sent)
    assert client.get("/api/queue", headers=bearer(token)).status_code == 200
    revoked = cli_run("--team", str(team_file), "team", "token", "amira", "--revoke", token_id)
    assert revoked.exit_code == 0, revoked.output
    refused(client.get("/api/queue", headers=bearer(token)), token)
    refused(client.get("/api/incidents/CS1095", headers=bearer(token)), token)
    assert client.get("/api/queue", headers=bearer(kept)).status_code == 200  # the other stays


def test_a_removed_members_token_stops_working(client: TestClient, team_file: Path) -> None:
    token = make_token(team_file, "badr")
    assert client.get("/api/queue", headers=bearer(token)).status_code == 200
    assert cli_run("--team", str(team_file), "team", "remove", "badr").exit_code == 0
    refused(client.get("/api/queue", headers=bearer(token)), token)
    assert cli_run("--team", str(team_file), "team", "add", "badr", "--role",
                   "analyst").exit_code == 0  # back in the team: the old token stays dead
    refused(client.get("/api/queue", headers=bearer(token)), token)


# ------------------------------------------------------------- on SQLite


def test_a_refusal_says_why_and_challenges_for_a_bearer_token(sqlite_client: TestClient,
                                                               team_file: Path) -> None:
    token = make_token(team_file, "amira")
    bad = sqlite_client.get("/api/queue", headers=bearer(spoiled(token)))
    assert refused(bad, spoiled(token)) == BAD_TOKEN
    assert bad.headers["www-authenticate"] == BAD_TOKEN_CHALLENGE
    none = sqlite_client.get("/api/queue")
    assert refused(none) == SIGN_IN_FIRST
    assert none.headers["www-authenticate"] == CHALLENGE


def test_the_token_decides_even_beside_a_session(sqlite_client: TestClient,
                                                 team_file: Path) -> None:
    """A request that names a token acts as its member or is refused: never the session's."""
    page = sqlite_client.get("/sign-in").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    signed_in = sqlite_client.post("/sign-in", data={
        "csrf": csrf, "name": "amira", "password": "amira-passphrase"}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert sqlite_client.get("/api/queue").status_code == 200
    refused(sqlite_client.get("/api/queue", headers=bearer("verify_00000000_" + "a" * 43)))
    lina = make_token(team_file, "lina")
    assert sqlite_client.get("/api/inbox", headers=bearer(lina)).status_code == 200


def test_pages_take_no_token(sqlite_client: TestClient, team_file: Path) -> None:
    """Pages need a signed-in session; a token is for the JSON API only."""
    token = make_token(team_file, "amira")
    page = sqlite_client.get("/", headers=bearer(token), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")


def test_wrong_tokens_are_throttled_per_token_with_retry_after(sqlite_client: TestClient,
                                                               team_file: Path) -> None:
    token = make_token(team_file, "amira")
    token_id = token.split("_")[1]
    for _ in range(NAME_LIMIT):
        guess = f"verify_{token_id}_{secrets.token_urlsafe(32)}"
        refused(sqlite_client.get("/api/queue", headers=bearer(guess)), guess)
    throttled = sqlite_client.get("/api/queue", headers=bearer(token))  # even the right one
    assert throttled.status_code == 429
    assert 800 <= int(throttled.headers["retry-after"]) <= 900
    assert list(throttled.json()) == ["error"] and token not in throttled.text
    assert throttled.json()["error"].startswith("too many refused API tokens")
    other = make_token(team_file, "badr")  # another token, from the same address, still works
    assert sqlite_client.get("/api/queue", headers=bearer(other)).status_code == 200


@pytest.mark.slow  # guesses up to the address's limit
def test_wrong_tokens_are_throttled_per_address(sqlite_client: TestClient,
                                                team_file: Path) -> None:
    token = make_token(team_file, "amira")
    for _ in range(ADDRESS_LIMIT):
        guess = "verify_" + secrets.token_hex(4) + "_" + secrets.token_urlsafe(32)
        assert sqlite_client.get("/api/queue", headers=bearer(guess)).status_code == 401
    throttled = sqlite_client.get("/api/queue", headers=bearer(token))
    assert throttled.status_code == 429 and "retry-after" in throttled.headers
    basic = sqlite_client.get("/api/queue", auth=("amira", "amira-passphrase"))
    assert basic.status_code == 429  # passwords and tokens share the address's count
    elsewhere = TestClient(sqlite_client.app, base_url=LOCAL, client=("192.0.2.7", 5000))
    assert elsewhere.get("/api/queue", headers=bearer(token)).status_code == 200


@pytest.mark.slow  # sixty refused requests; a wrong token stays in the inner loop
def test_text_that_is_no_token_is_refused_without_counting(sqlite_client: TestClient,
                                                          team_file: Path) -> None:
    """It cannot match any token, so trying it tells nothing: 401 every time, never 429."""
    token = make_token(team_file, "amira")
    for sent in ["x", "", token + "x", token.replace("_", "-"), "verify_" + "0" * 8] * 12:
        refused(sqlite_client.get("/api/queue", headers=bearer(sent)), sent)
    assert sqlite_client.get("/api/queue", headers=bearer(token)).status_code == 200


@pytest.mark.slow  # three times the address's limit in requests
def test_a_valid_token_takes_its_try_back(sqlite_client: TestClient, team_file: Path) -> None:
    """A program using its token all day is never throttled by its own requests."""
    token = make_token(team_file, "amira")
    token_id = token.split("_")[1]
    for _ in range(3 * ADDRESS_LIMIT):
        assert sqlite_client.get("/api/queue", headers=bearer(token)).status_code == 200
    for _ in range(NAME_LIMIT - 1):
        wrong = f"verify_{token_id}_{secrets.token_urlsafe(32)}"
        assert sqlite_client.get("/api/queue", headers=bearer(wrong)).status_code == 401
    assert sqlite_client.get("/api/queue", headers=bearer(token)).status_code == 200
    for _ in range(NAME_LIMIT - 1):  # the token's count started afresh
        wrong = f"verify_{token_id}_{secrets.token_urlsafe(32)}"
        assert sqlite_client.get("/api/queue", headers=bearer(wrong)).status_code == 401
    assert sqlite_client.get("/api/queue", headers=bearer(token)).status_code == 200


def test_without_a_team_a_token_is_not_looked_at(sqlite_store: str, tmp_path: Path) -> None:
    """No team, no members, no tokens: the loopback server acts as the local actor for
    every request, whatever Authorization it carries (as it does for Basic credentials)."""
    with TestClient(team_app(sqlite_store, None), base_url=LOCAL) as local:
        for header in ({}, bearer("x"), bearer("verify_00000000_" + "a" * 43)):
            assert local.get("/api/queue", headers=header).status_code == 200
        assert local.get("/api/incidents/CS1095", headers=bearer("x")).status_code == 200


# --------------------------------------------------- the gate, for write routes


def request(headers: dict[str, str] | None = None, session: dict[str, Any] | None = None,
            method: str = "POST") -> Request:
    return Request({
        "type": "http", "method": method, "path": "/api/incidents/CS1095/sources",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("198.51.100.4", 40000), "session": session or {}, "query_string": b""})


def test_only_a_token_spares_a_change_its_csrf_token(team_file: Path) -> None:
    gate = Gate(team_file, "nobody")
    token = make_token(team_file, "lina")
    by_token = asyncio.run(gate.identify_writer(request(bearer(token))))
    assert by_token == (Identity("lina", Role.AUDITOR), False)
    assert by_token[0].read_only  # the role still decides what the member may change
    session_id = gate.sessions.start("amira", load_team(team_file).members["amira"].password_hash)
    by_session = asyncio.run(gate.identify_writer(request(session={"sid": session_id})))
    assert by_session == (Identity("amira", Role.ANALYST), True)
    basic = "Basic " + base64.b64encode(b"amira:amira-passphrase").decode()
    by_password = asyncio.run(gate.identify_writer(request({"Authorization": basic})))
    assert by_password == (Identity("amira", Role.ANALYST), True)
    local = Gate(None, "nobody")
    assert asyncio.run(local.identify_writer(request(bearer(token)))) == (
        Identity("nobody", None), True)
    assert asyncio.run(gate.identify_api(request(bearer(token), method="GET"))) == Identity(
        "lina", Role.AUDITOR)


def test_the_gate_refuses_with_a_sentence_and_a_challenge(team_file: Path) -> None:
    gate = Gate(team_file, "nobody")
    token = make_token(team_file, "amira")
    with pytest.raises(SignInRequired) as nothing:
        asyncio.run(gate.identify_api(request()))
    assert (str(nothing.value), nothing.value.challenge) == (SIGN_IN_FIRST, CHALLENGE)
    assert "Bearer" in CHALLENGE and "Basic" in CHALLENGE
    for sent in (spoiled(token), "", "x" * 5000, "verify_"):
        with pytest.raises(SignInRequired) as wrong:
            asyncio.run(gate.identify_api(request(bearer(sent))))
        assert (str(wrong.value), wrong.value.challenge) == (BAD_TOKEN, BAD_TOKEN_CHALLENGE)
        assert not sent or sent not in str(wrong.value)
    assert BAD_TOKEN_CHALLENGE.startswith("Bearer ")


def test_a_throttled_token_is_refused_before_it_is_checked(team_file: Path) -> None:
    gate = Gate(team_file, "nobody")
    token = make_token(team_file, "amira")
    wrong = spoiled(token)
    for _ in range(NAME_LIMIT):
        with pytest.raises(SignInRequired):
            asyncio.run(gate.identify_api(request(bearer(wrong))))
    with pytest.raises(Throttled) as throttled:
        asyncio.run(gate.identify_api(request(bearer(token))))
    assert throttled.value.retry_after > 0 and token not in str(throttled.value)
    assert json.dumps(str(throttled.value))  # one plain sentence

"""The web server driven with random and hostile requests: every route, on both stores.

Schemathesis reads /openapi.json and generates requests for every API
operation (valid and invalid parameters, odd Unicode, huge numbers): no answer
is a 5xx, every answer conforms to the document, and no request appends an
event. Hypothesis drives the incident forms (which the document leaves out:
they are HTML) with random field values and a valid CSRF token: a rejected
form appends nothing. Then a seeded fuzzer sends thousands of requests to
every route the application serves (read from its route table, so a new
route cannot be left out), to a server without a team and to a team's, with
hostile hosts, CSRF tokens, bodies, cookies and credentials mixed in: no
answer is a 5xx or shows a traceback, a refused request appends nothing, and
a request for another host is refused. Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.application.app import VerifyApp
from verify.domain.duties import Member, Role, Team
from verify.domain.values import State
from verify.entrypoints.cli import cli
from verify.entrypoints.web.actions import ACTIONS
from verify.entrypoints.web.api import CHANGES
from verify.entrypoints.web.app import create_app

pytestmark = pytest.mark.slow  # schemathesis and hypothesis drive the API

LOCAL = "http://127.0.0.1"
"""Requests go to a loopback name: the only host a server without a team answers to."""

API_EXAMPLES = 75
"""Generated requests per API operation (docs/security.md quotes this)."""

FORM_EXAMPLES = 300
"""Generated form submissions (docs/security.md quotes this)."""

HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        "", " ", "'; DROP TABLE stored_events;--", "$(rm -rf /)", "`id`", "\u202eevil",
        "قصف على الموصل", "\x00", "9" * 40, "-1", "1e309", "NaN", "2017-02-30", "0000-01-01",
        "<script>alert(1)</script>", "../../etc/passwd", "CS1095", "s1", "B", "6",
    ]),
)


@pytest.fixture
def store(store_url: str) -> str:
    result = CliRunner().invoke(cli, ["--store", store_url, "demo"])
    assert result.exit_code == 0, result.output
    return store_url


@pytest.fixture
def web(store: str) -> Iterator[tuple[FastAPI, VerifyApp]]:
    app = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
    web_app = create_app(parse_store(store), team_file=None, local_actor="fuzz", app=app)
    yield web_app, app
    web_app.state.keeper.stop()
    app.close()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
"""What every answer must satisfy. Left out: that every schema-valid request is accepted,
since a valid-looking date can still be before the incident was reported (a 400)."""


def stored_events(app: VerifyApp) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_the_api_never_fails_and_appends_nothing(web: tuple[FastAPI, VerifyApp]) -> None:
    api, app = web
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, headers={"Host": "localhost"})
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if operation.method.upper() == "GET"]
    assert {operation.path for operation in operations} >= {
        "/api/incidents/{code}", "/api/incidents/{code}/history", "/api/queue", "/api/stats"}
    answered: Counter[int] = Counter()
    before = stored_events(app)
    for operation in operations:

        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)))
        @settings(max_examples=API_EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(base_url=LOCAL)
            answered[response.status_code] += 1
            assert response.status_code < 500, (response.status_code, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        call()
    assert stored_events(app) == before
    print(f"API cases: {sum(answered.values())} answered {dict(sorted(answered.items()))}")
    assert answered[200] > 0 and sum(answered.values()) >= len(operations) * 10, answered


JSON_LISTS = {"belligerents", "tags", "sources"}
JSON_NUMBERS = {"credibility", "lat", "lon", "distance_km", "age"}

CHANGE_EXAMPLES = 20
"""Generated requests per change of the write API (valid and invalid), on each store."""


def test_every_change_answers_one_sentence_and_a_refusal_appends_nothing(
        web: tuple[FastAPI, VerifyApp]) -> None:
    """Every write route, driven from its OpenAPI description with valid and invalid bodies:
    never a 5xx, every error `{"error": sentence}`, and nothing appended unless it was done."""
    api, app = web
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, headers={"Host": "localhost"})
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if operation.method.upper() == "POST"]
    assert len(operations) >= 28
    answered: Counter[int] = Counter()
    for operation in operations:

        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)),
               known=st.sampled_from(["CS1095", "CI1050", "CS1080", "cs1091", None]))
        @settings(max_examples=CHANGE_EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any, known: str | None) -> None:
            if known is not None and case.path_parameters and "code" in case.path_parameters:
                case.path_parameters["code"] = known  # reach real incidents, not only 404s
            before = stored_events(app)
            response = case.call(base_url=LOCAL)
            answered[response.status_code] += 1
            assert response.status_code < 500, (response.status_code, response.text[:300])
            if response.headers.get("content-type") == "application/octet-stream":
                assert response.status_code == 200  # a copy of a file, handed out
                return
            body = response.json()
            if response.status_code >= 400:
                assert list(body) == ["error"] and body["error"].strip(), body
                assert stored_events(app) == before, (case.path, response.text[:200])

        call()
    print(f"write API cases: {sum(answered.values())} answered "
          f"{dict(sorted(answered.items()))}")
    assert answered[200] > 0 and answered[201] >= 0


PLAUSIBLE: dict[str, dict[str, str]] = {
    "source": {"url": "https://example.org/a", "publisher": "P", "kind": "media",
               "reliability": "B", "credibility": "2"},
    "rerate": {"source_id": "s1", "reliability": "C", "credibility": "3", "reason": "r"},
    "withdraw": {"source_id": "s1", "reason": "r"},
    "strike": {"belligerent": "Coalition", "status": "likely", "reported": "2017-04-01"},
    "contest": {"belligerent": "Russia", "reason": "r"},
    "assess": {"belligerent": "Coalition", "outcome": "credible", "dated": "2 April 2017"},
    "discount": {"basis": "combatants", "rationale": "r"},
    "revise": {"killed": "1-2", "reason": "r"},
    "override": {"grade": "weak", "rationale": "r"},
    "dispute": {"by": "Coalition", "reason": "r"},
    "resolve": {"outcome": "dismissed", "rationale": "r"},
    "duplicate": {"of": "CS1080"},
    "note": {"text": "t"},
    "amend": {"date": "2017-03-12", "date_end": "2017-03-13", "time": "14:30",
              "location": "Mosul", "lat": "36.3", "lon": "43.1", "precision": "town",
              "country": "Iraq", "belligerents": "Coalition", "summary": "s", "reason": "r"},
    "retract": {"item_id": "k1", "reason": "r"},
    "undo_duplicate": {"reason": "r"},
    "victim": {"name": "Layla", "name_original": "ليلى", "age": "12", "gender": "female",
               "status": "killed", "sources": "s1"},
    "victim_amend": {"victim_id": "v1", "name": "Layla H", "family": "Hassan",
                     "sources": "s1", "protected": "yes", "reason": "r"},
    "victim_withdraw": {"victim_id": "v1", "reason": "r"},
    "victim_erase": {"victim_id": "v1", "reason": "r"},
    "assign": {"assignee": "rana"},
    "unassign": {},
    "comment": {"text": "@rana look at the map", "reply_to": "m1"},
    "tag": {"tags": "needs-geolocation, الطبقة"},
    "untag": {"tags": "needs-geolocation, الطبقة"},
    "report": {"code": "CS9000", "date": "2017-01-02", "location": "Mosul", "country": "Iraq",
               "belligerents": "Coalition", "date_end": "2017-01-03", "time": "14:30"},
}
"""Fields a person would plausibly submit for each form; hostile values are mixed in."""

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def test_random_forms_never_fail_and_rejected_ones_append_nothing(
        web: tuple[FastAPI, VerifyApp]) -> None:
    api, app = web
    with TestClient(api, base_url=LOCAL) as client:
        page = client.get("/incidents/CS1095").text
        csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
        names = sorted({"url", "publisher", "kind", "reliability", "credibility", "group",
                        "published", "source_id", "reason", "belligerent", "status", "report",
                        "distance_km", "outcome", "conceded_killed", "basis", "party",
                        "rationale", "killed", "injured", "grade", "by", "of", "text",
                        "protected", "code", "date", "location", "country", "belligerents",
                        "lat", "lon", "precision", "summary", "date_end", "time", "item_id",
                        "name", "name_original", "age", "age_group", "gender", "family",
                        "role", "sources", "victim_id", "assignee", "reply_to", "tags",
                        "tag", "reported", "dated"})
        seen = {"runs": 0, "accepted": 0}

        @given(action=st.sampled_from([*ACTIONS, "report", "nonsense"]),
               code=st.sampled_from(["CS1095", "CI1050", "CS1080", "ZZ1", "bad code"]),
               hostile=st.dictionaries(st.sampled_from(names), HOSTILE, max_size=3),
               plausible=st.booleans(), stale=st.booleans())
        @settings(max_examples=FORM_EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def submit(action: str, code: str, hostile: dict[str, str], plausible: bool,
                   stale: bool) -> None:
            seen["runs"] += 1
            fields = {**(PLAUSIBLE.get(action, {}) if plausible else {}), **hostile}
            current = client.get(f"/api/incidents/{code}")
            version = current.json()["version"] if current.status_code == 200 else 1
            data = {**fields, "csrf": csrf, "version": str(version - 1 if stale else version)}
            path = "/report" if action == "report" else f"/incidents/{code}/{action}"
            before = stored_events(app)
            response = client.post(path, data=data, follow_redirects=False)
            assert response.status_code < 500, (path, data, response.text[:300])
            if response.status_code == 303:
                seen["accepted"] += 1
            else:
                assert 400 <= response.status_code < 500, (path, response.status_code)
                assert stored_events(app) == before, (path, data)
                assert "Traceback" not in response.text

        submit()
    print(f"form cases: {seen['runs']}, accepted {seen['accepted']}")
    assert seen["runs"] >= FORM_EXAMPLES // 2
    assert seen["accepted"] > 0, "no random form was accepted: the generator is too narrow"


# ------------------------------------------------------ every route, randomized


FUZZ_REQUESTS = 4_000
"""Randomized requests per store, half to a server without a team and half to a team's
(docs/security.md quotes it). With SQLite and PostgreSQL, 10,000 a run."""

FUZZ_SEED = 15
"""Fixed, so a failure reproduces; FUZZ_SEED=N in the environment explores another run."""

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""The fuzzed team's hashes: Argon2 at its cheapest, so sign-ins cost little."""

WORDS = [
    "", " ", "x", "Mosul", "قصف على الموصل", "\u202eevil", "\x00", "a\x00b", "\r\nSet-Cookie: a=1",
    "'; DROP TABLE stored_events;--", "$(rm -rf /)", "<script>alert(1)</script>", "{{ 7*7 }}",
    "../../etc/passwd", "%00", "%ff", "9" * 40, "-1", "0", "1", "2", "1e309", "-1e309", "NaN",
    "inf", "0x10", "1_000", "²", "\u0661\u0662", "2017-02-30", "0000-01-01", "9999-12-31",
    "1899-12-31", "2017-03-17", "2017-03-17T10:00:00+14:00", "2017-03-17T10:00:00-99:00",
    "17 March 2017", "26 أكتوبر 2025", "\u0661\u0667/\u0660\u0663/\u0662\u0660\u0661\u0667",
    "2999-01-01", "at least 30", "30+", "1-2", "5-3", "-5", "s1", "s2", "s99", "k1", "c1",
    "A", "B", "F", "Z", "6", "7", "media", "ngo", "declared", "likely", "credible",
    "non_credible", "weak", "fair", "confirmed", "upheld", "dismissed", "combatants",
    "other_party", "CS1095", "cs1080", "CI1050", "ZZ1", "Coalition", "Russia",
    "https://example.org/a", "https://مثال.إختبار/مسار", " JavaScript:alert(1)", "ftp://x",
    "https://" + "a" * 9_000, "é" * 300, "🔑" * 20, "true", "false", "on", "reported", "graded",
    "disputed", "month", "grade", "belligerent", "country", "neighbourhood", "exact",
]
"""Values people and attackers type: valid ones, near misses, and hostile ones."""

RANGES = [(0x20, 0x7E), (0x0600, 0x06FF), (0x00, 0x1F), (0x200B, 0x202E), (0x0300, 0x036F),
          (0x00A0, 0x02FF), (0x1F300, 0x1F64F), (0xFFF0, 0xFFFF), (0x10000, 0x10FFFF)]

FORM_FIELDS = sorted({name for fields in PLAUSIBLE.values() for name in fields}
                     | {"group", "published", "report", "distance_km", "conceded_killed",
                        "party", "injured", "protected", "lat", "lon", "precision", "summary"})

HOSTILE_HOSTS = ["attacker.example", "attacker.example:8765", "127.0.0.1.nip.io", "localhost.",
                 "", "[::1", "localhost:port", "evil.example\tx", "ünïcode.example", "a" * 300]
"""Host headers no server answers: names the attacker controls, and unreadable ones."""
NUMBERED_HOSTS = ["0.0.0.0", "[::]", "10.1.2.3:8765", "[2001:db8::1]"]
"""Hosts written as numbers: refused without a team (loopback only), answered with one."""
ODD_CSRF = ["", "é", "токен", "🔑" * 40, "\u202e" * 20, "x" * 5_000, "null", "%00"]
ODD_AUTH = ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe").decode(),
            "Basic " + base64.b64encode(b"rana:wrong").decode(),
            "Basic " + base64.b64encode("نور:كلمة".encode()).decode(), "Bearer x", "x" * 3000]


def fuzz_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(WORDS)
    if roll < 0.97:
        low, high = rng.choice(RANGES)
        return "".join(chr(rng.randint(low, high)) for _ in range(rng.randint(0, 40)))
    return rng.choice("Aأ") * rng.choice([1_000, 70_000])


def _picture() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(out, "PNG")
    return out.getvalue()


PICTURE = _picture()
"""A small real image, so that some uploads draw a thumbnail."""


@dataclass
class Call:
    """One request: the route it exercises and how it is sent."""

    route: tuple[str, str]
    method: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # on a client of its own (signing in or out would end the session)
    """Sent by a browser of its own (signing in or out, or a forged cookie, would change
    the session of the fuzzer's browser)."""
    hostile_host: bool = False


class Fuzzer:
    """Makes random requests for every route of one server."""

    def __init__(self, rng: random.Random, observer: VerifyApp, codes: list[str], *,
                 team: bool, token: str | None = None) -> None:
        self.rng = rng
        self.team = team
        self.token = token
        """A member's API token, sent with some requests to the team's server."""
        self.observer = observer
        self.codes = codes
        self.versions: dict[str, int] = {}
        self.csrf = ""

    def version(self, code: str) -> int:
        if code not in self.versions:
            try:
                self.versions[code] = self.observer.show(code).version
            except Exception:  # not an incident (yet): any number will do
                self.versions[code] = 1
        return self.versions[code]

    def text(self) -> str:
        return fuzz_text(self.rng)

    def code(self) -> str:
        roll = self.rng.random()
        if roll < 0.75:
            return self.rng.choice(self.codes)
        if roll < 0.85:
            return self.rng.choice(self.codes).lower()
        return self.text()[:60] or "x"

    def params(self, **choices: Callable[[], str]) -> dict[str, str]:
        # A URL's query holds at most 64 KiB on the way out of any client.
        return {name: choose()[:4_000] for name, choose in choices.items()
                if self.rng.random() < 0.5}

    def form(self, fields: dict[str, str]) -> dict[str, str]:
        data = dict(fields)
        for key in list(data):
            roll = self.rng.random()
            if roll < 0.2:
                data[key] = self.text()
            elif roll < 0.25:
                del data[key]
        for _ in range(self.rng.choice([0, 0, 0, 1, 2])):
            data[self.rng.choice(FORM_FIELDS)] = self.text()
        if self.rng.random() < 0.92:
            data["csrf"] = self.csrf
        elif self.rng.random() < 0.8:
            data["csrf"] = self.rng.choice(ODD_CSRF)
        return data

    def seen(self, code: str) -> str:
        roll = self.rng.random()
        current = self.version(code)
        if roll < 0.8:
            return str(current)
        if roll < 0.9:
            return str(current - 1)
        return self.text()[:20]

    def state(self) -> str:
        return self.rng.choice([*(state.value for state in State), self.text()])

    def grouping(self) -> str:
        return self.rng.choice(["month", "grade", "belligerent", "country", self.text()])

    def moment(self) -> str:
        return self.rng.choice(["2017-03-17", "2017-03-17T12:00:00Z", "2030-01-01", self.text()])

    def number(self) -> str:
        return self.rng.choice(["1", "2", "5", "0", "-1", "1000000", "1000001", "9" * 30,
                                self.text()])

    # One way to make a request for each route of the application.

    def queue_page(self) -> Call:
        return Call(("GET", "/"), "GET", "/", {"params": self.params(
            state=self.state, belligerent=self.text, country=self.text,
            grade=lambda: self.rng.choice(["weak", "ungraded", self.text()]),
            sort=lambda: self.rng.choice(["date", "code", self.text()]),
            after=lambda: self.rng.choice(["eyJ4IjoxfQ", self.text()]),
            before=lambda: self.rng.choice(["eyJ4IjoxfQ", self.text()]),
            assignee=lambda: self.rng.choice(["rana", "RANA", "ranaa", self.text()]),
            tag=lambda: self.rng.choice(["needs-geolocation", "!!", self.text()]))})

    def incident_page(self) -> Call:
        return Call(("GET", "/incidents/{code}"), "GET", f"/incidents/{quote(self.code(), '')}",
                    {"params": self.params(as_of=self.moment, version=self.number,
                                           known_on=self.moment)})

    def incident_form(self) -> Call:
        code = self.code()
        action = self.rng.choice([*ACTIONS, *ACTIONS, self.text()[:30] or "x"])
        data = self.form(PLAUSIBLE.get(action, {}))
        if self.rng.random() < 0.97:
            data["version"] = self.seen(code)
        return Call(("POST", "/incidents/{code}/{action}"), "POST",
                    f"/incidents/{quote(code, '')}/{quote(action, '')}", {"data": data})

    def file_id(self) -> str:
        return self.rng.choice(["e1", "e2", "E1", "e9", "e0", self.text()[:30] or "x"])

    def upload(self) -> Call:
        code = self.code()
        data = self.form({"description": "rubble", "origin": "https://example.org/p",
                          "collected_by": "a network", "collected_at": "2017-03-22T09:00",
                          "graphic": self.rng.choice(["", "1"]),
                          "source": self.rng.choice(["", "s1", "s9"])})
        if self.rng.random() < 0.97:
            data["version"] = self.seen(code)
        content = self.rng.choice([PICTURE, b"%PDF-1.7 " + self.text().encode(),
                                   self.text().encode(), b""])
        name = self.rng.choice(["IMG_0042.jpg", "", self.text()[:200] or "f"])
        files = {"file": (name, content, "application/octet-stream")}
        return Call(("POST", "/incidents/{code}/files"), "POST",
                    f"/incidents/{quote(code, '')}/files", {"data": data, "files": files})

    def thumbnail(self) -> Call:
        return Call(("GET", "/incidents/{code}/files/{file_id}/thumbnail"), "GET",
                    f"/incidents/{quote(self.code(), '')}/files/"
                    f"{quote(self.file_id(), '')}/thumbnail")

    def copy_out(self) -> Call:
        return Call(("POST", "/incidents/{code}/files/{file_id}/copy"), "POST",
                    f"/incidents/{quote(self.code(), '')}/files/{quote(self.file_id(), '')}/copy",
                    {"data": self.form({"reason": "for the report"})})

    def report_form(self) -> Call:
        return Call(("GET", "/report"), "GET", "/report")

    def api_incidents(self) -> Call:
        return Call(("GET", "/api/incidents"), "GET", "/api/incidents", {"params": self.params(
            q=lambda: self.rng.choice(["Mosul", "CS1095", "الموصل", self.text()]),
            state=self.state, grade=lambda: self.rng.choice(["fair", "ungraded", self.text()]),
            belligerent=self.text, country=self.text,
            assignee=lambda: self.rng.choice(["rana", self.text()]),
            tag=lambda: self.rng.choice(["needs-geolocation", self.text()]),
            sort=lambda: self.rng.choice(["waiting", "date", "code", self.text()]),
            after=lambda: self.rng.choice(["eyJ4IjoxfQ", self.text()]),
            limit=self.number, **{"from": self.moment, "to": self.moment})})

    def api_docs(self) -> Call:
        return Call(("GET", "/docs"), "GET", "/docs")

    def api_export(self) -> Call:
        return Call(("GET", "/api/export"), "GET", "/api/export", {"params": self.params(
            format=lambda: self.rng.choice(["jsonl", "csv", "geojson", "xml", self.text()]),
            public=lambda: self.rng.choice(["1", "true", "0", self.text()]))})

    def json_body(self, fields: dict[str, str]) -> dict[str, Any]:
        """A change's keys as a script sends them: numbers as numbers, lists as lists."""
        body: dict[str, Any] = {}
        for key, value in self.form(fields).items():
            if key == "csrf":
                continue
            if key in JSON_LISTS and self.rng.random() < 0.8:
                body[key] = [part.strip() for part in value.replace(",", " ").split()]
            elif key in JSON_NUMBERS and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
                body[key] = float(value) if "." in value else int(value)
            elif key in ("protected", "graphic") and self.rng.random() < 0.8:
                body[key] = self.rng.choice([True, False])
            else:
                body[key] = value
        if self.rng.random() < 0.3:
            body["version"] = self.rng.choice([1, 2, 5, 999, 0, "x"])
        return body

    def api_report(self) -> Call:
        fields = {**PLAUSIBLE["report"], "code": f"CS{self.rng.randint(9000, 99999)}"}
        return Call(("POST", "/api/incidents"), "POST", "/api/incidents",
                    {"json": self.json_body(fields)})

    def change_makers(self) -> list[Callable[[], Call]]:
        """One maker for each change of the write API."""
        def maker(suffix: str, action: str) -> Callable[[], Call]:
            def make() -> Call:
                path = suffix.replace("{source_id}", self.rng.choice(["s1", "s2", "S1", "s9"]))
                path = path.replace("{victim_id}", self.rng.choice(["v1", "v2", "x"]))
                return Call(("POST", f"/api/incidents/{{code}}/{suffix}"), "POST",
                            f"/api/incidents/{quote(self.code(), '')}/{path}",
                            {"json": self.json_body(PLAUSIBLE.get(action, {}))})
            return make
        return [maker(suffix, action) for suffix, action, _, _ in CHANGES]

    def bearer(self) -> dict[str, str]:
        """Sometimes a member's token (the only credentials a multipart upload is taken
        with), sometimes a wrong one; else the browser's own credentials."""
        roll = self.rng.random()
        if self.token is None or roll < 0.4:
            return {}
        if roll < 0.9:
            return {"Authorization": f"Bearer {self.token}"}
        return {"Authorization": f"Bearer {self.token[:-4]}AAAA"}

    def api_add_file(self) -> Call:
        code = self.code()
        plausible = {"description": "rubble", "origin": "https://example.org/p",
                     "collected_by": "a network", "collected_at": "2017-03-22T09:00",
                     "graphic": self.rng.choice(["", "1", "true"]),
                     "source": self.rng.choice(["", "s1", "s9"])}
        fields: dict[str, Any]
        if self.rng.random() < 0.5:  # as a script sends them, so that some are taken
            fields = {key: value for key, value in plausible.items() if value}
            fields["graphic"] = bool(fields.get("graphic"))
            if self.rng.random() < 0.5:
                fields["version"] = self.version(code)
        else:
            fields = self.json_body(plausible)
        content = self.rng.choice([PICTURE, b"%PDF-1.7 " + self.text().encode(),
                                   self.text().encode(), b""])
        name = self.rng.choice(["IMG_0042.jpg", "", self.text()[:200] or "f"])
        path = f"/api/incidents/{quote(code, '')}/files"
        headers = self.bearer()
        if self.rng.random() < 0.5:
            data = {key: str(value).lower() if isinstance(value, bool) else str(value)
                    for key, value in fields.items()}
            files = {"file": (name, content, "application/octet-stream")}
            options: dict[str, Any] = {"data": data, "files": files}
        else:
            encoded = base64.b64encode(content).decode("ascii")
            if self.rng.random() < 0.1:
                encoded = self.rng.choice([encoded[:-1], encoded + "\n", self.text()])
            options = {"json": {**fields, "name": name, "content_base64": encoded}}
        if headers:
            options["headers"] = headers
        return Call(("POST", "/api/incidents/{code}/files"), "POST", path, options)

    def api_copy_file(self) -> Call:
        body: dict[str, Any] = self.rng.choice([{}, {"reason": "for the report"},
                                                {"reason": self.text()}, {"why": "x"}])
        options: dict[str, Any] = {"json": body}
        if headers := self.bearer():
            options["headers"] = headers
        return Call(("POST", "/api/incidents/{code}/files/{file_id}/copy"), "POST",
                    f"/api/incidents/{quote(self.code(), '')}/files/"
                    f"{quote(self.file_id(), '')}/copy", options)

    def api_add_party(self) -> Call:
        name = self.rng.choice(["Coalition", "US-led Coalition", "Russia", self.text()[:200]])
        aliases = [self.rng.choice(["التحالف", "CJTF-OIR", "Coalition", self.text()[:200]])
                   for _ in range(self.rng.choice([0, 1, 2]))]
        body: dict[str, Any] = {"name": name, "aliases": aliases}
        if self.rng.random() < 0.1:
            body = self.rng.choice([{"aliases": aliases}, {"name": name, "alias": name},
                                    {"name": [name]}])
        options: dict[str, Any] = {"json": body}
        if headers := self.bearer():
            options["headers"] = headers
        return Call(("POST", "/api/parties"), "POST", "/api/parties", options)

    def api_import_strike_reports(self) -> Call:
        def row() -> dict[str, Any]:
            found: dict[str, Any] = {
                "reference": self.rng.choice(["CJTF-OIR 2017-03-18", "R2", self.text()[:100]]),
                "belligerent": self.rng.choice(["Coalition", "US-led Coalition",
                                                self.text()[:100]]),
                "strike_date": self.rng.choice(["2017-03-17", "17 March 2017", self.moment()]),
                "place": self.rng.choice(["Mosul", "Hajin", None, self.text()[:100]])}
            if self.rng.random() < 0.3:
                found["lat"], found["lon"] = self.rng.choice(
                    [(36.34, 43.13), (91, 0), (None, 43.1), ("x", 1)])
            if self.rng.random() < 0.2:
                found[self.rng.choice(["report_date", "strikes", "text", "precision",
                                       "colour"])] = self.rng.choice([self.text()[:100], 3])
            return found
        rows: Any = [row() if self.rng.random() < 0.9 else self.rng.choice([[1], "x", None])
                     for _ in range(self.rng.choice([0, 1, 2, 5]))]
        if self.rng.random() < 0.1:
            rows = self.rng.choice([{}, {"rows": rows}, "x", 7])
        options: dict[str, Any] = {"json": rows}
        if headers := self.bearer():
            options["headers"] = headers
        return Call(("POST", "/api/strike-reports"), "POST", "/api/strike-reports", options)

    def api_match_strike_reports(self) -> Call:
        body: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            body["radius_km"] = self.rng.choice([15, 0.1, 30.5, 500, 0, -1, 501, "x",
                                                 self.text()])
        if self.rng.random() < 0.5:
            body["days"] = self.rng.choice([0, 1, 2, 30, 31, -1, "1", self.text()])
        if self.rng.random() < 0.5:
            body["apply"] = self.rng.choice([True, False, "yes", self.text()])
        if self.rng.random() < 0.1:
            body[self.rng.choice(["gazetteer", "json", self.text()[:20] or "x"])] = "/etc/passwd"
        options: dict[str, Any] = {"json": body}
        if headers := self.bearer():
            options["headers"] = headers
        return Call(("POST", "/api/strike-reports/match"), "POST",
                    "/api/strike-reports/match", options)

    def api_grade_all(self) -> Call:
        body = self.rng.choice([{}, {"due": True}, {"due": False}, {"due": self.text()},
                                {"all": True}, []])
        options: dict[str, Any] = {"json": body}
        if headers := self.bearer():
            options["headers"] = headers
        return Call(("POST", "/api/grade-all"), "POST", "/api/grade-all", options)

    def inbox_page(self) -> Call:
        return Call(("GET", "/inbox"), "GET", "/inbox")

    def api_inbox(self) -> Call:
        return Call(("GET", "/api/inbox"), "GET", "/api/inbox")

    def report(self) -> Call:
        fields = {**PLAUSIBLE["report"], "code": f"CS{self.rng.randint(9000, 99999)}"}
        return Call(("POST", "/report"), "POST", "/report", {"data": self.form(fields)})

    def stats_page(self) -> Call:
        return Call(("GET", "/stats"), "GET", "/stats",
                    {"params": self.params(by=self.grouping, as_of=self.moment)})

    def search_page(self) -> Call:
        return Call(("GET", "/search"), "GET", "/search", {"params": self.params(q=self.text)})

    def sign_in_form(self) -> Call:
        return Call(("GET", "/sign-in"), "GET", "/sign-in",
                    {"params": self.params(next=self.text)}, fresh=True)

    def sign_in(self) -> Call:
        name = self.rng.choice(["rana", "amira", "lina", "omar", self.text()[:200]])
        password = self.rng.choice([f"{name}-passphrase", self.text()])
        data = self.form({"name": name, "password": password, "next": self.text()})
        return Call(("POST", "/sign-in"), "POST", "/sign-in", {"data": data}, fresh=True)

    def sign_out(self) -> Call:
        return Call(("POST", "/sign-out"), "POST", "/sign-out", {"data": self.form({})},
                    fresh=True)

    def stylesheet(self) -> Call:
        return Call(("GET", "/style.css"), "GET", "/style.css")

    def openapi(self) -> Call:
        return Call(("GET", "/openapi.json"), "GET", "/openapi.json")

    def api_incident(self) -> Call:
        return Call(("GET", "/api/incidents/{code}"), "GET",
                    f"/api/incidents/{quote(self.code(), '')}",
                    {"params": self.params(as_of=self.moment, version=self.number)})

    def api_history(self) -> Call:
        return Call(("GET", "/api/incidents/{code}/history"), "GET",
                    f"/api/incidents/{quote(self.code(), '')}/history",
                    {"params": self.params(public=lambda: self.rng.choice(
                        ["true", "false", "1", "0", "yes", self.text()]))})

    def api_known_on(self) -> Call:
        return Call(("GET", "/api/incidents/{code}/known-on"), "GET",
                    f"/api/incidents/{quote(self.code(), '')}/known-on",
                    {"params": self.params(day=self.moment)})

    def api_queue(self) -> Call:
        return Call(("GET", "/api/queue"), "GET", "/api/queue", {"params": self.params(
            state=self.state, belligerent=self.text, country=self.text, limit=self.number,
            assignee=lambda: self.rng.choice(["rana", "nobody", self.text()]),
            tag=lambda: self.rng.choice(["needs-geolocation", "", self.text()]))})

    def api_stats(self) -> Call:
        return Call(("GET", "/api/stats"), "GET", "/api/stats",
                    {"params": self.params(by=self.grouping, as_of=self.moment)})

    def api_changes(self) -> Call:
        return Call(("GET", "/api/changes"), "GET", "/api/changes", {"params": self.params(
            since=lambda: self.rng.choice(["bG9nOjE", "bG9nOjA", "bG9nOjk5OTk5OTk", "",
                                           "eyJ4IjoxfQ", self.text()]),
            limit=self.number)})

    def feed_atom(self) -> Call:
        return Call(("GET", "/feed.atom"), "GET", "/feed.atom", {"params": self.params(
            before=lambda: self.rng.choice(["bG9nOjE", "bG9nOjI", "bG9nOjA", "", self.text()]),
            lang=lambda: self.rng.choice(["ar", "en", self.text()]))})

    def routes(self) -> dict[tuple[str, str], Callable[[], Call]]:
        makers = [self.queue_page, self.incident_page, self.incident_form, self.report_form,
                  self.report, self.stats_page, self.search_page, self.sign_in_form,
                  self.sign_in, self.sign_out, self.stylesheet, self.openapi,
                  self.api_incident, self.api_history, self.api_known_on, self.api_queue,
                  self.api_stats, self.upload, self.thumbnail, self.copy_out,
                  self.inbox_page, self.api_inbox, self.api_docs, self.api_export,
                  self.api_incidents,
                  self.api_report, self.api_add_file, self.api_copy_file,
                  self.api_changes, self.feed_atom,
                  self.api_add_party, self.api_import_strike_reports,
                  self.api_match_strike_reports, self.api_grade_all, *self.change_makers()]
        return {maker().route: maker for maker in makers}

    def spoil(self, call: Call) -> Call:
        """Sometimes, what an attacker or a broken client sends instead."""
        roll = self.rng.random()
        headers: dict[str, str | bytes] = {}
        if roll < 0.04:
            hosts = HOSTILE_HOSTS if self.team else HOSTILE_HOSTS + NUMBERED_HOSTS
            headers["Host"] = self.rng.choice(hosts).encode()  # any bytes, as sent
            call.hostile_host = True
        elif roll < 0.07:
            call.method = self.rng.choice(["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS",
                                           "GET" if call.method == "POST" else "POST"])
        elif roll < 0.10 and call.method == "POST":
            body = self.rng.choice([b"%ff%fe=%c0%af&csrf=" + self.csrf.encode(), b"\xff" * 50,
                                    b"a=" + b"%" * 20, b"=" * 1000, b"&&&&"])
            kind = self.rng.choice(["application/x-www-form-urlencoded",
                                    "multipart/form-data; boundary=x", "multipart/form-data",
                                    "application/json", "text/plain"])
            call.options = {"content": body}
            headers["Content-Type"] = kind
        elif roll < 0.12 and call.method == "POST":
            call.options = {"files": {"csrf": ("csrf.txt", self.csrf.encode()),
                                      "text": ("a.bin", b"\x00" * 100)},
                            "data": {"version": "1"}}
        elif roll < 0.15 and call.fresh:
            headers["Cookie"] = self.rng.choice(["verify_session=forged", "verify_session=",
                                                 "verify_session=" + "a" * 5000, "=;;=="])
        elif roll < 0.18:
            headers["Authorization"] = self.rng.choice(ODD_AUTH)
        elif roll < 0.22:
            params = dict(call.options.get("params") or {})
            params[self.text()[:20] or "k"] = self.text()[:4_000]
            call.options["params"] = params
        if headers:
            call.options["headers"] = headers
        return call


def routes_of(api: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application serves, read from its route table."""
    found: set[tuple[str, str]] = set()
    for route in api.routes:
        methods, path = getattr(route, "methods", None), getattr(route, "path", None)
        if methods and path:
            found |= {(method, path) for method in methods if method != "HEAD"}
    return found


@dataclass
class Tally:
    """What one fuzz run sent and got back."""

    requests: int = 0
    by_route: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: int = 0
    failures: list[str] = field(default_factory=list)


async def fuzz_server(api: FastAPI, fuzzer: Fuzzer, requests: int, tally: Tally, *,
                      member: tuple[str, str] | None) -> None:
    """Send ``requests`` random requests; record every answer that breaks a promise."""
    makers = fuzzer.routes()
    assert routes_of(api) == set(makers), (
        "every route must be fuzzed: add a maker to Fuzzer for "
        f"{sorted(routes_of(api) ^ set(makers))}")
    rng = fuzzer.rng

    def client(address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=api, raise_app_exceptions=False,
                                        client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=LOCAL)

    async def csrf_of(browser: httpx.AsyncClient) -> str:
        page = await browser.get("/sign-in")
        return CSRF.search(page.text).group(1)  # type: ignore[union-attr]

    async with client() as signed_in, client() as stranger:
        fuzzer.csrf = await csrf_of(signed_in)
        if member is not None:
            answer = await signed_in.post("/sign-in", data={
                "csrf": fuzzer.csrf, "name": member[0], "password": member[1]})
            assert answer.status_code == 303, answer.status_code
            fuzzer.csrf = await csrf_of(signed_in)
        events = stored_events(fuzzer.observer)
        routes = list(makers)
        for _ in range(requests):
            make = makers[rng.choice(routes)]
            own = make().fresh or rng.random() < 0.1
            browser = signed_in if member is None or rng.random() < 0.9 else stranger
            saved = fuzzer.csrf
            if own:
                browser = client(f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1")
                if rng.random() < 0.7:  # as a browser would: the form's page first
                    fuzzer.csrf = await csrf_of(browser)
                    tally.requests += 1
                    tally.by_route[("GET", "/sign-in")] += 1
            call = make()
            call.fresh = own
            call = fuzzer.spoil(call)
            fuzzer.csrf = saved
            try:
                response = await asyncio.wait_for(
                    browser.request(call.method, call.path, **call.options), 60)
            finally:
                if own:
                    await browser.aclose()
            tally.requests += 1
            tally.by_route[call.route] += 1
            tally.statuses[response.status_code] += 1
            now = stored_events(fuzzer.observer)
            appended, events = now > events, now
            form_accepted = call.method == "POST" and (
                (call.route[1].startswith(("/api/incidents", "/api/parties",
                                            "/api/strike-reports", "/api/grade-all"))
                 and response.status_code in (200, 201)) or
                (response.status_code == 303 and call.route in {
                    ("POST", "/incidents/{code}/{action}"), ("POST", "/report"),
                    ("POST", "/incidents/{code}/files")})
                or (response.status_code == 200
                    and call.route == ("POST", "/incidents/{code}/files/{file_id}/copy")))
            if form_accepted:
                tally.accepted += 1
                fuzzer.versions.clear()
                location = response.headers.get("location", "")
                if call.route == ("POST", "/report") and location.startswith("/incidents/"):
                    fuzzer.codes.append(location.removeprefix("/incidents/"))
            problem = None
            if response.status_code >= 500:
                problem = f"answered {response.status_code}"
            elif appended and not form_accepted:
                problem = f"appended events while answering {response.status_code}"
            elif call.hostile_host and response.status_code != 400:
                problem = f"answered {response.status_code} for a host it must refuse"
            elif "Traceback" in response.text:
                problem = "showed a traceback"
            if problem:
                tally.failures.append(f"{call.method} {call.path} {call.options!r:.300}: "
                                      f"{problem}: {response.text[:200]!r}")


def test_every_route_answers_random_requests_without_a_5xx(
        store: str, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page, form and API route, with and without a team: 0 answers >= 500, nothing
    appended by a request that was refused, and every other host refused."""
    monkeypatch.setenv("VERIFY_FILES", str(tmp_path / "evidence"))  # both stores keep files
    team_file = tmp_path / "team.toml"
    write_team(Team(members={
        name: Member(name=name, role=role, password_hash=CHEAP.hash(f"{name}-passphrase"))
        for name, role in [("rana", Role.REVIEWER), ("amira", Role.ANALYST),
                           ("lina", Role.AUDITOR)]} | {
        "omar": Member(name="omar", role=Role.REPORTER)}), team_file)
    token = CliRunner().invoke(cli, ["--team", str(team_file), "team", "token", "amira"]
                               ).stdout.strip()
    seed = int(os.environ.get("FUZZ_SEED", FUZZ_SEED))
    observer = VerifyApp(env={**parse_store(store).env(), "CREATE_TABLE": "n"})
    codes = [entry["code"] for entry in json.loads(
        CliRunner().invoke(cli, ["--store", store, "queue", "--json"]).stdout)]
    codes += ["CI1050", "CS1080", "ZZ404"]
    tally = Tally()
    started = time.monotonic()
    servers = [
        (create_app(parse_store(store), team_file=None, local_actor="fuzz"), None),
        (create_app(parse_store(store), team_file=team_file, local_actor="nobody"),
         ("rana", "rana-passphrase")),
    ]
    try:
        for index, (api, member) in enumerate(servers):
            fuzzer = Fuzzer(random.Random(seed * 10 + index), observer, codes,
                            team=member is not None, token=token if member else None)
            asyncio.run(fuzz_server(api, fuzzer, FUZZ_REQUESTS // len(servers), tally,
                                    member=member))
    finally:
        for api, _ in servers:
            api.state.keeper.stop()
        observer.close()
    took = time.monotonic() - started
    kind = "postgres" if store_url.startswith("postgresql") else "sqlite"
    print(f"\nweb fuzz ({kind}, seed {seed}): {tally.requests} requests over "
          f"{len(tally.by_route)} routes in {took:.1f} s, {tally.accepted} forms accepted, "
          f"{sum(n for status, n in tally.statuses.items() if status >= 500)} answers >= 500, "
          f"{len(tally.failures)} broken promises; statuses {dict(sorted(tally.statuses.items()))}")
    assert not tally.failures, "\n".join(tally.failures[:30])
    assert tally.requests >= FUZZ_REQUESTS
    assert min(tally.by_route.values()) >= 20, tally.by_route
    assert tally.accepted > 0, "no random form was accepted: the generator is too narrow"

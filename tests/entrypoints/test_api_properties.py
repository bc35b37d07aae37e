"""The JSON API, driven from its own OpenAPI document with random and hostile input.

Schemathesis reads /openapi.json and generates requests for every operation
(valid and invalid parameters, odd Unicode, huge numbers); the properties:
no answer is a 5xx, every answer conforms to the document, and no request
appends an event. A second property drives the incident forms (which the
document leaves out: they are HTML) with random field values and a valid
CSRF token: a rejected form appends nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
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
from verify.application.app import VerifyApp
from verify.entrypoints.cli import cli
from verify.entrypoints.web.actions import ACTIONS
from verify.entrypoints.web.app import create_app

pytestmark = pytest.mark.slow  # schemathesis and hypothesis drive the API

LOCAL = "http://127.0.0.1"
"""Requests go to a loopback name: the only host a server without a team answers to."""

API_EXAMPLES = 150
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


PLAUSIBLE: dict[str, dict[str, str]] = {
    "source": {"url": "https://example.org/a", "publisher": "P", "kind": "media",
               "reliability": "B", "credibility": "2"},
    "rerate": {"source_id": "s1", "reliability": "C", "credibility": "3", "reason": "r"},
    "withdraw": {"source_id": "s1", "reason": "r"},
    "strike": {"belligerent": "Coalition", "status": "likely"},
    "contest": {"belligerent": "Russia", "reason": "r"},
    "assess": {"belligerent": "Coalition", "outcome": "credible"},
    "discount": {"basis": "combatants", "rationale": "r"},
    "revise": {"killed": "1-2", "reason": "r"},
    "override": {"grade": "weak", "rationale": "r"},
    "dispute": {"by": "Coalition", "reason": "r"},
    "resolve": {"outcome": "dismissed", "rationale": "r"},
    "duplicate": {"of": "CS1080"},
    "note": {"text": "t"},
    "report": {"code": "CS9000", "date": "2017-01-02", "location": "Mosul", "country": "Iraq",
               "belligerents": "Coalition"},
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
                        "lat", "lon", "precision", "summary"})
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

"""Every waiting incident is reachable on the web: the queue of a 5,000-incident store walked
by its rel="next" links meets each exactly once, and rel="prev" walks back; the API's pages
do the same through their cursors and Link headers."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.demo.synthetic import write_archive
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app

NEXT = re.compile(r'<a [^>]*rel="next"[^>]*href="([^"]+)"|<a [^>]*href="([^"]+)"[^>]*rel="next"')
PREV = re.compile(r'<a [^>]*rel="prev"[^>]*href="([^"]+)"|<a [^>]*href="([^"]+)"[^>]*rel="prev"')
CODES = re.compile(r'<a class="code" href="/incidents/([^"]+)">')


def link(pattern: re.Pattern[str], page: str) -> str | None:
    found = pattern.search(page)
    return html.unescape(found.group(1) or found.group(2)) if found else None


@pytest.fixture
def large(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    run = CliRunner()
    assert run.invoke(cli, ["--store", store_url, "init"]).exit_code == 0
    archive = write_archive(tmp_path / "archive.jsonl", 5000)
    imported = run.invoke(cli, ["--store", store_url, "--actor", "ann", "import", str(archive)])
    assert imported.exit_code == 0, imported.output
    with TestClient(create_app(parse_store(store_url), team_file=None, local_actor="ann"),
                    base_url="http://127.0.0.1") as client:
        yield client, store_url


@pytest.mark.slow
def test_paging_the_web_queue_reaches_every_waiting_incident(
        large: tuple[TestClient, str]) -> None:
    client, store = large
    waiting = [entry["code"] for entry in json.loads(CliRunner().invoke(
        cli, ["--store", store, "queue", "--json"]).stdout)]
    assert len(waiting) > 3000
    seen: list[str] = []
    pages = []
    url: str | None = "/"
    while url is not None:
        page = client.get(url).text
        pages.append(url)
        seen += CODES.findall(page)
        url = link(NEXT, page)
        assert len(pages) <= 100, "the walk does not end"
    assert seen == waiting  # each once, in the queue's order
    assert link(PREV, client.get("/").text) is None
    back: list[str] = []
    url = pages[-1]
    while url is not None:  # and back again from the last page
        page = client.get(url).text
        back = CODES.findall(page) + back
        url = link(PREV, page)
    assert back == waiting
    filtered = client.get("/?country=Iraq&sort=date").text
    assert 'rel="next"' in filtered and "country=Iraq" in (link(NEXT, filtered) or "")

    api: list[str] = []
    address: str | None = "/api/incidents?limit=500"
    while address is not None:
        answer = client.get(address)
        api += [entry["code"] for entry in answer.json()["entries"]]
        found = re.search(r'<([^>]+)>; rel="next"', answer.headers.get("link", ""))
        address = found.group(1) if found else None
    assert api == waiting

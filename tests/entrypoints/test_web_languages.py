"""The web interface's languages: chosen by ?lang=, a cookie or the browser; Arabic pages
right to left; every sentence of the interface in every shipped catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from verify.adapters.store import parse_store
from verify.entrypoints.cli import cli
from verify.entrypoints.web.app import create_app
from verify.entrypoints.web.i18n import chosen, languages, translations


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = str(tmp_path / "demo.sqlite")
    assert CliRunner().invoke(cli, ["--store", store, "demo"]).exit_code == 0
    with TestClient(create_app(parse_store(store), team_file=None, local_actor="maya"),
                    base_url="http://127.0.0.1") as served:
        yield served


def test_the_language_comes_from_the_link_then_the_cookie_then_the_browser(
        client: TestClient) -> None:
    arabic = client.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic.text and "قائمة المراجعة" in arabic.text
    assert arabic.cookies.get("verify_lang") == "ar"
    assert '<html lang="ar" dir="rtl">' in client.get("/incidents/CS1095").text  # remembered
    assert '<html lang="en" dir="ltr">' in client.get("/?lang=en").text
    client.cookies.clear()
    browser = client.get("/", headers={"Accept-Language": "fr-FR, ar-SY;q=0.8, en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in browser.text
    client.cookies.clear()
    unknown = client.get("/?lang=xx", headers={"Accept-Language": "de"})
    assert '<html lang="en" dir="ltr">' in unknown.text and "verify_lang" not in unknown.cookies
    assert 'href="?lang=ar"' in unknown.text and "العربية" in unknown.text


@pytest.mark.parametrize(("asked", "cookie", "header", "expected"), [
    (None, None, None, "en"), ("AR", None, None, "ar"), ("xx", "ar", None, "ar"),
    (None, None, "ar-EG", "ar"), (None, None, "en-GB,ar;q=0.9", "en"),
    (None, None, "ar;q=0, en;q=0.1", "en"), (None, None, "ar;q=abc", "en"),
    (None, None, "*", "en"), (None, None, ",;,;q=", "en"),
])
def test_choosing(asked: str | None, cookie: str | None, header: str | None,
                  expected: str) -> None:
    assert chosen(asked, cookie, header) == expected


def test_every_language_is_one_catalog_file() -> None:
    folder = Path(__file__).parents[2] / "src/verify/entrypoints/web/locales"
    assert sorted(path.stem for path in folder.glob("*.po")) == sorted(
        code for code in languages() if code != "en")
    assert languages()["ar"].direction == "rtl"
    assert translations("ar").gettext("Review queue") == "قائمة المراجعة"
    assert translations("en").gettext("Review queue") == "Review queue"

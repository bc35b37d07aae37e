"""The web interface's languages: chosen by ?lang=, a cookie or the browser; Arabic pages
right to left; every sentence of the interface in every shipped catalog."""

from __future__ import annotations

import functools
import html
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from argon2 import PasswordHasher
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from verify.adapters.store import parse_store
from verify.adapters.team_file import write_team
from verify.application.readmodels import STATS_GROUPINGS
from verify.demo.synthetic import write_archive
from verify.domain.duties import Member, Role, Team
from verify.domain.values import (
    WAITING_TEMPLATES,
    AssessmentOutcome,
    Grade,
    Precision,
    SourceKind,
    State,
    StrikeStatus,
    waiting_for,
    waiting_sentence,
)
from verify.domain.victims import AgeGroup, Gender, VictimStatus
from verify.entrypoints.cli import cli
from verify.entrypoints.web.actions import ACTIONS, INLINE_ACTIONS
from verify.entrypoints.web.app import create_app
from verify.entrypoints.web.i18n import chosen, in_language, languages, translations


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


# ---------------------------------------------------------------- every sentence in the catalogs

ROOT = Path(__file__).parents[2]
WEB = ROOT / "src/verify/entrypoints/web"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TAG = re.compile(r"</?[a-z]+(?:\s[^>]*)?>")
Key = tuple[str | None, str | tuple[str, ...]]
"""A message as gettext finds it: (context, msgid), a plural's msgid a pair."""


KEYWORDS = {**DEFAULT_KEYWORDS, "sentence": None, "sentence_template": None,
            "counted_sentence": (1, 2)}
"""What marks a message: gettext's names, `sentence`, `sentence_template` and
`counted_sentence` (`pybabel extract -k sentence -k sentence_template -k
counted_sentence:1,2`)."""


@functools.cache
def extracted() -> frozenset[Key]:
    """Every message of the interface, found as `pybabel extract -F babel.cfg -k sentence
    -k sentence_template src/verify` finds it: the templates' text and the engine's
    sentences."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    return frozenset((context, message) for _, _, message, _, context in extract_from_dir(
        ROOT / "src/verify", method_map, options_map, keywords=KEYWORDS))


def texts(text: object) -> tuple[str, ...]:
    """A message's msgid or msgstr as its forms (one, or a plural's several)."""
    return tuple(text) if isinstance(text, (tuple, list)) else (str(text or ""),)


def catalogs() -> dict[str, Catalog]:
    found = {}
    for path in sorted((WEB / "locales").glob("*.po")):
        with path.open("rb") as po:
            found[path.stem] = read_po(po, locale=path.stem)
    return found


def test_every_message_is_translated_in_every_catalog_and_nothing_else_is() -> None:
    messages = extracted()
    assert len(messages) > 300  # every page's text, not a handful
    for code, catalog in catalogs().items():
        kept = {(message.context, message.id): message for message in catalog if message.id}
        assert not catalog.obsolete, (code, list(catalog.obsolete))
        assert sorted(messages - set(kept), key=str) == [], f"{code}.po lacks these"
        assert sorted(set(kept) - messages, key=str) == [], f"{code}.po has unused entries"
        for key, message in kept.items():
            ids, forms = texts(message.id), texts(message.string)
            assert not message.fuzzy, (code, key)
            assert len(forms) == (catalog.num_plurals if message.pluralizable else 1), (code, key)
            assert all(form.strip() for form in forms), (code, key, forms)
            given = set(PLACEHOLDER.findall(" ".join(ids)))
            for form in forms:
                # A plural's form for one or two may say the number in words.
                assert set(PLACEHOLDER.findall(form)) <= given, (code, key, form)
                assert sorted(TAG.findall(form)) == sorted(TAG.findall(ids[0])), (code, key, form)
                assert form.count('"') == ids[0].count('"'), (code, key, form)  # attributes
            assert set(PLACEHOLDER.findall(forms[-1])) == given, (code, key, forms[-1])


JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
SHOWN = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')
LATIN = {"verify", "JSON", "UTC", "sha", "v", "T", "s"}
"""Latin a page may show as it is: the name, formats and identifiers (sha256, v4, 2017-03-20T14:00,
s1 s2)."""

def test_the_templates_say_nothing_outside_the_catalog() -> None:
    """No text a reader sees is written in a template as it is: what is left of a template
    without its Jinja and its tags (and the attributes a reader sees) has no English in it."""
    for path in sorted((WEB / "templates").glob("*.html")):
        source = JINJA.sub(" ", path.read_text(encoding="utf-8"))
        shown = " ".join(SHOWN.findall(source)) + re.sub(r"<[^>]*>", " ", source)
        assert sorted(set(re.findall(r"[A-Za-z]+", shown)) - LATIN) == [], path.name


def words(code: str) -> Any:
    """The template module of the pages' words (words.html), in one language."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(WEB / "templates"), autoescape=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
    return env.get_template("words.html").module


@pytest.mark.parametrize("code", [code for code in languages() if code != "en"])
def test_every_value_the_pages_show_has_its_word(code: str) -> None:
    """The record's values (states, grades, kinds...) and the forms' titles, which come from
    Python, are shown in words of the language; the values themselves stay as they are."""
    said, english = words(code), words("en")
    vocabularies: dict[str, list[str]] = {
        "state": list(State), "grade": [*Grade, "ungraded"], "kind": list(SourceKind),
        "precision": list(Precision), "strike": list(StrikeStatus),
        "outcome": list(AssessmentOutcome), "victim_status": list(VictimStatus),
        "gender": list(Gender), "age_group": list(AgeGroup), "role": list(Role),
        "grouping": list(STATS_GROUPINGS),
        "action": [action.title for action in ACTIONS.values() if action.name not in
                   INLINE_ACTIONS],
    }
    for macro, values in vocabularies.items():
        for value in values:
            assert str(getattr(english, macro)(str(value))) == str(value), (macro, value)
            assert str(getattr(said, macro)(str(value))) != str(value), (code, macro, value)
    assert str(said.option("fair", said.grade("fair"), True)).startswith(
        '<option selected value="fair">')
    assert str(english.option("fair", english.grade("fair"), True)) == \
        "<option selected>fair</option>"
    for rating in ("A1", "F6"):
        assert str(said.rating(rating)) != str(english.rating(rating)) != ""


def every_wait() -> list[str]:
    """Every sentence the queue can say an incident waits for."""
    said = {waiting_for(state, active_sources=sources) for sources in (0, 1) for state in State}
    said |= {waiting_for(State.GRADED, active_sources=1, regrade_due=grade)
             for grade in ("", "fair", "confirmed")}
    said |= {waiting_for(State.REPORTED, active_sources=1, proposed_grade="weak"),
             waiting_for(State.DISPUTED, active_sources=1, dispute_since="2017-03-20T14:00:00"),
             waiting_for(State.GRADED, active_sources=1, named_killed=5, killed_max=3)}
    return sorted(said)


@pytest.mark.parametrize("code", [code for code in languages() if code != "en"])
def test_what_an_incident_waits_for_is_said_in_the_language(code: str) -> None:
    """The queue's read model keeps what an incident waits for as English text; the page
    reads it back as the sentence it was and says it in the page's language, a grade by its
    word."""
    waits = every_wait()
    assert {waiting_sentence(wait).template for wait in waits} == set(  # type: ignore[attr-defined]
        WAITING_TEMPLATES.values())
    for wait in waits:
        kept = str(wait)  # as the read model's column keeps it
        assert in_language(waiting_sentence(kept), "en") == kept
        shown = in_language(waiting_sentence(kept), code)
        assert shown != kept and not re.search(r"[a-z]{3,} [a-z]{3,}", shown), (wait, shown)
    regrade = waiting_for(State.GRADED, active_sources=1, regrade_due="fair")
    assert translations(code).pgettext("grade", "fair") in in_language(
        waiting_sentence(str(regrade)), code)


# ---------------------------------------------------------------- the pages, in Arabic and English

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Argon2 at its cheapest: the sign-in here tests words, not hashing."""


@pytest.fixture(scope="module")
def worked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, with CS1095 worked on: assigned to maya, discussed, tagged, victims, files,
    a note, so every part of an incident page has something to show."""
    folder = tmp_path_factory.mktemp("worked")
    store = folder / "demo.sqlite"
    picture = folder / "rubble.jpg"
    Image.new("RGB", (40, 30), (190, 180, 160)).save(picture)
    (folder / "notes.txt").write_text("what the witness said")
    steps = [["demo"],
             ["--actor", "amira", "assign", "CS1095", "--to", "maya"],
             ["--actor", "amira", "comment", "CS1095", "@maya can you check the report?"],
             ["--actor", "maya", "comment", "CS1095", "checked", "--reply-to", "m1"],
             ["--actor", "amira", "comment", "CS1095", "@maya and the second one?"],
             ["tag", "CS1095", "needs-geolocation"],
             ["source", "add", "CS1095", "--url", "https://example.org/hajin", "--publisher",
              "Airwars", "--kind", "ngo", "--reliability", "B", "--credibility", "2",
              "--published", "2017-03-26"],
             ["note", "CS1095", "call the local network"],
             ["victim", "add", "CS1095", "--name", "Layla Hassan", "--name-original",
              "ليلى حسن", "--age", "9", "--gender", "female", "--source", "s1"],
             ["victim", "add", "CS1095", "--age-group", "adult", "--status", "injured",
              "--source", "s1", "--protected"],
             ["evidence", "add", "CS1095", str(folder / "notes.txt"), "--source", "s1",
              "--origin", "https://example.org/witness", "--description", "the witness"],
             ["evidence", "add", "CS1095", str(picture), "--graphic"]]
    for step in steps:
        done = CliRunner().invoke(cli, ["--store", str(store), *step])
        assert done.exit_code == 0, (step, done.output)
    return store


@pytest.fixture
def served(worked: Path, tmp_path: Path) -> Iterator[TestClient]:
    store = tmp_path / "demo.sqlite"
    # SQLite's own copy: the last changes may still be in the write-ahead log beside the file.
    with sqlite3.connect(worked) as source, sqlite3.connect(store) as copy:
        source.backup(copy)
    shutil.copytree(worked.with_name("demo.sqlite.files"), tmp_path / "demo.sqlite.files")
    with TestClient(create_app(parse_store(str(store)), team_file=None, local_actor="maya"),
                    base_url="http://127.0.0.1") as client:
        yield client


PAGES = ["/", "/?state=graded", "/?tag=nothing-has-it", "/?sort=date&grade=ungraded",
         "/?sort=code&from=2017-03-01&to=2017-03-31", "/incidents/CS1095",
         "/incidents/CS1095?reveal=e2", "/incidents/CS1070", "/incidents/CI1050",
         "/incidents/CS1091", "/incidents/CS1092", "/incidents/CS1070?version=3",
         "/incidents/CS1095?known_on=2017-03-27", "/incidents/CS1095?known_on=2017-03-20",
         "/stats", "/stats?by=grade", "/stats?by=belligerent", "/search", "/search?q=Hajin",
         "/search?q=nowhere", "/report", "/inbox", "/incidents/CS0", "/docs"]
"""Every page and every part of one, as the demo and `worked` fill them."""

MUST_NOT_READ = ["Review queue", "History", "Add a source", "Sources", "Statistics", "Inbox",
                 "Waiting for", "Civilians killed", "Not graded", "Discussion", "Victims",
                 "Files", "Known on a day", "Report an incident", "Group by", "not now",
                 "ready to grade", "Sign in", "Password"]
"""English that must not be left on an Arabic page (besides every sentence of the templates;
the values of the record, such as "fair", are still in the history's English sentences)."""


def visible(page: str) -> str:
    """A page's text as a reader sees it (tags and attributes gone, entities read)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def english_phrases() -> set[str]:
    """The English of the templates a page could show: every message of two words or more,
    and each run of three words or more between the placeholders of the others."""
    found = set()
    for _, message in extracted():
        for text in message if isinstance(message, tuple) else (message,):
            for part in PLACEHOLDER.split(TAG.sub(" ", text)):
                part = " ".join(part.split()).strip(" ,.:;()“”")
                if len(part.split()) >= (2 if part == " ".join(text.split()) else 3):
                    found.add(part)
    return found


def arabic_page(client: TestClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code in (200, 404), (path, answer.status_code)
    assert '<html lang="ar" dir="rtl">' in answer.text, path
    # What a page marks as English on purpose (the API page's OpenAPI summaries) is left out.
    return visible(re.sub(r'<(\w+)[^>]*\blang="en"[^>]*>.*?</\1>', " ", answer.text,
                          flags=re.S))


@pytest.mark.slow  # every page, against every English phrase of the templates
def test_arabic_pages_say_nothing_in_english(served: TestClient) -> None:
    phrases = english_phrases()
    assert len(phrases) > 150
    served.get("/?lang=ar")
    for path in PAGES:
        text = arabic_page(served, path)
        left = sorted(phrase for phrase in phrases if phrase in text)
        assert left == [], (path, left)
        left = [word for word in MUST_NOT_READ if re.search(rf"\b{re.escape(word)}\b", text)]
        assert left == [], (path, left)


def test_arabic_pages_read_as_they_should_and_forms_send_the_same_values(
        served: TestClient) -> None:
    served.get("/?lang=ar")
    queue = served.get("/").text
    assert "قائمة المراجعة" in queue and "5 حوادث، الأطول انتظارًا أولًا." in queue
    assert '<option value="strike-confirmed" >الضربة مؤكَّدة</option>' in queue
    assert 'data-label="الحالة"' in queue  # the phone layout's labels
    incident = served.get("/incidents/CS1095").text
    for said in ("المصادر", "السجل", "إضافة مصدر", "الضحايا", "ليلى حسن", "الملفات",
                 "النقاش", "ردًّا على", "مُسنَدة إلى", "21 بايتًا",
                 'title="موثوق إلى حدٍّ ما؛ قد تكون صحيحة">C3'):
        assert said in incident, said
    for value in ('<option value="ngo">منظمة غير حكومية</option>',
                  '<option value="declared">مُعلَنة</option>',
                  '<option value="non_credible">يفتقر إلى المصداقية</option>',
                  '<option value="child">طفل</option>', '<option value="fair">معقول</option>',
                  'name="url" required dir="ltr"'):
        assert value in incident, value
    graded = served.get("/incidents/CI1050").text
    assert '<span class="grade confirmed">مؤكَّد</span> وفق القاعدة <strong>CONFIRMED</strong>' \
        in graded
    assert "ضربتان" not in incident
    known = served.get("/incidents/CS1095?known_on=2017-03-27").text
    assert 'بحلول نهاية <bdi dir="ltr">2017-03-27</bdi> كان دليل القواعد سيصنّفها' in known
    assert 'المعروف حتى ذلك اليوم: مصدر واحد (s2 نُشر في <bdi dir="ltr">2017-03-26</bdi>)، ' \
        "لا ضربات، لا ادعاءات منافسة، لا تقييمات، لا استنتاجات." in known
    grade = served.get("/stats?by=grade").text
    assert '<option selected value="grade">التصنيف</option>' in grade
    csrf = re.search(r'name="csrf" value="([^"]+)"', incident).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', incident).group(1)  # type: ignore[union-attr]
    added = served.post("/incidents/CS1095/source", follow_redirects=False, data={
        "csrf": csrf, "version": version, "url": "https://example.org/r", "publisher": "SNHR",
        "kind": "ngo", "reliability": "B", "credibility": "2"})
    assert added.status_code == 303, added.text[:500]
    shown = served.get("/incidents/CS1095").text
    assert "أُضيف المصدر" in shown and "(منظمة غير حكومية، \u2068B2\u2069)" in shown
    recorded = served.get("/api/incidents/CS1095").json()["sources"]
    assert (recorded[-1]["kind"], recorded[-1]["rating"]) == ("ngo", "B2")  # the value sent


@pytest.mark.slow  # every page, against every Arabic phrase of the catalog
def test_english_pages_are_as_they_were(served: TestClient) -> None:
    """English is the text the templates are written in: no word of a catalog shows."""
    arabic = {part for message in catalogs()["ar"] if message.id
              for form in texts(message.string)
              for part in PLACEHOLDER.split(TAG.sub(" ", form)) if len(part.split()) >= 2}
    served.get("/?lang=en")
    for path in PAGES:
        answer = served.get(path)
        assert '<html lang="en" dir="ltr">' in answer.text, path
        text = visible(answer.text)
        assert [phrase for phrase in arabic if phrase.strip(" ،.:؛()") in text] == [], path
    queue = visible(served.get("/").text)
    assert "Review queue" in queue and "5 incidents, longest waiting first." in queue
    incident = served.get("/incidents/CS1095").text
    for said in ("History", "Add a source", "Victims", "Discussion", "answering", "bytes",
                 "<option selected>F</option>", "<option>ngo</option>",
                 'title="fairly reliable; possibly true">C3', "Named killed: 1."):
        assert said in incident, said
    one = served.get("/incidents/CS1095?known_on=2017-03-27").text
    assert "Known by then: 1 source (s2 published 2017-03-26), 0 strikes, 0 competing " \
        "claims, 0 assessments, 0 findings." in one


def test_the_sign_in_page_and_a_members_role_in_arabic(tmp_path: Path) -> None:
    store, team = tmp_path / "demo.sqlite", tmp_path / "team.toml"
    assert CliRunner().invoke(cli, ["--store", str(store), "demo"]).exit_code == 0
    write_team(Team(members={"amira": Member(name="amira", role=Role.ANALYST,
                                             password_hash=CHEAP.hash("amira-passphrase"))}),
               team)
    app = create_app(parse_store(str(store)), team_file=team, local_actor="nobody",
                     secret_key=secrets.token_hex(32))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/sign-in?lang=ar")
        text = arabic_page(client, "/sign-in")
        assert "تسجيل الدخول" in text and "كلمة المرور" in text and "Password" not in text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        signed = client.post("/sign-in", follow_redirects=False, data={
            "csrf": csrf, "name": "amira", "password": "amira-passphrase", "next": "/"})
        assert signed.status_code == 303
        queue = arabic_page(client, "/")
        assert "amira · محلِّل" in queue and "تسجيل الخروج" in queue
        assert "amira · analyst" in visible(client.get("/?lang=en").text)


def test_the_pages_of_a_long_queue_are_named_in_arabic(tmp_path: Path) -> None:
    store = tmp_path / "long.sqlite"
    archive = write_archive(tmp_path / "archive.jsonl", 150)
    for step in (["init"], ["import", str(archive)]):
        done = CliRunner().invoke(cli, ["--store", str(store), "--actor", "ann", *step])
        assert done.exit_code == 0, done.output
    with TestClient(create_app(parse_store(str(store)), team_file=None, local_actor="ann"),
                    base_url="http://127.0.0.1") as client:
        first = client.get("/?lang=ar&sort=code").text
        assert "100 حادثة في هذه الصفحة." in first
        following = re.search(r'<a rel="next" href="([^"]+)">الصفحة التالية</a>', first)
        assert following and "lang=" not in following.group(1)  # the cookie keeps the language
        second = client.get(html.unescape(following.group(1))).text
        assert '<html lang="ar" dir="rtl">' in second
        assert re.search(r'<a rel="prev" href="[^"]+">الصفحة السابقة</a>', second)
        assert not [phrase for phrase in ("Next page", "Previous page", "on this page")
                    if phrase in visible(second)]

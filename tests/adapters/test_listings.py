"""Listings that scale: the queue and search filtered, sorted and paged by cursor, on both stores.

The read model is filled with rows written straight through its `save` (the
rows the projection would write), so a store of thousands of incidents costs
a fraction of a second and every filter has rows to find; the projection's
own rows are covered by tests/application/test_read_models.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.adapters.readmodel import LISTING_ORDERS, listing_index
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.application.projection import PROJECTION_NAME
from verify.application.readmodels import (
    DAMAGED_CURSOR,
    SEARCH_SORTS,
    SORTS,
    Filters,
    ListingFilters,
    PageSpec,
)
from verify.application.views import QueuePage, SearchPage
from verify.domain.errors import InvalidInput
from verify.domain.text import fold
from verify.domain.values import WAITING_STATES, Grade, State
from verify.entrypoints.cli import cli

from conftest import fresh_postgres_schema

COUNTRIES = ("Iraq", "Syria", "Libya", "Yemen")
BELLIGERENTS = ("US-led Coalition", "Russian Military", "Turkish Military")
PEOPLE = (None, None, None, "amira", "jonas")
TAGS = ("night", "needs-geolocation", "الطبقة")
GRADES = [grade.value for grade in Grade]
WAITING = {state.value for state in WAITING_STATES}
FIRST_DAY = dt.date(2016, 1, 1)


def incident_row(number: int, rng: random.Random) -> dict[str, Any]:
    """A read-model row as the projection writes it, its values drawn at random.

    Wait starts come from a small pool, so many incidents share one and the
    code has to settle the order.
    """
    grade = rng.choice([None, None, None, *GRADES])
    if grade is None:
        state = rng.choice(["reported", "corroborated", "strike-confirmed"])
    else:
        state = rng.choice(["graded", "graded", "graded", "disputed"])
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(60))
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(700))
    country = rng.choice(COUNTRIES)
    return {
        "code": f"CS{number:05d}", "date": day.isoformat(), "month": day.isoformat()[:7],
        "country": rng.choice([country, country.upper(), f" {country.lower()}"]),
        "country_key": fold(country),
        "belligerents": rng.sample(BELLIGERENTS, rng.choice([1, 1, 2])),
        "location": f"Mosul district {number % 37}", "summary": "Strike on a house.",
        "search_text": f"mosul district {number % 37}\nstrike on a house.",
        "killed_min": 1, "killed_max": 3, "active_sources": 2, "corroborated": True,
        "strikes": 1, "grade": grade, "proposed_grade": None,
        "dispute_since": since.isoformat() if state == "disputed" else None,
        "duplicate_of": "CS00001" if number > 1 and rng.random() < 0.05 else None,
        "regrade_due": "fair" if state == "graded" and rng.random() < 0.1 else None,
        "victims": {}, "named_killed": 0, "children_killed": 0, "women_killed": 0,
        "casualties_consistent": rng.random() > 0.03, "state": state,
        "state_since": since.isoformat(), "waiting_for": "something", "reported_at":
        since.isoformat(), "updated_at": since.isoformat(), "version": 3,
        "assignee": rng.choice(PEOPLE), "tags": sorted(rng.sample(TAGS, rng.choice([0, 0, 1, 2]))),
    }


def written(app: VerifyApp, rows: list[dict[str, Any]], position: int = 1) -> None:
    """Write rows to the read model as one catch-up batch would."""
    fresh = {row["code"] for row in rows} if position == 1 else set()
    app.read_model.save([dict(row) for row in rows], fresh,
                        {row["code"]: f"id-{row['code']}" for row in rows},
                        Tracking(PROJECTION_NAME, position), after=position - 1)


def filled(store_url: str, count: int, seed: int = 19) -> tuple[VerifyApp, list[dict[str, Any]]]:
    app = VerifyApp(env=parse_store(store_url).env())
    rng = random.Random(seed)
    rows = [incident_row(number, rng) for number in range(1, count + 1)]
    written(app, rows)
    return app, rows


Filled = tuple[VerifyApp, list[dict[str, Any]]]


@pytest.fixture
def store(store_url: str) -> Iterator[Filled]:
    """A store of 300 incidents of its own, for a test that changes it."""
    app, rows = filled(store_url, 300)
    yield app, rows
    app.close()


@pytest.fixture(scope="module", params=[
    "sqlite",
    # PostgreSQL in CI only, like this file's store_url runs (conftest's PG_IN_CI_ONLY).
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def shared(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """A store of 300 incidents of each kind, shared by the tests that only read it."""
    urls = iter([str(tmp_path_factory.mktemp("listings") / "verify.sqlite")]) \
        if request.param == "sqlite" else fresh_postgres_schema()
    for url in urls:
        app, rows = filled(url, 300)
        yield app, rows
        app.close()


def expected_codes(rows: list[dict[str, Any]], asked: ListingFilters, *,
                   search: bool = False) -> set[str]:
    """The incidents a listing keeps, decided here from the rows, independently of SQL."""
    kept = set()
    state, grade = asked.get("state"), asked.get("grade")
    for row in rows:
        if row["duplicate_of"] is not None and not search:
            continue
        if state is not None:
            in_state = row["state"] == state.value
        elif search or (grade is not None and grade != "ungraded"):
            in_state = True
        elif grade == "ungraded":
            in_state = row["state"] in WAITING
        else:
            in_state = row["state"] in WAITING or row["regrade_due"] is not None \
                or not row["casualties_consistent"]
        checks = [
            in_state,
            grade is None or row["grade"] == (None if grade == "ungraded" else grade),
            not asked.get("country") or fold(asked["country"] or "") == row["country_key"],
            not asked.get("belligerent") or fold(asked["belligerent"] or "")
            in {fold(name) for name in row["belligerents"]},
            asked.get("assignee") is None or row["assignee"] == asked["assignee"],
            asked.get("tag") is None or asked["tag"] in row["tags"],
            asked.get("date_from") is None or row["date"] >= str(asked["date_from"]),
            asked.get("date_to") is None or row["date"] <= str(asked["date_to"]),
        ]
        if all(checks):
            kept.add(row["code"])
    return kept


Page = QueuePage | SearchPage


def walked(ask: Callable[..., Page], size: int) -> tuple[list[str], list[Page]]:
    """Every page, each continuing from the one before: the codes met, and the pages."""
    codes: list[str] = []
    pages: list[Page] = []
    after = None
    while True:
        page = ask(limit=size, after=after)
        pages.append(page)
        codes += [entry.code for entry in page.entries]
        if page.next is None:
            return codes, pages
        assert len(page.entries) == size
        after = page.next


# ---------------------------------------------------------------- every incident reachable


@pytest.mark.slow  # thousands of incidents
def test_paging_reaches_every_waiting_incident_of_thousands_once(store_url: str) -> None:
    app, rows = filled(store_url, 3000)
    try:
        everything = [entry.code for entry in app.queue()]
        assert set(everything) == expected_codes(rows, {})
        codes, pages = walked(app.queue_page, 100)
        assert codes == everything and len(set(codes)) == len(codes)
        assert len(pages) == -(-len(everything) // 100)
        assert pages[0].previous is None and pages[-1].next is None
    finally:
        app.close()


@pytest.mark.parametrize("sort", SORTS)
def test_each_order_pages_in_that_order(shared: Filled,
                                        sort: str) -> None:
    app, _ = shared
    everything = app.queue(sort=sort)
    fields = {"waiting": ("since", "code"), "date": ("date", "code"), "code": ("code",)}[sort]
    keys = [tuple(entry[field] for field in fields) for entry in everything]
    assert keys == sorted(keys)
    codes, _ = walked(lambda **page: app.queue_page(sort=sort, **page), 7)
    assert codes == [entry.code for entry in everything]


def test_going_back_gives_the_same_pages_in_reverse(
        shared: Filled) -> None:
    app, _ = shared
    _, pages = walked(lambda **page: app.queue_page(grade="ungraded", **page), 20)
    assert len(pages) > 3
    back = [pages[-1]]
    while back[-1].previous is not None:
        back.append(app.queue_page(grade="ungraded", limit=20, before=back[-1].previous))
    assert [page.entries for page in reversed(back)] == [page.entries for page in pages]
    # A page reached going back continues forwards again where it ended.
    assert app.queue_page(grade="ungraded", limit=20, after=back[1].next).entries \
        == pages[-1].entries


def test_an_incident_that_changes_state_during_a_walk_is_met_once(
        store: Filled) -> None:
    app, rows = store
    first = app.queue_page(limit=10)
    moved = dict(next(row for row in rows if row["code"] == first.entries[0].code))
    later = dict(next(row for row in rows if row["code"] == app.queue()[-1].code))
    for row, state in ((moved, "corroborated"), (later, "strike-confirmed")):
        row["state"] = state if row["state"] != state else "reported"
        row["state_since"] = "2026-06-01T00:00:00+00:00"
    written(app, [moved, later], position=2)
    codes = [entry.code for entry in first.entries]
    after = first.next
    while after is not None:
        page = app.queue_page(limit=10, after=after)
        codes += [entry.code for entry in page.entries]
        after = page.next
    assert len(codes) == len(set(codes))
    # Whatever started waiting after the walk began waits for the next walk, at the end.
    assert later["code"] not in codes
    assert set(codes) | {later["code"]} == {entry.code for entry in app.queue()}
    assert [entry.code for entry in app.queue()[-2:]] == sorted([moved["code"], later["code"]])


# ------------------------------------------------------------------- what the filters keep


def test_grade_lists_graded_incidents_of_that_grade_whatever_their_state(
        shared: Filled) -> None:
    app, rows = shared
    fair = app.queue(grade="FAIR")
    assert {entry.grade for entry in fair} == {"fair"}
    assert {entry.state for entry in fair} == {"graded", "disputed"}
    assert {entry.code for entry in fair} == expected_codes(rows, {"grade": "fair"})
    graded_fair = app.queue(grade="fair", state=State.GRADED)
    assert {entry.state for entry in graded_fair} == {"graded"}
    ungraded = app.queue(grade="ungraded")
    assert ungraded and all(entry.grade is None for entry in ungraded)
    # Without a grade, graded incidents are listed only when due for another look.
    assert all(entry.state != "graded" or row_of(rows, entry.code)["regrade_due"] is not None
               or not row_of(rows, entry.code)["casualties_consistent"]
               for entry in app.queue())


def row_of(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(row for row in rows if row["code"] == code)


@pytest.mark.parametrize("asked", [
    {"country": "IRAQ"}, {"country": " syria "}, {"country": "Atlantis"},
    {"belligerent": "russian  military"}, {"assignee": "amira"}, {"tag": "Needs Geolocation"},
    {"tag": "الطبقة"},
    {"date_from": dt.date(2016, 3, 1), "date_to": dt.date(2016, 3, 31)},
    {"date_from": dt.date(2017, 1, 1)},
    {"state": State.DISPUTED, "belligerent": "Turkish Military", "country": "Libya"},
    {"country": "Iraq", "belligerent": "US-led Coalition", "assignee": "jonas", "tag": "night",
     "grade": "ungraded", "date_to": dt.date(2016, 12, 31)},
], ids=str)
def test_filters_keep_what_they_name(shared: Filled,
                                     asked: ListingFilters) -> None:
    app, rows = shared
    asked_here = dict(asked)
    if "tag" in asked_here:
        asked_here["tag"] = "needs-geolocation" if asked["tag"] == "Needs Geolocation" \
            else asked["tag"]
    assert {entry.code for entry in app.queue(**asked)} == expected_codes(rows, asked_here)


def test_duplicates_stay_out_of_the_queue_and_search_finds_them(
        shared: Filled) -> None:
    app, rows = shared
    duplicate = next(row["code"] for row in rows if row["duplicate_of"] is not None)
    assert duplicate not in {entry.code for entry in app.queue(sort="code")}
    assert [hit.code for hit in app.search(duplicate)][:1] == [duplicate]


def test_search_puts_the_very_code_first_then_pages_by_date(
        store: Filled) -> None:
    app, rows = store
    exact = {**incident_row(10, random.Random(1)), "code": "CS0010", "date": "2099-01-01"}
    app.read_model.save([exact], {"CS0010"}, {"CS0010": "id-CS0010"},
                        Tracking(PROJECTION_NAME, 2), after=1)
    codes, pages = walked(lambda **page: app.search_page("cs0010", **page), 4)
    assert codes[0] == "CS0010" and len(pages) == 3
    found = [row_of(rows, code) for code in codes[1:]]
    assert {row["code"] for row in found} == {row["code"] for row in rows
                                              if "CS0010" in row["code"]}
    assert [(row["date"], row["code"]) for row in found] \
        == sorted((row["date"], row["code"]) for row in found)
    graded = app.search("district", limit=None, grade="weak", sort="code")
    assert {hit.code for hit in graded} == expected_codes(rows, {"grade": "weak"}, search=True)


def test_search_pages_encrypted_text(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIFY_CIPHER_KEY", CliRunner().invoke(cli, ["keygen"]).output.strip())
    app, rows = filled(store_url, 120)
    try:
        assert app.read_model.text_seal.cipher is not None
        everything = [hit.code for hit in app.search("district 3", limit=None, grade="ungraded")]
        assert set(everything) == {row["code"] for row in rows if row["grade"] is None
                                   and "district 3" in row["location"]}
        codes, _ = walked(lambda **page: app.search_page("district 3", grade="ungraded",
                                                         **page), 3)
        assert codes == everything
    finally:
        app.close()


# ------------------------------------------------------------------------------ cursors


def token(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("cursor", "says"), [
    ("", DAMAGED_CURSOR), ("not a cursor", DAMAGED_CURSOR), ("ñ" * 10, DAMAGED_CURSOR),
    ("A" * 5000, DAMAGED_CURSOR), (token([1, 2]), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": ["2026", 7]}), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": "ab"}), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": ["2026", "CS1", "x"]}), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": ["2026", "CS\x001"]}), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": ["2026", "CS1"], "u": 7}), DAMAGED_CURSOR),
    (token({"l": "queue", "o": "waiting", "k": ["2026", "CS1"], "x": 1}), DAMAGED_CURSOR),
    (token({"l": "inbox", "o": "waiting", "k": ["2026", "CS1"]}), DAMAGED_CURSOR),
    ("[" * 900, DAMAGED_CURSOR),
    (token({"l": "search", "o": "date", "k": [True, "2016-01-01", "CS1"]}),
     "continues a search, not the queue"),
    (token({"l": "queue", "o": "date", "k": ["2016-01-01", "CS1"]}),
     "sorted by the incident's date, not by longest waiting first"),
])
def test_a_bad_cursor_is_one_sentence(shared: Filled,
                                      cursor: str, says: str) -> None:
    app, _ = shared
    with pytest.raises(InvalidInput) as refused:
        app.queue_page(limit=5, after=cursor)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_paging_asks_are_checked(shared: Filled) -> None:
    app, _ = shared
    page = app.queue_page(limit=5)
    assert page.next is not None
    for ask, says in [
        (lambda: app.queue_page(limit=5, after=page.next, before=page.next), "not both"),
        (lambda: app.queue_page(sort="grade"), "choose one of waiting, date, code"),
        (lambda: app.search_page("x", sort="waiting"), "choose one of date, code"),
        (lambda: app.queue_page(grade="excellent"), "is not a grade"),
        (lambda: app.queue_page(date_from=dt.date(2017, 1, 2), date_to=dt.date(2017, 1, 1)),
         "the dates run backwards"),
        (lambda: app.queue_page(limit=0), "the limit must be"),
        (lambda: app.search_page("CS", limit=5, after=page.next), "continues the queue"),
    ]:
        with pytest.raises(InvalidInput, match=says):
            ask()


def test_a_cursor_is_opaque_url_safe_and_short(
        shared: Filled) -> None:
    app, _ = shared
    for sort in SORTS:
        cursor = app.queue_page(limit=3, sort=sort).next
        assert cursor is not None and len(cursor) < 200
        assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789-_")
    for sort in SEARCH_SORTS:
        assert app.search_page("district", limit=3, sort=sort).next is not None


# ------------------------------------------------------------------ the property, and speed


LISTING_ASKS = st.fixed_dictionaries({}, optional={
    "state": st.none() | st.sampled_from(list(State)),
    "grade": st.none() | st.sampled_from([*GRADES, "ungraded"]),
    "country": st.none() | st.sampled_from([*COUNTRIES, "iraq ", "Nowhere"]),
    "belligerent": st.none() | st.sampled_from([*BELLIGERENTS, "nobody"]),
    "assignee": st.none() | st.sampled_from(["amira", "jonas", "nobody"]),
    "tag": st.none() | st.sampled_from([*TAGS, "other"]),
    "date_from": st.none() | st.dates(FIRST_DAY, dt.date(2016, 12, 31)),
    "date_to": st.none() | st.dates(dt.date(2017, 1, 1), dt.date(2018, 1, 1)),
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asked=LISTING_ASKS, sort=st.sampled_from(SORTS), size=st.integers(1, 60),
       text=st.none() | st.sampled_from(["district 1", "CS0002", "d", "mosul"]))
def test_paging_never_repeats_or_misses_an_incident(
        shared: Filled, asked: ListingFilters, sort: str,
        size: int, text: str | None) -> None:
    """Any filters, any order, any page size: the pages together are the unpaged listing."""
    app, rows = shared
    order = sort if text is None or sort in SEARCH_SORTS else "date"

    def ask(**page: Any) -> Page:
        if text is None:
            return app.queue_page(sort=order, **page, **asked)
        return app.search_page(text, sort=order, **page, **asked)

    if text is None:
        everything = [entry.code for entry in app.queue(sort=order, **asked)]
        assert set(everything) == expected_codes(rows, asked)
    else:
        everything = [hit.code for hit in app.search(text, None, sort=order, **asked)]
    codes, _ = walked(ask, size)
    assert codes == everything
    assert len(set(codes)) == len(codes)


def test_each_order_reads_its_own_index_and_sorts_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite, whatever the filters, a page walks its order's index and stops there
    (no sort); the index holds every filtered column, so rows left out are never read.
    (PostgreSQL's planner chooses by its statistics: its plans are not pinned.)"""
    app, _ = filled(str(tmp_path / "verify.sqlite"), 50)
    model = app.read_model
    plans: list[str] = []
    select_rows = model._select_rows

    def explained(statement: str, params: Any = ()) -> Any:
        plans.extend(str(row) for row in select_rows("EXPLAIN QUERY PLAN " + statement, params))
        return select_rows(statement, params)

    monkeypatch.setattr(model, "_select_rows", explained)
    filters = Filters(states=("reported",), regrade_due=True, grade="fair",
                      belligerents=("russian military",), countries=("iraq",), assignee="amira",
                      tag="night", date_from="2016-01-01", date_to="2016-12-31")
    try:
        for order, columns in LISTING_ORDERS.items():
            plans.clear()
            key = ("2016-01-01", "CS00001")[-len(columns):]
            model.listing(filters, PageSpec(order=order, after=key, limit=11))
            model.listing(filters, PageSpec(order=order, before=key, limit=11))
            plan = " ".join(plans)
            assert plan.count(f"USING INDEX {listing_index(order)} (") == 2, plan
            assert "TEMP B-TREE" not in plan, plan
    finally:
        app.close()

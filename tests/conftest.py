"""Fixtures for every test, and the steps the feature files share."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_bdd import given, parsers, then, when

from verify.adapters.bulk_import import parallel_pays
from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.domain import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    Location,
    Source,
    VerifyError,
)
from verify.domain.duties import Member, Role, Team
from verify.entrypoints.cli import cli

import notation
from object_store_server import ObjectStoreServer, seaweedfs_session

# The test schemas are thrown away: the server need not flush each commit to disk first
# (a killed client still never loses a committed transaction; only a server crash could).
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

POSTGRES_SERVER = os.environ.get(
    "VERIFY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
"""The PostgreSQL server the tests use; each test gets a schema of its own there."""

PARALLEL_ROWS = 5000
"""Rows of a JSON Lines file that `verify import` prepares in worker processes on two cores,
however the workers start."""
assert all(parallel_pays(PARALLEL_ROWS, method, cores=2) for method in ("fork", "spawn"))


def postgres_unreachable() -> str | None:
    """Why the test server cannot be used, or None when it can."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_SERVER, connect_timeout=3) as db:
            db.execute("SELECT 1")
    except Exception as error:  # any failure means: no server to test against
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
    return None


def fresh_postgres_schema() -> Iterator[str]:
    """A store URL in a new, empty schema, dropped afterwards; skip or fail without a server."""
    reason = postgres_unreachable()
    if reason is not None:
        message = f"no PostgreSQL server at {POSTGRES_SERVER} ({reason})"
        if os.environ.get("VERIFY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VERIFY_REQUIRE_POSTGRES=1 but {message}")
        pytest.skip(message)
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_SERVER}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A SQLite store file (for tests about the file itself)."""
    return tmp_path / "verify.sqlite"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store of each kind: a SQLite file, and a schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "verify.sqlite")
    else:
        yield from fresh_postgres_schema()


@pytest.fixture(scope="session")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStoreServer]:
    """SeaweedFS on loopback for the whole session (skips, or fails in CI, without it)."""
    yield from seaweedfs_session(tmp_path_factory.mktemp("seaweedfs"))


@pytest.fixture
def app(store_url: str) -> Iterator[VerifyApp]:
    """The application on a fresh store (both kinds)."""
    application = VerifyApp(env=parse_store(store_url).env())
    yield application
    application.close()


def report(app: VerifyApp, code: str, belligerents: list[str], actor: str = "ann") -> str:
    return app.report_incident(
        code=code,
        date=dt.date(2017, 3, 17),
        country="Iraq",
        location=Location(name="Mosul"),
        belligerents=belligerents,
        killed=CasualtyRange(min=3, max=5),
        injured=CasualtyRange(),
        summary="Strike on a house.",
        actor=actor,
    )


# ----------------------------------------------------------------- the world


@dataclass
class World:
    """What one scenario has done so far."""

    app: VerifyApp
    code: str = "CS1"
    error: VerifyError | None = None
    version_before: int | None = None
    result: Any = None
    urls: list[str] = field(default_factory=list)

    def version(self) -> int:
        return self.app.show(self.code).version

    def attempt(self, action: Callable[[], Any]) -> None:
        """Run a command, keeping a refusal instead of raising it."""
        self.version_before = self.version()
        try:
            self.result = action()
            self.error = None
        except VerifyError as error:
            self.error = error

    def add_source(self, reliability: str, credibility: int, group: str | None = None,
                   kind: str = "media") -> str:
        url = f"https://example.org/{self.code}/{len(self.urls) + 1}"
        self.urls.append(url)
        source = Source(url=url, publisher=f"Publisher {len(self.urls)}", kind=kind,
                        reliability=reliability, credibility=credibility, group=group)
        source_id, _ = self.app.add_source(self.code, source, "ann")
        return source_id


@pytest.fixture
def world(app: VerifyApp) -> World:
    return World(app=app)


# -------------------------------------------------------------- given steps


@given(parsers.parse("an incident alleging a strike by {belligerents}"))
def incident_alleging(world: World, belligerents: str) -> None:
    report(world.app, world.code, notation.belligerents(belligerents))


@given("an incident naming no belligerent")
def incident_naming_nobody(world: World) -> None:
    report(world.app, world.code, [])


@given(parsers.parse("the party {name} is also known as {alias}"))
def party_alias(world: World, name: str, alias: str) -> None:
    world.app.add_party(name, [alias], "ann")


@given(parsers.re(r"another incident (?P<code>\w+) alleging a strike by (?P<belligerents>.+)"))
def another_incident(world: World, code: str, belligerents: str) -> None:
    report(world.app, code, notation.belligerents(belligerents))


@given(parsers.parse("sources {sources}"))
def given_sources(world: World, sources: str) -> None:
    for spec in notation.sources(sources):
        source_id = world.add_source(spec.reliability, spec.credibility, spec.group, spec.kind)
        if spec.withdrawn:
            world.app.withdraw_source(world.code, source_id, "retracted", "ann")


@given(parsers.parse("a strike: {strike}"))
def given_strike(world: World, strike: str) -> None:
    confirmation = notation.strike(strike)
    if confirmation is not None:
        world.app.confirm_strike(world.code, confirmation, "ann")


@given(parsers.parse("a competing claim: {claim}"))
def given_claim(world: World, claim: str) -> None:
    if claim.strip() != "none":
        world.app.contest(
            world.code, CompetingClaim(belligerent=claim.strip(), reason="also reported"), "ann"
        )


@given(parsers.parse("an assessment by {belligerent}: {outcome}"))
def given_assessment(world: World, belligerent: str, outcome: str) -> None:
    world.app.assess(
        world.code, Assessment(belligerent=belligerent, outcome=outcome.strip()), "ann"
    )


@given(parsers.parse("a finding: {finding}"))
def given_finding(world: World, finding: str) -> None:
    parsed = notation.finding(finding)
    if parsed is not None:
        world.app.discount(world.code, parsed, "ann")


# --------------------------------------------------------------- when steps


@when("the rulebook grades it")
def rulebook_grades(world: World) -> None:
    world.attempt(lambda: world.app.grade(world.code, "bob"))


# --------------------------------------------------------------- then steps


@then(parsers.re(r"the grade is (?P<grade>\w+) by rule (?P<rule>\w+)"))
def grade_is(world: World, grade: str, rule: str) -> None:
    assert world.error is None, f"refused: {world.error}"
    view = world.app.show(world.code)
    assert view.grade == grade
    assert view.grading is not None
    assert view.grading["rule"] == rule


@then(parsers.parse('grading is refused because "{because}"'))
@then(parsers.parse('the override is refused because "{because}"'))
@then(parsers.parse('it is refused because "{because}"'))
def refused_because(world: World, because: str) -> None:
    assert world.error is not None, "the command was not refused"
    assert because in str(world.error), str(world.error)


@then("nothing was recorded")
def nothing_recorded(world: World) -> None:
    assert world.version_before is not None
    assert world.version() == world.version_before


STATES = "reported|corroborated|strike-confirmed|graded|disputed"


@then(parsers.re(rf"the incident is (?P<state>{STATES})$"))
def incident_state(world: World, state: str) -> None:
    assert world.app.show(world.code).state == state


@then(parsers.parse('its history reads "{events}"'))
def history_reads(world: World, events: str) -> None:
    recorded = [entry.event for entry in world.app.history(world.code)]
    assert recorded == notation.ids(events)


@then(parsers.parse('the last history line reads "{text}"'))
def last_line(world: World, text: str) -> None:
    assert world.app.history(world.code)[-1].what == text


# ------------------------------------------------------------- a team in force


TEAMS: dict[int, Team] = {}
"""The team each scenario's world works in, by the world's id (see a_team)."""


@contextmanager
def team_in_force(world: World) -> Iterator[None]:
    """The world's store, opened with the team given at construction, as the CLI opens it."""
    without = world.app
    world.app = VerifyApp(env=without.env, team=TEAMS[id(world)])
    try:
        yield
    finally:
        world.app.close()
        world.app = without


def act(world: World, action: Callable[[], Any]) -> None:
    """A member's action: with the team in force, a refusal kept for the Then steps."""
    with team_in_force(world):
        world.attempt(action)


def done(world: World, action: Callable[[], Any]) -> None:
    """A member's action that the scenario takes as given: it must succeed."""
    with team_in_force(world):
        action()


# ----------------------------------------------------------------- the team


@given(parsers.parse("a team: {members}"))
def a_team(world: World, members: str) -> None:
    """Parse "amira and badr are analysts, rana is a reviewer, ..."."""
    roster: dict[str, Member] = {}
    for part in members.split(","):
        found = re.fullmatch(r"\s*(.+?) (?:is an?|are) (\w+?)s?\s*", part)
        assert found, f"cannot read {part!r}"
        names, role = found.groups()
        for name in re.split(r",| and ", names):
            roster[name.strip()] = Member(name=name.strip(), role=Role(role))
    TEAMS[id(world)] = Team(members=roster)



# ----------------------------------------------------- a store on the command line


class Store:
    """One store (either kind) driven through the command line."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()
        assert self.run("init").exit_code == 0

    def run(self, *args: str) -> Result:
        return self.runner.invoke(cli, ["--store", self.url, "--actor", "importer", *args])

    def events(self) -> int:
        """How many events are stored (notification ids may have gaps on PostgreSQL)."""
        app = VerifyApp(env=parse_store(self.url).env())
        try:
            count, start = 0, 1
            while page := app.recorder.select_notifications(start=start, limit=10_000):
                count += len(page)
                start = page[-1].id + 1
            return count
        finally:
            app.close()


def slow_on_postgres(path: Path) -> bool:
    """Tests whose PostgreSQL run is left out of the inner loop: all but the adapters'.

    Where the store matters is tests/adapters (persistence, the chain, imports,
    crashes): those keep PostgreSQL in the inner loop. Above them the same
    application runs on both stores, and each PostgreSQL run costs a schema;
    the inner loop runs those on SQLite, and CI runs all of it on both. Adapter tests of
    what sits above persistence (records, listings, victims, corrections, archives, evidence
    files: the same SQL or the same application on either store) leave PostgreSQL to CI too.
    Others do so test by test (POSTGRES_IN_CI below), keeping PostgreSQL for the tests
    whose writing or reading differs by store.
    """
    return "adapters" not in path.parts or path.name in PG_IN_CI_ONLY


PG_IN_CI_ONLY = frozenset({
    "test_listings.py", "test_casework_records.py", "test_file_records.py",
    "test_victims_stores.py", "test_corrections_stores.py", "test_archives.py",
    "test_evidence_files.py"})
"""Adapter test files whose PostgreSQL runs are left out of the inner loop (see above)."""

POSTGRES_IN_CI = pytest.mark.parametrize("store_url", [
    "sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])],
    indirect=True)
"""An adapter test whose PostgreSQL run is left out of the inner loop, in a file that keeps
PostgreSQL there for its tests whose writing or reading differs by store."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        spec = getattr(item, "callspec", None)
        if (spec is not None and spec.params.get("store_url") == "postgres"
                and slow_on_postgres(item.path)):
            item.add_marker(pytest.mark.slow)

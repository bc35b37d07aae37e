"""Casework in exports and imports (SPEC sections 5, 9 and 13), on real stores.

A full export carries the incident's assignee, tags and discussion and
re-imports them unchanged, each comment by whoever wrote it, when; a
``--public`` one carries none of them (they are internal); a casework entry an
import cannot read is kept verbatim with a warning and never refuses the row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.application.importing import incident_from_record
from verify.application.intake import Intake
from verify.application.messages import today_utc
from verify.application.records import IncidentRecord, withheld_in_public
from verify.domain.errors import InvalidInput
from verify.domain.text import tidy
from verify.entrypoints.cli import cli

import conftest

QUESTION = "@jonas هل يطابق تقرير الضربة موقع المخبز؟ راجع الخريطة"
ANSWER = "طابقت الخريطة: الموقع على بعد كيلومترين شرق المخبز"
COMMENT_KEYS = {"id", "text", "reply_to", "mentions", "by", "at"}


class CaseStore(conftest.Store):
    """A store driven through the command line by the member named."""

    def run(self, *args: str, actor: str = "importer") -> Result:
        return self.runner.invoke(cli, ["--store", self.url, "--actor", actor, *args])

    def ok(self, *args: str, actor: str = "importer") -> Result:
        result = self.run(*args, actor=actor)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result

    def exported(self, *args: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.ok("export", *args).stdout.splitlines()]

    def imported(self, path: Path) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.ok("import", str(path), "--json").stdout)
        return report


@pytest.fixture
def store(store_url: str) -> CaseStore:
    return CaseStore(store_url)


@pytest.fixture
def second_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    """Another empty store of the same kind as `store`."""
    if "sqlite" in request.node.callspec.id:
        yield CaseStore(str(tmp_path / "second.sqlite"))
    else:
        for url in conftest.fresh_postgres_schema():
            yield CaseStore(url)


@pytest.fixture
def discussed(store: CaseStore) -> CaseStore:
    """CS1, handed to jonas, discussed in Arabic (a question and its answer) and tagged."""
    store.ok("report", "CS1", "--date", "2017-03-21", "--location", "مخبز الطبقة",
             "--country", "Syria", "--belligerent", "US-led Coalition", actor="amira")
    store.ok("source", "add", "CS1", "--url", "https://example.org/tabqa/1", "--publisher",
             "شبكة أخبار الطبقة", "--kind", "social", actor="amira")
    store.ok("assign", "CS1", "--to", "jonas", actor="amira")
    store.ok("comment", "CS1", QUESTION, actor="amira")
    store.ok("comment", "CS1", ANSWER, "--reply-to", "m1", actor="jonas")
    store.ok("tag", "CS1", "تحقق ميداني", "Witness at risk", actor="jonas")
    return store


def test_a_full_export_carries_the_casework(discussed: CaseStore) -> None:
    (full,) = discussed.exported()
    assert full["assignee"] == "jonas"
    assert full["tags"] == ["witness-at-risk", "تحقق-ميداني"]
    question, answer = full["comments"]
    assert set(question) == set(answer) == COMMENT_KEYS
    assert (question["id"], question["text"], question["reply_to"], question["mentions"],
            question["by"]) == ("m1", QUESTION, None, ["jonas"], "amira")
    assert (answer["id"], answer["text"], answer["reply_to"], answer["mentions"],
            answer["by"]) == ("m2", ANSWER, "m1", [], "jonas")
    assert dt.datetime.fromisoformat(question["at"]) <= dt.datetime.fromisoformat(answer["at"])


def test_a_public_export_carries_no_assignee_tags_or_comments(discussed: CaseStore) -> None:
    (public,) = discussed.exported("--public")
    assert not {"assignee", "tags", "comments"} & set(public)
    for format_ in ("jsonl", "csv", "geojson"):
        text = discussed.ok("export", "--public", "--format", format_).stdout
        for secret in ("jonas", "amira", QUESTION, ANSWER, "witness-at-risk", "تحقق"):
            assert secret not in text, (format_, secret)


def test_an_incident_without_casework_exports_as_before(store: CaseStore) -> None:
    store.ok("report", "CS2", "--date", "2017-03-21", "--location", "Raqqa", "--country",
             "Syria")
    for args in ((), ("--public",)):
        (document,) = store.exported(*args)
        assert not {"assignee", "tags", "comments"} & set(document)
    header = store.ok("export", "--format", "csv").stdout.splitlines()[0].split(",")
    assert header[header.index("notes"):][:4] == ["notes", "assignee", "tags", "comments"]


def test_a_full_export_re_imports_with_its_casework_and_exports_the_same(
        discussed: CaseStore, second_store: CaseStore, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    discussed.ok("export", "-o", str(exported))
    report = second_store.imported(exported)
    assert (report["imported"], report["warnings"]) == (1, [])
    assert second_store.ok("export").stdout == exported.read_text(encoding="utf-8")
    again = discussed.imported(exported)
    assert (again["already_stored"], again["differences"]) == (1, [])

    # Replayed by the commands, after the evidence, by the importing person; each comment
    # keeps who wrote it and when.
    history = json.loads(second_store.ok("history", "CS1", "--json").stdout)
    assert [entry["event"] for entry in history][-4:] == [
        "Tagged", "Assigned", "Commented", "Commented"]
    assert {entry["actor"] for entry in history} == {"importer"}
    shown = json.loads(second_store.ok("show", "CS1", "--json").stdout)
    (original,) = discussed.exported()
    assert [(c["id"], c["reply_to"], c["written_by"], c["written_at"])
            for c in shown["comments"]] == [
        (c["id"], c["reply_to"], c["by"], dt.datetime.fromisoformat(c["at"]).isoformat())
        for c in original["comments"]]
    assert (shown["assignee"], shown["tags"]) == ("jonas", ["witness-at-risk", "تحقق-ميداني"])
    # The discussion goes on where it stopped.
    assert "added comment m3" in second_store.ok("comment", "CS1", "شكراً", "--reply-to",
                                                 "m2", actor="amira").stdout


def test_a_csv_export_re_imports_with_its_casework(
        discussed: CaseStore, second_store: CaseStore, tmp_path: Path) -> None:
    exported = tmp_path / "export.csv"
    discussed.ok("export", "-o", str(exported))
    report = second_store.imported(exported)
    assert (report["imported"], report["warnings"]) == (1, [])
    assert second_store.ok("export").stdout == discussed.ok("export").stdout
    again = tmp_path / "again.csv"
    second_store.ok("export", "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()


def test_casework_entries_that_do_not_read_are_kept_verbatim_and_the_row_imported(
        discussed: CaseStore, second_store: CaseStore, tmp_path: Path) -> None:
    (full,) = discussed.exported()
    question, answer = full["comments"]
    row = {**full, "code": "CS3", "assignee": 42, "tags": [
        "Needs Geolocation", "needs_geolocation", "#", "و" * 61, ["nested"], "شاهد في خطر"],
        "comments": [
            {**question, "text": "  "},
            {**answer, "mentions": ["jonas", 7]},
            "رسالة بلا كاتب",
            {**answer, "id": "m4", "reply_to": "m9", "at": "البارحة"},
            {**answer, "id": "M5", "reply_to": None, "by": "سلمى", "colour": "أحمر"},
            {**answer, "id": "m6", "reply_to": "m5", "text": "نعم"},
            {**answer, "id": "m7", "reply_to": "m-1", "text": "لا"},
        ]}
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(orjson.dumps(row) + b"\n")
    report = second_store.imported(archive)
    assert report["imported"] == 1 and report["refused"] == []
    warned = {(w["field"], w["reason"]) for w in report["warnings"]}
    assert warned == {
        ("assignee", "not a name; kept verbatim"),
        ("tags[1]", "the same tag as tags[0]; recorded once"),
        ("tags[2]", "not a tag (a word, or words joined by hyphens, of at most 60 "
                    "characters); kept verbatim"),
        ("tags[3]", "not a tag (a word, or words joined by hyphens, of at most 60 "
                    "characters); kept verbatim"),
        ("tags[4]", "not a tag (a word, or words joined by hyphens, of at most 60 "
                    "characters); kept verbatim"),
        ("comments[0]", "no text; the comment is not recorded; kept verbatim"),
        ("comments[1].mentions[1]", "not a name; kept verbatim"),
        ("comments[1].reply_to", "answers no earlier comment of the row; the comment is "
                                 "recorded without it; kept verbatim"),
        ("comments[1].id", "recorded as m1 (comments are numbered in the order they are "
                           "recorded); kept verbatim"),
        ("comments[2]", "not a comment (its text, by and at); kept verbatim"),
        ("comments[3]", "time (at): not a date and time such as 2017-03-22T09:00:00Z; the "
                        "comment is not recorded; kept verbatim"),
        ("comments[4].colour", "not a field of a comment; kept verbatim"),
        ("comments[4].id", "recorded as m2 (comments are numbered in the order they are "
                           "recorded); kept verbatim"),
        ("comments[5].id", "recorded as m3 (comments are numbered in the order they are "
                           "recorded); kept verbatim"),
        ("comments[6].reply_to", "not a comment's id (m1, m2, …); kept verbatim"),
        ("comments[6].id", "recorded as m4 (comments are numbered in the order they are "
                           "recorded); kept verbatim"),
    }
    assert all(ANSWER not in reason and "سلمى" not in reason for _, reason in warned)

    shown = json.loads(second_store.ok("show", "CS3", "--json").stdout)
    kept = shown["unread"]
    assert (kept["assignee"], kept["tags[2]"], kept["tags[3]"], kept["tags[4]"]) == (
        "42", "#", "و" * 61, '["nested"]')
    assert json.loads(kept["comments[0]"]) == {**question, "text": "  "}
    assert kept["comments[2]"] == "رسالة بلا كاتب"
    assert json.loads(kept["comments[3]"])["at"] == "البارحة"
    assert (kept["comments[1].reply_to"], kept["comments[1].id"], kept["comments[4].id"],
            kept["comments[4].colour"], kept["comments[1].mentions[1]"]) == (
        "m1", "m2", "M5", "أحمر", "7")
    assert shown["assignee"] is None
    assert shown["tags"] == ["needs-geolocation", "شاهد-في-خطر"]
    assert [(c["id"], c["text"], c["reply_to"], c["mentions"], c["written_by"])
            for c in shown["comments"]] == [
        ("m1", ANSWER, None, ["jonas"], "jonas"), ("m2", ANSWER, None, [], "سلمى"),
        ("m3", "نعم", "m2", [], "jonas"), ("m4", "لا", None, [], "jonas")]

    # Casework is internal: what was kept of it stays out of public exports and history.
    public = second_store.ok("export", "--public").stdout
    for secret in ("comments[", "tags[", "assignee", ANSWER, "سلمى", "رسالة", "البارحة"):
        assert secret not in public, secret
    public_history = second_store.ok("history", "CS3", "--public", "--json").stdout
    for secret in ("comments[", "رسالة", "البارحة", "أحمر"):
        assert secret not in public_history, secret

    # The same row again is already stored; and a full export re-imports unchanged.
    again = second_store.imported(archive)
    assert (again["imported"], again["already_stored"]) == (0, 1)
    exported = tmp_path / "again.jsonl"
    second_store.ok("export", "-o", str(exported))
    report = second_store.imported(exported)
    assert (report["already_stored"], report["warnings"]) == (1, [])


# ------------------------------------------------------- without a store

INTAKE = Intake(today=today_utc())
ROW = {"code": "CS9", "date": "2017-03-17", "country": "Syria", "location": {"name": "الرقة"}}


def test_tags_typed_in_a_spreadsheet_cell_read_as_verify_tag_keeps_them() -> None:
    reading = INTAKE.read({**ROW, "tags": "Needs Geolocation; witness_at_risk ;تحقق ميداني"})
    assert reading.record is not None and reading.warnings == ()
    assert reading.record.tags == ["needs-geolocation", "witness-at-risk", "تحقق-ميداني"]


def test_a_record_built_elsewhere_answering_no_earlier_comment_is_refused_in_a_sentence() -> None:
    comment = {"text": "جواب", "by": "jonas", "at": "2017-03-20T08:00:00Z"}
    record = IncidentRecord.model_validate({**ROW, "comments": [
        {**comment, "id": "m1", "reply_to": "m2"}, {**comment, "id": "m2"}]})
    with pytest.raises(InvalidInput, match="m1 answers m2, which is no earlier comment"):
        incident_from_record(record, "importer")
    # The intake reads the same row leniently: the answer is kept verbatim, not refused.
    reading = INTAKE.read(record.document())
    assert reading.record is not None
    assert [w.field for w in reading.warnings] == ["comments[0].reply_to"]


@pytest.mark.parametrize(("path", "withheld"), [
    ("files[0]", True), ("comments[2].reply_to", True), ("tags[1]", True), ("assignee", True),
    ("Comments", True), ("tags (line 4)", True), ("summary", False), ("tagsx", False),
    ("sources[0].url", False), ("tags-old", False)])
def test_what_a_public_record_withholds_of_what_was_kept_verbatim(
        path: str, withheld: bool) -> None:
    assert withheld_in_public(path) is withheld


NAMES = st.sampled_from(["amira", "jonas", "أمينة", "Rana O'Neil", "سلمى"])
TEXTS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
                ).filter(tidy)  # something readable is left (not only a soft hyphen, say)
MOMENTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1),
                       timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3))]))


@st.composite
def discussions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Comments as an export lists them, each answering nothing or an earlier one."""
    comments = []
    for number in range(1, draw(st.integers(0, 6)) + 1):
        answers = draw(st.none() | st.integers(1, number - 1)) if number > 1 else None
        comments.append({
            "id": f"m{number}", "text": draw(TEXTS).strip(),
            "reply_to": f"m{answers}" if answers else None,
            "mentions": draw(st.lists(NAMES, unique=True, max_size=2)),
            "by": draw(NAMES), "at": draw(MOMENTS).isoformat()})
    return comments


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(comments=discussions(), tags=st.lists(TEXTS, max_size=4),
       assignee=st.none() | NAMES)
def test_any_discussion_re_imports_as_it_was_exported(
        comments: list[dict[str, Any]], tags: list[str], assignee: str | None) -> None:
    reading = INTAKE.read({**ROW, "comments": comments, "tags": tags, "assignee": assignee})
    record = reading.record
    assert record is not None, reading.refusal
    assert len(record.comments) == len(comments)
    incident = incident_from_record(record, "importer")
    exported = IncidentRecord.of(incident)
    assert exported == record, "re-importing this row would report it as different"
    document = exported.document()
    again = INTAKE.read(json.loads(json.dumps(document)))
    assert again.record == exported and again.warnings == ()
    assert again.record is not None and again.record.document() == document

"""Victims on real stores, SQLite and PostgreSQL, with and without VERIFY_CIPHER_KEY: the
personal details are sealed in the events, and erasure destroys the key so that no byte of
it (nor of the name) is left in the store, while the audit still passes."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.entrypoints.cli import cli

from conftest import fresh_postgres_schema

NAME = "Zainab Qutaiba al-Ubaidi"
NAME_ORIGINAL = "زينب قتيبة العبيدي"


def run(store: str, key: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "amira", *args],
                              env={"VERIFY_CIPHER_KEY": key})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def shown(store: str, key: str, code: str = "CS1") -> dict[str, Any]:
    """`show CODE --json` as a document."""
    document: dict[str, Any] = json.loads(ok(run(store, key, "show", code, "--json")).stdout)
    return document


# Encrypted: the same paths under the store's key; left to CI, the inner loop runs plain.
@pytest.fixture(params=["plain", pytest.param("encrypted", marks=pytest.mark.slow)])
def cipher_key(request: pytest.FixtureRequest) -> str:
    if request.param == "plain":
        return ""
    result = CliRunner().invoke(cli, ["keygen"])
    assert result.exit_code == 0
    return result.output.strip()


def a_case(store: str, key: str) -> None:
    """The issue's case: three named victims (one protected), a fourth unnamed."""
    ok(run(store, key, "init"))
    ok(run(store, key, "report", "CS1", "--date", "2017-03-21", "--location", "Tabqa",
           "--country", "Syria", "--belligerent", "US-led Coalition", "--killed", "2-6"))
    for n, kind in ((1, "social"), (2, "ngo")):
        ok(run(store, key, "source", "add", "CS1", "--url", f"https://example.org/{n}",
               "--publisher", f"Publisher {n}", "--kind", kind))
    ok(run(store, key, "victim", "add", "CS1", "--name", NAME, "--name-original",
           NAME_ORIGINAL, "--age", "9", "--gender", "female", "--source", "s1", "--source",
           "s2"))
    ok(run(store, key, "victim", "add", "CS1", "--name", "Hamid Saleh", "--family",
           "Saleh family", "--gender", "male", "--source", "s1", "--protected"))
    ok(run(store, key, "victim", "add", "CS1", "--name-original", "عمر", "--age", "70",
           "--source", "s2"))
    ok(run(store, key, "victim", "add", "CS1", "--age-group", "adult", "--gender", "female",
           "--status", "injured", "--source", "s2"))


def victim_key(store: str, key: str, victim: str) -> bytes:
    """The key a victim's details are sealed under, read the way the store keeps it."""
    os.environ["VERIFY_CIPHER_KEY"] = key
    try:
        app = VerifyApp(env=parse_store(store).env())
        record = app.load("CS1").victim_record(victim)
        found = app.recorder._read_key(record["key"])  # type: ignore[attr-defined]
        app.close()
    finally:
        del os.environ["VERIFY_CIPHER_KEY"]
    assert found is not None
    return bytes(found)


def stored_bytes(store: str, files: bool = True) -> list[bytes]:
    """What the store keeps: every file of a SQLite store; every table of a PostgreSQL
    schema, row by row as text and bytea (as read back), and (``files``) each table's own
    file when the server lets us read it."""
    if "://" not in store:
        return [path.read_bytes() for path in Path(store).parent.glob(Path(store).name + "*")]
    import psycopg

    schema = store.rsplit("schema=", 1)[1]
    found: list[bytes] = []
    with psycopg.connect(store.split("?", 1)[0], autocommit=True) as db:
        tables = [name for (name,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))]
        for table in tables:
            for (row,) in db.execute(f"SELECT t::text FROM {schema}.{table} t"):
                found.append(row.encode())
        for (key,) in db.execute(f"SELECT key FROM {schema}.verify_victim_key"):
            found.append(bytes(key))
        if not files:
            return found
        db.execute("CHECKPOINT") if superuser(db) else None  # table files up to date
        for table in tables:  # each table's own file, dead rows included
            try:
                (path,) = db.execute("SELECT pg_relation_filepath(%s)",
                                     (f"{schema}.{table}",)).fetchone()
                (content,) = db.execute("SELECT pg_read_binary_file(%s)", (path,)).fetchone()
                found.append(bytes(content))
            except psycopg.Error:
                break  # not a superuser: the rows as read back above are the check
    return found


def superuser(db: Any) -> bool:
    (yes,) = db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(yes)


def contains(store: str, needle: bytes) -> bool:
    return any(needle in blob for blob in stored_bytes(store))


def others_hold_snapshots(store: str) -> bool:
    """Whether another session of the PostgreSQL database has a transaction open: the
    server then keeps rows deleted since in the tables' files until it ends, whatever is
    asked (docs/security.md); SQLite has no such sessions here."""
    if "://" not in store:
        return False
    import psycopg

    with psycopg.connect(store.split("?", 1)[0], autocommit=True) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND (backend_xmin IS NOT NULL"
            " OR xact_start IS NOT NULL)").fetchone()
    return bool(count)


def erased_from_the_store(store: str, needle: bytes) -> bool:
    """No byte of ``needle`` in any row the store reads back, nor in its files: at once, or,
    where another PostgreSQL session kept old rows alive while the erasure ran (its dead
    rows stay in the files until the next vacuum, as docs/security.md says), once that
    session has ended and the table is vacuumed (a session that began and ended during the
    erasure leaves them so: asking only afterwards whether one was open made the test
    fail now and then). A key left in the files is looked for again, never just accepted."""
    if any(needle in blob for blob in stored_bytes(store, files=False)):
        return False
    if not contains(store, needle):
        return True
    if "://" not in store:
        return False
    import psycopg

    deadline = time.monotonic() + 30
    while others_hold_snapshots(store) and time.monotonic() < deadline:
        time.sleep(0.2)
    schema = store.rsplit("schema=", 1)[1]
    with psycopg.connect(store.split("?", 1)[0], autocommit=True) as db:
        for (table,) in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,)).fetchall():
            db.execute(f"VACUUM FULL {schema}.{table}")
    return not contains(store, needle)


def test_a_case_with_four_victims_shows_counts_and_withholds_the_protected(
        store_url: str, cipher_key: str) -> None:
    a_case(store_url, cipher_key)
    document = shown(store_url, cipher_key)
    victims = document["victims"]
    assert [(v["id"], v["name"], v["age_group"], v["status"], v["protected"]) for v in victims] \
        == [("v1", NAME, "child", "killed", False), ("v2", "Hamid Saleh", None, "killed", True),
            ("v3", None, "elderly", "killed", False), ("v4", None, "adult", "injured", False)]
    assert victims[2]["name_original"] == "عمر" and victims[2]["named"] is True
    assert victims[3]["named"] is False
    assert document["named_killed"] == 3 and document["casualties_consistent"] is True
    assert "v1   Zainab Qutaiba al-Ubaidi / زينب قتيبة العبيدي" in ok(
        run(store_url, cipher_key, "show", "CS1")).stdout
    public = ok(run(store_url, cipher_key, "history", "CS1", "--public")).stdout
    assert "Hamid" not in public and "recorded victim v2 (protected; details withheld)" in public
    # Names never enter an event in clear, with or without the store's own cipher.
    assert not contains(store_url, NAME.encode())
    assert not contains(store_url, NAME_ORIGINAL.encode())
    ok(run(store_url, cipher_key, "revise", "CS1", "--killed", "2", "--reason", "first list"))
    assert shown(store_url, cipher_key)["casualties_consistent"] is False
    assert "named killed 3  (more than the 2 civilians killed recorded" in ok(
        run(store_url, cipher_key, "show", "CS1")).stdout


def test_erasure_leaves_no_byte_of_the_key_and_the_audit_passes(
        store_url: str, cipher_key: str, tmp_path: Path) -> None:
    a_case(store_url, cipher_key)
    key = victim_key(store_url, cipher_key, "v1")
    assert contains(store_url, key), "the scan must see the key before erasure"
    result = ok(run(store_url, cipher_key, "victim", "erase", "CS1", "v1", "--reason",
                    "the family asked"))
    assert result.stdout.strip() == "erased the personal details of victim v1 of CS1"
    assert erased_from_the_store(store_url, key)
    assert not contains(store_url, NAME.encode())
    document = shown(store_url, cipher_key)
    erased = document["victims"][0]
    assert erased["erased"] is True and erased["name"] is None and erased["age"] is None
    assert erased["status"] == "killed" and document["named_killed"] == 3  # still counts
    audit = ok(run(store_url, cipher_key, "audit", "verify"))
    assert "intact" in audit.stdout
    history = ok(run(store_url, cipher_key, "history", "CS1")).stdout
    assert "victim v1 erased" in history and "why: the family asked" in history
    again = run(store_url, cipher_key, "victim", "erase", "CS1", "v1", "--reason", "again")
    assert again.exit_code == 1 and "already erased" in again.stderr
    if "://" not in store_url:  # a copy taken afterwards cannot bring the details back
        copy = tmp_path / "copy.sqlite"
        shutil.copyfile(store_url, copy)
        assert shown(str(copy), cipher_key)["victims"][0]["name"] is None


def test_refusals_record_nothing_and_leave_no_key(store_url: str) -> None:
    a_case(store_url, "")
    before = shown(store_url, "")["version"]
    for args, code, says in [
        (["--source", "s9"], 2, "has no source s9"),
        (["--age", "9", "--age-group", "adult", "--source", "s1"], 2,
         "the age given does not fall in the age group adult"),
        (["--name", "x"], 2, "Missing option '--source'"),
        (["--source", "s1", "--source", "S1"], 2, "each source is cited once"),
    ]:
        result = run(store_url, "", "victim", "add", "CS1", *args)
        assert result.exit_code == code and says in result.stderr, (args, result.stderr)
    assert shown(store_url, "")["version"] == before
    if "://" not in store_url:
        import sqlite3

        with sqlite3.connect(store_url) as db:
            (keys,) = db.execute("SELECT count(*) FROM verify_victim_key").fetchone()
        assert keys == 4  # one per victim recorded; none for the refusals


def test_stats_and_the_queue_count_victims_and_a_rebuild_agrees(store_url: str) -> None:
    a_case(store_url, "")
    ok(run(store_url, "", "report", "CS2", "--date", "2017-04-02", "--location", "Raqqa",
           "--country", "Syria", "--belligerent", "US-led Coalition", "--killed", "1"))
    ok(run(store_url, "", "source", "add", "CS2", "--url", "https://example.org/3",
           "--publisher", "Publisher 3", "--kind", "ngo"))
    for name in ("Layla", "Samir"):
        ok(run(store_url, "", "victim", "add", "CS2", "--name", name, "--age", "12",
               "--gender", "female" if name == "Layla" else "male", "--source", "s1"))
    stats = json.loads(ok(run(store_url, "", "stats", "--json")).stdout)
    by_month = {group["key"]: group for group in stats["groups"]}
    # CS1: v1 girl of 9, v2 man, v3 (age 70, gender unknown) killed; v4 woman injured.
    assert {k: by_month["2017-03"][k] for k in ("named_killed", "children_killed",
                                                "women_killed")} == {
        "named_killed": 3, "children_killed": 1, "women_killed": 0}
    assert {k: by_month["2017-04"][k] for k in ("named_killed", "children_killed",
                                                "women_killed")} == {
        "named_killed": 2, "children_killed": 2, "women_killed": 0}
    queue = {entry["code"]: entry for entry in json.loads(
        ok(run(store_url, "", "queue", "--json")).stdout)}
    assert queue["CS2"]["waiting_for"].startswith(
        "casualty figures: 2 named killed, more than the 1 recorded")
    ok(run(store_url, "", "victim", "erase", "CS1", "v1", "--reason", "the family asked"))
    ok(run(store_url, "", "victim", "withdraw", "CS1", "v2", "--reason", "counted twice"))
    after = json.loads(ok(run(store_url, "", "stats", "--json")).stdout)
    march = next(group for group in after["groups"] if group["key"] == "2017-03")
    assert (march["named_killed"], march["children_killed"]) == (2, 1)  # erased still counts
    before_rebuild = ok(run(store_url, "", "stats", "--json")).stdout
    ok(run(store_url, "", "projections", "rebuild"))
    assert ok(run(store_url, "", "stats", "--json")).stdout == before_rebuild
    text = ok(run(store_url, "", "stats")).stdout
    assert "named children  women" in text


def found(store: str, key: str, text: str) -> list[str]:
    return [hit["code"] for hit in json.loads(
        ok(run(store, key, "search", text, "--json")).stdout)]


def test_search_finds_victims_and_places_across_spellings_until_erased(
        store_url: str, cipher_key: str) -> None:
    a_case(store_url, cipher_key)
    ok(run(store_url, cipher_key, "report", "CS2", "--date", "2017-03-17", "--location",
           "الموصل الجديدة", "--country", "Iraq", "--belligerent", "US-led Coalition"))
    assert found(store_url, cipher_key, "الجديده") == ["CS2"]  # taa marbuta written as haa
    assert found(store_url, cipher_key, "زينب") == ["CS1"]
    assert found(store_url, cipher_key, "العبيدى") == ["CS1"]  # alef maqsura for yaa
    assert found(store_url, cipher_key, "QUTAIBA") == ["CS1"]
    assert found(store_url, cipher_key, "Hamid") == ["CS1"]  # protected: internal search
    folded = b"zainab qutaiba al-ubaidi"
    if not cipher_key:
        assert contains(store_url, folded), "the index holds the name before erasure"
    ok(run(store_url, cipher_key, "victim", "erase", "CS1", "v1", "--reason", "asked"))
    assert found(store_url, cipher_key, "زينب") == []
    assert found(store_url, cipher_key, "QUTAIBA") == []
    assert erased_from_the_store(store_url, folded)
    assert not contains(store_url, NAME.encode())
    ok(run(store_url, cipher_key, "projections", "rebuild"))
    assert found(store_url, cipher_key, "QUTAIBA") == []  # a rebuild cannot bring it back
    assert found(store_url, cipher_key, "Hamid") == ["CS1"]
    ok(run(store_url, cipher_key, "victim", "withdraw", "CS1", "v2", "--reason", "twice"))
    assert found(store_url, cipher_key, "Hamid") == []


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_victims_travel_in_exports_and_back(store_url: str, tmp_path: Path,
                                            suffix: str) -> None:
    """Full export, then import into a new store: the same victims, erased ones without
    details; a public export leaves the protected victim out entirely."""
    a_case(store_url, "")
    ok(run(store_url, "", "victim", "erase", "CS1", "v3", "--reason", "the family asked"))
    exported = tmp_path / f"full{suffix}"
    ok(run(store_url, "", "export", "-o", str(exported)))
    copy = str(tmp_path / "copy.sqlite")
    ok(run(copy, "", "init"))
    assert "imported 1 incident" in ok(run(copy, "", "import", str(exported))).stdout
    original, imported = shown(store_url, ""), shown(copy, "")
    keys = ("id", "name", "name_original", "age", "age_group", "gender", "status", "family",
            "sources", "protected", "withdrawn", "erased")
    assert [{k: v[k] for k in keys} for v in imported["victims"]] == [
        {k: v[k] for k in keys} for v in original["victims"]]
    assert imported["named_killed"] == original["named_killed"] == 3
    again = ok(run(store_url, "", "import", str(exported))).stdout
    assert "1 already stored" in again and "0 differ" in again
    public = tmp_path / "public.jsonl"
    ok(run(store_url, "", "export", "--public", "-o", str(public)))
    victims = json.loads(public.read_text(encoding="utf-8"))["victims"]
    assert [v.get("name") for v in victims] == [NAME, None, None]
    assert "Hamid" not in public.read_text(encoding="utf-8")


def test_archive_victims_are_read_leniently_and_sealed(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    ok(run(store, "", "init"))
    rows = [
        {"code": "CS1", "date": "2017-03-21", "country": "Syria", "location": "Tabqa",
         "sources": ["https://example.org/1", "https://example.org/2"],
         "victims": ["أحمد خليل",
                     {"name": "Huda", "age": "about 30", "sources": "s2; s7", "clan": "x"},
                     {"name_original": "ليلى", "gender": "F", "sources": ["s1"]}]},
        {"code": "CS2", "date": "2017-03-22", "country": "Syria", "location": "Tabqa",
         "victims": [{"name": "Samir"}]},
    ]
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")
    result = run(store, "", "import", str(archive))
    assert result.exit_code == 2  # CS2 refused: a victim stands on a source, and it has none
    assert "victims: each victim cites a source of the incident, and the row has none" \
        in result.stderr
    victims = shown(store, "")["victims"]
    assert [(v["name"], v["sources"]) for v in victims] == [
        ("أحمد خليل", ["s1", "s2"]), ("Huda", ["s2"]), (None, ["s1"])]
    assert victims[1]["unread"] == {"age": "about 30", "sources": "s7", "clan": "x"}
    assert victims[2]["name_original"] == "ليلى" and victims[2]["gender"] is None
    assert victims[2]["unread"] == {"gender": "F"}
    assert not contains(store, b"about 30")  # kept, but sealed with the person


@pytest.mark.slow  # worker processes: a few seconds
def test_the_parallel_import_seals_victims_and_stores_their_keys(store_url: str,
                                                                 tmp_path: Path) -> None:
    from verify.adapters.bulk_import import import_file
    from verify.adapters.interchange import read_rows
    from verify.application.importing import Status
    from verify.application.intake import Intake
    from verify.application.messages import today_utc
    from verify.demo.synthetic import write_archive

    archive = write_archive(tmp_path / "archive.jsonl", 300, victim_count=3)
    store = store_url
    ok(run(store, "", "init"))
    env = parse_store(store).env()
    app = VerifyApp(env=env)
    intake = Intake(today=today_utc())
    outcomes = list(import_file(app, env, read_rows(archive, intake), archive, actor="bench",
                                dry_run=False, parallel=True, intake=intake))
    assert {outcome.status for outcome in outcomes} == {Status.IMPORTED}
    first = json.loads(archive.read_text(encoding="utf-8").splitlines()[0])
    shown_victims = app.show(first["code"]).victims
    assert [v.get("name") for v in shown_victims] == [v.get("name") for v in first["victims"]]
    app.close()
    assert not any(contains(store, name.encode())
                   for v in first["victims"] if (name := v.get("name")))


def import_rows(store: str, tmp_path: Path, *rows: dict[str, Any]) -> Result:
    archive = tmp_path / "rows.jsonl"
    archive.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")
    return run(store, "", "import", str(archive))


ROW = {"code": "CS80", "date": "2017-03-21", "country": "Syria", "location": "Tabqa",
       "sources": [{"url": "https://example.org/1", "publisher": "P", "kind": "media"}]}


def test_odd_victim_values_never_put_a_person_in_clear(tmp_path: Path) -> None:
    """Found in review: a victim whose `unread` held a number sent the whole list, names and
    all, verbatim into the incident's kept values; an unreadable `protected` read as not
    protected; `sources` given as a number stopped the import with a traceback."""
    store = str(tmp_path / "store.sqlite")
    ok(run(store, "", "init"))
    result = import_rows(store, tmp_path, {**ROW, "victims": [
        {"name": "Secretzed Protected", "age": 9, "protected": True, "sources": ["s1"],
         "unread": {"note": 12}},
        {"name": "Oui Protected", "protected": "oui", "sources": 5}]})
    assert result.exit_code == 0, result.stderr
    victims = shown(store, "", "CS80")["victims"]
    assert [(v["name"], v["protected"], v["sources"]) for v in victims] == [
        ("Secretzed Protected", True, ["s1"]), ("Oui Protected", True, ["s1"])]
    assert victims[0]["unread"] == {"note": "12"} and victims[1]["unread"]["sources"] == "5"
    assert shown(store, "", "CS80")["unread"] == {}
    public = ok(run(store, "", "export", "--public")).stdout
    assert "Secretzed" not in public and "Oui Protected" not in public
    assert not contains(store, b"Secretzed")
    cut = import_rows(store, tmp_path, {**ROW, "code": "CS81",
                                        "victims": '[{"name": "X", "protected": true'})
    assert cut.exit_code == 2 and "victims: not readable as a list of victims" in cut.stderr


def test_a_public_export_cites_sources_by_their_public_numbers(tmp_path: Path) -> None:
    """Found in review: withheld sources shift the public numbering; victims must follow it,
    and a victim named only by a withheld source goes with it."""
    store = str(tmp_path / "store.sqlite")
    ok(run(store, "", "init"))
    ok(run(store, "", "report", "CS1091", "--date", "2017-03-21", "--location", "Tabqa",
           "--country", "Syria", "--belligerent", "B"))
    ok(run(store, "", "source", "add", "CS1091", "--url", "https://example.org/secret",
           "--publisher", "SecretPub", "--kind", "witness", "--protected"))
    ok(run(store, "", "source", "add", "CS1091", "--url", "https://example.org/public",
           "--publisher", "PublicPub", "--kind", "media"))
    ok(run(store, "", "victim", "add", "CS1091", "--name", "Cites Protected", "--source", "s1"))
    ok(run(store, "", "victim", "add", "CS1091", "--name", "Cites Both", "--source", "s1",
           "--source", "s2"))
    record = json.loads(ok(run(store, "", "export", "--public")).stdout)
    assert [(v["name"], v["sources"]) for v in record["victims"]] == [("Cites Both", ["s1"])]
    assert [s["publisher"] for s in record["sources"]] == ["PublicPub"]


def test_a_victim_protected_later_is_withheld_from_the_start(store_url: str) -> None:
    a_case(store_url, "")
    ok(run(store_url, "", "victim", "amend", "CS1", "v3", "--protected", "--reason",
           "the witness Mrs Hiddenreason asked"))
    ok(run(store_url, "", "victim", "withdraw", "CS1", "v3", "--reason", "Otherhidden"))
    public = ok(run(store_url, "", "history", "CS1", "--public")).stdout
    assert "Hiddenreason" not in public and "Otherhidden" not in public
    assert "recorded victim v3 (protected; details withheld)" in public


def test_known_on_lists_victims_from_their_earliest_source(store_url: str) -> None:
    ok(run(store_url, "", "init"))
    ok(run(store_url, "", "report", "CS1", "--date", "2017-03-17", "--location", "Mosul",
           "--country", "Iraq", "--belligerent", "US-led Coalition"))
    for n, day in ((1, "2017-03-18"), (2, "2017-03-25")):
        ok(run(store_url, "", "source", "add", "CS1", "--url", f"https://example.org/{n}",
               "--publisher", f"P{n}", "--kind", "ngo", "--published", day))
    ok(run(store_url, "", "victim", "add", "CS1", "--name", "Early", "--source", "s1",
           "--source", "s2"))
    ok(run(store_url, "", "victim", "add", "CS1", "--name", "Late", "--source", "s2"))

    def named(day: str) -> list[tuple[str, str]]:
        document = json.loads(ok(run(store_url, "", "show", "CS1", "--known-on", day,
                                     "--json")).stdout)
        return [(v["name"], v["known_since"]) for v in document["victims"]]

    assert named("2017-03-20") == [("Early", "2017-03-18")]
    assert named("2017-03-25") == [("Early", "2017-03-18"), ("Late", "2017-03-25")]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (SQLite overwrites a row as it deletes it)."""
    yield from fresh_postgres_schema()


@pytest.mark.slow  # waits out the rewrite's lock timeout (10 s)
def test_an_erasure_while_another_session_holds_the_keys_says_what_is_left(
        postgres_url: str) -> None:
    """PostgreSQL: a reader holding the key table makes the rewrite wait, then give up: the
    key is gone from what the database reads back, and the command says its bytes leave the
    files at the next vacuum (it never hangs)."""
    import psycopg

    store_url = postgres_url
    a_case(store_url, "")
    key = victim_key(store_url, "", "v1")
    schema = store_url.rsplit("schema=", 1)[1]
    with psycopg.connect(store_url.split("?", 1)[0]) as holder:
        holder.execute(f"SELECT count(*) FROM {schema}.verify_victim_key").fetchone()
        result = ok(run(store_url, "", "victim", "erase", "CS1", "v1", "--reason", "asked"))
        assert "leave its files at the next vacuum" in result.stderr
    assert not any(key in blob for blob in stored_bytes(store_url, files=False))
    assert shown(store_url, "")["victims"][0]["name"] is None

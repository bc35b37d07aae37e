"""Events encrypted at rest with VERIFY_CIPHER_KEY (the library's AES cipher)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from click.testing import CliRunner, Result
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from verify.adapters.encryption import PlaceBoundMapper
from verify.adapters.store import cipher_env, parse_store
from verify.application.app import VerifyApp
from verify.demo.synthetic import write_archive
from verify.domain.incident import Incident, incident_id
from verify.entrypoints.cli import cli

from conftest import POSTGRES_IN_CI, report

# PostgreSQL stays in the inner loop for what each store keeps in clear (events and read
# models); reading with a wrong key and moved ciphertext are the same on either store.

PROTECTED = "Raqqa local monitoring network"  # a protected source in the demo


def run(store: str, key: str | None, *args: str) -> Result:
    env = {"VERIFY_CIPHER_KEY": key} if key else {"VERIFY_CIPHER_KEY": ""}
    return CliRunner().invoke(cli, ["--store", store, *args], env=env)


def new_key() -> str:
    result = CliRunner().invoke(cli, ["keygen"])
    assert result.exit_code == 0
    return result.output.strip()


def raw_contains(store: str, text: str) -> bool:
    """Whether the text appears anywhere in what the store keeps on disk or in its tables."""
    if "://" not in store:
        return any(text.encode() in path.read_bytes()
                   for path in Path(store).parent.glob(Path(store).name + "*"))
    import psycopg

    schema = store.rsplit("schema=", 1)[1]
    with psycopg.connect(store.split("?", 1)[0]) as db:
        found = db.execute(
            f"SELECT count(*) FROM {schema}.verify_events WHERE position(%s IN state) > 0"
            f" UNION ALL SELECT count(*) FROM {schema}.verify_snapshots"
            " WHERE position(%s IN state) > 0", (text.encode(), text.encode())).fetchall()
        tables = [name for (name,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))]
        for table in tables:  # every other table, read models included, as text
            found += db.execute(f"SELECT count(*) FROM {schema}.{table} t"
                                " WHERE position(%s IN t::text) > 0", (text,)).fetchall()
    return any(count for (count,) in found)


SUMMARY = "Strike on a residential building"  # CI1050's summary in the demo
PLACE = "Mosul al-Jadida"


def test_the_read_models_keep_no_free_text_in_clear(store_url: str) -> None:
    """Places and summaries in the queue, statistics and search tables are encrypted too;
    the commands that read them still answer as without a key."""
    key = new_key()
    assert run(store_url, key, "demo").exit_code == 0
    assert run(store_url, key, "queue").exit_code == 0  # the read models caught up
    assert not raw_contains(store_url, "Raqqa")
    for text in (SUMMARY, PLACE):
        assert not raw_contains(store_url, text), text
    found = json.loads(run(store_url, key, "search", "al-jadida", "--json").stdout)
    assert [hit["code"] for hit in found] == ["CI1050"]
    assert found[0]["summary"].startswith(SUMMARY)
    assert json.loads(run(store_url, key, "search", "ci10", "--json").stdout)
    queue = run(store_url, key, "queue", "--json").stdout
    assert "sealed:" not in queue
    app = VerifyApp(env={**parse_store(store_url).env(), **cipher_env_for(key)})
    tables = app.read_model.dump()
    assert PLACE in json.dumps(tables, default=str)
    app.rebuild_read_models()
    assert app.read_model.dump() == tables
    app.close()


def cipher_env_for(key: str) -> dict[str, str]:
    import os

    saved = os.environ.get("VERIFY_CIPHER_KEY")
    os.environ["VERIFY_CIPHER_KEY"] = key
    try:
        return cipher_env()
    finally:
        if saved is None:
            del os.environ["VERIFY_CIPHER_KEY"]
        else:
            os.environ["VERIFY_CIPHER_KEY"] = saved


def test_keygen_prints_a_256_bit_key() -> None:
    key = new_key()
    assert len(base64.b64decode(key)) == 32
    assert new_key() != key


def test_an_encrypted_store_keeps_no_plaintext_and_still_verifies(store_url: str) -> None:
    key = new_key()
    assert run(store_url, key, "demo").exit_code == 0
    assert not raw_contains(store_url, PROTECTED)
    assert not raw_contains(store_url, "Human Rights Watch")
    shown = json.loads(run(store_url, key, "show", "CS1080", "--json").stdout)
    assert PROTECTED in [source["publisher"] for source in shown["sources"]]
    assert run(store_url, key, "audit", "verify").exit_code == 0


@POSTGRES_IN_CI
def test_without_the_right_key_the_events_cannot_be_read(store_url: str) -> None:
    key = new_key()
    run(store_url, key, "demo")
    for other in (None, new_key()):
        result = run(store_url, other, "show", "CS1080")
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "error: the stored events cannot be read: the store is encrypted with another key, "
            "or VERIFY_CIPHER_KEY is missing or set where it should not be")
        assert PROTECTED not in result.output + result.stderr
    bad = run(store_url, "not-a-key", "show", "CS1080")
    assert bad.exit_code == 2 and "make one with `verify keygen`" in bad.stderr


@pytest.mark.slow
def test_a_large_import_is_encrypted_too(tmp_path: Path) -> None:
    key = new_key()
    store = str(tmp_path / "big.sqlite")
    run(store, key, "init")
    file = write_archive(tmp_path / "archive.jsonl", 5000)  # the parallel path
    result = run(store, key, "import", str(file))
    assert result.exit_code == 0, result.stderr
    assert not raw_contains(store, "residents describe damage")
    assert "residents describe damage" in run(store, key, "show", "CI1").output
    assert run(store, key, "audit", "verify").exit_code == 0



def _stored_events(store: str, code: str) -> list[Any]:
    """An incident's events as stored (ciphertext), read without the key."""
    app = VerifyApp(env={**parse_store(store).env(), "CIPHER_TOPIC": "", "MAPPER_TOPIC": ""})
    try:
        return list(app.recorder.select_events(incident_id(code)))
    finally:
        app.close()


@POSTGRES_IN_CI
def test_an_encrypted_event_moved_to_another_incident_is_refused_and_named(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack as found: without the key, CS1080's encrypted Graded event copied into an
    ungraded incident, its chain link recomputed (the program's own insert computes it)."""
    key = new_key()
    assert run(store_url, key, "demo").exit_code == 0
    graded = next(event for event in _stored_events(store_url, "CS1080")
                  if event.topic.endswith("Incident.Graded"))
    target = _stored_events(store_url, "CS1094")
    monkeypatch.setenv("VERIFY_CIPHER_KEY", "")
    attacker = VerifyApp(env={**parse_store(store_url).env(), "CIPHER_TOPIC": ""})
    attacker.recorder.insert_events([StoredEvent(
        originator_id=target[-1].originator_id, originator_version=len(target) + 1,
        topic=graded.topic, state=graded.state)])
    attacker.close()

    shown = run(store_url, key, "show", "CS1094")
    assert shown.exit_code == 1 and "fair" not in shown.output
    audit = run(store_url, key, "audit", "verify", "--json")
    assert audit.exit_code == 1
    report = json.loads(audit.stdout)
    assert report["problem"] == (
        f"the encrypted event at version {len(target) + 1} of CS1094 (Graded) was not "
        "encrypted there: it was moved from elsewhere in the history or altered behind the "
        "program's back")
    # Without the key the chain still verifies: the binding needs the key to check.
    assert run(store_url, None, "audit", "verify").exit_code == 0


@pytest.mark.parametrize("change", ["originator", "version", "topic"])
def test_ciphertext_is_bound_to_record_version_and_type(
        change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events and snapshots go through one mapper: each is bound to where it stands."""
    monkeypatch.setenv("VERIFY_CIPHER_KEY", new_key())
    app = VerifyApp(env=parse_store(str(tmp_path / "s.sqlite")).env())
    assert isinstance(app.mapper, PlaceBoundMapper)
    assert app.snapshots is None or app.snapshots.mapper is app.mapper
    event = Incident.NoteAdded(originator_id=uuid4(), originator_version=3,
                               timestamp=Incident.NoteAdded.create_timestamp(),
                               text="a witness's name", actor="ann")
    stored = app.mapper.to_stored_event(event)
    assert b"witness" not in stored.state
    assert app.mapper.to_domain_event(stored) == event
    moved = {
        "originator": {"originator_id": uuid4()},
        "version": {"originator_version": 4},
        "topic": {"topic": stored.topic.replace("NoteAdded", "SourceAdded")},
    }[change]
    fields = {"originator_id": stored.originator_id,
              "originator_version": stored.originator_version,
              "topic": stored.topic, "state": stored.state, **moved}
    with pytest.raises(MapperDeserialisationError):
        app.mapper.to_domain_event(StoredEvent(**fields))


def test_events_encrypted_before_binding_are_still_read_and_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store written with the library's own cipher format stays readable, every event."""
    key = new_key()
    store = str(tmp_path / "old.sqlite")
    monkeypatch.setenv("VERIFY_CIPHER_KEY", key)
    old = VerifyApp(env={**parse_store(store).env(), "CIPHER_TOPIC":
                         "eventsourcing.cryptography:AESCipher", "MAPPER_TOPIC": ""})
    report(old, "CS1", ["Coalition"])
    old.add_note("CS1", "a note", "ann")
    old.close()
    assert "a note" in run(store, key, "show", "CS1").output
    assert run(store, key, "note", "CS1", "a newer note").exit_code == 0
    audit = json.loads(run(store, key, "audit", "verify", "--json").stdout)
    assert audit["intact"]
    assert (audit["encrypted_checked"], audit["encrypted_unbound"]) == (3, 2)
    said = run(store, key, "audit", "verify").output
    assert "note: 2 of them were encrypted before events were bound" in said

"""Merkle proofs on real stores (a SQLite file, a PostgreSQL schema), through the command line.

A reader with only the published seal and an incident's proof file confirms the
incident's events are in the log; a changed byte in the proof, another root or
another size fails (exit 1), and a file or root that does not read is one
sentence (exit 2). The root the seal prints is recomputed here from the stored
rows by RFC 9162's recursive definition, so the store's order and the leaves'
bytes are what the tree hashes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verify.adapters.store import parse_store
from verify.application.app import VerifyApp
from verify.demo.tour import DEMO_CODES
from verify.domain.incident import incident_id
from verify.domain.merkle import leaf_hash, node_hash
from verify.domain.proofs import event_leaf
from verify.entrypoints.cli import cli

from conftest import POSTGRES_IN_CI

# PostgreSQL stays in the inner loop for a log that grows between proofs (its notification ids
# may have gaps there); the rest reads the log the same way on either store.


def run(store: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "auditor", *args])


def check(proof: Path, root: str, *more: str) -> Result:
    """check-proof needs no store: none is given."""
    return CliRunner().invoke(cli, ["audit", "check-proof", str(proof), "--root", root, *more])


@pytest.fixture
def demo(store_url: str) -> str:
    assert run(store_url, "demo").exit_code == 0
    return store_url


def one_sentence(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    error = result.stderr.strip()
    assert error.startswith("error: ") and "\n" not in error, error
    return error


def rfc_root(store: str) -> bytes:
    """The root of the stored events by RFC 9162's recursion, leaf hashes held in a list."""
    app = VerifyApp(env=parse_store(store).env())
    try:
        hashes = [leaf_hash(event_leaf(originator, version, topic,
                                       hashlib.sha256(bytes(state)).digest()))
                  for _, originator, version, topic, state, *_ in app.recorder.chain_rows()]
    finally:
        app.close()

    def mth(low: int, high: int) -> bytes:
        if high - low == 1:
            return hashes[low]
        k = 1
        while k * 2 < high - low:
            k *= 2
        return node_hash(mth(low, low + k), mth(low + k, high))

    return mth(0, len(hashes))


@POSTGRES_IN_CI
def test_the_seal_prints_the_merkle_root_of_every_stored_event(demo: str) -> None:
    sealed = json.loads(run(demo, "audit", "seal", "--json").stdout)
    assert sealed["events"] == 51
    assert sealed["merkle_root"] == "sha256:" + rfc_root(demo).hex()
    assert f"head={sealed['head']} merkle_root={sealed['merkle_root']} at=" in sealed["line"]
    again = run(demo, "audit", "verify", "--seal", sealed["line"])
    assert again.exit_code == 0 and "matches the seal at event 51" in again.output
    altered = sealed["line"].replace("merkle_root=sha256:", "merkle_root=sha256:0", 1)
    altered = altered.replace(sealed["merkle_root"][7:], sealed["merkle_root"][7:-1], 1)
    assert "the seal line was altered" in one_sentence(
        run(demo, "audit", "verify", "--seal", altered), 1)


@POSTGRES_IN_CI
def test_a_reader_with_the_seal_and_the_proof_file_confirms_the_incident(
        demo: str, tmp_path: Path) -> None:
    seal = run(demo, "audit", "seal").stdout.strip()
    proof_file = tmp_path / "proof.json"
    made = run(demo, "audit", "prove", "CS1080", "-o", str(proof_file))
    assert made.exit_code == 0, made.output
    assert "inclusion of the 8 events of CS1080 in the log of 51 events" in made.stdout
    proof = json.loads(proof_file.read_text())
    assert [event["version"] for event in proof["events"]] == list(range(1, 9))
    assert proof["events"][0]["topic"].endswith("Incident.Reported")
    held = check(proof_file, seal)
    assert held.exit_code == 0, held.output
    assert held.stdout.startswith("holds: the 8 events of CS1080 (versions 1 to 8) are in the "
                                  "log of 51 events whose root is sha256:")
    assert "note:" not in held.stdout
    alone = check(proof_file, proof["root"].removeprefix("sha256:").upper())
    assert alone.exit_code == 0 and "the log's size (51 events) was not checked" in alone.stdout
    report = json.loads(check(proof_file, seal, "--json").stdout)
    assert report["holds"] is True and report["events"] == 8 and report["size_checked"]
    # Printed without -o, the proof is the same document.
    assert json.loads(run(demo, "audit", "prove", "cs1080").stdout) == proof


def places(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [place for key, item in value.items() for place in places(item, (*where, key))]
    if isinstance(value, list):
        return [place for index, item in enumerate(value)
                for place in places(item, (*where, index))]
    return [where]


def with_byte_changed(document: Any, place: tuple[Any, ...], text: str) -> str:
    """The file's text with one byte of the value at ``place`` changed, in place."""
    holder = document
    for key in place[:-1]:
        holder = holder[key]
    value = holder[place[-1]]
    shown = json.dumps(value)
    if isinstance(value, int):
        swapped = str(value ^ 1)
    else:
        swapped = json.dumps(value[:-1] + ("0" if value[-1] != "0" else "1"))
    start = text.index(f"{json.dumps(place[-1])}: {shown}") if isinstance(place[-1], str) \
        else None
    if start is None:  # a path's node: found by its own hash, unique in the file
        return text.replace(shown, swapped, 1)
    return text[:start] + text[start:].replace(shown, swapped, 1)


@POSTGRES_IN_CI
def test_a_changed_byte_anywhere_in_the_proof_fails(demo: str, tmp_path: Path) -> None:
    seal = run(demo, "audit", "seal").stdout.strip()
    proof_file = tmp_path / "proof.json"
    assert run(demo, "audit", "prove", "CS1070", "-o", str(proof_file)).exit_code == 0
    text = proof_file.read_text()
    document = json.loads(text)
    changed_file = tmp_path / "changed.json"
    for place in places(document):
        changed = with_byte_changed(document, place, text)
        assert sum(a != b for a, b in zip(changed, text, strict=True)) == 1, place
        changed_file.write_text(changed)
        result = check(changed_file, seal)
        assert result.exit_code in (1, 2), f"{place}: {result.output}"
        one_sentence(result, result.exit_code)


@POSTGRES_IN_CI
def test_another_root_or_size_fails_and_bad_input_is_one_sentence(
        demo: str, tmp_path: Path) -> None:
    seal = run(demo, "audit", "seal").stdout.strip()
    proof_file = tmp_path / "proof.json"
    assert run(demo, "audit", "prove", "CS1080", "-o", str(proof_file)).exit_code == 0
    root = json.loads(proof_file.read_text())["root"]
    wrong = root[:-1] + ("0" if root[-1] != "0" else "1")
    assert "is made against the root" in one_sentence(check(proof_file, wrong), 1)
    assert "not the 52 sealed" in one_sentence(
        check(proof_file, seal.replace("events=51", "events=52")), 1)
    assert "64 hexadecimal digits" in one_sentence(check(proof_file, "not-a-root"), 2)
    assert "64 hexadecimal digits" in one_sentence(check(proof_file, root[:-2]), 2)
    for content, why in [
        (b"", "is not JSON"), (b"{\"proof\": \"inclusion\"", "is not JSON"),
        (b"\xff\xfe\x00", "is not JSON"), (b"[" * 100_000, "is not JSON"),
        (b"[]", "neither"), (b'{"proof": "inclusion"}', "hashing"),
        (proof_file.read_bytes().replace(b'"tree_size": 51', b'"tree_size": "51"'),
         "tree_size"),
        (proof_file.read_bytes().replace(b'"tree_size": 51', b'"tree_size": 1e400'),
         "tree_size"),
    ]:
        (tmp_path / "bad.json").write_bytes(content)
        assert why in one_sentence(check(tmp_path / "bad.json", seal), 2), content[:40]
    assert "cannot read the proof file" in one_sentence(check(tmp_path / "none.json", seal), 2)
    assert "is a directory" in one_sentence(check(tmp_path, seal), 2)
    assert "not a regular file" in one_sentence(check(Path("/dev/zero"), seal), 2)
    assert "no incident has the code CS4242" in one_sentence(
        run(demo, "audit", "prove", "CS4242"), 2)
    assert "one of the two" in one_sentence(run(demo, "audit", "prove"), 2)
    assert "one of the two" in one_sentence(
        run(demo, "audit", "prove", "CS1080", "--consistency", seal), 2)


def test_the_log_grows_and_old_proofs_stay_checkable(demo: str, tmp_path: Path) -> None:
    old_seal = run(demo, "audit", "seal").stdout.strip()
    assert run(demo, "note", "CS1080", "called the local council").exit_code == 0
    assert run(demo, "note", "CS1094", "called the hospital").exit_code == 0
    seal = run(demo, "audit", "seal").stdout.strip()
    assert "events=53" in seal

    grew = tmp_path / "grew.json"
    made = run(demo, "audit", "prove", "--consistency", old_seal, "-o", str(grew))
    assert made.exit_code == 0, made.output
    assert "the log of 53 events extends the one of 51 sealed" in made.stdout
    held = check(grew, seal, "--old-root", old_seal)
    assert held.exit_code == 0, held.output
    assert "holds: the log of 53 events" in held.stdout and "note:" not in held.stdout
    assert "starts from the root" in one_sentence(check(grew, seal, "--old-root", seal), 1)
    now_file = tmp_path / "now.json"
    assert run(demo, "audit", "prove", "CS1094", "-o", str(now_file)).exit_code == 0
    assert "goes with a consistency proof" in one_sentence(
        check(now_file, seal, "--old-root", old_seal), 2)

    old_root = json.loads(grew.read_text())["old_root"]
    by_root = run(demo, "audit", "prove", "--consistency", old_root, "--events", "51")
    assert by_root.exit_code == 0 and json.loads(by_root.stdout) == json.loads(grew.read_text())
    assert "how many events" in one_sentence(
        run(demo, "audit", "prove", "--consistency", old_root), 2)
    assert "names its own events=" in one_sentence(
        run(demo, "audit", "prove", "--consistency", old_seal, "--events", "51"), 2)
    assert "--events goes with a root alone" in one_sentence(
        run(demo, "audit", "prove", "CS1080", "--events", "51"), 2)
    assert "rewritten since" in one_sentence(
        run(demo, "audit", "prove", "--consistency", old_root, "--events", "50"), 1)
    assert "fewer than the 54 sealed" in one_sentence(
        run(demo, "audit", "prove", "--consistency", seal.replace("events=53", "events=54")), 1)

    # The incident as it was sealed: its later note is left out, and the old root holds.
    then = tmp_path / "then.json"
    assert run(demo, "audit", "prove", "CS1080", "--seal", old_seal, "-o", str(then)
               ).exit_code == 0
    assert len(json.loads(then.read_text())["events"]) == 8
    assert check(then, old_seal).exit_code == 0
    now = json.loads(run(demo, "audit", "prove", "CS1080").stdout)
    assert len(now["events"]) == 9 and now["tree_size"] == 53
    assert "takes the whole line" in one_sentence(
        run(demo, "audit", "prove", "CS1080", "--seal", old_root), 2)


def test_a_rewritten_log_fails_against_the_root_published_before(tmp_path: Path) -> None:
    """An event rewritten in the file: a proof made now holds against the root the log has
    now, and fails against the one published before; proving against that seal, or that
    the log grew from it, is refused."""
    store = str(tmp_path / "store.sqlite")
    assert run(store, "demo").exit_code == 0
    old_seal = run(store, "audit", "seal").stdout.strip()
    with sqlite3.connect(store) as db:
        rowid, originator, state = db.execute(
            "SELECT rowid, originator_id, state FROM stored_events WHERE topic LIKE"
            " '%SourceAdded' ORDER BY rowid LIMIT 1").fetchone()
        db.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                   (state[:-1] + b" }", rowid))
    code = next(code for code in DEMO_CODES if incident_id(code).hex == originator)
    assert run(store, "audit", "verify").exit_code == 1  # the chain sees it at once
    proof_file = tmp_path / "proof.json"
    assert run(store, "audit", "prove", code, "-o", str(proof_file)).exit_code == 0
    assert check(proof_file, json.loads(proof_file.read_text())["root"]).exit_code == 0
    assert "is made against the root" in one_sentence(check(proof_file, old_seal), 1)
    assert "rewritten since" in one_sentence(
        run(store, "audit", "prove", "--consistency", old_seal), 1)
    assert "rewritten since" in one_sentence(
        run(store, "audit", "prove", "CS1080", "--seal", old_seal), 1)


def test_an_encrypted_store_proves_without_its_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The leaves are the stored bytes' digests, ciphertext and all: a proof made without the
    key is the one made with it, and shows nothing the key protects."""
    from verify.adapters.store import new_cipher_key

    store = str(tmp_path / "sealed.sqlite")
    monkeypatch.setenv("VERIFY_CIPHER_KEY", new_cipher_key())
    assert run(store, "demo").exit_code == 0
    seal = run(store, "audit", "seal").stdout.strip()
    with_key = run(store, "audit", "prove", "CS1080").stdout
    monkeypatch.delenv("VERIFY_CIPHER_KEY")
    without_key = run(store, "audit", "prove", "CS1080")
    assert without_key.exit_code == 0 and without_key.stdout == with_key
    (tmp_path / "proof.json").write_text(with_key)
    assert check(tmp_path / "proof.json", seal).exit_code == 0
    assert "al-Badiya" not in with_key and "reliability" not in with_key

"""Events encrypted at rest with VERIFY_CIPHER_KEY (the library's AES cipher)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from verify.demo.synthetic import write_archive
from verify.entrypoints.cli import cli

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
    return any(count for (count,) in found)


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


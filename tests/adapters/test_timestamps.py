"""RFC 3161 timestamps of a seal, through the command line, against an authority on loopback.

`audit seal --tsa URL --token FILE` keeps a token only when the authority
granted one for this very head and request; every way it can fail (nobody
answering, an error, a refusal, a token for another digest, bytes that are no
response) is one sentence, exit 1, and no file. `audit verify --seal LINE
--token FILE --tsa-cert CA` checks the token against the certificates the user
trusts; a token for another seal, an altered token and a token signed by
another authority fail the audit (exit 1). The authority is `openssl ts
-reply` behind a small HTTP server (tests/timestamp_authority.py): never an
outside service. OpenSSL itself checks the kept token too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from timestamp_authority import Authority, TimestampServer, make_authority, serving
from verify.domain.errors import InvalidInput
from verify.entrypoints.cli import cli


def run(store: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", store, "--actor", "auditor", *args])


def one_sentence(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    error = result.stderr.strip()
    assert error.startswith("error: ") and "\n" not in error, error
    assert "Traceback" not in result.output
    return error


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimestampServer]:
    """A timestamping authority on loopback for the module's tests."""
    with serving(make_authority(tmp_path_factory.mktemp("tsa"))) as server:
        yield server


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """Another authority's certificates: trusting them must not make our token hold."""
    return make_authority(tmp_path_factory.mktemp("stranger"), "stranger")


def small_store(store: str) -> str:
    assert run(store, "init").exit_code == 0
    reported = run(store, "report", "CS1080", "--date", "2017-03-20", "--location", "Mansoura",
                   "--country", "Syria", "--belligerent", "US-led Coalition")
    assert reported.exit_code == 0, reported.output
    return store


@pytest.fixture
def store(store_url: str) -> str:
    return small_store(store_url)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    return small_store(str(tmp_path / "verify.sqlite"))


def seal_with_token(store: str, tsa: TimestampServer, token: Path) -> dict[str, object]:
    sealed = run(store, "audit", "seal", "--tsa", tsa.url, "--token", str(token), "--json")
    assert sealed.exit_code == 0, sealed.output
    document: dict[str, object] = json.loads(sealed.stdout)
    return document


def test_a_timestamped_seal_checks_later_and_with_openssl(
        store: str, tsa: TimestampServer, tmp_path: Path) -> None:
    token = tmp_path / "seal.tsr"
    sealed = run(store, "audit", "seal", "--tsa", tsa.url, "--token", str(token))
    assert sealed.exit_code == 0, sealed.output
    line, attested, kept = sealed.stdout.splitlines()
    assert line.startswith("verify seal: ") and " events=1 " in line
    assert attested.startswith("timestamp: the head existed by 20")
    assert "as CN=verify tests TSA attests (token serial " in attested
    assert kept == f"token: {token}"
    ca = str(tsa.authority.ca_cert)

    checked = run(store, "audit", "verify", "--seal", line, "--token", str(token),
                  "--tsa-cert", ca)
    assert checked.exit_code == 0, checked.output
    assert "matches the seal at event 1" in checked.stdout
    assert attested in checked.stdout.splitlines()

    report = json.loads(run(store, "audit", "verify", "--seal", line, "--token", str(token),
                            "--tsa-cert", ca, "--json").stdout)
    head = bytes.fromhex(report["head"].removeprefix("sha256:"))
    stamp = report["timestamp"]
    assert report["intact"] is True
    assert stamp["imprint"] == "sha256:" + hashlib.sha256(head).hexdigest()
    assert stamp["authority"] == "CN=verify tests TSA"
    assert stamp["time"] in attested and stamp["policy"] == "1.3.6.1.4.1.99999.1"
    # Without a token, nothing is said of one.
    assert json.loads(run(store, "audit", "verify", "--json").stdout)["timestamp"] is None

    # The token is a standard one: OpenSSL checks it with the head's digest and the CA.
    openssl = shutil.which("openssl")
    assert openssl is not None
    checked_by_openssl = subprocess.run(
        [openssl, "ts", "-verify", "-in", str(token), "-digest", hashlib.sha256(head).hexdigest(),
         "-CAfile", ca], capture_output=True, text=True)
    assert checked_by_openssl.stdout.strip() == "Verification: OK", checked_by_openssl.stderr


def test_the_json_seal_names_the_token_and_what_it_attests(
        sqlite_store: str, tsa: TimestampServer, tmp_path: Path) -> None:
    token = tmp_path / "seal.tsr"
    sealed = seal_with_token(sqlite_store, tsa, token)
    stamp = sealed["timestamp"]
    assert isinstance(stamp, dict)
    assert stamp["token"] == str(token) and token.is_file()
    head = bytes.fromhex(str(sealed["head"]).removeprefix("sha256:"))
    assert stamp["imprint"] == "sha256:" + hashlib.sha256(head).hexdigest()
    assert set(stamp) == {"time", "authority", "serial", "imprint", "policy", "token"}
    assert "timestamp" not in json.loads(run(sqlite_store, "audit", "seal", "--json").stdout)


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


@pytest.mark.parametrize(("where", "said"), [
    ("closed", "cannot be reached (Connection refused); nothing was kept"),
    ("http-error", "answered HTTP 500; nothing was kept"),
    ("reject", "refused to timestamp the head (PKIStatus 2); nothing was kept"),
    ("other-digest", "answered a token for another digest than the head's; nothing was kept"),
    ("not-a-response", "did not answer with an RFC 3161 timestamp response; nothing was kept"),
])
def test_an_authority_that_grants_no_token_for_the_head_keeps_nothing(
        sqlite_store: str, tsa: TimestampServer, tmp_path: Path, where: str, said: str) -> None:
    url = closed_port() if where == "closed" else tsa.url + where
    kept = tmp_path / "kept"
    kept.mkdir()
    token = kept / "seal.tsr"
    failed = run(sqlite_store, "audit", "seal", "--tsa", url, "--token", str(token))
    error = one_sentence(failed, 1)
    assert error == f"error: the timestamping authority at {url} {said}"
    assert failed.stdout == ""
    assert list(kept.iterdir()) == []  # no token, no part of one


def test_an_authority_address_never_shows_its_credentials(
        sqlite_store: str, tsa: TimestampServer, tmp_path: Path) -> None:
    port = tsa.url.rsplit(":", 1)[1]
    url = f"http://some%20one:secret-password@127.0.0.1:{port}reject?key=another-secret"
    error = one_sentence(run(sqlite_store, "audit", "seal", "--tsa", url, "--token",
                             str(tmp_path / "t.tsr")), 1)
    assert "secret" not in error and f"at http://127.0.0.1:{port}reject refused" in error
    assert tsa.authorization == "Basic " + base64.b64encode(
        b"some one:secret-password").decode()


def flipped(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def test_a_token_that_does_not_attest_the_seal_fails_the_audit(
        sqlite_store: str, tsa: TimestampServer, stranger: Authority, tmp_path: Path) -> None:
    first, second = tmp_path / "first.tsr", tmp_path / "second.tsr"
    sealed = seal_with_token(sqlite_store, tsa, first)
    line, ca = str(sealed["line"]), str(tsa.authority.ca_cert)

    def verify(token: Path, trusted: str = ca) -> Result:
        return run(sqlite_store, "audit", "verify", "--seal", line, "--token", str(token),
                   "--tsa-cert", trusted)

    assert verify(first).exit_code == 0
    # A token kept for a later seal is for another head.
    assert run(sqlite_store, "report", "CS1081", "--date", "2017-03-21", "--location",
               "Tabqa", "--country", "Syria", "--belligerent", "US-led Coalition").exit_code == 0
    later = seal_with_token(sqlite_store, tsa, second)
    assert later["head"] != sealed["head"]
    assert "the timestamp token is for another digest than the seal's head " \
        f"{sealed['head']}: it was made for another seal" in one_sentence(verify(second), 1)
    report = json.loads(run(sqlite_store, "audit", "verify", "--seal", line, "--token",
                            str(second), "--tsa-cert", ca, "--json").stdout)
    assert report["intact"] is False and "another digest" in report["problem"]
    assert report["timestamp"] is None

    # Signed by an authority the given certificates do not vouch for.
    assert "was not signed by an authority that the certificates in ca.pem vouch for" in \
        one_sentence(verify(first, str(stranger.ca_cert)), 1)

    # Altered after it was signed: the time it attests, or the signature itself.
    token = first.read_bytes()
    when = token.index(b"\x18\x0f") + 2  # GeneralizedTime, 15 bytes: YYYYMMDDhhmmssZ
    for offset, said in [
        (when + 13, "the timestamp token's signature does not hold: the token was altered"),
        (len(token) - 10, "the timestamp token's signature does not hold: the token was "
         "altered"),
        (when + 2, "the timestamping authority's certificate was not valid at the time the "
         "token attests: the token was altered"),
    ]:
        altered = tmp_path / f"altered-{offset}.tsr"
        altered.write_bytes(flipped(token, offset))
        assert said in one_sentence(verify(altered), 1)
    # The authority's own certificate is no trust anchor: its CA's is.
    assert "vouch for" in one_sentence(verify(first, str(tsa.authority.tsa_cert)), 1)


def test_a_token_or_certificate_that_does_not_read_is_bad_input(
        sqlite_store: str, tsa: TimestampServer, tmp_path: Path) -> None:
    token = tmp_path / "seal.tsr"
    line = str(seal_with_token(sqlite_store, tsa, token)["line"])
    ca = str(tsa.authority.ca_cert)
    not_a_token = tmp_path / "page.html"
    not_a_token.write_text("<html>a login page</html>")
    no_certificate = tmp_path / "empty.pem"
    no_certificate.write_text("nothing here\n")
    cases = {
        ("--token", str(not_a_token), "--tsa-cert", ca):
            "the token file is not a granted RFC 3161 timestamp response",
        ("--token", str(token), "--tsa-cert", str(no_certificate)):
            "empty.pem holds no PEM certificate to trust",
        ("--token", str(token)): "--token and --tsa-cert go together",
        ("--token", str(tmp_path / "missing.tsr"), "--tsa-cert", ca): "missing.tsr",
    }
    for options, said in cases.items():
        assert said in one_sentence(run(sqlite_store, "audit", "verify", "--seal", line,
                                        *options), 2)
    assert "--token goes with --seal" in one_sentence(run(
        sqlite_store, "audit", "verify", "--token", str(token), "--tsa-cert", ca), 2)
    for options, said in {
        ("--tsa", tsa.url): "--tsa and --token go together",
        ("--token", str(token)): "--tsa and --token go together",
        ("--tsa", "ftp://127.0.0.1/", "--token", str(token)): "an http:// or https:// URL",
        ("--tsa", "127.0.0.1", "--token", str(token)): "an http:// or https:// URL",
        ("--tsa", tsa.url, "--token", str(tmp_path / "no-folder" / "t.tsr")): "--token",
    }.items():
        assert said in one_sentence(run(sqlite_store, "audit", "seal", *options), 2)


def test_without_the_package_the_sentence_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from verify.adapters import timestamps

    real_import = builtins.__import__

    def without(name: str, *args: object, **kwargs: object) -> object:
        if name == "rfc3161_client":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(InvalidInput, match=r"pip install 'verify\[timestamps\]'"):
        timestamps.TimestampAuthority("http://127.0.0.1:1/").stamp(b"\x00" * 32)

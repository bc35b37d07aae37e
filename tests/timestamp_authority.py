"""A real RFC 3161 timestamping authority for the tests, on loopback: never an outside service.

A throwaway certificate authority and a TSA certificate (extended key usage
timeStamping, critical, as RFC 3161 section 2.3 requires) are made with the
`cryptography` package; `openssl ts -reply` signs each answer, so the tokens
are the ones a real authority built on OpenSSL gives. The server answers
`application/timestamp-query` POSTs; the path chooses how it behaves, so one
server serves every test:

- ``/`` grants a token for the query;
- ``/reject`` answers a PKIStatus of rejection;
- ``/other-digest`` grants a token, but for another digest than the one asked;
- ``/not-a-response`` answers bytes that are not a timestamp response;
- ``/http-error`` answers HTTP 500.

OpenSSL is part of the base system; without it the tests fail and say so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REJECTION = bytes.fromhex("30053003020102")
"""TimeStampResp { status PKIStatusInfo { status rejection (2) } }, with no token."""


@dataclass(frozen=True)
class Authority:
    """The files of a throwaway TSA: its CA's certificate is what a verifier trusts."""

    folder: Path
    ca_cert: Path
    tsa_cert: Path
    tsa_key: Path
    config: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_authority(folder: Path, name: str = "verify tests") -> Authority:
    """A CA and a TSA certificate it issued, with an OpenSSL TSA configuration."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(_name(f"{name} CA")).issuer_name(_name(f"{name} CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder()
           .subject_name(_name(f"{name} TSA")).issuer_name(ca.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                          critical=True)
           .sign(ca_key, hashes.SHA256()))
    authority = Authority(folder, folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key",
                          folder / "tsa.cnf")
    authority.ca_cert.write_bytes(_pem(ca))
    authority.tsa_cert.write_bytes(_pem(tsa))
    authority.tsa_key.write_bytes(tsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (folder / "serial").write_text("01\n")
    authority.config.write_text(f"""\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    return authority


def openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise RuntimeError("the timestamp tests need the `openssl` command (OpenSSL 3), "
                           "which is part of the base system: install it")
    return found


class TimestampServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, authority: Authority) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.authority = authority
        self.signing = threading.Lock()  # openssl keeps the serial number in a file
        self.requests = 0
        self.authorization: str | None = None
        """The Authorization header of the last request (None without one)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def reply(self, query: bytes) -> bytes:
        """`openssl ts -reply` to a DER query: the signed response, DER."""
        folder = self.authority.folder
        with self.signing:
            self.requests += 1
            asked = folder / f"query-{self.requests}.tsq"
            answered = folder / f"reply-{self.requests}.tsr"
            asked.write_bytes(query)
            subprocess.run([openssl(), "ts", "-reply", "-config", str(self.authority.config),
                            "-queryfile", str(asked), "-out", str(answered)],
                           check=True, capture_output=True)
            return answered.read_bytes()

    def query_for_another_digest(self) -> bytes:
        """A query for a digest nobody asked about (so its token is for another head)."""
        other = hashlib.sha256(b"another head").hexdigest()
        return subprocess.run([openssl(), "ts", "-query", "-digest", other, "-sha256", "-cert"],
                              check=True, capture_output=True).stdout


class _Handler(BaseHTTPRequestHandler):
    server: TimestampServer

    def do_POST(self) -> None:
        query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.authorization = self.headers.get("Authorization")
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/http-error":
            self._answer(500, b"broken", "text/plain")
        elif path == "/reject":
            self._answer(200, REJECTION)
        elif path == "/not-a-response":
            self._answer(200, b"<html>a login page</html>")
        elif path == "/other-digest":
            self._answer(200, self.server.reply(self.server.query_for_another_digest()))
        else:
            self._answer(200, self.server.reply(query))

    def _answer(self, status: int, body: bytes,
                kind: str = "application/timestamp-reply") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests say what went wrong."""


@contextmanager
def serving(authority: Authority) -> Iterator[TimestampServer]:
    """The authority's server on a free loopback port, for as long as the block runs."""
    openssl()
    server = TimestampServer(authority)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

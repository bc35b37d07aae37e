"""RFC 3161 timestamps through `rfc3161-client`: asking an authority over HTTP, checking a token.

`TimestampAuthority.stamp` posts a request (SHA-256, a fresh nonce, the
authority's certificate asked for) and keeps the answer only when it is a
granted token for that very request: for the digest sent, with the nonce sent.
`TokenCheck.check` verifies a kept token against the certificates the user
trusts: the authority's signature over what it attests, its certificate's
chain to one of them (valid at the attested time) and its timeStamping
purpose. The trust anchor always comes from the user, never from the token.
"""

from __future__ import annotations

import base64
import datetime as dt
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from verify.domain.errors import InvalidInput, Refused
from verify.domain.timestamps import (
    Attestation,
    Stamped,
    answer_problem,
    imprint_of,
    imprint_problem,
    timestamped_data,
)

MAX_RESPONSE_BYTES = 1 << 20
"""A timestamp response is a few kilobytes; a longer answer is not one."""

MAX_CERTIFICATE_BYTES = 1 << 20
"""A file of trusted certificates larger than this is refused unread."""

MAX_TOKEN_BYTES = MAX_RESPONSE_BYTES

TIMEOUT_SECONDS = 30.0
"""How long an authority has to answer."""

GRANTED = 0
"""PKIStatus granted. grantedWithMods (1) is refused too: `rfc3161-client` verifies only 0."""

_MISSING = "timestamps need the rfc3161-client package: pip install 'verify[timestamps]'"


def _library() -> Any:
    """`rfc3161_client`, imported when a timestamp is first needed (an optional extra)."""
    try:
        import rfc3161_client
    except ImportError:
        raise InvalidInput(_MISSING) from None
    return rfc3161_client


def shown_url(url: str) -> str:
    """An authority's address as a sentence shows it: no user name, password or query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    shown = f"{parts.scheme}://{host}{port}{parts.path}"
    return shown if len(shown) <= 80 else f"{shown[:77]}..."


def attestation_of(response: Any) -> Attestation:
    """What a parsed, granted response attests (ValueError when it holds no token)."""
    info = response.tst_info
    name = info.name
    authority = None
    if name is not None:
        value = getattr(name, "value", name)
        authority = value.rfc4514_string() if hasattr(value, "rfc4514_string") else str(value)
    when = info.gen_time
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return Attestation(time=when, authority=authority, serial=int(info.serial_number),
                       imprint=bytes(info.message_imprint.message),
                       policy=info.policy.dotted_string, nonce=info.nonce)


class TimestampAuthority:
    """An RFC 3161 timestamping authority at an http(s) address."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        try:
            parts = urllib.parse.urlsplit(url.strip())
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) \
                and parts.port != 0
        except ValueError:  # an unclosed [IPv6 address, a port out of range
            usable = False
        if not usable:
            raise InvalidInput("the timestamping authority's address is an http:// or https:// "
                               "URL, as the authority publishes it")
        self.shown = shown_url(url.strip())
        self.timeout = timeout
        # A user name and password in the address are sent as HTTP basic authentication
        # (urllib takes them for part of the host name) and never shown.
        self.headers = {"Content-Type": "application/timestamp-query",
                        "Accept": "application/timestamp-reply"}
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            self.headers["Authorization"] = "Basic " + base64.b64encode(
                f"{user}:{password}".encode()).decode("ascii")
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        self.url = urllib.parse.urlunsplit(parts)

    def stamp(self, data: bytes) -> Stamped:
        """A token for these bytes, checked against the request; Refused when there is none."""
        rfc3161 = _library()
        request = (rfc3161.TimestampRequestBuilder().data(data)
                   .hash_algorithm(rfc3161.HashAlgorithm.SHA256).build())
        answer = self._post(request.as_bytes())
        try:
            response = rfc3161.decode_timestamp_response(answer)
        except ValueError:
            raise Refused(f"the timestamping authority at {self.shown} did not answer with an "
                          "RFC 3161 timestamp response; nothing was kept") from None
        if response.status != GRANTED:
            said = "; ".join(response.status_string)[:200]
            raise Refused(f"the timestamping authority at {self.shown} refused to timestamp "
                          f"the head (PKIStatus {response.status}{': ' if said else ''}{said}); "
                          "nothing was kept")
        try:
            attestation = attestation_of(response)
        except ValueError:
            raise Refused(f"the timestamping authority at {self.shown} granted no token; "
                          "nothing was kept") from None
        problem = answer_problem(attestation, data, request.nonce)
        if problem is not None:
            raise Refused(f"the timestamping authority at {self.shown} answered {problem}; "
                          "nothing was kept")
        return Stamped(answer, attestation)

    def _post(self, query: bytes) -> bytes:
        posted = urllib.request.Request(self.url, data=query, method="POST",
                                        headers=self.headers)
        try:
            with urllib.request.urlopen(posted, timeout=self.timeout) as answer:
                body: bytes = answer.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise Refused(f"the timestamping authority at {self.shown} answered HTTP "
                          f"{error.code}; nothing was kept") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            why = getattr(reason, "strerror", None) or type(reason).__name__
            raise Refused(f"the timestamping authority at {self.shown} cannot be reached "
                          f"({why}); nothing was kept") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise Refused(f"the timestamping authority at {self.shown} answered more than "
                          f"{MAX_RESPONSE_BYTES:,} bytes, which no timestamp response needs; "
                          "nothing was kept")
        return body


class TokenCheck:
    """A kept token, read, and the certificates the user trusts to have signed it."""

    def __init__(self, token: bytes, trusted: bytes, trusted_name: str) -> None:
        rfc3161 = _library()
        from cryptography import x509

        try:
            self.response = rfc3161.decode_timestamp_response(token)
            granted = self.response.status == GRANTED
        except ValueError:
            granted = False
        if not granted:
            raise InvalidInput("the token file is not a granted RFC 3161 timestamp response, "
                               "as `verify audit seal --tsa` keeps it")
        from cryptography.hazmat.primitives import hashes

        try:
            certificates = x509.load_pem_x509_certificates(trusted)
        except ValueError:
            raise InvalidInput(f"{trusted_name} holds no PEM certificate to trust (-----BEGIN "
                               "CERTIFICATE-----)") from None
        # The verifier refuses a certificate given twice: a bundle may repeat one.
        self.trusted = list({certificate.fingerprint(hashes.SHA256()): certificate
                             for certificate in certificates}.values())
        self.trusted_name = trusted_name

    def check(self, head: bytes) -> Attestation:
        """What the token attests of this head; Refused when it does not hold."""
        rfc3161 = _library()
        try:
            attestation = attestation_of(self.response)
        except ValueError:
            raise Refused("the timestamp token cannot be read: it was altered") from None
        problem = imprint_problem(attestation, head)
        if problem is not None:
            raise Refused(problem)
        builder = rfc3161.VerifierBuilder()
        for certificate in self.trusted:
            builder = builder.add_root_certificate(certificate)
        try:
            builder.build().verify(self.response, imprint_of(timestamped_data(head)))
        except (rfc3161.VerificationError, ValueError) as error:
            raise Refused(self._why(str(error))) from None
        return attestation

    def _why(self, error: str) -> str:
        """The library's reason, as a sentence a person acts on."""
        if "signature failure" in error:
            return ("the timestamp token's signature does not hold: the token was altered "
                    "after the authority signed it")
        if "expired" in error or "not yet valid" in error:
            return ("the timestamping authority's certificate was not valid at the time the "
                    "token attests: the token was altered, or signed outside its "
                    "certificate's validity")
        if "certificate" in error.lower() or "EKU" in error:
            return (f"the timestamp token was not signed by an authority that the "
                    f"certificates in {self.trusted_name} vouch for as a timestamping authority")
        return ("the timestamp token does not hold: the token was altered after the authority "
                "signed it")

"""Which host names the server answers to, so a hostile site cannot rebind its name to it.

DNS rebinding points a name the attacker controls (``attacker.example``) at
this machine, so the attacker's page can read and post to the server in the
browser of someone who can reach it, with the attacker's name in the ``Host``
header. A server that only answers names it expects is out of reach:

- without a team file (anyone who reaches the server acts as the local
  actor), only loopback names: ``localhost``, ``127.0.0.1`` (any address of
  127.0.0.0/8) and ``[::1]``, on any port;
- with a team file, loopback names and the names listed in
  ``VERIFY_ALLOWED_HOSTS`` (comma-separated; ``*`` answers any name), or,
  when nothing is listed, loopback names and addresses written as numbers
  (which no rebinding can forge).

Any other host is answered 400 with one sentence, before anything else runs (in the
language the request asks for, as a page's; the API's answer is English).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

from verify.application.views import json_bytes
from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence
from verify.entrypoints.web.i18n import COOKIE, chosen, in_language

ALLOWED_HOSTS_VARIABLE = "VERIFY_ALLOWED_HOSTS"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_name(header: str) -> str | None:
    """The name in a ``Host`` header without its port, lower-cased; None when unreadable."""
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, rest = header[1:].partition("]")
        if not bracket or (rest and not _port(rest)):
            return None
        return name or None
    name, colon, port = header.rpartition(":")
    if not colon:
        name = port
    elif not _port(":" + port):
        return None
    return name or None


def _port(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit() \
        and len(text) <= 6


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback_name(name: str) -> bool:
    """``localhost`` or an address of this machine written as numbers."""
    if name == "localhost":
        return True
    address = _address(name)
    return address is not None and address.is_loopback


class HostPolicy:
    """The host names one server answers to."""

    def __init__(self, *, team: bool, listed: Iterable[str] | None = None) -> None:
        names = {name.strip().lower().rstrip(".") for name in listed or () if name.strip()}
        self.team = team
        self.listed = frozenset(names) if team and listed is not None else None
        if self.listed is not None and not self.listed:
            raise InvalidInput(f"{ALLOWED_HOSTS_VARIABLE} lists no host name")

    @classmethod
    def from_environment(cls, *, team: bool) -> HostPolicy:
        """The policy ``VERIFY_ALLOWED_HOSTS`` asks for (it only counts with a team file)."""
        setting = os.environ.get(ALLOWED_HOSTS_VARIABLE)
        return cls(team=team, listed=setting.split(",") if setting is not None else None)

    def allows(self, header: str | None) -> bool:
        name = host_name(header) if header is not None else None
        if name is None:
            return False
        if is_loopback_name(name):
            return True
        if not self.team:
            return False
        if self.listed is None:
            return _address(name) is not None
        return "*" in self.listed or name in self.listed


class AllowedHosts:
    """ASGI middleware: a request for a host the policy does not allow is answered 400."""

    def __init__(self, app: ASGIApp, policy: HostPolicy,
                 headers: MutableMapping[str, str]) -> None:
        self.app = app
        self.policy = policy
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hosts = [value for key, value in scope.get("headers", []) if key == b"host"]
        header = hosts[0].decode("latin-1") if len(hosts) == 1 else None
        if scope["type"] not in ("http", "websocket") or self.policy.allows(header):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        refusal = sentence("this server does not answer requests for that host name")
        if str(scope.get("path", "")).startswith("/api/"):
            body, media = json_bytes({"error": refusal}), "application/json"
        else:
            asked = HTTPConnection(scope)
            language = chosen(asked.query_params.get("lang"), asked.cookies.get(COOKIE),
                              asked.headers.get("accept-language"))
            body = (in_language(refusal, language) + "\n").encode()
            media = "text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", media.encode()), (b"content-length", str(len(body)).encode()),
            *((key.lower().encode(), value.encode()) for key, value in self.headers.items())]})
        await send({"type": "http.response.body", "body": body})

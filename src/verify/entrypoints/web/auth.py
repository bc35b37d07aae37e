"""Who is asking: the local actor, or a signed-in member of the team; and CSRF tokens.

Without a team file the server listens on loopback only and everyone who can
reach it acts as the local actor. With a team file every request needs a
member: pages use a session the server started at sign-in (its id in a signed
cookie, see `sessions`), and the JSON API also accepts HTTP Basic credentials
(for curl and scripts). Every password check runs off the event loop, costs
the same for any name, and is throttled per name and per address.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from verify.adapters.team_file import load_team
from verify.domain.duties import PERMISSIONS, Action, Member, Role, Team
from verify.entrypoints.web.passwords import PasswordChecks
from verify.entrypoints.web.sessions import Sessions
from verify.entrypoints.web.throttle import SignInThrottle

SESSION_ID = "sid"
SESSION_CSRF = "csrf"


class SignInRequired(Exception):
    """The request needs a signed-in member; pages redirect, the API answers 401."""


class BadCsrfToken(Exception):
    """A form came back without the token its page carried: refused, nothing appended."""


@dataclass(frozen=True)
class Identity:
    """The person a request acts as, and what their role lets them change."""

    name: str
    role: Role | None  # None: the local actor, without a team, may do everything

    def may(self, action: Action) -> bool:
        return self.role is None or action in PERMISSIONS[self.role]

    @property
    def read_only(self) -> bool:
        return self.role is not None and not PERMISSIONS[self.role]


class Gate:
    """Identifies the person behind each request from the team file (re-read when it changes)."""

    def __init__(self, team_file: Path | None, local_actor: str, *,
                 passwords: PasswordChecks | None = None,
                 throttle: SignInThrottle | None = None) -> None:
        self.team_file = team_file
        self.local_actor = local_actor
        self.passwords = passwords or PasswordChecks()
        self.throttle = throttle or SignInThrottle()
        self.sessions = Sessions()
        self._team: Team | None = None
        self._stamp: tuple[int, int, int] | None = None

    @property
    def team(self) -> Team | None:
        if self.team_file is None:
            return None
        status = self.team_file.stat()
        # A new file (a rename) or a new size counts as a change even within one clock tick.
        stamp = (status.st_mtime_ns, status.st_ino, status.st_size)
        if self._team is None or stamp != self._stamp:
            self._team = load_team(self.team_file)
            self._stamp = stamp
        return self._team

    def identify(self, request: Request) -> Identity:
        """The local actor, or the member this request's session was started for."""
        team = self.team
        if team is None:
            return Identity(self.local_actor, None)
        name = self.sessions.member(request.session.get(SESSION_ID), team)
        if name is None:
            raise SignInRequired
        return Identity(name, team.members[name].role)

    async def identify_api(self, request: Request) -> Identity:
        """As `identify`, or by HTTP Basic credentials (checked as a sign-in is)."""
        team = self.team
        if team is None:
            return Identity(self.local_actor, None)
        name = self.sessions.member(request.session.get(SESSION_ID), team)
        if name is not None:
            return Identity(name, team.members[name].role)
        credentials = _basic(request.headers.get("authorization", ""))
        member = await self.check(request, *credentials) if credentials else None
        if member is None:
            raise SignInRequired
        return Identity(member.name, member.role)

    async def sign_in(self, request: Request, name: str, password: str) -> bool:
        """Start a session if the password is the member's (raises `Throttled`)."""
        member = await self.check(request, name, password)
        if member is None:
            return False
        self.sessions.end(request.session.get(SESSION_ID))
        request.session.clear()
        request.session[SESSION_ID] = self.sessions.start(member.name, member.password_hash)
        request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
        return True

    def sign_out(self, request: Request) -> None:
        """End the session on the server, so no copy of its cookie works again."""
        self.sessions.end(request.session.get(SESSION_ID))
        request.session.clear()

    async def check(self, request: Request, name: str, password: str) -> Member | None:
        """The member if the password is theirs, else None.

        Throttled per name and per address (`Throttled` when over a limit); one
        Argon2 verification in the password threads whether or not the name exists.
        """
        team = self.team
        if team is None:
            return None
        address = request.client.host if request.client else "unknown"
        stamp = self.throttle.attempt(name, address)
        member = team.members.get(name)
        password_hash = member.password_hash if member else None
        decoy = await self.passwords.decoy(m.password_hash for m in team.members.values())
        # Always one verification: against the decoy when there is no member or no password.
        matched = await self.passwords.matches(password_hash, password, decoy)
        if member is None or not matched:
            return None
        self.throttle.succeeded(name, address, stamp)
        return member


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        name, colon, password = base64.b64decode(encoded.strip(), validate=True) \
            .decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (name, password) if colon and name else None


def csrf_token(request: Request) -> str:
    """The token every form of this session carries."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    """Refuse a form whose token is not this session's (compared as bytes, in constant time)."""
    expected = request.session.get(SESSION_CSRF)
    if not (isinstance(expected, str) and isinstance(submitted, str)
            and hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                                    submitted.encode("utf-8", "surrogatepass"))):
        raise BadCsrfToken


def is_loopback(host: str) -> bool:
    """Whether a listening address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

"""Who is asking: the local actor, or a member of the team; and CSRF tokens.

Without a team file the server listens on loopback only and everyone who can
reach it acts as the local actor (credentials sent are not looked at). With a
team file every request needs a member: pages use a session the server
started at sign-in (its id in a signed cookie, see `sessions`), and the JSON
API also accepts a member's API token (``Authorization: Bearer TOKEN``, made by
`verify team token NAME`) or HTTP Basic credentials (for curl and scripts).
Every password check runs off the event loop, costs the same for any name,
and is throttled per name and per address; every token check is a SHA-256
compared in constant time, throttled per token id and per address alike.
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

from verify.adapters.team_file import api_token_id, load_team, token_digest
from verify.domain.duties import PERMISSIONS, Action, Member, Role, Team
from verify.domain.sentences import sentence
from verify.entrypoints.web.passwords import PasswordChecks
from verify.entrypoints.web.sessions import Sessions
from verify.entrypoints.web.throttle import SignInThrottle, Throttled, wait_of

SESSION_ID = "sid"
SESSION_CSRF = "csrf"

SIGN_IN_FIRST = sentence(
    "sign in first: send a member's API token (Authorization: Bearer TOKEN), a member's name "
    "and password (HTTP Basic), or sign in on the site")
"""What the API answers (401) a team's server's request that names no one."""

BAD_TOKEN = sentence(
    "this API token is not valid: it is mistyped, was revoked, or its member is no longer in "
    "the team")
"""What the API answers (401) a token it does not know: never the token itself."""

CHALLENGE = 'Bearer realm="verify", Basic realm="verify"'
"""The ``WWW-Authenticate`` of a 401 to a request that names no one: both ways the API takes."""

BAD_TOKEN_CHALLENGE = 'Bearer realm="verify", error="invalid_token"'
"""The ``WWW-Authenticate`` of a 401 to a refused token (RFC 6750, section 3)."""

_TOKEN_KEY = "\x00api token "
"""What the throttle counts a token's tries under, before its id. No member's name can
hold NUL (names are printable), so a token's count is never a name's."""

_LONGEST_TOKEN = 200
"""No token is longer: longer text after ``Bearer`` is refused before it is read."""

_NO_SUCH_TOKEN = token_digest("verify_00000000_no token has this digest")
"""Compared against when the id names no token, so that costs what a wrong secret costs."""


class SignInRequired(Exception):
    """The request needs a member; pages redirect, the API answers 401 with this sentence.

    ``challenge`` is the ``WWW-Authenticate`` header that answer carries.
    """

    def __init__(self, sentence: str = SIGN_IN_FIRST, challenge: str = CHALLENGE) -> None:
        super().__init__(sentence)
        self.challenge = challenge


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
        """As `identify`, or by an API token, or by HTTP Basic credentials.

        A request with ``Authorization: Bearer`` is decided by its token alone:
        the token's member, or `SignInRequired` (401) for a token that is not
        valid, even with a session cookie beside it. Otherwise the session, then
        Basic credentials (checked as a sign-in is). Raises `Throttled` (429)
        when too many tries failed. Without a team: the local actor, whatever
        the request sends.
        """
        identity, _ = await self.identify_writer(request)
        return identity

    async def identify_writer(self, request: Request) -> tuple[Identity, bool]:
        """As `identify_api`, and whether a change it asks for needs the session's CSRF token.

        Only a token shows that a request was sent on purpose: no browser adds
        an ``Authorization: Bearer`` header by itself, so no hostile page can
        send one. A session cookie, Basic credentials (browsers keep and resend
        them) and the local actor (anyone who reaches loopback) come with any
        request a browser is made to send: a change made with those must carry
        the session's CSRF token (`check_csrf`) or be refused.
        """
        team = self.team
        if team is None:
            return Identity(self.local_actor, None), True
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            holder = self.check_token(request, credentials.strip())
            return Identity(holder.name, holder.role), False
        name = self.sessions.member(request.session.get(SESSION_ID), team)
        if name is not None:
            return Identity(name, team.members[name].role), True
        basic = _basic(header)
        member = await self.check(request, *basic) if basic else None
        if member is None:
            raise SignInRequired
        return Identity(member.name, member.role), True

    def check_token(self, request: Request, token: str) -> Member:
        """The member whose API token this is; else `SignInRequired`, or `Throttled`.

        Every try of a token-shaped text counts against its id and the
        request's address, as a password does, and a valid token takes its try
        back. Text not shaped like a token is refused without counting: it
        cannot match any token, so trying it tells nothing. One SHA-256 and one
        constant-time comparison for every token-shaped text, so the time taken
        does not tell which ids exist. Runs without awaiting: nothing else
        happens between counting and deciding.
        """
        team = self.team
        token_id = api_token_id(token) if len(token) <= _LONGEST_TOKEN else None
        if team is None or token_id is None:
            raise SignInRequired(BAD_TOKEN, BAD_TOKEN_CHALLENGE)
        address = request.client.host if request.client else "unknown"
        key = _TOKEN_KEY + token_id
        try:
            stamp = self.throttle.attempt(key, address)
        except Throttled as error:
            raise Throttled(error.retry_after, sentence(
                "too many refused API tokens or sign-ins from this address, or tries of this "
                "token; try again in %(wait)s", wait=wait_of(error.retry_after))) from None
        held = team.token(token_id)
        expected = held[1].sha256 if held else _NO_SUCH_TOKEN
        matched = hmac.compare_digest(token_digest(token).encode("ascii"),
                                      expected.encode("ascii"))
        if held is None or not matched:
            raise SignInRequired(BAD_TOKEN, BAD_TOKEN_CHALLENGE)
        self.throttle.succeeded(key, address, stamp)
        return held[0]

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

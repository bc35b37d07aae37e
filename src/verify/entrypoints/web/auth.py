"""Who is asking: the local actor, or a signed-in member of the team; and CSRF tokens.

Without a team file the server listens on loopback only and everyone who can
reach it acts as the local actor. With a team file every request needs a
member: pages use a signed session cookie set at sign-in, and the JSON API
also accepts HTTP Basic credentials (for curl and scripts).
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from verify.adapters.team_file import hash_password, load_team, password_matches
from verify.domain.duties import PERMISSIONS, Action, Role, Team

SESSION_MEMBER = "member"
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

    def __init__(self, team_file: Path | None, local_actor: str) -> None:
        self.team_file = team_file
        self.local_actor = local_actor
        self._team: Team | None = None
        self._stamp: float | None = None

    @property
    def team(self) -> Team | None:
        if self.team_file is None:
            return None
        stamp = self.team_file.stat().st_mtime
        if self._team is None or stamp != self._stamp:
            self._team = load_team(self.team_file)
            self._stamp = stamp
        return self._team

    def identify(self, request: Request, *, allow_basic: bool = False) -> Identity:
        team = self.team
        if team is None:
            return Identity(self.local_actor, None)
        name = request.session.get(SESSION_MEMBER)
        if name is None and allow_basic:
            name = self._basic(request, team)
        if not isinstance(name, str) or name not in team.members:
            raise SignInRequired
        return Identity(name, team.members[name].role)

    def sign_in(self, request: Request, name: str, password: str) -> bool:
        team = self.team
        member = team.members.get(name) if team else None
        if member is None or not password_matches(member.password_hash, password):
            # Spend the same effort on an unknown name, so timing does not tell names apart.
            password_matches(_dummy_hash(), password)
            return False
        request.session.clear()
        request.session[SESSION_MEMBER] = name
        request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
        return True

    @staticmethod
    def _basic(request: Request, team: Team) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        member = team.members.get(name)
        if member is None or not password_matches(member.password_hash, password):
            return None
        return name


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def csrf_token(request: Request) -> str:
    """The token every form of this session carries."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not (isinstance(expected, str) and isinstance(submitted, str)
            and secrets.compare_digest(expected, submitted)):
        raise BadCsrfToken


def is_loopback(host: str) -> bool:
    """Whether a listening address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

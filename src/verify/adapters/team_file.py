"""Read a team file: who the members are, their roles, and whether duties are separated.

The file is TOML, kept beside the deployment (not in the store), for example::

    separation_of_duties = true          # the default

    [members.amira]
    role = "analyst"

    [members.badr]
    role = "reviewer"
    password_hash = "$argon2id$..."      # only for `verify serve`; see docs/security.md

    [[members.badr.tokens]]              # an API token: its id and hash, never the token
    id = "3f9c0a7e"
    sha256 = "9b1c..."
    created = 2025-05-01T09:30:00Z
    label = "archive sync"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from verify.domain.duties import ApiToken, Team
from verify.domain.errors import InvalidInput

TOKEN_PREFIX = "verify_"
"""How every API token starts, so a token pasted somewhere it should not be is recognised."""

TOKEN_SECRET_BYTES = 32
"""Random bytes in a token's secret part: 256 bits, beyond any guessing or search."""

_TOKEN = re.compile(rf"{TOKEN_PREFIX}([0-9a-f]{{8}})_[A-Za-z0-9_-]{{43}}")
"""A token: the prefix, its 8-digit id, and the secret (32 bytes as unpadded base64url)."""


def load_team(path: Path) -> Team:
    """The team a file describes; one sentence for anything wrong with it."""
    import tomllib  # here: most commands run without a team file, and start sooner without it

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"there is no team file at {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the team file {path} cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"the team file {path} is not valid TOML: {error}") from None
    return team_from(data, str(path))


def team_from(data: dict[str, Any], label: str) -> Team:
    members = data.get("members")
    if not isinstance(members, dict) or not members:
        raise InvalidInput(f"the team file {label} names no [members.NAME] with a role")
    document = {
        **data,
        "members": {
            name: {"name": name, **entry} if isinstance(entry, dict) else entry
            for name, entry in members.items()
        },
    }
    try:
        return Team.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"the team file {label}: {where}: {message}") from None


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes, all ASCII, are valid TOML)."""
    return json.dumps(text, ensure_ascii=True)


def write_team(team: Team, path: Path) -> None:
    """Write the team file whole, replacing the old one only once the new one is complete."""
    lines = [f"separation_of_duties = {'true' if team.separation_of_duties else 'false'}", ""]
    for name, member in sorted(team.members.items()):
        lines.append(f"[members.{_toml_string(name)}]")
        lines.append(f"role = {_toml_string(member.role.value)}")
        if member.password_hash:
            lines.append(f"password_hash = {_toml_string(member.password_hash)}")
        lines.append("")
        for token in member.tokens:
            lines.append(f"[[members.{_toml_string(name)}.tokens]]")
            lines.append(f"id = {_toml_string(token.id)}")
            lines.append(f"sha256 = {_toml_string(token.sha256)}")
            lines.append(f"created = {token.created.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}")
            if token.label:
                lines.append(f"label = {_toml_string(token.label)}")
            lines.append("")
    _write_private(path, "\n".join(lines).encode("utf-8"))


def _write_private(path: Path, content: bytes) -> None:
    """Replace a file atomically with one only its owner can read, at every moment.

    The new content goes to a temporary file in the same folder, created with
    mode 0600 (so no umask can widen it), flushed to disk, then renamed over
    the old file: a reader sees the old file or the new one, never a part.
    """
    folder = path.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.",
                                             suffix=".partial")
    except OSError as error:
        raise InvalidInput(f"the team file {path} cannot be written: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise InvalidInput(f"the team file {path} cannot be written: {error.strerror}") from None
    with contextlib.suppress(OSError):  # the rename itself survives a power cut too
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def new_api_token(team: Team, label: str = "",
                  now: dt.datetime | None = None) -> tuple[str, ApiToken]:
    """A new API token, and the record the team file keeps of it (its hash, never the token).

    The token is ``verify_ID_SECRET``: an id no other token of the team has,
    and 32 random bytes. It is shown once, when made; nothing can show it again.
    """
    while True:
        token_id = secrets.token_hex(4)
        if team.token(token_id) is None:
            break
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"
    created = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return token, ApiToken(id=token_id, sha256=token_digest(token), created=created,
                           label=label)


def api_token_id(token: str) -> str | None:
    """The id inside an API token, or None when the text is not shaped like one."""
    found = _TOKEN.fullmatch(token)
    return found.group(1) if found else None


def token_digest(token: str) -> str:
    """The SHA-256 a token is kept and checked as (hex).

    A fast hash is enough here, unlike for passwords: a token is 256 random
    bits, so no list of likely tokens exists to try against a stolen hash.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_password(password: str) -> str:
    """A slow, salted hash (Argon2id) of a member's password; the password is never kept."""
    if len(password) < 10:
        raise InvalidInput("a password needs at least 10 characters")
    return str(_hasher().hash(password))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password is the one hashed; False for a member without a password."""
    if not password_hash:
        return False
    from argon2.exceptions import Argon2Error, InvalidHashError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (Argon2Error, InvalidHashError):
        return False


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def decoy_hash(like: Iterable[str | None]) -> str:
    """A hash of a random password, made with the Argon2 parameters most of ``like`` use.

    Checking a password against it costs what checking a member's costs, so a
    sign-in under an unknown name takes as long as one under a member's name.
    """
    from argon2 import PasswordHasher, extract_parameters
    from argon2.exceptions import InvalidHashError

    counted: Counter[str] = Counter()
    parameters: dict[str, Any] = {}
    for password_hash in like:
        if password_hash:
            try:
                found = extract_parameters(password_hash)
            except (InvalidHashError, ValueError):
                continue
            counted[repr(found)] += 1
            parameters[repr(found)] = found
    hasher = PasswordHasher.from_parameters(parameters[counted.most_common(1)[0][0]]) \
        if counted else _hasher()
    return str(hasher.hash(secrets.token_urlsafe(24)))

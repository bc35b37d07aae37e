"""Read a team file: who the members are, their roles, and whether duties are separated.

The file is TOML, kept beside the deployment (not in the store), for example::

    separation_of_duties = true          # the default

    [members.amira]
    role = "analyst"

    [members.badr]
    role = "reviewer"
    password_hash = "$argon2id$..."      # only for `verify serve`; see docs/security.md
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .domain.duties import Team
from .domain.errors import InvalidInput


def load_team(path: Path) -> Team:
    """The team a file describes; one sentence for anything wrong with it."""
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

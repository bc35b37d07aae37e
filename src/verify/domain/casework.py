"""Casework values: tags, @mentions and discussion ids (SPEC section 13).

Pure rules, shared by the command line, the web forms and the API: a tag is
compared the way people mean it (case, spacing and invisible characters do
not make two tags), a mention is an ``@name`` in a comment's text.
"""

from __future__ import annotations

import re

from verify.domain.errors import InvalidInput
from verify.domain.sentences import sentence
from verify.domain.text import fold, tidy

MAX_TAG = 60
"""Characters in a tag: a label, not a sentence."""

MAX_COMMENT = 20_000
"""Characters in one comment."""

COMMENT_ID = re.compile(r"m[1-9][0-9]{0,6}")
"""A comment's id on its incident: m1, m2, …"""

_MENTION = re.compile(r"(?<![\w@])@([^\s@,;:!?()\[\]{}<>\"'`]+)")
_TAG_SPACES = re.compile(r"[\s_]+")


def tag_of(text: str) -> str:
    """A tag as it is kept: folded case, words joined by hyphens, any script.

    ``"Needs Geolocation"``, ``"needs-geolocation"`` and ``"NEEDS_GEOLOCATION"``
    are one tag; ``"تحقق ميداني"`` is kept in Arabic. InvalidInput for an empty
    tag, one over MAX_TAG characters, or one without a letter or a digit.
    """
    tag = _TAG_SPACES.sub("-", fold(tidy(text))).strip("-")
    if not tag or not any(ch.isalnum() for ch in tag):
        raise InvalidInput(sentence("%(text)s is not a tag: give a word, or words joined by "
                                    "hyphens, such as needs-geolocation",
                                    text=repr(text.strip()[:40])))
    if len(tag) > MAX_TAG:
        raise InvalidInput(sentence("a tag is at most %(most)s characters; this one has %(count)s",
                                    most=MAX_TAG, count=len(tag)))
    return tag


def mentioned(text: str) -> list[str]:
    """The names a comment mentions (``@name``), in order, each once; a trailing full stop
    ends a sentence, not the name."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".")
        if name and name not in found:
            found.append(name)
    return found


def comment_id(text: str) -> str:
    """A comment's id as typed (M2, m2), or InvalidInput."""
    key = text.strip().lower()
    if not COMMENT_ID.fullmatch(key):
        raise InvalidInput(sentence("%(text)s is not a comment's id: they read m1, m2, …",
                                    text=repr(text.strip()[:20])))
    return key


__all__ = ["COMMENT_ID", "MAX_COMMENT", "MAX_TAG", "comment_id", "mentioned", "tag_of"]

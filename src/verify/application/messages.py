"""Turning what a person typed into values, and a rejected value into one sentence.

Shared by every edge that takes input from people (command line, web forms,
the JSON API), so they parse and word things the same way.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from verify.domain.dates import DateOrder, read_day, read_time
from verify.domain.sentences import sentence, sentence_of, sentence_template
from verify.domain.values import CasualtyRange


def counted(count: int, noun: str) -> str:
    """A count and its noun as people write them: `1 incident`, `2 incidents`, `0 incidents`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def today_utc() -> dt.date:
    """Today in UTC: no incident, source or report can be dated after it."""
    return dt.datetime.now(dt.UTC).date()


def parse_day(text: str, order: DateOrder = DateOrder.DMY) -> dt.date:
    """A calendar day as people write it (2017-03-17, 17 March 2017, 17/03/2017, Arabic…).

    Raises ValueError with the sentence to show when the text is no real day
    or a day after today (UTC).
    """
    return read_day(text, order=order, today=today_utc())


def parse_time(text: str) -> str:
    """A time of day as ``HH:MM``; ValueError with the sentence to show otherwise."""
    return read_time(text)


def parse_count(text: str) -> CasualtyRange:
    """A casualty count: ``N``, ``MIN-MAX``, ``at least N``, ``N+``; ValueError otherwise."""
    try:
        return CasualtyRange.parse(text)
    except ValidationError as error:
        raise ValueError(validation_sentence(error)) from None
    except ValueError as error:  # UnreadableCount: already the sentence to show
        raise ValueError(sentence_of(error)) from None


def parse_moment(text: str) -> dt.datetime:
    """An ISO 8601 moment; UTC when no offset is given; a bare date means the end of that day.

    Raises ValueError with the sentence to show when the text is neither.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(sentence(
            "%(text)s is not a date or date-time (for example 2017-03-20 or "
            "2017-03-20T14:00:00Z)", text=repr(text))) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


STILL_IN_FILES = sentence_template(
    "the details can no longer be read, but another session held the database's tables, so "
    "their old bytes leave its files at the next vacuum")
"""Said after an erasure the database could not yet scrub from its files (PostgreSQL)."""

NEVER_ECHOED = frozenset({"url", "publisher", "group", "name", "name_original", "age",
                          "family", "role"})
"""Fields whose rejected values an error never repeats: they may name a protected source or
a victim."""


def validation_sentence(error: ValidationError) -> str:
    """The first problem of a pydantic error, as one sentence."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"])
    message = message.removeprefix("Value error, ")
    raised = (first.get("ctx") or {}).get("error")
    if isinstance(raised, BaseException) and sentence_of(raised) == message:
        message = sentence_of(raised)  # our own validator's sentence, still a sentence
    echo = not (set(map(str, first["loc"])) & NEVER_ECHOED)
    if echo and "input" in first and not isinstance(first["input"], dict | list) and where:
        shown = repr(first["input"])
        if len(shown) > 40:
            shown = shown[:37] + "..."
        return sentence("%(field)s %(value)s: %(problem)s", field=where, value=shown,
                        problem=message)
    return sentence("%(field)s: %(problem)s", field=where, problem=message) if where \
        else message


def moment_as_given(text: str) -> str:
    """A recorded moment to the second, with the offset it was given in (Z for UTC): a
    collector's local time stays theirs, and is never read as UTC."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = moment.utcoffset()
    zone = "" if offset is None else "Z" if not offset else moment.strftime("%z")
    if len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    return moment.strftime("%Y-%m-%d %H:%M:%S") + zone

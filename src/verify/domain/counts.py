"""Casualty counts as people write them, in English and Arabic, read as ranges.

Reports say "12", "10-25", "between 10 and 25", "at least 30", "30+",
"1,257" or "30 على الأقل". Each is a range whose bounds may be unknown. Words
that only estimate ("dozens", "about 30") are refused rather than turned into
numbers nobody reported: the caller keeps such text verbatim instead.
"""

from __future__ import annotations

import re

from verify.domain.dates import unreadable_sentences
from verify.domain.sentences import Sentence, sentence, sentence_template
from verify.domain.text import LazyPattern, UnreadableText, ascii_digits, plain_arabic, tidy

MOST = 10_000_000
"""The largest count read; anything larger is a typing mistake."""

_LONGEST = 200
"""Longer texts are refused at once: no way of writing a count is this long."""

_NUMBER = r"([0-9]{1,3}(?:[,٬ ][0-9]{3})+|[0-9]+)"
"""A number, optionally grouped in thousands by a comma, an Arabic comma or a space."""
_DASH = r" ?[-‐‑‒–—―−] ?"  # hyphens, dashes, the minus sign
_OPEN = r"\?"

_EXACT = LazyPattern(_NUMBER)
_BETWEEN = LazyPattern(
    "|".join(
        (
            rf"{_NUMBER}{_DASH}{_NUMBER}",
            rf"(?:from )?{_NUMBER} to {_NUMBER}",
            rf"between {_NUMBER} and {_NUMBER}",
            rf"(?:من )?{_NUMBER} (?:الي|حتي) {_NUMBER}",  # "من 10 إلى 25"
            rf"بين {_NUMBER} و ?{_NUMBER}",  # "بين 10 و25"
        )
    )
)
_AT_LEAST = LazyPattern(
    "|".join(
        (
            rf"(?:at least|no fewer than|no less than) {_NUMBER}",
            rf"{_NUMBER} ?\+",
            rf"{_NUMBER} or more",
            rf"{_NUMBER}{_DASH}{_OPEN}",  # how CasualtyRange writes an unknown maximum
            rf"(?:علي الاقل|ما لا يقل عن|لا يقل عن) {_NUMBER}",
            rf"{_NUMBER} (?:علي الاقل|او اكثر|فاكثر)",
        )
    )
)
_AT_MOST = LazyPattern(
    "|".join(
        (
            rf"(?:up to|at most|no more than) {_NUMBER}",
            rf"{_NUMBER} or (?:fewer|less)",
            rf"{_OPEN}{_DASH}{_NUMBER}",  # how CasualtyRange writes an unknown minimum
            rf"(?:حتي|علي الاكثر|ما لا يزيد عن|لا يزيد عن) {_NUMBER}",
            rf"{_NUMBER} (?:علي الاكثر|او اقل|فاقل)",
        )
    )
)

_WRITE = sentence_template(
    "is not a count: write N, MIN-MAX, at least N or N+ (for example 12, 10-25, at least 30)"
)


class UnreadableCount(UnreadableText):
    """A text that is not a count; ``reason`` holds neither the text nor numbers read from it."""


def read_count(text: str) -> tuple[int | None, int | None]:
    """(min, max) of a casualty count as people write it; None is an unknown bound."""
    cleaned = ascii_digits(tidy(text[: _LONGEST + 1]))
    if cleaned.isdigit() and cleaned.isascii() and len(cleaned) <= 8:
        exact = _number(text, cleaned)
        return exact, exact
    if len(cleaned) > _LONGEST:
        raise _unreadable(text, sentence(_WRITE))
    cleaned = plain_arabic(cleaned).casefold()
    if match := _EXACT.fullmatch(cleaned):
        exact = _number(text, match[1])
        return exact, exact
    if match := _BETWEEN.fullmatch(cleaned):
        low, high = (_number(text, found) for found in match.groups() if found is not None)
        if low > high:
            raise UnreadableCount(
                sentence("the minimum %(low)s is above the maximum %(high)s", low=low, high=high),
                sentence("the minimum is above the maximum"),
            )
        return low, high
    if match := _AT_LEAST.fullmatch(cleaned):
        return _only_number(text, match), None
    if match := _AT_MOST.fullmatch(cleaned):
        return None, _only_number(text, match)
    raise _unreadable(text, sentence(_WRITE))


def _only_number(text: str, match: re.Match[str]) -> int:
    (found,) = (group for group in match.groups() if group is not None)
    return _number(text, found)


def _number(text: str, digits: str) -> int:
    """The number written with ASCII digits and thousands separators, at most MOST."""
    digits = digits.translate(_SEPARATORS).lstrip("0") or "0"
    if len(digits) > len(str(MOST)) or int(digits) > MOST:
        raise _unreadable(text, sentence("is not a count: it is more than %(most)s",
                                         most=f"{MOST:,}"))
    return int(digits)


_SEPARATORS = str.maketrans("", "", ",٬ ")


def _unreadable(text: str, predicate: Sentence) -> UnreadableCount:
    return UnreadableCount(*unreadable_sentences(text, predicate))


__all__ = ["MOST", "UnreadableCount", "read_count"]

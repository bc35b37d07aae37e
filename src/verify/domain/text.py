"""How names are compared: the way people mean them, not the way they were typed.

A belligerent typed "US-led Coalition", "US\u200b-led Coalition" (with a zero
width space pasted from a web page) and "US-LED COALITION " is one party. The
comparison key normalises Unicode (NFC), removes invisible format characters
(zero width spaces and joiners, direction marks, soft hyphens, byte order
marks), collapses whitespace and folds case. What was typed is still stored as
typed: the key is only for comparing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

_SPACES = re.compile(r"\s+")


class LazyPattern:
    """A regular expression compiled when first used. The date and count patterns are large
    (every month and weekday name, in two scripts): compiling them costs about 10 ms, which
    a command that reads no dates or counts should not pay at start-up."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(text)

    def sub(self, replacement: str, text: str) -> str:
        return self.compiled.sub(replacement, text)

_ARABIC_INDIC_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹",  # Arabic-Indic, then Extended (Persian/Urdu) digits
    "01234567890123456789",
)


def without_format_characters(text: str) -> str:
    """The text without invisible format characters (Unicode category Cf)."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def tidy(text: str) -> str:
    """The text in NFC, without format characters, its whitespace collapsed and trimmed."""
    if not text.isascii():
        text = without_format_characters(unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """The key two names are compared by: tidied and case folded (cached: names repeat)."""
    folded = tidy(text).casefold()
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)


_ARABIC_VARIANTS = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",  # alef with hamza or madda, wasla
        "ة": "ه",  # taa marbuta
        "ى": "ي", "ی": "ي",  # alef maqsura, Farsi yeh
        "ک": "ك",  # Farsi kaf
        "ـ": None,  # tatweel
    }
)
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")  # harakat, shadda, sukun, dagger alef


def plain_arabic(text: str) -> str:
    """Arabic letters without their spelling variants, diacritics or tatweel, for comparing."""
    if text.isascii():
        return text
    return _ARABIC_MARKS.sub("", text.translate(_ARABIC_VARIANTS))


def search_key(text: str) -> str:
    """How text is searched: folded (see ``fold``), and Arabic letter variants, diacritics
    and tatweel made one, so الجديده finds الجديدة and أحمد finds احمد."""
    return plain_arabic(fold(text))


def ascii_digits(text: str) -> str:
    """Arabic-Indic and Extended Arabic-Indic digits as ASCII digits; nothing else changes."""
    return text if text.isascii() else text.translate(_ARABIC_INDIC_DIGITS)


class UnreadableText(ValueError):
    """Text that does not read as the value asked for (a day, a count).

    ``str()`` is the sentence to show a person who typed it, quoting the
    text; ``reason`` is the same sentence without it, for reports that must
    never echo what a row held (it may belong to a protected source).
    """

    reason: str

    def __init__(self, sentence: str, reason: str) -> None:
        super().__init__(sentence)
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnreadableText], tuple[str, str]]:
        return (type(self), (self.args[0], self.reason))  # a sentence stays a sentence


def is_blank(value: Any) -> bool:
    """Absent, null, or text that is empty or only whitespace (and format characters)."""
    if value is None:
        return True
    return isinstance(value, str) and not tidy(value)


__all__ = [
    "UnreadableText", "ascii_digits", "fold", "is_blank", "tidy", "without_format_characters",
]

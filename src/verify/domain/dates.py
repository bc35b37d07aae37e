"""Days as people write them, in English and Arabic, read without guessing.

Archives of civilian harm hold dates the way their authors typed them:
"2017-03-17", "17/03/2017", "Friday, 17 March 2017", "الجمعة 17 آذار 2017م",
"٢٦ أكتوبر ٢٠٢٥". A day read wrongly puts an incident on the wrong strike, so
a text is read only when it can mean one day: 03/17/2017 is refused under the
default day-first order rather than silently taken month first, two-digit
years are refused, and a weekday that contradicts the date is refused. The
caller passes ``today``: nothing here reads a clock.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from verify.domain.sentences import Sentence, sentence, sentence_template
from verify.domain.text import LazyPattern, UnreadableText, ascii_digits, plain_arabic, tidy


class DateOrder(StrEnum):
    """Which number comes first in a numeric date such as 05/03/2017."""

    DMY = "dmy"
    """Day first (the default): 17/03/2017 is 17 March 2017."""
    MDY = "mdy"
    """Month first: 03/17/2017 is 17 March 2017."""


class UnreadableDay(UnreadableText):
    """A text that is not one day; ``reason`` says "the value" where the text was quoted."""


EARLIEST_YEAR = 1900
"""Days before this year are refused: in these archives they are typing mistakes."""

_LONGEST = 100
"""Longer texts are refused at once: no way of writing a day is this long."""

_MONTH_SPELLINGS: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "يناير", "كانون الثاني", "كانون ثاني", "جانفي"),
    2: ("february", "feb", "فبراير", "شباط", "فيفري"),
    3: ("march", "mar", "مارس", "آذار"),
    4: ("april", "apr", "أبريل", "إبريل", "نيسان", "أفريل"),
    5: ("may", "مايو", "أيار", "ماي"),
    6: ("june", "jun", "يونيو", "يونيه", "حزيران", "جوان"),
    7: ("july", "jul", "يوليو", "يوليه", "تموز", "جويلية", "يوليوز"),
    8: ("august", "aug", "أغسطس", "آب", "أوت", "غشت"),
    9: ("september", "sept", "sep", "سبتمبر", "أيلول", "شتنبر"),
    10: ("october", "oct", "أكتوبر", "تشرين الأول", "تشرين أول"),
    11: ("november", "nov", "نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"),
    12: ("december", "dec", "ديسمبر", "كانون الأول", "كانون أول", "دجنبر"),
}
"""English names and abbreviations; Egyptian/Gulf, Levantine/Iraqi and Maghreb Arabic names."""

_MONTHS: dict[str, int] = {
    plain_arabic(spelling): number
    for number, spellings in _MONTH_SPELLINGS.items()
    for spelling in spellings
}

_WEEKDAY_SPELLINGS: dict[int, tuple[str, ...]] = {
    0: ("monday", "mon", "الاثنين", "الإثنين"),
    1: ("tuesday", "tues", "tue", "الثلاثاء"),
    2: ("wednesday", "wed", "الأربعاء"),
    3: ("thursday", "thurs", "thur", "thu", "الخميس"),
    4: ("friday", "fri", "الجمعة"),
    5: ("saturday", "sat", "السبت"),
    6: ("sunday", "sun", "الأحد"),
}
_WEEKDAYS: dict[str, int] = {
    plain_arabic(spelling): number
    for number, spellings in _WEEKDAY_SPELLINGS.items()
    for spelling in spellings
}


def _alternatives(names: dict[str, int]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_LEADING_WEEKDAY = LazyPattern(rf"(?:يوم )?({_alternatives(_WEEKDAYS)})(?:\.| |$)")
_ORDINAL = LazyPattern(r"(?<=[0-9])(?:st|nd|rd|th)\b")
_GREGORIAN_MARKER = LazyPattern(r"(?<=[0-9]) ?(?:ميلاديه|ميلادي|م)\.?$")
_TIME = (
    r"(?:[t ](?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.[0-9]{1,9})?)?"
    r" ?(?:z|utc|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_YEAR_FIRST = LazyPattern(
    rf"(?P<year>[0-9]{{4}})(?P<sep>[-/.])(?P<month>[0-9]{{1,2}})(?P=sep)(?P<day>[0-9]{{1,2}}){_TIME}"
)
_YEAR_LAST = LazyPattern(
    rf"(?P<first>[0-9]{{1,2}})(?P<sep>[-/.])(?P<middle>[0-9]{{1,2}})(?P=sep)(?P<year>[0-9]{{4}})"
    rf"{_TIME}"
)
_SHORT_YEAR = LazyPattern(r"[0-9]{1,2}([-/.])[0-9]{1,2}\1[0-9]{2}")
_NAME_SEPARATORS = LazyPattern(r"[-./()]")
_MONTH = rf"(?:{_alternatives(_MONTHS)})"
_YEAR_WORD = r"(?:عام |سنه )?"  # "عام 2017", "سنة 2017": the year 2017
_DAY_MONTH_YEAR = LazyPattern(
    rf"(?:the )?(?P<day>[0-9]{{1,2}}) (?:of )?(?P<month>{_MONTH})(?: (?P<also>{_MONTH}))?"
    rf" {_YEAR_WORD}(?P<year>[0-9]{{4}})"
)
_MONTH_DAY_YEAR = LazyPattern(
    rf"(?P<month>{_MONTH})(?: (?P<also>{_MONTH}))? (?:the )?(?P<day>[0-9]{{1,2}})"
    rf" {_YEAR_WORD}(?P<year>[0-9]{{4}})"
)

_WRITE = {
    DateOrder.DMY: sentence_template("write 2017-03-17, 17 March 2017 or 17/03/2017"),
    DateOrder.MDY: sentence_template("write 2017-03-17, March 17, 2017 or 03/17/2017"),
}
_OTHER_ORDER = {
    DateOrder.DMY: sentence_template("if the month comes first, read the dates in the order mdy"),
    DateOrder.MDY: sentence_template("if the day comes first, read the dates in the order dmy"),
}


def _not_a_date(order: DateOrder) -> Sentence:
    return sentence("is not a date: %(how)s", how=sentence(_WRITE[order]))


def read_day(
    text: str, *, order: DateOrder = DateOrder.DMY, today: dt.date | None = None
) -> dt.date:
    """The one day ``text`` names; raises UnreadableDay with a sentence to show otherwise."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # YYYY-MM-DD, most of an import
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass  # the general reading explains why
        else:
            if day.year >= EARLIEST_YEAR and (today is None or day <= today):
                return day
    return _checked(text, _read(text, order), today)


def _read(text: str, order: DateOrder) -> tuple[dt.date, int | None]:
    """The day and the weekday the text names (0 is Monday; None when it names none)."""
    cleaned = ascii_digits(tidy(text[: _LONGEST + 1]))
    if len(cleaned) > _LONGEST:
        raise _unreadable(text, _not_a_date(order))
    cleaned = plain_arabic(cleaned).casefold().replace("،", " ").replace(",", " ")
    cleaned = _ORDINAL.sub("", " ".join(cleaned.split()))
    cleaned = _GREGORIAN_MARKER.sub("", cleaned)
    weekday: int | None = None
    named = _LEADING_WEEKDAY.match(cleaned)
    if named is not None:
        weekday = _WEEKDAYS[named.group(1)]
        cleaned = cleaned[named.end() :].strip()

    if match := _YEAR_FIRST.fullmatch(cleaned):
        _check_time(text, match, order)
        year, month, day = (int(match[name]) for name in ("year", "month", "day"))
        return _day(text, year, month, day, order), weekday
    if match := _YEAR_LAST.fullmatch(cleaned):
        _check_time(text, match, order)
        first, middle, year = int(match["first"]), int(match["middle"]), int(match["year"])
        day, month = (first, middle) if order is DateOrder.DMY else (middle, first)
        if not 1 <= month <= 12:
            if 1 <= day <= 12 and 13 <= month <= 31:  # fits the other order
                raise _unreadable(text, sentence(
                    "is not a date: %(how)s; %(other)s",
                    how=sentence(_WRITE[order]), other=sentence(_OTHER_ORDER[order])))
            raise _unreadable(text, _not_a_date(order))
        return _day(text, year, month, day, order), weekday
    if _SHORT_YEAR.fullmatch(cleaned):
        raise _unreadable(text, sentence(
            "is not a date: write the year in four digits, for example 17/03/2017"))

    spaced = " ".join(_NAME_SEPARATORS.sub(" ", cleaned).split())
    match = _DAY_MONTH_YEAR.fullmatch(spaced) or _MONTH_DAY_YEAR.fullmatch(spaced)
    if match is None:
        raise _unreadable(text, _not_a_date(order))
    month = _MONTHS[match["month"]]
    if match["also"] is not None and _MONTHS[match["also"]] != month:
        raise _unreadable(text, sentence("is not a date: it names two different months"))
    return _day(text, int(match["year"]), month, int(match["day"]), order), weekday


def _check_time(text: str, match: re.Match[str], order: DateOrder) -> None:
    """Refuse a date-time whose time of day does not exist (25:00, 10:61)."""
    if match["hour"] is None:
        return
    second = int(match["second"] or 0)
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or second > 60:
        raise _unreadable(text, _not_a_date(order))


def _day(text: str, year: int, month: int, day: int, order: DateOrder) -> dt.date:
    if year < EARLIEST_YEAR:
        raise _unreadable(text, sentence("is not a date: the year is before %(year)s",
                                         year=EARLIEST_YEAR))
    if not 1 <= month <= 12:
        raise _unreadable(text, _not_a_date(order))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _unreadable(
            text, sentence("is not a real date: that month has no such day")) from None


def _checked(text: str, read: tuple[dt.date, int | None], today: dt.date | None) -> dt.date:
    day, weekday = read
    if weekday is not None and weekday != day.weekday():
        raise _unreadable(
            text, sentence("is not a date: the weekday it names does not fall on that day"))
    if today is not None and day > today:
        raise _unreadable(text, sentence("is after today (UTC)"))
    return day


def _unreadable(text: str, predicate: Sentence) -> UnreadableDay:
    return UnreadableDay(*unreadable_sentences(text, predicate))


def unreadable_sentences(text: str, predicate: Sentence) -> tuple[Sentence, Sentence]:
    """What to say of a text that does not read as a value: the sentence quoting it, and the
    same sentence without it (``predicate`` reads "is not a date: …")."""
    return (sentence("%(text)s %(predicate)s", text=quoted(text), predicate=predicate),
            sentence("the value %(predicate)s", predicate=predicate))


_TIME_OF_DAY = LazyPattern(r"(\d{1,2})[:.](\d{2})")


def read_time(text: str) -> str:
    """A time of day as ``HH:MM`` (24-hour clock, Arabic-Indic digits read too).

    Raises UnreadableDay with the sentence to show for anything else, so a
    time such as 25:00 or "evening" is refused rather than guessed.
    """
    cleaned = ascii_digits(tidy(text[: _LONGEST + 1]))
    match = _TIME_OF_DAY.fullmatch(cleaned)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise _unreadable(
            text, sentence("is not a time of day: write it as HH:MM, for example 14:30"))
    return f"{int(match[1]):02d}:{match[2]}"


def quoted(text: str) -> str:
    """The text as a sentence quotes it: tidied, on one line, at most 60 characters."""
    shown = tidy(text[:200])
    if len(shown) > 60:
        shown = shown[:59] + "…"
    return repr(shown)


__all__ = [
    "EARLIEST_YEAR", "DateOrder", "UnreadableDay", "plain_arabic", "quoted", "read_day",
    "read_time",
]

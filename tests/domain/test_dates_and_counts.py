"""Dates and casualty counts as archives write them, in English and Arabic, read or refused."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.domain.counts import MOST, UnreadableCount, read_count
from verify.domain.dates import DateOrder, UnreadableDay, read_day, read_time

TODAY = dt.date(2025, 12, 31)
MARCH_17 = dt.date(2017, 3, 17)  # a Friday
WRITE = "write 2017-03-17, 17 March 2017 or 17/03/2017"
MDY_HINT = "in the order mdy"
COUNT_HINT = "write N, MIN-MAX, at least N or N+ (for example 12, 10-25, at least 30)"


# ------------------------------------------------------------------ dates read


@pytest.mark.parametrize(
    ("text", "day"),
    [
        # ISO, its other separators, and date-times as spreadsheets and APIs write them
        ("2017-03-17", MARCH_17),
        ("2017/03/17", MARCH_17),
        ("2017.03.17", MARCH_17),
        ("2017-3-17", MARCH_17),
        ("2017-03-17T10:00:00Z", MARCH_17),
        ("2017-03-17T23:30:00+03:00", MARCH_17),
        ("2017-03-17 00:00:00", MARCH_17),
        ("2017-03-17 10:00", MARCH_17),
        (" 2017-03-17\n", MARCH_17),
        ("2017-03-17\u200b", MARCH_17),
        # numeric, day first
        ("17/03/2017", MARCH_17),
        ("17-03-2017", MARCH_17),
        ("17.3.2017", MARCH_17),
        ("17/3/2017", MARCH_17),
        ("05/03/2017", dt.date(2017, 3, 5)),
        ("17/03/2017 00:00", MARCH_17),
        # English month names
        ("17 March 2017", MARCH_17),
        ("March 17, 2017", MARCH_17),
        ("17 Mar 2017", MARCH_17),
        ("Mar. 17 2017", MARCH_17),
        ("Sept 5 2017", dt.date(2017, 9, 5)),
        ("Sep 5, 2017", dt.date(2017, 9, 5)),
        ("17-Mar-2017", MARCH_17),
        ("March 17th, 2017", MARCH_17),
        ("1st May 2017", dt.date(2017, 5, 1)),
        ("2nd June 2017", dt.date(2017, 6, 2)),
        ("3rd July 2017", dt.date(2017, 7, 3)),
        ("the 17th of March 2017", MARCH_17),
        ("17 MARCH 2017", MARCH_17),
        ("march 17 2017", MARCH_17),
        ("Friday, 17 March 2017", MARCH_17),
        ("Fri 17-Mar-2017", MARCH_17),
        ("friday march 17th, 2017", MARCH_17),
        ("Friday, 2017-03-17", MARCH_17),
        # Arabic month names: Egyptian/Gulf, Levantine/Iraqi, Maghreb
        ("26 أكتوبر 2025", dt.date(2025, 10, 26)),
        ("26 اكتوبر 2025", dt.date(2025, 10, 26)),
        ("7 ديسمبر 2025", dt.date(2025, 12, 7)),
        ("٢٦ أكتوبر ٢٠٢٥", dt.date(2025, 10, 26)),
        ("26 تشرين الأول 2025", dt.date(2025, 10, 26)),
        ("26 تشرين الاول 2025", dt.date(2025, 10, 26)),
        ("3 تشرين الثاني 2025", dt.date(2025, 11, 3)),
        ("3 كانون الثاني 2016", dt.date(2016, 1, 3)),
        ("3 كانون الأول 2016", dt.date(2016, 12, 3)),
        ("17 آذار 2017", MARCH_17),
        ("17 اذار 2017", MARCH_17),
        ("17 مارس 2017", MARCH_17),
        ("17 آذار/مارس 2017", MARCH_17),
        ("1 شباط 2017", dt.date(2017, 2, 1)),
        ("1 فبراير 2017", dt.date(2017, 2, 1)),
        ("1 فيفري 2017", dt.date(2017, 2, 1)),
        ("1 جانفي 2017", dt.date(2017, 1, 1)),
        ("9 نيسان 2017", dt.date(2017, 4, 9)),
        ("9 إبريل 2017", dt.date(2017, 4, 9)),
        ("9 ابريل 2017", dt.date(2017, 4, 9)),
        ("9 أفريل 2017", dt.date(2017, 4, 9)),
        ("9 أيار 2017", dt.date(2017, 5, 9)),
        ("9 مايو 2017", dt.date(2017, 5, 9)),
        ("9 ماي 2017", dt.date(2017, 5, 9)),
        ("9 حزيران 2017", dt.date(2017, 6, 9)),
        ("9 يونيه 2017", dt.date(2017, 6, 9)),
        ("9 جوان 2017", dt.date(2017, 6, 9)),
        ("9 تموز 2017", dt.date(2017, 7, 9)),
        ("9 يوليه 2017", dt.date(2017, 7, 9)),
        ("9 جويلية 2017", dt.date(2017, 7, 9)),
        ("9 آب 2017", dt.date(2017, 8, 9)),
        ("9 اغسطس 2017", dt.date(2017, 8, 9)),
        ("9 أوت 2017", dt.date(2017, 8, 9)),
        ("9 أيلول 2017", dt.date(2017, 9, 9)),
        ("9 سبتمبر 2017", dt.date(2017, 9, 9)),
        ("9 نوفمبر 2017", dt.date(2017, 11, 9)),
        ("17 آذار 2017م", MARCH_17),
        ("17 آذار 2017 م", MARCH_17),
        ("17 آذار 2017مـ", MARCH_17),
        ("17 مارس عام 2017", MARCH_17),
        ("17 أكـتـوبر 2017", dt.date(2017, 10, 17)),  # tatweel
        ("الجمعة 17 آذار 2017", MARCH_17),
        ("الجمعة، 17 آذار، 2017م", MARCH_17),
        ("يوم الجمعة 17 مارس 2017", MARCH_17),
        ("١٧/٠٣/٢٠١٧", MARCH_17),
        ("۱۷/۰۳/۲۰۱۷", MARCH_17),
        ("17/03/2017م", MARCH_17),
    ],
)
def test_days_are_read_as_written(text: str, day: dt.date) -> None:
    assert read_day(text) == day
    assert read_day(text, today=TODAY) == day


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("03/17/2017", MARCH_17),
        ("3-17-2017", MARCH_17),
        ("03.17.2017", MARCH_17),
        ("05/03/2017", dt.date(2017, 5, 3)),
        ("2017-03-17", MARCH_17),  # ISO is year-month-day whatever the order
        ("March 17, 2017", MARCH_17),
        ("17 March 2017", MARCH_17),  # a month name is never ambiguous
    ],
)
def test_month_first_order(text: str, day: dt.date) -> None:
    assert read_day(text, order=DateOrder.MDY) == day


def test_date_order_values_are_what_the_command_line_takes() -> None:
    assert DateOrder("dmy") is DateOrder.DMY
    assert DateOrder("mdy") is DateOrder.MDY


def test_today_itself_is_not_after_today() -> None:
    assert read_day("2025-12-31", today=TODAY) == TODAY
    assert read_day("31 December 2025", today=TODAY) == TODAY


# -------------------------------------------------------------- dates refused


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("17/13/2017", f"'17/13/2017' is not a date: {WRITE}"),
        ("dozens", f"'dozens' is not a date: {WRITE}"),
        ("", f"'' is not a date: {WRITE}"),
        ("March 2017", f"'March 2017' is not a date: {WRITE}"),
        ("17 Marchh 2017", f"'17 Marchh 2017' is not a date: {WRITE}"),
        ("2017-13-01", f"'2017-13-01' is not a date: {WRITE}"),
        ("2017-03-17T25:00", f"'2017-03-17T25:00' is not a date: {WRITE}"),
        ("17/03-2017", f"'17/03-2017' is not a date: {WRITE}"),
        ("17 رجب 1438", f"'17 رجب 1438' is not a date: {WRITE}"),  # Hijri
        ("17/06/1438 هـ", f"'17/06/1438 هـ' is not a date: {WRITE}"),
        ("42811", f"'42811' is not a date: {WRITE}"),  # a spreadsheet's day number
        ("17/03/17", "'17/03/17' is not a date: write the year in four digits"),
        ("17 March 17", f"'17 March 17' is not a date: {WRITE}"),
        ("30 February 2017", "'30 February 2017' is not a real date: that month has no such day"),
        ("2017-02-29", "'2017-02-29' is not a real date: that month has no such day"),
        ("31/04/2017", "'31/04/2017' is not a real date: that month has no such day"),
        ("31 ديسمبر 0399", "'31 ديسمبر 0399' is not a date: the year is before 1900"),
        ("1899-12-31", "'1899-12-31' is not a date: the year is before 1900"),
        ("2026-01-01", "'2026-01-01' is after today (UTC)"),
        ("1 January 2026", "'1 January 2026' is after today (UTC)"),
        ("Monday, 17 March 2017", "does not fall on that day"),
        ("الخميس 17 آذار 2017", "does not fall on that day"),
        ("17 March/April 2017", "it names two different months"),
        ("1\n7/03/2017", f"is not a date: {WRITE}"),
    ],
)
def test_unreadable_days_are_refused_with_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(UnreadableDay) as caught:
        read_day(text, today=TODAY)
    message = str(caught.value)
    assert sentence in message
    assert "\n" not in message
    assert MDY_HINT not in message
    # the reason is the same sentence, the quoted text replaced by "the value"
    shown = " ".join(text.split())
    assert caught.value.reason.startswith("the value ")
    assert message == f"{shown!r} {caught.value.reason.removeprefix('the value ')}"


@pytest.mark.parametrize("text", ["03/17/2017", "12/31/2017", "3-17-2017", "03.17.2017"])
def test_month_first_slashes_hint_at_the_date_order(text: str) -> None:
    with pytest.raises(UnreadableDay) as caught:
        read_day(text)
    assert str(caught.value).startswith(f"{text!r} is not a date: {WRITE}")
    assert MDY_HINT in str(caught.value)
    assert text not in caught.value.reason


def test_day_first_slashes_under_mdy_hint_at_the_default() -> None:
    with pytest.raises(UnreadableDay, match="in the order dmy"):
        read_day("17/03/2017", order=DateOrder.MDY)


def test_the_sentence_never_runs_long_nor_over_lines() -> None:
    with pytest.raises(UnreadableDay) as caught:
        read_day("x" * 10_000 + "\n2017-03-17")
    assert len(str(caught.value)) < 200
    assert "\n" not in str(caught.value)


def test_the_error_is_a_value_error_that_survives_pickling() -> None:
    with pytest.raises(ValueError) as caught:
        read_day("17/13/2017")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, UnreadableDay)
    assert (str(copy), copy.reason) == (str(caught.value), caught.value.reason)  # type: ignore[attr-defined]


# ------------------------------------------------------------ dates, properties

ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
                  "August", "September", "October", "November", "December"]
EGYPTIAN_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو",
                   "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
LEVANTINE_MONTHS = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز",
                    "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"]
MAGHREB_MONTHS = ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية",
                  "أوت", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
ENGLISH_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                    "Sunday"]
ARABIC_WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

DAY_FORMATS: dict[str, Callable[[dt.date], str]] = {
    "iso": lambda d: d.isoformat(),
    "iso slashes": lambda d: d.strftime("%Y/%m/%d"),
    "iso date-time": lambda d: f"{d.isoformat()}T10:00:00Z",
    "spreadsheet": lambda d: f"{d.isoformat()} 00:00:00",
    "d/m/Y": lambda d: f"{d.day:02}/{d.month:02}/{d.year}",
    "d.m.Y": lambda d: f"{d.day}.{d.month}.{d.year}",
    "d-m-Y": lambda d: f"{d.day}-{d.month:02}-{d.year}",
    "d Month Y": lambda d: f"{d.day} {ENGLISH_MONTHS[d.month - 1]} {d.year}",
    "Month d, Y": lambda d: f"{ENGLISH_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "d-Mon-Y": lambda d: f"{d.day:02}-{ENGLISH_MONTHS[d.month - 1][:3]}-{d.year}",
    "Weekday, d Month Y": lambda d: (
        f"{ENGLISH_WEEKDAYS[d.weekday()]}, {d.day} {ENGLISH_MONTHS[d.month - 1]} {d.year}"
    ),
    "Egyptian": lambda d: f"{d.day} {EGYPTIAN_MONTHS[d.month - 1]} {d.year}",
    "Levantine": lambda d: f"{d.day} {LEVANTINE_MONTHS[d.month - 1]} {d.year}م",
    "Maghreb": lambda d: f"{d.day} {MAGHREB_MONTHS[d.month - 1]} {d.year}",
    "Arabic weekday": lambda d: (
        f"{ARABIC_WEEKDAYS[d.weekday()]}، {d.day} {LEVANTINE_MONTHS[d.month - 1]} {d.year}"
    ),
    "Arabic-Indic digits": lambda d: (
        f"{d.day} {EGYPTIAN_MONTHS[d.month - 1]} {d.year}".translate(ARABIC_INDIC)
    ),
    "Arabic-Indic d/m/Y": lambda d: f"{d.day:02}/{d.month:02}/{d.year}".translate(ARABIC_INDIC),
}

days = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)


@settings(max_examples=150)
@given(days, st.sampled_from(sorted(DAY_FORMATS)))
def test_any_day_written_any_accepted_way_reads_back(day: dt.date, form: str) -> None:
    assert read_day(DAY_FORMATS[form](day), today=TODAY) == day


@settings(max_examples=100)
@given(days)
def test_any_day_written_month_first_reads_back_under_mdy(day: dt.date) -> None:
    assert read_day(f"{day.month:02}/{day.day:02}/{day.year}", order=DateOrder.MDY) == day


@settings(max_examples=100)
@given(st.dates(min_value=TODAY + dt.timedelta(days=1)), st.sampled_from(sorted(DAY_FORMATS)))
def test_any_day_after_today_is_refused(day: dt.date, form: str) -> None:
    with pytest.raises(UnreadableDay, match=r"is after today \(UTC\)"):
        read_day(DAY_FORMATS[form](day), today=TODAY)


DATE_TOKENS = [
    "17", "03", "3", "2017", "0399", "99", "0", "00", "31", "29", "1st", "17th", "/", "-", ".",
    ",", "،", "March", "mar.", "Sept", "of", "the", "Friday", "fri", "الجمعة", "يوم", "آذار",
    "تشرين", "الأول", "كانون", "م", "مـ", "عام", "T10:00:00Z", "00:00:00", "+03:00", "٢٠١٧",
    "١٧", "\u200b", "\n", "(", ")", "?", "ـ",
]


def _only_unreadable_day(text: str) -> None:
    for order in DateOrder:
        try:
            day = read_day(text, order=order, today=TODAY)
        except UnreadableDay as error:
            assert "\n" not in str(error)
            assert error.reason.startswith("the value ")
            assert str(error).endswith(error.reason.removeprefix("the value "))
        else:
            assert dt.date(1900, 1, 1) <= day <= TODAY


@settings(max_examples=150)
@given(st.text())
def test_any_text_is_read_or_refused_with_unreadable_day(text: str) -> None:
    _only_unreadable_day(text)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(DATE_TOKENS), max_size=7).map(" ".join))
def test_date_like_text_is_read_or_refused_with_unreadable_day(text: str) -> None:
    _only_unreadable_day(text)


# ------------------------------------------------------------------ counts read


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("12", (12, 12)),
        ("0", (0, 0)),
        (" 12 ", (12, 12)),
        ("١٢", (12, 12)),
        ("10-25", (10, 25)),
        ("10 - 25", (10, 25)),
        ("10 – 25", (10, 25)),  # en dash
        ("10—25", (10, 25)),  # em dash
        ("10 to 25", (10, 25)),
        ("from 10 to 25", (10, 25)),
        ("between 10 and 25", (10, 25)),
        ("Between 10 and 25", (10, 25)),
        ("12-12", (12, 12)),
        ("١٠-٢٥", (10, 25)),
        ("من 10 إلى 25", (10, 25)),
        ("بين 10 و25", (10, 25)),
        ("at least 30", (30, None)),
        ("At least 30", (30, None)),
        ("30+", (30, None)),
        ("30 +", (30, None)),
        ("30 or more", (30, None)),
        ("30 على الأقل", (30, None)),
        ("على الأقل 30", (30, None)),
        ("على الاقل ٣٠", (30, None)),
        ("ما لا يقل عن 30", (30, None)),
        ("30 فأكثر", (30, None)),
        ("30 أو أكثر", (30, None)),
        ("up to 30", (None, 30)),
        ("at most 30", (None, 30)),
        ("30 or fewer", (None, 30)),
        ("1,257", (1257, 1257)),
        ("1 257", (1257, 1257)),
        ("1\u00a0257", (1257, 1257)),
        ("١٬٢٥٧", (1257, 1257)),
        ("1,000-1,257", (1000, 1257)),
        ("at least 1,257", (1257, None)),
        ("10,000,000", (10_000_000, 10_000_000)),
        ("?-25", (None, 25)),  # how CasualtyRange writes an unknown minimum
        ("10-?", (10, None)),
    ],
)
def test_counts_are_read_as_written(text: str, count: tuple[int | None, int | None]) -> None:
    assert read_count(text) == count


# -------------------------------------------------------------- counts refused


@pytest.mark.parametrize(
    "text",
    ["dozens", "about 30", "around 30", "-5", "−5", "30-", "1.5", "1,2", "12,34", "10 25",
     "12 killed", "", "?", "?-?", "unknown", "30++", "+30", "one", "1e3", "10,000,001",
     "20000000", "99999999999999999999999", "١٢٣٤٥٦٧٨٩"],
)
def test_unreadable_counts_are_refused_with_one_sentence(text: str) -> None:
    with pytest.raises(UnreadableCount) as caught:
        read_count(text)
    message = str(caught.value)
    assert message.startswith(f"{text.strip()!r} is not a count: ")
    assert "\n" not in message
    assert caught.value.reason.startswith("the value is not a count: ")
    assert message == f"{text.strip()!r} {caught.value.reason.removeprefix('the value ')}"


def test_the_count_sentence_says_how_to_write_one() -> None:
    with pytest.raises(UnreadableCount) as caught:
        read_count("dozens")
    assert str(caught.value) == f"'dozens' is not a count: {COUNT_HINT}"
    assert caught.value.reason == f"the value is not a count: {COUNT_HINT}"


def test_counts_over_the_most_say_so() -> None:
    with pytest.raises(UnreadableCount, match="more than 10,000,000"):
        read_count("10,000,001")


@pytest.mark.parametrize("text", ["5-2", "5 to 2", "between 5 and 2", "5 – 2"])
def test_a_minimum_above_the_maximum_is_named(text: str) -> None:
    with pytest.raises(UnreadableCount) as caught:
        read_count(text)
    assert str(caught.value) == "the minimum 5 is above the maximum 2"
    assert caught.value.reason == "the minimum is above the maximum"


def test_the_count_error_is_a_value_error_that_survives_pickling() -> None:
    with pytest.raises(ValueError) as caught:
        read_count("dozens")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, UnreadableCount)
    assert (str(copy), copy.reason) == (str(caught.value), caught.value.reason)  # type: ignore[attr-defined]


# ----------------------------------------------------------- counts, properties

bounds = st.integers(min_value=0, max_value=MOST)


@settings(max_examples=150)
@given(bounds, bounds, st.sampled_from(["{}-{}", "{} - {}", "{}–{}", "{} to {}",
                                        "between {} and {}", "من {} إلى {}"]),
       st.booleans())
def test_any_range_reads_back(a: int, b: int, form: str, grouped: bool) -> None:
    low, high = sorted((a, b))
    write = "{:,}".format if grouped else str
    assert read_count(form.format(write(low), write(high))) == (low, high)


@settings(max_examples=200)
@given(bounds, st.booleans())
def test_any_single_count_reads_back(n: int, grouped: bool) -> None:
    assert read_count(f"{n:,}" if grouped else str(n)) == (n, n)
    assert read_count(f"at least {n}") == (n, None)
    assert read_count(f"{n}+") == (n, None)
    assert read_count(f"up to {n}") == (None, n)


COUNT_TOKENS = ["12", "1", "257", "1,257", "000", "-", "–", "+", "?", "to", "and", "between",
                "at", "least", "most", "up", "or", "more", "على", "الأقل", "إلى", "من", "و",
                "١٢", ",", "٬", "\u200b", "\n", "99999999", "0"]


def _only_unreadable_count(text: str) -> None:
    try:
        low, high = read_count(text)
    except UnreadableCount as error:
        assert "\n" not in str(error)
        assert error.reason.startswith("the value is not a count: ") or (
            error.reason == "the minimum is above the maximum"
        )
    else:
        assert low is not None or high is not None
        assert all(0 <= bound <= MOST for bound in (low, high) if bound is not None)
        assert low is None or high is None or low <= high


@settings(max_examples=150)
@given(st.text())
def test_any_text_is_read_or_refused_with_unreadable_count(text: str) -> None:
    _only_unreadable_count(text)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(COUNT_TOKENS), max_size=6).map(" ".join))
def test_count_like_text_is_read_or_refused_with_unreadable_count(text: str) -> None:
    _only_unreadable_count(text)


# ------------------------------------------------------------- times of day


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from([":", "."]), st.booleans())
@settings(max_examples=150)
def test_any_time_of_day_reads_back(hour: int, minute: int, separator: str,
                                    padded: bool) -> None:
    text = f"{hour:02d}" if padded else str(hour)
    assert read_time(f"{text}{separator}{minute:02d}") == f"{hour:02d}:{minute:02d}"


@given(st.text(max_size=12))
@settings(max_examples=150)
def test_any_text_is_a_time_or_refused_with_a_sentence(text: str) -> None:
    try:
        read = read_time(text)
    except UnreadableDay as problem:
        assert "is not a time of day: write it as HH:MM" in str(problem)
    else:
        assert len(read) == 5 and read[2] == ":" and 0 <= int(read[:2]) <= 23


@pytest.mark.parametrize("text", ["24:00", "12:60", "1430", "noon", "", "14:3", "-1:00"])
def test_times_that_are_no_time_of_day_are_refused(text: str) -> None:
    with pytest.raises(UnreadableDay, match="not a time of day"):
        read_time(text)


def test_arabic_indic_digits_read_as_a_time() -> None:
    assert read_time("١٤:٣٠") == "14:30"

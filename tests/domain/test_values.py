"""Value objects: validation lives here, once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from verify.domain import CasualtyRange, IncidentCode, Location, Rating, canonical_code
from verify.domain.errors import InvalidInput
from verify.domain.rulebook import CURRENT_RULEBOOK
from verify.domain.values import Grade, is_web_address, refuse_nul


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("CS1234", "CS1234"), ("ti038C", "TI038c"), ("ISPT0019a", "ISPT0019a"),
     (" rs4802 ", "RS4802"), ("ci883", "CI883")],
)
def test_codes_are_canonical(typed: str, canonical: str) -> None:
    assert canonical_code(typed) == canonical
    assert str(IncidentCode.parse(typed)) == canonical


@pytest.mark.parametrize("bad", ["", "1234", "CS", "CS12ab", "CS-12", "CS 12", "CS12\n3", "ÇS12"])
def test_malformed_codes_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not an incident code"):
        canonical_code(bad)


@given(st.from_regex(r"[A-Za-z]{1,12}[0-9]{1,9}[A-Za-z]?", fullmatch=True))
def test_canonical_code_is_idempotent_and_case_insensitive(code: str) -> None:
    canonical = canonical_code(code)
    assert canonical_code(canonical) == canonical
    assert canonical_code(code.swapcase()) == canonical


@given(st.text(max_size=30))
def test_code_parser_accepts_or_explains(text: str) -> None:
    try:
        canonical_code(text)
    except ValueError as error:
        assert "not an incident code" in str(error)


@pytest.mark.parametrize(
    ("text", "low", "high"), [("5", 5, 5), ("100-200", 100, 200), ("0", 0, 0), ("3 - 4", 3, 4)]
)
def test_counts_parse(text: str, low: int, high: int) -> None:
    assert CasualtyRange.parse(text) == CasualtyRange(min=low, max=high)


@pytest.mark.parametrize("bad", ["5-2", "-3", "x", "", "1-", "1.5", "10-20-30"])
def test_bad_counts_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        CasualtyRange.parse(bad)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_count_ranges_are_ordered(low: int, high: int) -> None:
    if low <= high:
        assert CasualtyRange.parse(f"{low}-{high}") == CasualtyRange(min=low, max=high)
    else:
        with pytest.raises(ValueError, match="above the maximum"):
            CasualtyRange.parse(f"{low}-{high}")


def test_count_bounds_may_be_unknown() -> None:
    assert str(CasualtyRange(min=None, max=20)) == "?-20"
    assert str(CasualtyRange()) == "unknown"
    with pytest.raises(ValidationError):
        CasualtyRange(min=-1)


@pytest.mark.parametrize(
    "fields",
    [{"lat": 200, "lon": 3}, {"lat": 3, "lon": -181}, {"lat": 3}, {"lat": float("nan"), "lon": 1},
     {"name": "  "}],
)
def test_bad_locations_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Location.model_validate({"name": "Mosul", **fields})


def test_location_keeps_arabic_names() -> None:
    place = Location(name="الموصل الجديدة", lat=36.34, lon=43.1, precision="neighbourhood")
    assert Location.model_validate(place.model_dump(mode="json")) == place


@pytest.mark.parametrize(
    ("reliability", "credibility", "credible"),
    [("A", 1, True), ("C", 3, True), ("C", 4, False), ("D", 1, False), ("F", 6, False)],
)
def test_credibility_threshold(reliability: str, credibility: int, credible: bool) -> None:
    rating = Rating(reliability=reliability, credibility=credibility)
    assert CURRENT_RULEBOOK.rates_credible(rating) is credible
    assert str(rating) == f"{reliability}{credibility}"


def test_unrated_is_f6() -> None:
    assert str(Rating()) == "F6"


# ------------------------------------------------ web addresses and NUL characters

ADDRESS_PARTS = st.sampled_from([
    "http://", "https://", "HTTPS://", "Http://", "ftp://", "javascript:", "http:", "https:/",
    "//", " ", "\t", "\n", "\x01", "example.org", "[::1]", "[", "]", "/", "?", "#", "@", ":80",
    "a", "مثال.سوريا", "%D8%A7", "\u3002", "\uff0f", "x.org/path?q=1#f", "",
])


def _by_urlsplit(url: str) -> bool:
    """What is_web_address has always answered: urlsplit's scheme and host, nothing else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@given(st.lists(ADDRESS_PARTS, max_size=6).map("".join) | st.text(max_size=40))
def test_web_addresses_are_read_as_urlsplit_reads_them(url: str) -> None:
    # The common address is read without urlsplit; the answer must not change.
    assert is_web_address(url) is _by_urlsplit(url)


@pytest.mark.parametrize(("url", "web"), [
    ("https://airwars.org/civilian-casualties/cs1070/", True),
    ("  HTTP://example.org  ", True), ("https://", False), ("https:///path", False),
    ("http://?q", False), ("javascript:alert(1)", False), ("http://[::1]/", True),
    ("http://[::1/", False), ("https://\t/", False), ("https://موقع.سوريا/خبر", True),
])
def test_web_addresses(url: str, web: bool) -> None:
    assert is_web_address(url) is web


NESTED_TEXT = st.recursive(
    st.text(max_size=8) | st.integers() | st.none() | st.booleans(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return []


@given(NESTED_TEXT)
def test_nul_is_refused_anywhere_in_a_payload(payload: object) -> None:
    if any("\x00" in text for text in _texts(payload)):
        with pytest.raises(InvalidInput, match="NUL"):
            refuse_nul(payload)
    else:
        refuse_nul(payload)


def test_nul_is_refused_deep_in_a_payload_and_in_text_kinds() -> None:
    with pytest.raises(InvalidInput):
        refuse_nul({"source": {"unread": {"when": ["ok", ("x\x00",)]}}, "actor": "a"})
    with pytest.raises(InvalidInput):
        refuse_nul([Grade.FAIR, StrEnumText("bad\x00")])
    refuse_nul({"count": 3, "nothing": None, "kind": Grade.FAIR, "keys\x00 are not text": 1})


class StrEnumText(str):
    """Text of a str subclass (as an enum's value is) is text too."""

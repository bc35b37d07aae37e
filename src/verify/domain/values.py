"""Value objects of the verification domain: validated once, immutable after."""

from __future__ import annotations

import re
from datetime import date
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from verify.domain.counts import read_count
from verify.domain.errors import InvalidInput
from verify.domain.sentences import Sentence, reread, sentence, sentence_template
from verify.domain.text import fold

MAX_TEXT = 100_000
"""Longest free text (summary, rationale, reason) an event may carry, in characters."""

MAX_URL = 8_192
"""Longest URL a source may have: archives hold percent-encoded paths in any script."""

def refuse_nul(value: Any) -> None:
    """Refuse text holding a NUL character, anywhere in a payload.

    No person types one, and PostgreSQL cannot keep it in a text column: an
    event carrying one would be stored but break every read model after it.
    """
    if _holds_nul(value):
        raise InvalidInput(sentence("text must not contain NUL characters (\\x00)"))


_NESTED = (str, dict, list, tuple)


def _holds_nul(value: Any) -> bool:
    """Whether any text in ``value`` (and the values of its dicts and lists) holds a NUL.

    Every event's payload passes here, so plain text is looked at without a call of its own.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False
    for item in items:
        if type(item) is str:
            if "\x00" in item:
                return True
        elif isinstance(item, _NESTED) and _holds_nul(item):
            return True
    return False


MAX_NAME = 500
"""The longest name of a place, country, party, publisher or group, at every edge."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]


def belligerent_name(name: str) -> str:
    """A belligerent's name as given; refused if it holds ';', which separates names in CSV,
    or is longer than any name may be."""
    if len(name.strip()) > MAX_NAME:
        raise ValueError(sentence("a belligerent's name must be at most %(most)s characters",
                                  most=MAX_NAME))
    if ";" in name:
        raise ValueError(sentence(
            "a belligerent's name cannot contain ';' (%(name)s): it separates names in CSV "
            "files; give each belligerent on its own", name=repr(name.strip())))
    return name


BelligerentName = Annotated[ShortText, AfterValidator(belligerent_name)]
"""A name, a publisher, a place: one line, never empty."""

LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)
]
"""A summary, a reason or a rationale: never empty, bounded."""

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL)]
"""Where a source is: any script, up to MAX_URL characters."""

WEB_SCHEMES = ("http", "https")


def is_web_address(url: str) -> bool:
    """Whether a URL is one a browser may follow safely: http or https, with a host.

    Any other scheme (``javascript:``, ``data:``, ``file:``) would run or
    open something in the reader's browser when the link is followed.
    """
    text = url.strip()
    head = text[:8].lower()
    rest = text[7:] if head.startswith("http://") else text[8:] if head == "https://" else None
    if rest is not None and text.isascii() and not _awkward(text):
        # What urlsplit would find, read directly: every source of an import passes here
        # twice, and urlsplit costs eight times as much. The host ends at the first / ? #.
        return bool(rest) and rest[0] not in "/?#"
    return _is_web_address_by_urlsplit(text)


def _awkward(text: str) -> bool:
    """Whether ``text`` holds a character urlsplit treats specially (a bracketed host; tabs and
    line breaks, which it deletes): such an address is read by urlsplit itself."""
    return "[" in text or "]" in text or "\t" in text or "\r" in text or "\n" in text


def _is_web_address_by_urlsplit(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.netloc)


def check_web_address(url: str | None, what: str | None = None) -> None:
    """Refuse an address that is not http or https (one sentence, the address not echoed).

    ``what`` names the address in the refusal (a sentence); a source's URL unless said."""
    if url is not None and not is_web_address(url):
        raise InvalidInput(sentence(
            "%(what)s must be a web address starting with http:// or https://",
            what=what if what is not None else sentence("a source's URL")))


def _unset(value: object) -> bool:
    return value is None or value == {}


def kept_text() -> Any:
    """A field holding a value kept verbatim because it could not be read; absent when unset.

    Left out of dumps when unset, so records (and events) without such
    values keep exactly the shape they had before these fields existed.
    """
    return Field(default=None, exclude_if=_unset)


def kept_values() -> Any:
    """Values that could not be read, by field name, kept verbatim; absent when empty."""
    return Field(default_factory=dict, exclude_if=_unset)


class Value(BaseModel):
    """Base of every value object: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


_CODE = re.compile(r"([A-Za-z]{1,12})([0-9]{1,9})([A-Za-z]?)")


def canonical_code(text: str) -> str:
    """Return the canonical form of an incident code, or raise ValueError.

    Letters of the prefix go upper-case and a split suffix lower-case, so
    ``ti038C`` and ``TI038c`` name the same incident.
    """
    match = _CODE.fullmatch(text.strip())
    if match is None:
        raise ValueError(sentence(
            "%(text)s is not an incident code (letters, digits and an optional one-letter "
            "suffix, for example CS1234 or ISPT0019a)", text=repr(text)))
    prefix, digits, suffix = match.groups()
    return f"{prefix.upper()}{digits}{suffix.lower()}"


def canonical_source_id(text: str) -> str:
    """A source's id as recorded (``s2``) from what was typed (``S2``, `` s2 ``): source ids
    are read in any case, as incident codes are. Wherever one is taken, it passes here."""
    return text.strip().lower()


class IncidentCode(Value):
    """An incident's code such as ``CS1234``, kept in canonical form."""

    value: str

    @field_validator("value", mode="before")
    @classmethod
    def _canonical(cls, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValueError(sentence("an incident code is text"))
        return canonical_code(raw)

    @classmethod
    def parse(cls, text: str) -> Self:
        return cls(value=text)

    def __str__(self) -> str:
        return self.value


class CasualtyRange(Value):
    """A count of people as a range; either bound may be unknown (None)."""

    min: int | None = Field(default=None, ge=0, le=10_000_000)
    max: int | None = Field(default=None, ge=0, le=10_000_000)
    text: str | None = kept_text()
    """The figure as an archive gave it, when it could not be read as a count."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(sentence("the minimum %(low)s is above the maximum %(high)s",
                                      low=self.min, high=self.max))
        return self

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read a count as people write it: ``12``, ``10-25``, ``at least 30``, ``30+``…

        Raises UnreadableCount (a ValueError) with the sentence to show.
        """
        low, high = read_count(text)
        return cls(min=low, max=high)

    @property
    def is_known(self) -> bool:
        return self.min is not None or self.max is not None

    def __str__(self) -> str:
        if not self.is_known:
            if self.text:
                return sentence("unknown (given as %(text)s)", text=repr(self.text))
            return sentence("unknown")
        if self.min == self.max:
            return str(self.min)
        low = "?" if self.min is None else str(self.min)
        high = "?" if self.max is None else str(self.max)
        return f"{low}-{high}"


UNKNOWN_COUNT = CasualtyRange()


class Precision(StrEnum):
    """How precisely an incident's coordinates locate it."""

    EXACT = "exact"
    STREET = "street"
    NEIGHBOURHOOD = "neighbourhood"
    VILLAGE = "village"
    TOWN = "town"
    CITY = "city"
    DISTRICT = "district"
    PROVINCE = "province"


class Location(Value):
    """Where an incident happened: a name, optionally coordinates and their precision."""

    name: ShortText
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    precision: Precision | None = None
    coordinates_text: str | None = kept_text()
    """Coordinates as an archive gave them, when they could not be read (out of range, say)."""

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError(sentence("give both latitude and longitude, or neither"))
        return self

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


class Reliability(StrEnum):
    """Admiralty scale: how reliable the source has proved (A best, F unknown)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Credibility(IntEnum):
    """Admiralty scale: how credible the information is (1 confirmed, 6 cannot be judged)."""

    CONFIRMED = 1
    PROBABLY_TRUE = 2
    POSSIBLY_TRUE = 3
    DOUBTFUL = 4
    IMPROBABLE = 5
    CANNOT_BE_JUDGED = 6


class Rating(Value):
    """An Admiralty rating such as ``B2``; unrated sources are ``F6``."""

    reliability: Reliability = Reliability.F
    credibility: Credibility = Credibility.CANNOT_BE_JUDGED

    def __str__(self) -> str:
        return f"{self.reliability.value}{int(self.credibility)}"


class SourceKind(StrEnum):
    MEDIA = "media"
    NGO = "ngo"
    SOCIAL = "social"
    OFFICIAL = "official"
    WITNESS = "witness"
    BELLIGERENT = "belligerent"


class Source(Value):
    """A report attached to an incident as evidence."""

    id: str = ""
    """Assigned when the source is attached: s1, s2, ... in the order they arrive."""
    url: Url | None = None
    publisher: ShortText | None = None
    kind: SourceKind | None = None
    """Unknown (None) only for sources taken in from archives that did not say."""
    reliability: Reliability = Reliability.F
    credibility: Credibility = Credibility.CANNOT_BE_JUDGED
    group: ShortText | None = None
    protected: bool = False
    published: date | None = None
    withdrawn: bool = False
    published_text: str | None = kept_text()
    """The publication date as an archive gave it, when it could not be read as a date."""
    unread: dict[str, str] = kept_values()
    """Other values of this source that could not be read, kept verbatim by field name."""

    @property
    def rating(self) -> Rating:
        return Rating(reliability=self.reliability, credibility=self.credibility)

    @property
    def kind_name(self) -> str:
        """The kind as a person reads it; "unknown" for an archive's source that did not say."""
        return self.kind.value if self.kind is not None else "unknown"

    @property
    def publisher_name(self) -> str:
        return self.publisher if self.publisher is not None else sentence("publisher unknown")

    @property
    def independence_group(self) -> str:
        """Sources sharing a group count once; an ungrouped source is its own group.

        Group names compare the way people mean them (see domain.text.fold).
        """
        return f"group:{fold(self.group)}" if self.group else f"source:{self.id}"


class StrikeStatus(StrEnum):
    DECLARED = "declared"
    LIKELY = "likely"


class PlacedBy(StrEnum):
    """How one side of a strike match was put on the map."""

    COORDINATES = "coordinates"
    GAZETTEER = "gazetteer"


class Placing(Value):
    """How an incident or a strike report was placed for matching: by its own coordinates
    (with their precision), or at a gazetteer place its location names."""

    by: PlacedBy
    precision: Precision | None = None
    """The coordinates' precision, when given."""
    place: ShortText | None = None
    """The gazetteer place, by its name there."""
    country: ShortText | None = None
    """The gazetteer place's country (ISO 3166 code), when the gazetteer says."""
    geonames_id: int | None = None
    """The gazetteer place's GeoNames id, when it came from GeoNames."""
    named: ShortText | None = None
    """The words of the location that named the place, as written."""
    reach_km: float | None = Field(default=None, ge=0, le=20_000, allow_inf_nan=False)
    """How far from the point the incident or strike may be: the town's extent, or what the
    coordinates' precision allows; None when unknown (coordinates of no stated precision)."""


class MatchPlacing(Value):
    """How a matched strike's incident and report were placed, and what their distance is
    worth: a town's centre is not where a strike was."""

    incident: Placing
    report: Placing
    same_place: ShortText | None = None
    """Both were placed at this one gazetteer place: no distance between them is known."""
    uncertainty_km: float | None = Field(default=None, ge=0, le=40_000, allow_inf_nan=False)
    """The distance is good to plus or minus this much (both sides' reach added); None when
    both sides are coordinates of exact or unstated precision."""


def how_far(distance: float | None, placed: MatchPlacing | dict[str, Any] | None
            ) -> Sentence:
    """A matched strike's distance as it may be read: "same place: Tabqa (gazetteer)", or
    "0.9 km away (± 2.6 km)" when a side is only a town or imprecise, else "0.9 km away"."""
    if isinstance(placed, dict):
        placed = MatchPlacing.model_validate(placed)
    if placed is not None and placed.same_place:
        return sentence("same place: %(place)s (gazetteer)", place=placed.same_place)
    if placed is not None and placed.uncertainty_km and distance is not None:
        return sentence("%(distance)s km away (± %(uncertainty)s km)", distance=distance,
                        uncertainty=placed.uncertainty_km)
    return sentence("%(distance)s km away", distance=distance)


class StrikeConfirmation(Value):
    """A strike by a belligerent near the place on the day."""

    belligerent: ShortText
    status: StrikeStatus
    report: ShortText | None = None
    distance_km: float | None = Field(default=None, ge=0, le=20_000, allow_inf_nan=False)
    """From the incident's point to the report's; None when both are one gazetteer place."""
    day_offset: int | None = Field(default=None, ge=-366, le=366)
    """Days from the incident to the reported strike, when matched from a strike report."""
    rule: ShortText | None = None
    """The matching rule that found this strike, when it was matched automatically."""
    reported: date | None = Field(default=None, exclude_if=_unset)
    """The day the strike report was published (known-on); absent when not given."""
    placed: MatchPlacing | None = Field(default=None, exclude_if=_unset)
    """How a matched strike's two sides were placed; absent for one recorded by hand."""


class CompetingClaim(Value):
    """Responsibility also attributed to another party."""

    belligerent: ShortText
    reason: LongText | None = None
    """Required on the command line and the web; archives sometimes name only the party."""


class AssessmentOutcome(StrEnum):
    CREDIBLE = "credible"
    NON_CREDIBLE = "non_credible"
    DUPLICATE = "duplicate"
    NOT_YET_ASSESSED = "not_yet_assessed"


class Assessment(Value):
    """A belligerent's own assessment of the allegation."""

    belligerent: ShortText
    outcome: AssessmentOutcome
    reason: LongText | None = None
    conceded_killed: CasualtyRange = UNKNOWN_COUNT
    dated: date | None = Field(default=None, exclude_if=_unset)
    """The day of the belligerent's statement (known-on); absent when not given."""


class DiscountBasis(StrEnum):
    COMBATANTS = "combatants"
    OTHER_PARTY = "other_party"


class DiscountFinding(Value):
    """The monitor's finding that the dead were combatants or another party was responsible."""

    basis: DiscountBasis
    party: ShortText | None = None
    rationale: LongText

    def check(self) -> None:
        """Refuse a finding whose basis and party contradict each other.

        Checked when a finding is recorded, not when one is read back: an
        archive imported before this check may hold such a finding, and its
        history must still load.
        """
        if self.basis is DiscountBasis.OTHER_PARTY and not self.party:
            raise InvalidInput(sentence("name the other party most likely responsible"))
        if self.basis is DiscountBasis.COMBATANTS and self.party:
            raise InvalidInput(sentence("a finding that those killed were combatants names no "
                                        "other party (not %(party)s)", party=self.party))


class Grade(StrEnum):
    """Grades of rulebook v1, see docs/methodology.md."""

    CONFIRMED = "confirmed"
    FAIR = "fair"
    WEAK = "weak"
    CONTESTED = "contested"
    DISCOUNTED = "discounted"


class State(StrEnum):
    """Where an incident stands in the review workflow."""

    REPORTED = "reported"
    CORROBORATED = "corroborated"
    STRIKE_CONFIRMED = "strike-confirmed"
    GRADED = "graded"
    DISPUTED = "disputed"


def grade_word(text: str) -> Grade | str:
    """A recorded grade as a sentence names it: the Grade (which a language translates), or
    the text as it is when it names none."""
    try:
        return Grade(text)
    except ValueError:
        return text


WAITING_STATES = (State.REPORTED, State.CORROBORATED, State.STRIKE_CONFIRMED, State.DISPUTED)
"""States in which an incident waits for somebody's work (graded ones do not)."""


def workflow_state(
    *, dispute_open: bool, graded: bool, strike_confirmed: bool, corroborated: bool
) -> State:
    """Where an incident stands: the furthest step its record has reached."""
    if dispute_open:
        return State.DISPUTED
    if graded:
        return State.GRADED
    if strike_confirmed:
        return State.STRIKE_CONFIRMED
    if corroborated:
        return State.CORROBORATED
    return State.REPORTED


WAITING_TEMPLATES = {
    "named": sentence_template("casualty figures: %(named)s named killed, more than the "
                               "%(most)s recorded; revise the figures or the victims"),
    "proposed": sentence_template("grade %(grade)s proposed; needs a second person's "
                                  "approval"),
    "disputed": sentence_template("dispute open since %(since)s; needs resolving"),
    "no source left": sentence_template("re-grading: the evidence changed and no active "
                                        "source is left"),
    "regrade": sentence_template("re-grading: the evidence changed; the rulebook now grades "
                                 "it %(grade)s"),
    "graded": sentence_template("nothing: graded"),
    "confirmed without source": sentence_template("needs a source before it can be graded"),
    "ready": sentence_template("ready to grade"),
    "corroborated": sentence_template("needs strike confirmation, or a grade"),
    "no source": sentence_template("needs a source"),
    "one source": sentence_template("needs a second independent credible source"),
}
"""What an incident can wait for, as the review queue says it."""


def waiting_for(
    state: State, *, active_sources: int, dispute_since: str | None = None,
    proposed_grade: str | None = None, regrade_due: str | None = None,
    named_killed: int | None = None, killed_max: int | None = None,
) -> str:
    """What an incident in this state waits for, as a sentence for the review queue.

    ``regrade_due`` is the grade the rulebook now gives a graded incident whose
    evidence changed ("" when it can no longer grade it: no active source).
    ``named_killed`` is given when more are named killed than ``killed_max``.
    """
    said = WAITING_TEMPLATES
    if named_killed is not None:
        return sentence(said["named"], named=named_killed, most=killed_max)
    if proposed_grade is not None and state is not State.DISPUTED:
        return sentence(said["proposed"], grade=grade_word(proposed_grade))
    if state is State.DISPUTED:
        return sentence(said["disputed"], since=(dispute_since or "")[:16].replace("T", " "))
    if state is State.GRADED and regrade_due is not None:
        if not regrade_due:
            return sentence(said["no source left"])
        return sentence(said["regrade"], grade=grade_word(regrade_due))
    if state is State.GRADED:
        return sentence(said["graded"])
    if state is State.STRIKE_CONFIRMED:
        return sentence(said["confirmed without source" if active_sources == 0 else "ready"])
    if state is State.CORROBORATED:
        return sentence(said["corroborated"])
    return sentence(said["no source" if active_sources == 0 else "one source"])


def waiting_sentence(text: str) -> str:
    """What `waiting_for` said, kept as plain text (the queue's read model keeps it so),
    made a sentence again so an interface can say it in its language."""
    return reread(text, WAITING_TEMPLATES.values(), {"grade": grade_word})


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"
    DISMISSED = "dismissed"

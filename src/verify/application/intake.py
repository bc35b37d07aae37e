"""Taking archive rows in whole: strict on four fields, lenient and lossless on the rest.

Monitors arrive with years of records nobody cleaned for this program. A row
is refused only when one of the four required fields (code, date, country,
location name) is missing or unusable; every other value is read the way
people write it (dates in English and Arabic, counts such as "at least 30",
names with invisible characters), and a value that still cannot be read is
kept verbatim beside its field, with a warning, never dropped. Blank values
(absent, null, empty or whitespace only) mean "unknown" everywhere.

A clean row (an export, say) takes a fast path: the strict record model
accepts it as it is. Only a row the model refuses, or one the checks after it
flag, is read field by field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from verify.application.records import FileRecord, IncidentRecord
from verify.domain.casework import COMMENT_ID, MAX_COMMENT, MAX_TAG, tag_of
from verify.domain.counts import UnreadableCount, read_count
from verify.domain.dates import DateOrder, UnreadableDay, read_day, read_time
from verify.domain.errors import InvalidInput
from verify.domain.incident import RETRACTABLE_ID
from verify.domain.parties import NO_PARTIES, PartyNames
from verify.domain.text import ascii_digits, fold, is_blank, tidy
from verify.domain.values import (
    MAX_TEXT,
    MAX_URL,
    AssessmentOutcome,
    Credibility,
    DiscountBasis,
    Grade,
    MatchPlacing,
    Precision,
    Reliability,
    SourceKind,
    StrikeStatus,
    canonical_code,
    is_web_address,
)
from verify.domain.victims import AgeGroup, Gender, VictimStatus

ARABIC_DECIMAL_SEPARATOR = "\u066b"

MAX_NAME = 500
"""Longest name (party, publisher, place, group) read as such; a longer one is kept verbatim."""

REQUIRED = ("code", "date", "country", "location")

YES = frozenset({"true", "t", "yes", "y", "on", "1", "x", "protected", "withdrawn", "نعم"})
NO = frozenset({"false", "f", "no", "n", "off", "0", "لا"})


@dataclass(frozen=True)
class FieldWarning:
    """A value that was read leniently or kept verbatim; never a reason to refuse the row."""

    field: str
    reason: str


@dataclass(frozen=True)
class Reading:
    """One row read: a record with its warnings, or the reason the row is refused."""

    record: IncidentRecord | None
    warnings: tuple[FieldWarning, ...] = ()
    refusal: str | None = None


class Refusal(Exception):
    """A required field is missing or unusable: the row cannot become an incident."""


class Unreadable(Exception):
    """An optional value that cannot be read; the reason never quotes the value."""


def verbatim(value: Any) -> str:
    """A value as kept when it cannot be read: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: Any, limit: int, what: str = "text") -> str | None:
    """Text, trimmed; None when blank; Unreadable when not text or too long."""
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise Unreadable(f"not {what}")
    trimmed = value.strip()
    if len(trimmed) > limit:
        raise Unreadable(f"longer than {limit:,} characters")
    return trimmed


def _choice(value: Any, allowed: dict[str, str], what: str) -> str:
    if isinstance(value, str):
        key = fold(value).replace("-", "_").replace(" ", "_")
        if key in allowed:
            return allowed[key]
    raise Unreadable(f"not {what}")


def _choices(values: type[Any]) -> dict[str, str]:
    return {member.value.replace("-", "_"): member.value for member in values}


KINDS = _choices(SourceKind)
PRECISIONS = _choices(Precision)
STATUSES = _choices(StrikeStatus)
OUTCOMES = _choices(AssessmentOutcome)
BASES = _choices(DiscountBasis)
GRADES = _choices(Grade)
RELIABILITIES = {member.value.casefold(): member.value for member in Reliability}


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise Unreadable("not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(ascii_digits(tidy(value)).replace(ARABIC_DECIMAL_SEPARATOR, "."))
        except ValueError:
            raise Unreadable("not a number") from None
    else:
        raise Unreadable("not a number")
    if number != number or number in (float("inf"), float("-inf")):
        raise Unreadable("not a number")
    return number


def _whole(value: Any, low: int, high: int) -> int:
    number = _number(value)
    if not number.is_integer() or not low <= number <= high:
        raise Unreadable(f"not a whole number from {low} to {high}")
    return int(number)


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = fold(value)
        if key in YES:
            return True
        if key in NO:
            return False
    raise Unreadable("not readable as yes or no")


class Intake:
    """Reads rows of an archive into records, the same way for JSON Lines and spreadsheets."""

    def __init__(self, *, today: dt.date, parties: PartyNames = NO_PARTIES,
                 date_order: DateOrder = DateOrder.DMY) -> None:
        self.today = today
        self.parties = parties
        self.date_order = date_order

    def read(self, data: Any) -> Reading:
        if not isinstance(data, dict):
            return Reading(None, refusal="a row must be a JSON object")
        fast = self._strictly(data)
        if fast is not None:
            return Reading(fast)
        row = _Row(self)
        try:
            record = row.read(data)
        except Refusal as refusal:
            return Reading(None, tuple(row.warnings), str(refusal))
        return Reading(record, tuple(row.warnings))

    def day(self, value: Any) -> dt.date:
        """A day as people write it; UnreadableDay (with a reason that quotes nothing) if not."""
        if isinstance(value, dt.date):
            text = value.isoformat()
        elif isinstance(value, str):
            text = value
        else:
            raise UnreadableDay("not a date", reason="not a date")
        return read_day(text, order=self.date_order, today=self.today)

    # ------------------------------------------------------------ fast path

    def _strictly(self, data: dict[str, Any]) -> IncidentRecord | None:
        """The record, when the strict model takes the row as it is and nothing needs a word."""
        try:
            record = IncidentRecord.model_validate(data)
        except ValidationError:
            return None
        if record.date > self.today or not isinstance(data.get("date"), str) \
                or len(data["date"]) != 10:
            return None
        names = record.belligerents
        if len({fold(name) for name in names}) != len(names):
            return None
        if self.parties.canonical_by_key and any(
                self.parties.canonical(name) != name
                for name in (*names, record.country)):
            return None
        held = {f"s{number}" for number in range(1, len(record.sources) + 1)}
        if any(not victim.sources or len(set(victim.sources)) != len(victim.sources)
               or not held.issuperset(victim.sources) for victim in record.victims):
            return None  # read field by field: the sources each victim cites
        if any(not isinstance(file, FileRecord)
               or (file.source is not None and file.source not in held)
               for file in record.files) \
                or len({file.sha256 for file in record.files}) != len(record.files):
            return None  # read field by field: a file listed by hash alone, or cited wrong
        if any(comment.id != f"m{number}" or (comment.reply_to is not None
                                              and int(comment.reply_to[1:]) >= number)
               for number, comment in enumerate(record.comments, start=1)) \
                or len(record.tags) != len(data.get("tags") or ()):
            return None  # read field by field: comments numbered anew, tags given twice
        if record.date_end is not None or record.time is not None or record.retracted or any(
                strike.reported is not None for strike in record.strikes) or any(
                assessment.dated is not None for assessment in record.assessments):
            return None  # read field by field: days after today, the last before the first
        for given in data.get("sources") or ():
            if not isinstance(given.get("published"), str | None):
                return None
        seen: set[str] = set()
        for source in record.sources:
            if source.published is not None and source.published > self.today:
                return None
            if source.url is None or source.publisher is None or not is_web_address(source.url):
                return None
            if source.url in seen:
                return None
            seen.add(source.url)
        return record


@dataclass
class _Row:
    """One row being read field by field: what it kept verbatim and what it warned."""

    intake: Intake
    warnings: list[FieldWarning] = field(default_factory=list)
    unread: dict[str, str] = field(default_factory=dict)

    def warn(self, path: str, reason: str) -> None:
        self.warnings.append(FieldWarning(path, reason))

    def keep(self, path: str, value: Any, reason: str) -> None:
        """Keep a value that cannot be read, verbatim, under its path in the incident."""
        self.unread[path] = verbatim(value)
        self.warn(path, f"{reason}; kept verbatim")

    def optional(self, path: str, value: Any, read: Callable[[Any], Any]) -> Any:
        """A value read by ``read``; None when blank; kept verbatim when unreadable."""
        if is_blank(value):
            return None
        try:
            return read(value)
        except Unreadable as problem:
            self.keep(path, value, str(problem))
            return None

    # ---------------------------------------------------------------- row

    def read(self, data: dict[str, Any]) -> IncidentRecord:
        clean: dict[str, Any] = {
            "code": self._code(data.get("code")),
            "date": self._date(data.get("date")),
            "country": self._country(data.get("country")),
            "location": self._location(data.get("location")),
        }
        for key, value in data.items():
            if key in REQUIRED:
                continue
            reader = _FIELDS.get(key)
            if reader is None:
                if not is_blank(value) and value != [] and value != {}:
                    self.keep(str(key), value, "not a field of the format")
                continue
            reader(self, clean, value)
        if "retracted" in clean:
            self._check_retracted(clean)
        if clean.get("victims"):
            self._check_cited(clean)
        if "files" in clean:
            clean["files"] = self._read_files(clean["files"], len(clean.get("sources") or []))
        if self.unread:
            clean["unread"] = {**clean.get("unread", {}), **self.unread}
        return self._validated(clean)

    def _check_retracted(self, clean: dict[str, Any]) -> None:
        """Keep only retracted ids that name evidence the row holds, each once."""
        counts = {"k": int(clean.get("strike") is not None)
                  + len(clean.get("other_strikes") or []),
                  "c": len(clean.get("contested_by") or []),
                  "a": len(clean.get("assessments") or []),
                  "f": len(clean.get("discounts") or [])}
        kept: list[str] = []
        for index, item in enumerate(clean.pop("retracted")):
            if item in kept:
                self.warn(f"retracted[{index}]", "named twice; retracted once")
            elif int(item[1:]) > counts[item[0]]:
                self.keep(f"retracted[{index}]", item, "names evidence the row does not hold")
            else:
                kept.append(item)
        clean["retracted"] = kept

    def _check_cited(self, clean: dict[str, Any]) -> None:
        """Each victim cites sources the row holds: unknown ids are kept verbatim with the
        victim; a victim citing none cites every source of the row; a row with victims
        but no source is refused (a victim stands on a source)."""
        held = {f"s{number}" for number in range(1, len(clean.get("sources") or []) + 1)}
        if not held:
            raise Refusal("victims: each victim cites a source of the incident, and the row "
                          "has none")
        for index, victim in enumerate(clean["victims"]):
            cited = [source for source in dict.fromkeys(victim["sources"]) if source in held]
            unknown = [source for source in victim["sources"] if source not in held]
            if unknown:
                kept = victim.setdefault("unread", {})
                kept["sources"] = "; ".join(filter(None, [kept.get("sources"), *unknown]))
                self.warn(f"victims[{index}].sources", "names sources the row does not hold; "
                          "kept verbatim with the victim")
            if not cited:
                cited = sorted(held, key=lambda source: int(source[1:]))
                self.warn(f"victims[{index}].sources", "names no source of the row; cites "
                          "all of them")
            victim["sources"] = cited

    def _date_end(self, clean: dict[str, Any], value: Any) -> None:
        day = self.optional("date_end", value, self._day)
        if day is not None and day < clean["date"]:
            self.keep("date_end", value, "is before the incident's date")
        elif day is not None:
            clean["date_end"] = day

    def _time(self, clean: dict[str, Any], value: Any) -> None:
        clean["time"] = self.optional("time", value, _time_of_day)

    def _retracted(self, clean: dict[str, Any], value: Any) -> None:
        ids = []
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            text = item.strip().lower() if isinstance(item, str) else ""
            if RETRACTABLE_ID.fullmatch(text):
                ids.append(text)
            elif not is_blank(item):
                self.keep(f"retracted[{index}]", item,
                          "not the id of a strike (k1), competing claim (c1), assessment (a1) "
                          "or finding (f1)")
        clean["retracted"] = ids

    def _day(self, value: Any) -> str:
        try:
            return self.intake.day(value).isoformat()
        except UnreadableDay as problem:
            raise Unreadable(problem.reason) from None

    def _validated(self, clean: dict[str, Any]) -> IncidentRecord:
        """The record; a value the model still refuses is kept verbatim (required: refused)."""
        for _ in range(50):
            try:
                return IncidentRecord.model_validate(clean)
            except ValidationError as error:
                problem = error.errors()[0]
                top = str(problem["loc"][0]) if problem["loc"] else ""
                if not top or top in REQUIRED or top not in clean:
                    raise Refusal(f"{top or 'row'}: {problem['msg']}") from None
                value = clean.pop(top)
                if top == "victims":  # never kept in clear: the whole row waits instead
                    raise Refusal("victims: " + str(problem["msg"]).removeprefix(
                        "Value error, ") + "; the row is left out so that no person's "
                        "details are kept in clear") from None
                if top == "unread":
                    value = {k: verbatim(v) for k, v in value.items()} \
                        if isinstance(value, dict) else {"unread": verbatim(value)}
                    clean["unread"] = value
                    continue
                self.keep(top, value, "not readable")
                clean["unread"] = {**clean.get("unread", {}), top: verbatim(value)}
        raise Refusal("row: too many unreadable values")

    # ----------------------------------------------------------- required

    @staticmethod
    def _code(value: Any) -> str:
        if is_blank(value):
            raise Refusal("code: missing (every incident needs its code)")
        if not isinstance(value, str):
            raise Refusal("code: not an incident code (letters, digits and an optional "
                          "one-letter suffix, for example CS1234)")
        try:
            return canonical_code(tidy(value))
        except ValueError:
            raise Refusal("code: not an incident code (letters, digits and an optional "
                          "one-letter suffix, for example CS1234)") from None

    def _date(self, value: Any) -> str:
        if is_blank(value):
            raise Refusal("date: missing (every incident needs the day it happened)")
        try:
            return self.intake.day(value).isoformat()
        except UnreadableDay as problem:
            raise Refusal(f"date: {problem.reason}") from None

    def _country(self, value: Any) -> str:
        if is_blank(value):
            raise Refusal("country: missing (every incident needs its country)")
        if not isinstance(value, str) or len(value.strip()) > MAX_NAME:
            raise Refusal("country: not a country's name")
        return self._party("country", value.strip())

    def _location(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict) or is_blank(value.get("name")):
            raise Refusal("location.name: missing (every incident needs the place's name)")
        name = value["name"]
        if not isinstance(name, str) or len(name.strip()) > MAX_NAME:
            raise Refusal(f"location.name: not a place name of at most {MAX_NAME} characters")
        place: dict[str, Any] = {"name": name.strip()}
        self._coordinates(value, place)
        place["precision"] = self.optional(
            "location.precision", value.get("precision"),
            lambda v: _choice(v, PRECISIONS, "a precision (" + ", ".join(PRECISIONS) + ")"))
        for key, extra in value.items():
            if key not in ("name", "lat", "lon", "precision", "coordinates_text") \
                    and not is_blank(extra):
                self.keep(f"location.{key}", extra, "not a field of the format")
        return place

    def _coordinates(self, given: dict[str, Any], place: dict[str, Any]) -> None:
        lat, lon = given.get("lat"), given.get("lon")
        kept = _text(given.get("coordinates_text"), MAX_TEXT) \
            if isinstance(given.get("coordinates_text"), str) else None
        if is_blank(lat) and is_blank(lon):
            place["coordinates_text"] = kept
            return
        try:
            latitude, longitude = _number(lat), _number(lon)
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise Unreadable("out of range")
            place["lat"], place["lon"] = latitude, longitude
            place["coordinates_text"] = kept
        except Unreadable:
            parts = [f"{verbatim(lat)}, {verbatim(lon)}" if not is_blank(lat)
                     and not is_blank(lon) else
                     f"lat {verbatim(lat)}" if not is_blank(lat) else f"lon {verbatim(lon)}"]
            place["coordinates_text"] = "; ".join([*([kept] if kept else []), *parts])
            self.warn("location.coordinates_text",
                      "coordinates not readable or out of range (latitude -90 to 90, "
                      "longitude -180 to 180, both given); kept verbatim, "
                      "the incident stored without coordinates")

    # ------------------------------------------------------------- parties

    def _party(self, path: str, name: str) -> str:
        canonical = self.intake.parties.canonical(name)
        if canonical != name:
            self.warn(path, f"recorded under the party's name {canonical}")
        return canonical

    def _names(self, path: str, value: Any) -> list[str]:
        """Names of parties: split at ';', blanks left out, each party once."""
        items = value if isinstance(value, list) else [value]
        names: list[str] = []
        keys: dict[str, int] = {}
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            if is_blank(item):
                continue
            if not isinstance(item, str):
                self.keep(where, item, "not a name")
                continue
            parts = [part.strip() for part in item.split(";") if not is_blank(part)]
            if len(parts) > 1:
                self.warn(where, "names separated by ';' read as several parties")
            for part in parts:
                if len(part) > MAX_NAME:
                    self.keep(where, part, f"longer than {MAX_NAME} characters")
                    continue
                name = self._party(where, part)
                key = self.intake.parties.key(name)
                if key in keys:
                    self.warn(where, f"the same party as {path}[{keys[key]}]; recorded once")
                    continue
                keys[key] = index
                names.append(name)
        return names

    # ------------------------------------------------------------ optional

    def _belligerents(self, clean: dict[str, Any], value: Any) -> None:
        clean["belligerents"] = self._names("belligerents", value)

    def _count(self, path: str, value: Any) -> dict[str, Any]:
        if is_blank(value):
            return {}
        try:
            return _read_count(value)
        except Unreadable as problem:
            self.warn(path, f"{problem}; kept verbatim as {path}.text")
            return {"text": verbatim(value)}

    def _killed(self, clean: dict[str, Any], value: Any) -> None:
        clean["civilians_killed"] = self._count("civilians_killed", value)

    def _injured(self, clean: dict[str, Any], value: Any) -> None:
        clean["civilians_injured"] = self._count("civilians_injured", value)

    def _summary(self, clean: dict[str, Any], value: Any) -> None:
        clean["summary"] = self.optional("summary", value, lambda v: _text(v, MAX_TEXT))

    def _sources(self, clean: dict[str, Any], value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        sources: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            source = self._source(f"sources[{index}]", item)
            if source is None:
                continue
            if source in sources:
                first = sources.index(source)
                self.warn(f"sources[{index}]",
                          f"the same source as sources[{first}]; recorded once")
                continue
            sources.append(source)
        clean["sources"] = sources

    def _source(self, path: str, item: Any) -> dict[str, Any] | None:
        if is_blank(item) or item == {}:
            return None
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            self.warn(path, "not a source object; kept verbatim, unrated")
            return {"unread": {"source": verbatim(item)}}
        return _SourceReader(self, path, item).read()

    # Evidence objects: each needs some values to mean anything (a strike its status and
    # party); without them the whole object is kept verbatim and does not count.

    def _objects(self, key: str, value: Any, what: str,
                 read: Callable[[str, dict[str, Any]], dict[str, Any]],
                 named: str | None = None) -> list[dict[str, Any]]:
        """The evidence objects of a list field (or a single object given alone)."""
        items = value if isinstance(value, list) else [value]
        found = []
        for index, item in enumerate(items):
            evidence = self._object(f"{key}[{index}]", item, what, read, named)
            if evidence is not None:
                found.append(evidence)
        return found

    def _object(self, path: str, item: Any, what: str,
                read: Callable[[str, dict[str, Any]], dict[str, Any]],
                named: str | None = None) -> dict[str, Any] | None:
        """One evidence object read by ``read``; kept verbatim when it cannot be read.

        ``named`` is the field a bare text stands for (a claim given as the
        party's name alone, say).
        """
        if is_blank(item) or item == {}:
            return None
        if named is not None and isinstance(item, str):
            item = {named: item}
        if not isinstance(item, dict):
            self.keep(path, item, f"not {what}")
            return None
        try:
            evidence = read(path, item)
        except Unreadable as problem:
            self.keep(path, item, f"{problem}; it does not count")
            return None
        self._extra(path, item, evidence)
        return evidence

    def _required_name(self, item: dict[str, Any], key: str) -> str:
        name = _text(item.get(key), MAX_NAME, "a name")
        if name is None:
            raise Unreadable(f"no {key.replace('_', ' ')} named")
        return name

    def _strike(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        status = _choice(item.get("status"), STATUSES, "a strike status (declared or likely)")
        belligerent = self._required_name(item, "belligerent")
        return {
            "status": status,
            "belligerent": self._party(f"{path}.belligerent", belligerent),
            "report": self.optional(f"{path}.report", item.get("report"),
                                    lambda v: _text(verbatim(v), MAX_NAME)),
            "distance_km": self.optional(f"{path}.distance_km", item.get("distance_km"),
                                         _distance),
            "day_offset": self.optional(f"{path}.day_offset", item.get("day_offset"),
                                        lambda v: _whole(v, -366, 366)),
            "rule": self.optional(f"{path}.rule", item.get("rule"),
                                  lambda v: _text(v, MAX_NAME)),
            "reported": self.optional(f"{path}.reported", item.get("reported"), self._day),
            "placed": self.optional(f"{path}.placed", item.get("placed"), _match_placing),
        }

    def _claim(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        party = self._required_name(item, "belligerent")
        return {"belligerent": self._party(f"{path}.belligerent", party),
                "reason": self.optional(f"{path}.reason", item.get("reason"),
                                        lambda v: _text(v, MAX_TEXT))}

    def _assessment(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        party = self._required_name(item, "belligerent")
        outcome = _choice(item.get("outcome"), OUTCOMES,
                          "an outcome (" + ", ".join(OUTCOMES) + ")")
        return {
            "belligerent": self._party(f"{path}.belligerent", party),
            "outcome": outcome,
            "reason": self.optional(f"{path}.reason", item.get("reason"),
                                    lambda v: _text(v, MAX_TEXT)),
            "conceded_killed": self._count(f"{path}.conceded_killed",
                                           item.get("conceded_killed")),
            "dated": self.optional(f"{path}.dated", item.get("dated"), self._day),
        }

    def _finding(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        basis = _choice(item.get("basis"), BASES, "a basis (combatants or other_party)")
        rationale = _text(item.get("rationale"), MAX_TEXT)
        if rationale is None:
            raise Unreadable("no rationale")
        party = _text(item.get("party"), MAX_NAME, "a name")
        if basis == DiscountBasis.OTHER_PARTY.value and party is None:
            raise Unreadable("names no other party")
        if basis == DiscountBasis.COMBATANTS.value and party is not None:
            raise Unreadable("names a party, though its basis is that those killed were "
                             "combatants")
        return {"basis": basis, "rationale": rationale,
                "party": self._party(f"{path}.party", party) if party else None}

    def _strikes(self, clean: dict[str, Any], value: Any, key: str) -> None:
        if key == "strike":
            clean["strike"] = self._object("strike", value, "a strike", self._strike)
        else:
            clean[key] = self._objects(key, value, "a strike", self._strike)

    def _claims(self, clean: dict[str, Any], value: Any) -> None:
        clean["contested_by"] = self._objects("contested_by", value, "a competing claim",
                                              self._claim, named="belligerent")

    def _assessments(self, clean: dict[str, Any], value: Any) -> None:
        clean["assessments"] = self._objects("assessments", value, "an assessment",
                                             self._assessment)

    def _discounts(self, clean: dict[str, Any], value: Any) -> None:
        clean["discounts"] = self._objects("discounts", value, "a finding", self._finding)

    def _graded(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "grade": _choice(item.get("grade"), GRADES, "a grade (" + ", ".join(GRADES) + ")"),
            "rationale": self.optional(f"{path}.rationale", item.get("rationale"),
                                       lambda v: _text(v, MAX_TEXT)),
            "rule": self.optional(f"{path}.rule", item.get("rule"), lambda v: _text(v, MAX_NAME)),
        }

    def _disputed(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        by = _text(item.get("by"), MAX_NAME, "a name")
        reason = _text(item.get("reason"), MAX_TEXT)
        if by is None or reason is None:
            raise Unreadable("a dispute needs who disputes and why")
        return {"by": by, "reason": reason}

    def _grade(self, clean: dict[str, Any], value: Any) -> None:
        clean["grade"] = self._object("grade", value, "a grade", self._graded, named="grade")

    def _dispute(self, clean: dict[str, Any], value: Any) -> None:
        clean["dispute"] = self._object("dispute", value, "a dispute", self._disputed)

    def _duplicate_of(self, clean: dict[str, Any], value: Any) -> None:
        def code(text: Any) -> str:
            if not isinstance(text, str):
                raise Unreadable("not an incident code")
            try:
                return canonical_code(tidy(text))
            except ValueError:
                raise Unreadable("not an incident code") from None

        clean["duplicate_of"] = self.optional("duplicate_of", value, code)

    def _notes(self, clean: dict[str, Any], value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        clean["notes"] = [note for index, item in enumerate(items)
                          if (note := self.optional(f"notes[{index}]", item,
                                                    lambda v: _text(v, MAX_TEXT))) is not None]

    def _victims(self, clean: dict[str, Any], value: Any) -> None:
        """Victims as archives list them; what cannot be read about a person is kept with
        the person's sealed details, never verbatim in the event."""
        if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
            # A list that did not read (a cut-off spreadsheet cell, say): taking it as one
            # name could publish a protected person, keeping it would keep names in clear.
            raise Refusal("victims: not readable as a list of victims; the row is left out "
                          "so that no person's details are kept in clear")
        items = value if isinstance(value, list) else [value]
        clean["victims"] = [victim for index, item in enumerate(items)
                            if (victim := self._victim(f"victims[{index}]", item)) is not None]

    def _victim(self, path: str, item: Any) -> dict[str, Any] | None:
        if is_blank(item) or item == {}:
            return None
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            self.warn(path, "not a victim; left out (it cannot be kept in clear)")
            return None
        victim: dict[str, Any] = {}
        given_unread = item.get("unread")
        unread: dict[str, str] = {str(key): verbatim(kept) for key, kept in given_unread.items()
                                  if not is_blank(kept)} \
            if isinstance(given_unread, dict) else {}
        if not isinstance(given_unread, dict) and not is_blank(given_unread):
            unread["unread"] = verbatim(given_unread)

        def read(key: str, reader: Callable[[Any], Any]) -> None:
            given = item.get(key)
            if is_blank(given):
                return
            try:
                victim[key] = reader(given)
            except Unreadable as problem:
                unread[key] = verbatim(given)
                self.warn(f"{path}.{key}", f"{problem}; kept verbatim with the victim's "
                          "sealed details")

        for key in ("name", "name_original", "family", "role"):
            read(key, lambda v: _text(v, MAX_NAME, "a name"))
        read("age", lambda v: _whole(v, 0, 130))
        read("age_group", lambda v: _choice(v, _choices(AgeGroup), "an age group"))
        read("gender", lambda v: _choice(v, _choices(Gender), "a gender"))
        read("status", lambda v: _choice(v, _choices(VictimStatus), "killed or injured"))
        for flag in ("withdrawn", "erased", "named"):
            read(flag, _yes_no)
        read("protected", _yes_no)
        if "protected" in unread:  # as for sources: a flag that does not read protects
            victim["protected"] = True
            self.warn(f"{path}.protected", "not readable as yes or no; treated as protected")
        victim["sources"] = self._cited(item.get("sources"), unread)
        known = {"name", "name_original", "family", "role", "age", "age_group", "gender",
                 "status", "protected", "withdrawn", "erased", "named", "sources", "unread"}
        for key, given in item.items():
            if key not in known and not is_blank(given):
                unread[str(key)] = verbatim(given)
                self.warn(f"{path}.{key}", "not a field of a victim; kept verbatim with the "
                          "victim's sealed details")
        if unread:
            victim["unread"] = unread
        return victim

    @staticmethod
    def _cited(given: Any, unread: dict[str, str]) -> list[str]:
        """The ids of the sources a victim names (checked against the row's: _check_cited);
        anything but a list or a text is kept verbatim and names none."""
        if is_blank(given):
            return []
        if isinstance(given, str):
            given = given.replace(",", ";").split(";")
        if not isinstance(given, list):
            unread["sources"] = verbatim(given)
            return []
        return [str(part).strip().lower() for part in given if not is_blank(part)]

    def _files(self, clean: dict[str, Any], value: Any) -> None:
        clean["files"] = value  # read once the row's sources are (a file cites one)

    def _read_files(self, value: Any, sources: int) -> list[dict[str, Any]]:
        """Evidence files as a full export lists them (SPEC section 12).

        An entry that does not read as a whole file record (a public export's,
        listed by hash alone, or anything else) is kept verbatim, never a reason
        to refuse the row; so is a second entry for the same bytes. A file citing
        a source the row does not hold is recorded without it, the id kept verbatim.
        """
        held = {f"s{number}" for number in range(1, sources + 1)}
        files: list[dict[str, Any]] = []
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            path = f"files[{index}]"
            if is_blank(item) or item == {}:
                continue
            if not isinstance(item, dict):
                self.keep(path, item, "not a file record")
                continue
            try:
                file = FileRecord.model_validate(
                    {key: given for key, given in item.items() if not is_blank(given)})
            except ValidationError:
                self.keep(path, item, "not a whole file record (a public export lists a file "
                          "by its hash, media type and description only)")
                continue
            if any(earlier["sha256"] == file.sha256 for earlier in files):
                self.keep(path, item, "the same bytes as an earlier file; recorded once")
                continue
            found = file.model_dump(mode="json")
            cited = (found["source"] or "").strip().lower()
            if cited and cited not in held:
                self.keep(f"{path}.source", found["source"], "names a source the row does not "
                          "hold; the file is recorded without it")
            found["source"] = cited if cited in held else None
            files.append(found)
        return files

    # Casework (SPEC section 13): internal, and never a reason to refuse the row.

    def _assignee(self, clean: dict[str, Any], value: Any) -> None:
        clean["assignee"] = self.optional("assignee", value,
                                          lambda v: _text(v, MAX_NAME, "a name"))

    def _tags(self, clean: dict[str, Any], value: Any) -> None:
        """Tags as `verify tag` keeps them (folded, words joined by hyphens): a list, or a
        text of tags separated by ';'. What does not read as a tag is kept verbatim."""
        if isinstance(value, str):
            value = value.split(";")
        tags: dict[str, int] = {}
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            path = f"tags[{index}]"
            if is_blank(item):
                continue
            try:
                tag = tag_of(item) if isinstance(item, str) else None
            except InvalidInput:
                tag = None
            if tag is None:
                self.keep(path, item, "not a tag (a word, or words joined by hyphens, of at "
                          f"most {MAX_TAG} characters)")
            elif tag in tags:
                self.warn(path, f"the same tag as tags[{tags[tag]}]; recorded once")
            else:
                tags[tag] = index
        clean["tags"] = list(tags)

    def _comments(self, clean: dict[str, Any], value: Any) -> None:
        """The discussion as a full export lists it: each comment with its text, author
        (``by``) and time (``at``), in order, answers naming the comment they answer.

        A comment lacking one of those three is kept verbatim whole and not
        recorded; an id or an answer that does not read, or names no earlier
        comment, is kept verbatim and the comment recorded without it. Comments
        are numbered m1… in the order they are recorded.
        """
        comments: list[dict[str, Any]] = []
        named: dict[str, str] = {}  # each comment's id in the row, and its id when recorded
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            path = f"comments[{index}]"
            if is_blank(item) or item == {}:
                continue
            comment = self._comment(path, item)
            if comment is None:
                continue
            given, number = comment.pop("id"), f"m{len(comments) + 1}"
            reply_to = comment["reply_to"]
            if reply_to is not None and reply_to not in named:
                self.keep(f"{path}.reply_to", item["reply_to"], "answers no earlier comment "
                          "of the row; the comment is recorded without it")
            comment["reply_to"] = named.get(reply_to) if reply_to is not None else None
            key = given or f"m{index + 1}"
            if given is not None and key in named:
                self.keep(f"{path}.id", item["id"], f"the same id as an earlier comment; "
                          f"recorded as {number}")
            elif given is not None and key != number:
                self.keep(f"{path}.id", item["id"], f"recorded as {number} (comments are "
                          "numbered in the order they are recorded)")
            named.setdefault(key, number)
            comments.append({"id": number, **comment})
        clean["comments"] = comments

    def _comment(self, path: str, item: Any) -> dict[str, Any] | None:
        """One comment read; None (the comment kept verbatim) without its text, author or
        time."""
        if not isinstance(item, dict):
            self.keep(path, item, "not a comment (its text, by and at)")
            return None
        try:
            comment = {"text": _needed(item, "text", MAX_COMMENT, "text", "text"),
                       "by": _needed(item, "by", MAX_NAME, "a name", "author (by)"),
                       "at": _moment(item.get("at"))}
        except Unreadable as problem:
            self.keep(path, item, f"{problem}; the comment is not recorded")
            return None
        comment["id"] = self.optional(f"{path}.id", item.get("id"), _comment_id)
        comment["reply_to"] = self.optional(f"{path}.reply_to", item.get("reply_to"),
                                            _comment_id)
        comment["mentions"] = self._mentions(f"{path}.mentions", item.get("mentions"))
        known = {"id", "text", "reply_to", "mentions", "by", "at"}
        for key, given in item.items():
            if key not in known and not is_blank(given):
                self.keep(f"{path}.{key}", given, "not a field of a comment")
        return comment

    def _mentions(self, path: str, value: Any) -> list[str]:
        """The members a comment mentions, as they were recorded (the team is not asked)."""
        if is_blank(value):
            return []
        items = value if isinstance(value, list) else [value]
        names: list[str] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(value, list) else path
            if is_blank(item):
                continue
            if not isinstance(item, str):
                self.keep(where, item, "not a name")
                continue
            parts = [item] if isinstance(value, list) else item.split(";")
            for part in parts:
                name = part.strip()
                if len(name) > MAX_NAME:
                    self.keep(where, name, f"longer than {MAX_NAME} characters")
                elif name:
                    names.append(name)
        return names

    def _kept(self, clean: dict[str, Any], value: Any) -> None:
        """Values an export carries as already kept verbatim: they stay as they are."""
        if is_blank(value) or value == {}:
            return
        if not isinstance(value, dict):
            self.keep("unread", value, "not a table of kept values")
            return
        clean["unread"] = {str(key): verbatim(kept) for key, kept in value.items()
                           if not is_blank(kept)}

    def _extra(self, path: str, given: dict[str, Any], read: dict[str, Any]) -> None:
        for key, value in given.items():
            if key not in read and not is_blank(value):
                self.keep(f"{path}.{key}", value, "not a field of the format")


_FIELDS: dict[str, Callable[[_Row, dict[str, Any], Any], None]] = {
    "belligerents": _Row._belligerents,
    "civilians_killed": _Row._killed,
    "civilians_injured": _Row._injured,
    "summary": _Row._summary,
    "sources": _Row._sources,
    "strike": lambda row, clean, value: row._strikes(clean, value, "strike"),
    "other_strikes": lambda row, clean, value: row._strikes(clean, value, "other_strikes"),
    "contested_by": _Row._claims,
    "assessments": _Row._assessments,
    "discounts": _Row._discounts,
    "grade": _Row._grade,
    "dispute": _Row._dispute,
    "duplicate_of": _Row._duplicate_of,
    "notes": _Row._notes,
    "unread": _Row._kept,
    "date_end": _Row._date_end,
    "time": _Row._time,
    "retracted": _Row._retracted,
    "victims": _Row._victims,
    "files": _Row._files,
    "assignee": _Row._assignee,
    "tags": _Row._tags,
    "comments": _Row._comments,
}


def _time_of_day(value: Any) -> str:
    if not isinstance(value, str):
        raise Unreadable("not a time of day (HH:MM)")
    try:
        return read_time(value)
    except UnreadableDay as problem:
        raise Unreadable(problem.reason) from None


def _needed(item: dict[str, Any], key: str, limit: int, what: str, label: str) -> str:
    """A comment's text or author; Unreadable, naming it, when blank or unreadable."""
    try:
        text = _text(item.get(key), limit, what)
    except Unreadable as problem:
        raise Unreadable(f"{label}: {problem}") from None
    if text is None:
        raise Unreadable(f"no {label}")
    return text


def _moment(value: Any) -> dt.datetime:
    """When a comment was written: an ISO 8601 date and time, with its offset if given."""
    if is_blank(value):
        raise Unreadable("no time (at)")
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Unreadable("time (at): not a date and time such as 2017-03-22T09:00:00Z")


def _comment_id(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not COMMENT_ID.fullmatch(text):
        raise Unreadable("not a comment's id (m1, m2, …)")
    return text


def _web_address(value: Any) -> str | None:
    url = _text(value, MAX_URL, "a URL")
    if url is not None and not is_web_address(url):
        raise Unreadable("not a web address (http:// or https://)")
    return url


def _match_placing(value: Any) -> dict[str, Any]:
    """How a matched strike's two sides were placed, as an export writes it."""
    if isinstance(value, str):  # a CSV cell holds it as JSON
        try:
            value = json.loads(value)
        except ValueError:
            raise Unreadable("not how a match placed its incident and report") from None
    try:
        return MatchPlacing.model_validate(value).model_dump(mode="json")
    except ValidationError:
        raise Unreadable("not how a match placed its incident and report") from None


def _distance(value: Any) -> float:
    number = _number(value)
    if not 0 <= number <= 20_000:
        raise Unreadable("not a distance from 0 to 20,000 km")
    return number


def _read_count(value: Any) -> dict[str, Any]:
    """A casualty count given as a number, as text ("at least 30") or as {min, max[, text]}."""
    if isinstance(value, bool):
        raise Unreadable("not a count")
    if isinstance(value, int | float):
        number = _whole(value, 0, 10_000_000)
        return {"min": number, "max": number}
    if isinstance(value, str):
        try:
            low, high = read_count(value)
        except UnreadableCount as problem:
            raise Unreadable(problem.reason) from None
        return {"min": low, "max": high}
    if not isinstance(value, dict):
        raise Unreadable("not a count")
    unknown = set(value) - {"min", "max", "text"}
    if unknown:
        raise Unreadable(f"{sorted(unknown)[0]} is not part of a count")
    bounds = [None if is_blank(value.get(end)) else _bound(value.get(end))
              for end in ("min", "max")]
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise Unreadable(f"the minimum {bounds[0]} is above the maximum {bounds[1]}")
    counted: dict[str, Any] = {"min": bounds[0], "max": bounds[1]}
    kept = value.get("text")
    if not is_blank(kept):
        counted["text"] = verbatim(kept)
    return counted


def _bound(value: Any) -> int:
    if isinstance(value, str):
        try:
            low, high = read_count(value)
        except UnreadableCount as problem:
            raise Unreadable(problem.reason) from None
        if low is None or low != high:
            raise Unreadable("a bound must be one number")
        return low
    try:
        return _whole(value, 0, 10_000_000)
    except Unreadable:
        raise Unreadable("not a count") from None


class _SourceReader:
    """One source of a row: what cannot be read stays with the source (it may be protected)."""

    def __init__(self, row: _Row, path: str, given: dict[str, Any]) -> None:
        self.row = row
        self.path = path
        self.given = given
        self.unread: dict[str, str] = {}

    def value(self, key: str, read: Callable[[Any], Any]) -> Any:
        raw = self.given.get(key)
        if is_blank(raw):
            return None
        try:
            return read(raw)
        except Unreadable as problem:
            self.unread[key] = verbatim(raw)
            self.row.warn(f"{self.path}.{key}", f"{problem}; kept verbatim with the source")
            return None

    def read(self) -> dict[str, Any] | None:
        intake = self.row.intake
        source: dict[str, Any] = {
            "url": self.value("url", _web_address),
            "publisher": self.value("publisher", lambda v: _text(v, MAX_NAME, "a name")),
            "kind": self.value("kind", lambda v: _choice(
                v, KINDS, "a kind (" + ", ".join(KINDS) + ")")),
            "reliability": self.value("reliability", lambda v: _choice(
                v, RELIABILITIES, "a reliability from A to F")),
            "credibility": self.value("credibility", lambda v: Credibility(_whole(v, 1, 6))),
            "group": self.value("group", lambda v: _text(verbatim(v), MAX_NAME)),
            "protected": self._protected(),
            "withdrawn": self.value("withdrawn", _yes_no) or False,
        }
        source["published"], source["published_text"] = self._published(intake)
        kept = self.given.get("unread")
        if isinstance(kept, dict):
            self.unread.update({str(k): verbatim(v) for k, v in kept.items() if not is_blank(v)})
        elif not is_blank(kept):
            self.unread["unread"] = verbatim(kept)
        for key, raw in self.given.items():
            if key not in source and key != "unread" and not is_blank(raw):
                self.unread[str(key)] = verbatim(raw)
                self.row.warn(f"{self.path}.{key}",
                              "not a field of a source; kept verbatim with the source")
        source["unread"] = self.unread
        return {key: value for key, value in source.items() if value is not None}

    def _protected(self) -> bool:
        raw = self.given.get("protected")
        if is_blank(raw):
            return False
        try:
            return _yes_no(raw)
        except Unreadable:
            self.unread["protected"] = verbatim(raw)
            self.row.warn(f"{self.path}.protected",
                          "not readable as yes or no; treated as protected")
            return True

    def _published(self, intake: Intake) -> tuple[str | None, str | None]:
        raw, given_text = self.given.get("published"), self.given.get("published_text")
        kept = given_text.strip() if isinstance(given_text, str) and given_text.strip() else None
        if not is_blank(given_text) and kept is None:
            self.unread["published_text"] = verbatim(given_text)
        if is_blank(raw):
            return None, kept
        try:
            return intake.day(raw).isoformat(), kept
        except UnreadableDay as problem:
            if kept is not None:
                self.unread["published"] = verbatim(raw)
                self.row.warn(f"{self.path}.published",
                              f"{problem.reason}; kept verbatim with the source")
                return None, kept
            self.row.warn(f"{self.path}.published",
                          f"{problem.reason}; kept verbatim as published_text")
            return None, verbatim(raw)


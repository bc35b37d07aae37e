"""Tell an incident's events as a person reads them: what happened, and why."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from verify.application.messages import moment_as_given
from verify.application.views import HistoryEntry
from verify.domain.incident import Incident
from verify.domain.rulebook import reason_sentence
from verify.domain.sentences import Listed, Sentence, sentence, sentence_template
from verify.domain.values import (
    AssessmentOutcome,
    CasualtyRange,
    DisputeOutcome,
    Grade,
    Precision,
    SourceKind,
    StrikeStatus,
    how_far,
)
from verify.domain.victims import AgeGroup, Gender, VictimStatus

Payload = dict[str, Any]

Word = TypeVar("Word", bound=enum.StrEnum)


def _word(kind: type[Word], value: Any) -> Word | Any:
    """A value of a payload as the word of the record it names (translated on a page), or as
    it is when it names none (an event recorded by an older version, say)."""
    try:
        return kind(value)
    except ValueError:
        return value


def _count(value: Payload) -> str:
    return str(CasualtyRange.model_validate(value))


def _listed(parts: Sequence[str], separator: str) -> str:
    """Pieces of a line one after another; one piece alone is itself."""
    return parts[0] if len(parts) == 1 else Listed(parts, separator)


def _reported(data: Payload) -> str:
    when: str = data["date"]
    if data.get("date_end"):
        when = sentence("%(start)s to %(end)s", start=when, end=data["date_end"])
    if data.get("time"):
        when = sentence("%(day)s %(time)s", day=when, time=data["time"])
    alleged = (Listed(data["belligerents"], ", ") if data["belligerents"]
               else sentence("party unknown"))
    return sentence(
        "reported %(code)s: %(when)s, %(place)s, %(country)s; alleged %(alleged)s; "
        "civilians killed %(killed)s",
        code=data["code"], when=when, place=data["location"]["name"], country=data["country"],
        alleged=alleged, killed=_count(data["killed"]))


def _rating(rated: Payload) -> str:
    """A source's Admiralty rating as written: B2."""
    return f"{rated['reliability']}{rated['credibility']}"


def _source_added(data: Payload) -> str:
    source = data["source"]
    values = {
        "source": source["id"],
        "publisher": source.get("publisher") or sentence("publisher unknown"),
        "kind": _word(SourceKind, source["kind"]) if source.get("kind")
        else sentence("kind unknown"),
        "rating": _rating(source),
        "group": source.get("group"),
    }
    if source.get("group") and source.get("protected"):
        return sentence("added source %(source)s: %(publisher)s (%(kind)s, %(rating)s), "
                        "group %(group)s, protected", **values)
    if source.get("group"):
        return sentence("added source %(source)s: %(publisher)s (%(kind)s, %(rating)s), "
                        "group %(group)s", **values)
    del values["group"]
    if source.get("protected"):
        return sentence("added source %(source)s: %(publisher)s (%(kind)s, %(rating)s), "
                        "protected", **values)
    return sentence("added source %(source)s: %(publisher)s (%(kind)s, %(rating)s)", **values)


def _graded(data: Payload) -> str:
    grade = _word(Grade, data["grade"])
    if data["override"]:
        return sentence("graded %(grade)s by override (the rulebook said %(rulebook_grade)s)",
                        grade=grade, rulebook_grade=_word(Grade, data["rulebook_grade"]))
    if data["imported"]:  # the archive's own reason, when it gave one, is the entry's why
        return sentence("imported grade %(grade)s, as recorded by the source archive",
                        grade=grade)
    return sentence("graded %(grade)s by rule %(rule)s, rulebook %(rulebook)s",
                    grade=grade, rule=data["rule"], rulebook=data["rulebook"])


def _proposed(data: Payload) -> str:
    grade = _word(Grade, data["grade"])
    if data["override"]:
        return sentence("proposed grade %(grade)s by override (the rulebook said "
                        "%(rulebook_grade)s); awaits a second person's approval",
                        grade=grade, rulebook_grade=_word(Grade, data["rulebook_grade"]))
    return sentence("proposed grade %(grade)s by rule %(rule)s, rulebook %(rulebook)s; "
                    "awaits a second person's approval",
                    grade=grade, rule=data["rule"], rulebook=data["rulebook"])


def _strike(data: Payload) -> str:
    strike = data["strike"]
    status = _word(StrikeStatus, strike["status"])
    parts = [
        sentence("confirmed %(status)s strike by %(belligerent)s (%(report)s)", status=status,
                 belligerent=strike["belligerent"], report=strike["report"])
        if strike.get("report") else
        sentence("confirmed %(status)s strike by %(belligerent)s", status=status,
                 belligerent=strike["belligerent"])]
    placed = data.get("placed")  # how a match placed each side (version 2 on)
    if strike.get("distance_km") is not None or placed:
        parts.append(how_far(strike.get("distance_km"), placed))
    if placed and not placed.get("same_place"):
        parts.extend(_placed_at(placed))
    if strike.get("day_offset") is not None:
        parts.append(sentence("%(days)s day(s)", days=format(strike["day_offset"], "+d")))
    if strike.get("rule"):
        parts.append(sentence("matched by %(rule)s", rule=_match_rule(strike["rule"])))
    return _listed(parts, ", ")


def _placed_at(placed: Payload) -> list[Sentence]:
    """Which side of a match was only a gazetteer place: its distance is from a centre."""
    parts = []
    if placed["incident"].get("by") == "gazetteer":
        parts.append(sentence("the incident placed at %(place)s (gazetteer)",
                              place=placed["incident"]["place"]))
    if placed["report"].get("by") == "gazetteer":
        parts.append(sentence("the report placed at %(place)s (gazetteer)",
                              place=placed["report"]["place"]))
    return parts


_MATCH_RULE = re.compile(r"MATCH: same belligerent, within (\S+) km and (-?\d+) day\(s\)")
"""How strike matching names its rule (domain.strikes.match_rule), stored in the strike."""


def _match_rule(rule: str) -> str:
    """A stored matching rule, said again as a sentence when it reads as one."""
    found = _MATCH_RULE.fullmatch(str(rule))
    if found is None:
        return str(rule)
    return sentence("MATCH: same belligerent, within %(radius)s km and %(days)s day(s)",
                    radius=found[1], days=found[2])


def _assessment(data: Payload) -> str:
    assessment = data["assessment"]
    outcome = _word(AssessmentOutcome, assessment["outcome"])
    conceded = assessment.get("conceded_killed") or {}
    if conceded.get("min") is not None or conceded.get("max") is not None:
        return sentence("%(belligerent)s assessed it %(outcome)s, conceding %(killed)s "
                        "civilian deaths", belligerent=assessment["belligerent"],
                        outcome=outcome, killed=_count(conceded))
    return sentence("%(belligerent)s assessed it %(outcome)s",
                    belligerent=assessment["belligerent"], outcome=outcome)


FACT_NAMES = {
    "date": sentence_template("date"),
    "date_end": sentence_template("date end"),
    "time": sentence_template("time"),
    "location": sentence_template("location"),
    "country": sentence_template("country"),
    "belligerents": sentence_template("belligerents"),
    "summary": sentence_template("summary"),
    "status": sentence_template("status"),
    "gender": sentence_template("gender"),
    "age_group": sentence_template("age group"),
    "sources": sentence_template("sources"),
    "protected": sentence_template("protected"),
    "name": sentence_template("name"),
    "name_original": sentence_template("name original"),
    "age": sentence_template("age"),
    "family": sentence_template("family"),
    "role": sentence_template("role"),
    "unread": sentence_template("unread"),
}
"""The facts of an incident or a victim a history line names, as it names them."""

FACT_WORDS: dict[str, type[enum.StrEnum]] = {"status": VictimStatus, "gender": Gender,
                                             "age_group": AgeGroup}
"""Facts whose values are words of the record."""


def _fact_name(field: str) -> str:
    template = FACT_NAMES.get(field)
    return sentence(template) if template is not None else field.replace("_", " ")


def _fact(field: str, value: Any) -> str:
    """One fact of an incident as a history line shows it."""
    if value is None or value == []:
        return sentence("none")
    if field == "location":
        place = str(value["name"])
        precision = _word(Precision, value["precision"]) if value.get("precision") else None
        if value.get("lat") is not None:
            if precision is not None:
                return sentence("%(place)s (%(lat)s, %(lon)s, %(precision)s)", place=place,
                                lat=value["lat"], lon=value["lon"], precision=precision)
            return sentence("%(place)s (%(lat)s, %(lon)s)", place=place, lat=value["lat"],
                            lon=value["lon"])
        if precision is not None:
            return sentence("%(place)s (%(precision)s)", place=place, precision=precision)
        return place
    if field in ("belligerents", "sources"):
        return _listed([str(item) for item in value], ", ")
    if field in FACT_WORDS:
        return _word(FACT_WORDS[field], value)
    return str(value)


def _changes(changes: Payload) -> list[str]:
    """Each changed fact, old then new: 'date 2027-03-21 → 2017-03-21'."""
    return [sentence("%(fact)s %(old)s → %(new)s", fact=_fact_name(field),
                     old=_fact(field, change["old"]), new=_fact(field, change["new"]))
            for field, change in changes.items()]


def _amended(data: Payload) -> str:
    """'amended date 2027-03-21 → 2017-03-21; summary …': each changed fact, old then new."""
    return sentence("amended %(changes)s", changes=Listed(_changes(data["changes"]), "; "))


def _regrade(data: Payload) -> str:
    if not data["due"]:
        return sentence("the rulebook again grades it as recorded; no re-grading due")
    if not data["grade"]:
        return sentence("re-grading due: the evidence changed and no active source is left")
    return sentence("re-grading due: the evidence changed; the rulebook now grades it "
                    "%(grade)s by rule %(rule)s", grade=_word(Grade, data["grade"]),
                    rule=data["rule"])


def _victim(data: Payload) -> str:
    victim = data["victim"]
    known = [_word(VictimStatus, victim["status"]),
             *(_word(FACT_WORDS[name], victim[name]) for name in ("gender", "age_group")
               if victim.get(name))]
    values = {"victim": victim["id"], "facts": Listed(known, ", "),
              "sources": Listed(victim["sources"], ", ")}
    if victim.get("named") and victim.get("protected"):
        return sentence("recorded victim %(victim)s: %(facts)s, named, protected; "
                        "sources %(sources)s", **values)
    if victim.get("named"):
        return sentence("recorded victim %(victim)s: %(facts)s, named; sources %(sources)s",
                        **values)
    if victim.get("protected"):
        return sentence("recorded victim %(victim)s: %(facts)s, unnamed, protected; "
                        "sources %(sources)s", **values)
    return sentence("recorded victim %(victim)s: %(facts)s, unnamed; sources %(sources)s",
                    **values)


def _victim_amended(data: Payload) -> str:
    parts = _changes(data["changes"])
    parts += [sentence("%(fact)s changed", fact=_fact_name(field)) for field in data["details"]]
    return sentence("amended victim %(victim)s: %(changes)s", victim=data["victim_id"],
                    changes=Listed(parts, "; "))


def _commented(data: Payload) -> str:
    comment = data["comment"]
    mentions = Listed([f"@{name}" for name in comment.get("mentions") or []], ", ")
    if comment.get("reply_to") and mentions:
        return sentence("comment %(comment)s, answering %(answered)s, mentioning %(names)s",
                        comment=comment["id"], answered=comment["reply_to"], names=mentions)
    if comment.get("reply_to"):
        return sentence("comment %(comment)s, answering %(answered)s", comment=comment["id"],
                        answered=comment["reply_to"])
    if mentions:
        return sentence("comment %(comment)s, mentioning %(names)s", comment=comment["id"],
                        names=mentions)
    return sentence("comment %(comment)s", comment=comment["id"])


def _collected(data: Payload) -> str:
    found = data["file"]
    values = {"file": found["id"], "media_type": found["media_type"],
              "size": f"{found['size']:,}", "sha256": found["sha256"],
              "name": found["collected_by"],
              "moment": moment_as_given(str(found["collected_at"])),
              "origin": found.get("origin"), "source": found.get("source")}
    if found.get("origin") and found.get("source"):
        return sentence("collected file %(file)s: %(media_type)s, %(size)s bytes, sha256 "
                        "%(sha256)s; collected by %(name)s at %(moment)s from %(origin)s "
                        "(with source %(source)s)", **values)
    if found.get("origin"):
        del values["source"]
        return sentence("collected file %(file)s: %(media_type)s, %(size)s bytes, sha256 "
                        "%(sha256)s; collected by %(name)s at %(moment)s from %(origin)s",
                        **values)
    del values["origin"]
    if found.get("source"):
        return sentence("collected file %(file)s: %(media_type)s, %(size)s bytes, sha256 "
                        "%(sha256)s; collected by %(name)s at %(moment)s (with source "
                        "%(source)s)", **values)
    del values["source"]
    return sentence("collected file %(file)s: %(media_type)s, %(size)s bytes, sha256 "
                    "%(sha256)s; collected by %(name)s at %(moment)s", **values)


def _discounted(data: Payload) -> str:
    finding = data["finding"]
    if finding["basis"] == "combatants":
        return sentence("found the dead were combatants")
    if finding.get("party"):
        return sentence("found %(party)s most likely responsible", party=finding["party"])
    return sentence("found another party most likely responsible")


def _resolved(data: Payload) -> str:
    if data["outcome"] == DisputeOutcome.UPHELD.value:
        return sentence("dispute upheld")
    if data["outcome"] == DisputeOutcome.DISMISSED.value:
        return sentence("dispute dismissed")
    return sentence("dispute %(outcome)s", outcome=data["outcome"])


RETRACTED = {
    "k": sentence_template("retracted strike %(item)s"),
    "c": sentence_template("retracted competing claim %(item)s"),
    "a": sentence_template("retracted assessment %(item)s"),
    "f": sentence_template("retracted finding %(item)s"),
    "s": sentence_template("retracted source %(item)s"),
    "n": sentence_template("retracted note %(item)s"),
    "v": sentence_template("retracted victim %(item)s"),
    "e": sentence_template("retracted evidence file %(item)s"),
}
"""A retraction's line for each kind of evidence (by its id's letter, as EVIDENCE_NOUNS)."""
RETRACTED_EVIDENCE = sentence_template("retracted evidence %(item)s")


def _retracted(data: Payload) -> str:
    item = data["item_id"]
    return sentence(RETRACTED.get(item[:1], RETRACTED_EVIDENCE), item=item)


def _tagged(data: Payload) -> str:
    parts = []
    if data["added"]:
        parts.append(sentence("tagged %(tags)s", tags=Listed(data["added"], ", ")))
    if data["removed"]:
        parts.append(sentence("untagged %(tags)s", tags=Listed(data["removed"], ", ")))
    return _listed(parts, "; ")


def _unread_kept(data: Payload) -> str:
    return sentence("kept verbatim what the archive gave and could not be read: %(values)s",
                    values=Listed(list(data["values"]), ", "))


DESCRIBERS: dict[str, Callable[[Payload], str]] = {
    "Reported": _reported,
    "SourceAdded": _source_added,
    "SourceRerated": lambda d: sentence(
        "re-rated source %(source)s to %(rating)s", source=d["source_id"],
        rating=_rating(d)),
    "SourceWithdrawn": lambda d: sentence("withdrew source %(source)s", source=d["source_id"]),
    "Corroborated": lambda d: sentence(
        "corroborated by independent credible sources %(sources)s",
        sources=Listed(d["source_ids"], ", ")),
    "StrikeConfirmed": _strike,
    "AttributionContested": lambda d: sentence(
        "competing claim: %(belligerent)s", belligerent=d["claim"]["belligerent"]),
    "AssessmentRecorded": _assessment,
    "DiscountFound": _discounted,
    "HarmEstimateRevised": lambda d: sentence(
        "revised civilians killed to %(killed)s, injured %(injured)s",
        killed=_count(d["killed"]), injured=_count(d["injured"])),
    "Graded": _graded,
    "GradeProposed": _proposed,
    "GradeApproved": lambda d: sentence(
        "approved grade %(grade)s proposed by %(name)s", grade=_word(Grade, d["grade"]),
        name=d["proposed_by"]),
    "GradeDisputed": lambda d: sentence("grade disputed by %(name)s", name=d["by"]),
    "DisputeResolved": _resolved,
    "MarkedDuplicate": lambda d: sentence("marked a duplicate of %(original)s",
                                          original=d["of"]),
    "DuplicateUndone": lambda d: sentence("no longer a duplicate of %(original)s",
                                          original=d["of"]),
    "Amended": _amended,
    "Retracted": _retracted,
    "RegradeDue": _regrade,
    "VictimRecorded": _victim,
    "VictimAmended": _victim_amended,
    "VictimWithdrawn": lambda d: sentence("withdrew victim %(victim)s", victim=d["victim_id"]),
    "VictimErased": lambda d: sentence("victim %(victim)s erased", victim=d["victim_id"]),
    "FileCollected": _collected,
    "FileCopied": lambda d: sentence("copied file %(file)s out (sha256 %(sha256)s)",
                                     file=d["file_id"], sha256=d["sha256"]),
    "NoteAdded": lambda d: sentence("note added"),
    "Assigned": lambda d: (sentence("assigned to %(name)s", name=d["assignee"]) if d["assignee"]
                           else sentence("taken back from %(name)s", name=d["previous"])),
    "Commented": _commented,
    "Tagged": _tagged,
    "UnreadValuesKept": _unread_kept,
}

WHY_FIELDS = ("reason", "rationale")


def _why(name: str, data: Payload) -> str | None:
    for field in WHY_FIELDS:
        if data.get(field):
            return str(data[field])
    if name in ("Graded", "GradeProposed"):
        return Listed([reason_sentence(str(reason)) for reason in data.get("reasons", [])],
                      "; ") or None
    if name == "AttributionContested":
        reason = data["claim"].get("reason")
        return str(reason) if reason else None
    if name == "AssessmentRecorded":
        reason = data["assessment"].get("reason")
        return str(reason) if reason else None
    if name == "DiscountFound":
        return str(data["finding"]["rationale"])
    if name == "NoteAdded":
        return str(data["text"])
    if name == "Commented":
        return str(data["comment"]["text"])
    if name == "FileCollected":
        return str(data["file"].get("description") or "") or None
    return None


_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


WITHHELD = sentence_template("withheld: protected source")
INTERNAL_CASEWORK = {"Commented": sentence_template("comment (internal; withheld)"),
                     "Assigned": sentence_template("assignment changed (internal; withheld)"),
                     "Tagged": sentence_template("tags changed (internal; withheld)")}
"""Casework the public history names without telling (SPEC 13): a team's discussion,
who works on what, and the labels it uses."""
WITHHELD_VICTIM = sentence_template("withheld: protected victim")

_PROTECTED_RATING = re.compile(r"\b(s\d+) \(protected, [A-F][1-6]\)")
"""How the rulebook names a protected source in its reasons: by id and rating."""


def _without_ratings(text: str | None) -> str | None:
    """The text with protected sources named by id only; a list of reasons stays a list."""
    if text is None:
        return None
    if isinstance(text, Listed):
        return Listed([_without_ratings(part) or "" for part in text.parts], "; ")
    if isinstance(text, Sentence) and not _PROTECTED_RATING.search(text):
        return text
    return _PROTECTED_RATING.sub(r"\1 (protected)", text)


def public_history(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """The history fit to publish: protected sources and notes kept out, as in a public export.

    Reasons rarely name a source, but whoever wrote one about a protected
    source may have: those are withheld too. Grading reasons name protected
    sources by id and rating; the public history keeps the id only, and a
    protected source's re-rating says nothing of the rating either.
    """
    return [entry for entry, _ in public_entries(entries)]


def public_entries(entries: list[HistoryEntry]) -> list[tuple[HistoryEntry, bool]]:
    """Each entry of `public_history`, and whether it is withheld: told only as a placeholder
    (a protected source, victim or file, a note, the team's casework), which the public
    change feed leaves out altogether."""
    protected: set[str] = set()
    protected_files: set[str] = set()
    # A victim protected at any time is withheld from the start: its earlier entries
    # would otherwise tell what the protection now covers.
    protected_victims = {
        str(entry.data["victim"]["id"]) if entry.event == "VictimRecorded"
        else str(entry.data["victim_id"])
        for entry in entries
        if (entry.event == "VictimRecorded" and entry.data["victim"].get("protected"))
        or (entry.event == "VictimAmended"
            and (entry.data["changes"].get("protected") or {}).get("new"))}
    shown = []
    for entry in entries:
        withheld = True
        if entry.why or entry.data.get("reasons"):
            entry = entry.model_copy(update={
                "why": _without_ratings(entry.why),
                "data": {**entry.data, "reasons": [
                    _without_ratings(reason) for reason in entry.data.get("reasons", [])]}
                if "reasons" in entry.data else entry.data})
        if entry.event == "SourceAdded" and entry.data["source"].get("protected"):
            source_id = entry.data["source"]["id"]
            protected.add(source_id)
            entry = entry.model_copy(update={
                "what": sentence("added source %(source)s (protected; details withheld)",
                                 source=source_id),
                "data": {"source": {"id": source_id, "protected": True},
                         "actor": entry.data.get("actor")},
            })
        elif entry.event == "SourceRerated" and entry.data["source_id"] in protected:
            entry = entry.model_copy(update={
                "what": sentence("re-rated source %(source)s (protected; details withheld)",
                                 source=entry.data["source_id"]),
                "why": sentence(WITHHELD),
                "data": {"source_id": entry.data["source_id"], "reason": sentence(WITHHELD),
                         "actor": entry.data.get("actor")}})
        elif entry.data.get("source_id") in protected:
            entry = entry.model_copy(update={
                "why": sentence(WITHHELD), "data": {**entry.data, "reason": sentence(WITHHELD)}})
        elif entry.event == "VictimRecorded" and entry.data["victim"]["id"] in protected_victims:
            victim_id = entry.data["victim"]["id"]
            entry = entry.model_copy(update={
                "what": sentence("recorded victim %(victim)s (protected; details withheld)",
                                 victim=victim_id),
                "data": {"victim": {"id": victim_id, "protected": True},
                         "actor": entry.data.get("actor")}})
        elif entry.data.get("victim_id") in protected_victims:
            entry = entry.model_copy(update={
                "what": sentence("changed victim %(victim)s (protected; details withheld)",
                                 victim=entry.data["victim_id"]),
                "why": sentence(WITHHELD_VICTIM),
                "data": {"victim_id": entry.data["victim_id"], "actor": entry.data.get("actor")}})
        elif entry.event == "FileCollected" and entry.data["file"].get("protected"):
            file_id = entry.data["file"]["id"]
            protected_files.add(file_id)
            entry = entry.model_copy(update={
                "what": sentence("collected file %(file)s (protected; details withheld)",
                                 file=file_id),
                "why": None, "data": {"file": {"id": file_id, "protected": True},
                                      "actor": entry.data.get("actor")}})
        elif entry.event == "FileCopied" and entry.data["file_id"] in protected_files:
            entry = entry.model_copy(update={
                "what": sentence("copied file %(file)s out (protected; details withheld)",
                                 file=entry.data["file_id"]),
                "why": None,
                "data": {"file_id": entry.data["file_id"], "actor": entry.data.get("actor")}})
        elif entry.event == "NoteAdded":
            entry = entry.model_copy(update={
                "why": None, "data": {"actor": entry.data.get("actor")},
                "what": sentence("note added (internal; withheld)")})
        elif entry.event in INTERNAL_CASEWORK:
            entry = entry.model_copy(update={
                "why": None, "data": {"actor": entry.data.get("actor")},
                "what": sentence(INTERNAL_CASEWORK[entry.event])})
        elif entry.event == "UnreadValuesKept":
            from verify.application.records import withheld_in_public  # not every command's

            kept = {path: value for path, value in entry.data["values"].items()
                    if not withheld_in_public(path)}
            withheld = not kept and bool(entry.data["values"])  # all of it internal
            if len(kept) < len(entry.data["values"]):
                data = {**entry.data, "values": kept}
                entry = entry.model_copy(update={"data": data, "what": sentence(
                    "kept verbatim what the archive gave and could not be read: %(values)s "
                    "(an internal entry withheld)", values=Listed(list(kept), ", "))
                    if kept else sentence("kept verbatim what the archive gave and could not "
                                          "be read (an internal entry withheld)")})
        else:
            withheld = False
        shown.append((entry, withheld))
    return shown


def history_entry(event: Incident.Event) -> HistoryEntry:
    """One stored event as a history line."""
    name = type(event).__name__
    data = {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)
        if field.name not in _ENVELOPE
    }
    describe = DESCRIBERS.get(name)
    return HistoryEntry(
        version=event.originator_version,
        at=event.timestamp.isoformat(),
        actor=str(data.get("actor", "")),
        event=name,
        what=describe(data) if describe else name,
        why=_why(name, data),
        data=data,
    )


TOLD_WITH_NEIGHBOURS = frozenset({"HarmEstimateRevised", "Graded"})
"""Events whose history line needs the incident's other events (see `history_entries`);
`history_entry` alone tells them as the event itself has them."""


def history_entries(events: Iterable[Incident.Event]) -> list[HistoryEntry]:
    """Every event of one incident as history lines, oldest first, each told with what the
    events around it say.

    A revision carries only the new figures, and the grade an approval lets take
    effect is recorded in the proposer's name at the moment of the approval: the
    figures it replaced, and who proposed the grade when and who approved it
    when, are found while replaying (released events are never rewritten).
    """
    entries = [history_entry(event) for event in events]
    figures: Payload | None = None
    proposal: HistoryEntry | None = None
    for index, entry in enumerate(entries):
        if entry.event in ("Reported", "HarmEstimateRevised"):
            if entry.event == "HarmEstimateRevised" and figures is not None:
                entries[index] = entry.model_copy(
                    update={"what": _revised(entry.data, figures)})
            figures = {"killed": entry.data["killed"], "injured": entry.data["injured"]}
        elif entry.event == "GradeProposed":
            proposal = entry
        elif entry.event == "Graded":
            approval = entries[index + 1] if index + 1 < len(entries) else None
            if proposal is not None and approval is not None \
                    and approval.event == "GradeApproved":
                entries[index] = entry.model_copy(
                    update={"what": _took_effect(entry.data, proposal, approval)})
            proposal = None
    return entries


def _revised(data: Payload, before: Payload) -> str:
    """'revised civilians killed from 80-150 to 105-200': each figure that changed, old then
    new (a figure a revision left as it was goes unsaid)."""
    def changed(field: str) -> bool:
        return bool(CasualtyRange.model_validate(data[field])
                    != CasualtyRange.model_validate(before[field]))

    values = {"old_killed": _count(before["killed"]), "killed": _count(data["killed"]),
              "old_injured": _count(before["injured"]), "injured": _count(data["injured"])}
    if changed("killed") and changed("injured"):
        return sentence("revised civilians killed from %(old_killed)s to %(killed)s, injured "
                        "from %(old_injured)s to %(injured)s", **values)
    if changed("injured"):
        return sentence("revised civilians injured from %(old_injured)s to %(injured)s",
                        old_injured=values["old_injured"], injured=values["injured"])
    return sentence("revised civilians killed from %(old_killed)s to %(killed)s",
                    old_killed=values["old_killed"], killed=values["killed"])


def _took_effect(data: Payload, proposal: HistoryEntry, approval: HistoryEntry) -> str:
    """A grade that took effect on a second person's approval: who proposed it when, who
    approved it when (the event names the proposer, at the moment of the approval)."""
    values = {"grade": _word(Grade, data["grade"]), "proposer": proposal.actor,
              "proposed": moment_as_given(proposal.at), "approver": approval.actor,
              "approved": moment_as_given(approval.at)}
    if data["override"]:
        return sentence("grade %(grade)s took effect by override (the rulebook said "
                        "%(rulebook_grade)s): proposed by %(proposer)s at %(proposed)s, "
                        "approved by %(approver)s at %(approved)s",
                        rulebook_grade=_word(Grade, data["rulebook_grade"]), **values)
    return sentence("grade %(grade)s took effect by rule %(rule)s, rulebook %(rulebook)s: "
                    "proposed by %(proposer)s at %(proposed)s, approved by %(approver)s at "
                    "%(approved)s", rule=data["rule"], rulebook=data["rulebook"], **values)

"""Tell an incident's events as a person reads them: what happened, and why."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from verify.application.messages import moment_as_given
from verify.application.records import withheld_in_public
from verify.application.views import HistoryEntry
from verify.domain.incident import EVIDENCE_NOUNS, Incident
from verify.domain.values import CasualtyRange

Payload = dict[str, Any]


def _count(value: Payload) -> str:
    return str(CasualtyRange.model_validate(value))


def _reported(data: Payload) -> str:
    location = data["location"]["name"]
    alleged = ", ".join(data["belligerents"]) or "party unknown"
    when = data["date"]
    if data.get("date_end"):
        when += f" to {data['date_end']}"
    if data.get("time"):
        when += f" {data['time']}"
    return (
        f"reported {data['code']}: {when}, {location}, {data['country']}; "
        f"alleged {alleged}; civilians killed {_count(data['killed'])}"
    )


def _source_added(data: Payload) -> str:
    source = data["source"]
    publisher = source.get("publisher") or "publisher unknown"
    text = (
        f"added source {source['id']}: {publisher} ({source.get('kind') or 'kind unknown'}, "
        f"{source['reliability']}{source['credibility']})"
    )
    if source.get("group"):
        text += f", group {source['group']}"
    if source.get("protected"):
        text += ", protected"
    return text


def _graded(data: Payload) -> str:
    if data["override"]:
        how = f"override (the rulebook said {data['rulebook_grade']})"
    elif data["imported"]:
        how = "imported"
    else:
        how = f"rule {data['rule']}, rulebook {data['rulebook']}"
    return f"graded {data['grade']} by {how}"


def _proposed(data: Payload) -> str:
    how = (f"override (the rulebook said {data['rulebook_grade']})" if data["override"]
           else f"rule {data['rule']}, rulebook {data['rulebook']}")
    return f"proposed grade {data['grade']} by {how}; awaits a second person's approval"


def _strike(data: Payload) -> str:
    strike = data["strike"]
    text = f"{strike['status']} strike by {strike['belligerent']}"
    if strike.get("report"):
        text += f" ({strike['report']})"
    if strike.get("distance_km") is not None:
        text += f", {strike['distance_km']} km away"
    if strike.get("day_offset") is not None:
        text += f", {strike['day_offset']:+d} day(s)"
    if strike.get("rule"):
        text += f", matched by {strike['rule']}"
    return "confirmed " + text


def _assessment(data: Payload) -> str:
    assessment = data["assessment"]
    text = f"{assessment['belligerent']} assessed it {assessment['outcome']}"
    conceded = assessment.get("conceded_killed") or {}
    if conceded.get("min") is not None or conceded.get("max") is not None:
        text += f", conceding {_count(conceded)} civilian deaths"
    return text


def _fact(field: str, value: Any) -> str:
    """One fact of an incident as a history line shows it."""
    if value is None or value == []:
        return "none"
    if field == "location":
        text = str(value["name"])
        if value.get("lat") is not None:
            text += f" ({value['lat']}, {value['lon']}"
            text += f", {value['precision']})" if value.get("precision") else ")"
        elif value.get("precision"):
            text += f" ({value['precision']})"
        return text
    if field in ("belligerents", "sources"):
        return ", ".join(value)
    return str(value)


def _amended(data: Payload) -> str:
    """'date 2027-03-21 → 2017-03-21; summary …': each changed fact, old then new."""
    return "amended " + "; ".join(
        f"{field.replace('_', ' ')} {_fact(field, change['old'])} → {_fact(field, change['new'])}"
        for field, change in data["changes"].items())


def _regrade(data: Payload) -> str:
    if not data["due"]:
        return "the rulebook again grades it as recorded; no re-grading due"
    if not data["grade"]:
        return "re-grading due: the evidence changed and no active source is left"
    return (f"re-grading due: the evidence changed; the rulebook now grades it "
            f"{data['grade']} by rule {data['rule']}")


def _victim(data: Payload) -> str:
    victim = data["victim"]
    known = [victim["status"], *(victim[name] for name in ("gender", "age_group")
                                 if victim.get(name))]
    text = f"recorded victim {victim['id']}: {', '.join(known)}"
    text += ", named" if victim.get("named") else ", unnamed"
    if victim.get("protected"):
        text += ", protected"
    return text + f"; sources {', '.join(victim['sources'])}"


def _victim_amended(data: Payload) -> str:
    parts = [f"{field.replace('_', ' ')} {_fact(field, change['old'])} → "
             f"{_fact(field, change['new'])}" for field, change in data["changes"].items()]
    parts += [f"{field.replace('_', ' ')} changed" for field in data["details"]]
    return f"amended victim {data['victim_id']}: " + "; ".join(parts)


def _commented(data: Payload) -> str:
    comment = data["comment"]
    text = f"comment {comment['id']}"
    if comment.get("reply_to"):
        text += f", answering {comment['reply_to']}"
    if comment.get("mentions"):
        text += ", mentioning " + ", ".join(f"@{name}" for name in comment["mentions"])
    return text


def _collected(data: Payload) -> str:
    found = data["file"]
    text = (f"collected file {found['id']}: {found['media_type']}, {found['size']:,} bytes, "
            f"sha256 {found['sha256']}; collected by {found['collected_by']} at "
            f"{moment_as_given(str(found['collected_at']))}")
    if found.get("origin"):
        text += f" from {found['origin']}"
    if found.get("source"):
        text += f" (with source {found['source']})"
    return text


DESCRIBERS: dict[str, Callable[[Payload], str]] = {
    "Reported": _reported,
    "SourceAdded": _source_added,
    "SourceRerated": lambda d: (
        f"re-rated source {d['source_id']} to {d['reliability']}{d['credibility']}"
    ),
    "SourceWithdrawn": lambda d: f"withdrew source {d['source_id']}",
    "Corroborated": lambda d: (
        f"corroborated by independent credible sources {', '.join(d['source_ids'])}"
    ),
    "StrikeConfirmed": _strike,
    "AttributionContested": lambda d: f"competing claim: {d['claim']['belligerent']}",
    "AssessmentRecorded": _assessment,
    "DiscountFound": lambda d: (
        "found the dead were combatants"
        if d["finding"]["basis"] == "combatants"
        else f"found {d['finding'].get('party') or 'another party'} most likely responsible"
    ),
    "HarmEstimateRevised": lambda d: (
        f"revised civilians killed to {_count(d['killed'])}, injured {_count(d['injured'])}"
    ),
    "Graded": _graded,
    "GradeProposed": _proposed,
    "GradeApproved": lambda d: f"approved grade {d['grade']} proposed by {d['proposed_by']}",
    "GradeDisputed": lambda d: f"grade disputed by {d['by']}",
    "DisputeResolved": lambda d: f"dispute {d['outcome']}",
    "MarkedDuplicate": lambda d: f"marked a duplicate of {d['of']}",
    "DuplicateUndone": lambda d: f"no longer a duplicate of {d['of']}",
    "Amended": _amended,
    "Retracted": lambda d: (
        f"retracted {EVIDENCE_NOUNS.get(d['item_id'][:1], 'evidence')} {d['item_id']}"),
    "RegradeDue": _regrade,
    "VictimRecorded": _victim,
    "VictimAmended": _victim_amended,
    "VictimWithdrawn": lambda d: f"withdrew victim {d['victim_id']}",
    "VictimErased": lambda d: f"victim {d['victim_id']} erased",
    "FileCollected": _collected,
    "FileCopied": lambda d: f"copied file {d['file_id']} out (sha256 {d['sha256']})",
    "NoteAdded": lambda d: "note added",
    "Assigned": lambda d: (f"assigned to {d['assignee']}" if d["assignee"]
                           else f"taken back from {d['previous']}"),
    "Commented": _commented,
    "Tagged": lambda d: "; ".join(part for part in (
        "tagged " + ", ".join(d["added"]) if d["added"] else "",
        "untagged " + ", ".join(d["removed"]) if d["removed"] else "") if part),
    "UnreadValuesKept": lambda d: (
        "kept verbatim what the archive gave and could not be read: " + ", ".join(d["values"])
    ),
}

WHY_FIELDS = ("reason", "rationale")


def _why(name: str, data: Payload) -> str | None:
    for field in WHY_FIELDS:
        if data.get(field):
            return str(data[field])
    if name in ("Graded", "GradeProposed"):
        return "; ".join(data.get("reasons", [])) or None
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


WITHHELD = "withheld: protected source"
INTERNAL_CASEWORK = {"Commented": "comment (internal; withheld)",
                     "Assigned": "assignment changed (internal; withheld)",
                     "Tagged": "tags changed (internal; withheld)"}
"""Casework the public history names without telling (SPEC 13): a team's discussion,
who works on what, and the labels it uses."""
WITHHELD_VICTIM = "withheld: protected victim"

_PROTECTED_RATING = re.compile(r"\b(s\d+) \(protected, [A-F][1-6]\)")
"""How the rulebook names a protected source in its reasons: by id and rating."""


def _without_ratings(text: str | None) -> str | None:
    return None if text is None else _PROTECTED_RATING.sub(r"\1 (protected)", text)


def public_history(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """The history fit to publish: protected sources and notes kept out, as in a public export.

    Reasons rarely name a source, but whoever wrote one about a protected
    source may have: those are withheld too. Grading reasons name protected
    sources by id and rating; the public history keeps the id only, and a
    protected source's re-rating says nothing of the rating either.
    """
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
                "what": f"added source {source_id} (protected; details withheld)",
                "data": {"source": {"id": source_id, "protected": True},
                         "actor": entry.data.get("actor")},
            })
        elif entry.event == "SourceRerated" and entry.data["source_id"] in protected:
            entry = entry.model_copy(update={
                "what": f"re-rated source {entry.data['source_id']} (protected; details "
                        "withheld)", "why": WITHHELD,
                "data": {"source_id": entry.data["source_id"], "reason": WITHHELD,
                         "actor": entry.data.get("actor")}})
        elif entry.data.get("source_id") in protected:
            entry = entry.model_copy(update={
                "why": WITHHELD, "data": {**entry.data, "reason": WITHHELD}})
        elif entry.event == "VictimRecorded" and entry.data["victim"]["id"] in protected_victims:
            victim_id = entry.data["victim"]["id"]
            entry = entry.model_copy(update={
                "what": f"recorded victim {victim_id} (protected; details withheld)",
                "data": {"victim": {"id": victim_id, "protected": True},
                         "actor": entry.data.get("actor")}})
        elif entry.data.get("victim_id") in protected_victims:
            entry = entry.model_copy(update={
                "what": f"changed victim {entry.data['victim_id']} (protected; details "
                        "withheld)", "why": WITHHELD_VICTIM,
                "data": {"victim_id": entry.data["victim_id"], "actor": entry.data.get("actor")}})
        elif entry.event == "FileCollected" and entry.data["file"].get("protected"):
            file_id = entry.data["file"]["id"]
            protected_files.add(file_id)
            entry = entry.model_copy(update={
                "what": f"collected file {file_id} (protected; details withheld)",
                "why": None, "data": {"file": {"id": file_id, "protected": True},
                                      "actor": entry.data.get("actor")}})
        elif entry.event == "FileCopied" and entry.data["file_id"] in protected_files:
            entry = entry.model_copy(update={
                "what": f"copied file {entry.data['file_id']} out (protected; details "
                        "withheld)", "why": None,
                "data": {"file_id": entry.data["file_id"], "actor": entry.data.get("actor")}})
        elif entry.event == "NoteAdded":
            entry = entry.model_copy(update={
                "why": None, "data": {"actor": entry.data.get("actor")},
                "what": "note added (internal; withheld)"})
        elif entry.event in INTERNAL_CASEWORK:
            entry = entry.model_copy(update={
                "why": None, "data": {"actor": entry.data.get("actor")},
                "what": INTERNAL_CASEWORK[entry.event]})
        elif entry.event == "UnreadValuesKept":
            kept = {path: value for path, value in entry.data["values"].items()
                    if not withheld_in_public(path)}
            if len(kept) < len(entry.data["values"]):
                data = {**entry.data, "values": kept}
                entry = entry.model_copy(update={"data": data, "what": (
                    DESCRIBERS["UnreadValuesKept"](data) if kept
                    else "kept verbatim what the archive gave and could not be read") + (
                    " (an internal entry withheld)")})
        shown.append(entry)
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

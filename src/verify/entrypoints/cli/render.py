"""Human-readable text for what the reading commands print."""

from __future__ import annotations

from typing import Any

from verify.application.views import (
    ChangesPage,
    HistoryEntry,
    IncidentView,
    KnownOnView,
    Suggestion,
)
from verify.domain.values import CasualtyRange, how_far


def count(value: dict[str, Any]) -> str:
    return str(CasualtyRange.model_validate(value))


def incident(view: IncidentView) -> str:
    location = view.location
    place = location["name"]
    if location.get("lat") is not None:
        place += f" ({location['lat']}, {location['lon']}"
        place += f", {location['precision']})" if location.get("precision") else ")"
    when = view.date + (f" to {view.date_end}" if view.date_end else "") + (
        f" {view.time}" if view.time else "")
    lines = [
        f"{view.code}  {when}  {place}, {view.country}",
        f"  state        {view.state}" + (
            f"  (duplicate of {view.duplicate_of})" if view.duplicate_of else ""),
        f"  grade        {_grade_line(view)}",
        *_proposal_lines(view),
        f"  belligerents {', '.join(view.belligerents) or 'unknown'}",
        f"  killed       {count(view.civilians_killed)}   injured {count(view.civilians_injured)}",
    ]
    if view.regrade:
        now = (f"the rulebook now grades it {view.regrade['grade']} by rule "
               f"{view.regrade['rule']}" if view.regrade["grade"] else "no active source is left")
        lines.append(f"  re-grading   due: the evidence changed; {now}")
    if view.duplicates:
        lines.append(f"  duplicates   {', '.join(view.duplicates)}")
    if view.summary:
        lines.append(f"  summary      {view.summary}")
    if view.grading and view.grading.get("rationale"):
        lines.append(f"  rationale    {view.grading['rationale']}")
    if view.grading:
        for reason in view.grading.get("reasons", []):
            lines.append(f"  because      {reason}")
    if view.dispute:
        lines.append(
            f"  dispute      opened {view.dispute['since']} by {view.dispute['by']}: "
            f"{view.dispute['reason']}"
        )
    if view.corroborated_by:
        lines.append(f"  corroborated by {', '.join(view.corroborated_by)}")
    if view.sources:
        lines.append("  sources")
        for source in view.sources:
            flags = []
            if source.group:
                flags.append(f"group {source.group}")
            if source.protected:
                flags.append("protected")
            if source.withdrawn:
                flags.append("withdrawn")
            if source.published_text:
                flags.append(f"published {source.published_text!r} (as given)")
            if source.unread:
                flags.append("kept as given: " + ", ".join(source.unread))
            extra = f" [{', '.join(flags)}]" if flags else ""
            lines.append(
                f"    {source.id:<4} {source.rating}  {source.kind or 'unknown':<11} "
                f"{source.publisher or 'publisher unknown'}  {source.url or 'no URL'}{extra}"
            )
    lines.extend(evidence_lines(view.strikes, view.contested_by, view.assessments,
                                view.discounts))
    for victim in view.victims:
        lines.append(_victim_line(victim))
    if view.victims:
        lines.append(f"  named killed {view.named_killed}" + (
            "" if view.casualties_consistent else
            f"  (more than the {view.civilians_killed.get('max')} civilians killed recorded:"
            " revise the figures or the victims)"))
    for note in view.notes:
        lines.append(f"  note         {note['at'][:16]} {note['by']}: {note['text']}")
    if location.get("coordinates_text"):
        lines.append(f"  coordinates  given as {location['coordinates_text']!r}, not readable")
    for path, text in view.unread.items():
        lines.append(f"  kept as given  {path}: {text}")
    lines.append(f"  version      {view.version}   updated {view.updated_at}")
    return "\n".join(lines)


def evidence_lines(strikes: list[dict[str, Any]], claims: list[dict[str, Any]],
                   assessments: list[dict[str, Any]], discounts: list[dict[str, Any]]
                   ) -> list[str]:
    """Strikes, competing claims, assessments and findings, each with its id."""
    lines = []
    for strike in strikes:
        report = f" ({strike['report']})" if strike.get("report") else ""
        if strike.get("distance_km") is not None or strike.get("placed"):
            report += f", {how_far(strike.get('distance_km'), strike.get('placed'))}"
        lines.append(_item("strike      ", strike,
                           f"{strike['status']} by {strike['belligerent']}{report}"))
    for claim in claims:
        reason = f": {claim['reason']}" if claim.get("reason") else ""
        lines.append(_item("contested by", claim, f"{claim['belligerent']}{reason}"))
    for assessment in assessments:
        reason = f": {assessment['reason']}" if assessment.get("reason") else ""
        lines.append(_item("assessment  ", assessment,
                           f"{assessment['belligerent']} {assessment['outcome']}{reason}"))
    for finding in discounts:
        lines.append(_item("discount    ", finding,
                           f"{finding['basis']}: {finding['rationale']}"))
    return lines


def _victim_line(victim: dict[str, Any]) -> str:
    names = [victim[key] for key in ("name", "name_original") if victim.get(key)]
    if victim["erased"]:
        who = "(details erased)"
    elif names:
        who = " / ".join(names)
    elif victim.get("named"):
        who = "(details not readable: erased since, or no key in this copy)"
    else:
        who = "(unnamed)"
    known = [victim["status"], *(str(victim[key]) for key in ("gender", "age_group", "age")
                                 if victim.get(key) is not None)]
    flags = [flag for flag in ("protected", "withdrawn") if victim.get(flag)]
    extra = f" [{', '.join(flags)}]" if flags else ""
    return (f"  victim       {victim['id']:<4} {who}  {', '.join(known)}"
            f"  sources {', '.join(victim['sources'])}{extra}")


def _item(label: str, item: dict[str, Any], text: str) -> str:
    line = f"  {label} {item['id']:<4} {text}"
    if item.get("retracted"):
        line += " [retracted]"
    if item.get("known_since"):
        line += f" [known since {item['known_since']}]"
    return line


def known_on(view: KnownOnView) -> str:
    """What was known by a day, and what the rulebook would have graded from it."""
    grade = (f"the rulebook would have graded it {view.suggested_grade} by rule {view.rule}"
             if view.suggested_grade else "nothing to grade on: no source was known yet")
    lines = [f"{view.code} as known on {view.known_on} (evidence by its own dates; "
             "not what this system had recorded then: see --as-of)",
             f"  {grade}",
             *(f"  because      {reason}" for reason in view.reasons),
             f"  graded now   {view.grade or 'ungraded'}"]
    if view.sources:
        lines.append("  sources known by then")
        for source in view.sources:
            flags = " [withdrawn]" if source.withdrawn else ""
            published = source.published or "date unknown"
            lines.append(f"    {source.id:<4} {source.rating}  {source.kind or 'unknown':<11} "
                         f"{source.publisher or 'publisher unknown'}  published {published}"
                         f"{flags}")
    lines.extend(evidence_lines(view.strikes, view.contested_by, view.assessments,
                                view.discounts))
    lines.extend(_victim_line(victim) + f" [known since {victim['known_since']}]"
                 for victim in view.victims)
    return "\n".join(lines)


def _grade_line(view: IncidentView) -> str:
    return "ungraded" if view.grading is None else _decided(view.grading)


def _proposal_lines(view: IncidentView) -> list[str]:
    """A grade proposed and waiting for a second person: what, by whom, when, and why (the
    reviewer who approves it sees here what they approve)."""
    proposal = view.proposal
    if proposal is None:
        return []
    lines = [f"  proposed     {_decided(proposal)}; waits for a second person's approval "
             f"(verify approve {view.code})"]
    if proposal.get("rationale"):
        lines.append(f"    rationale  {proposal['rationale']}")
    lines.extend(f"    because    {reason}" for reason in proposal.get("reasons", []))
    return lines


def _decided(grading: dict[str, Any]) -> str:
    """A grade, recorded or proposed: which, how, by whom, when."""
    if grading.get("override"):
        how = f"override by {grading['by']}; rulebook said {grading.get('rulebook_grade')}"
    elif grading.get("imported"):
        how = f"imported by {grading['by']}"
    else:
        how = f"rule {grading['rule']}, rulebook {grading['rulebook']}, by {grading['by']}"
    if grading.get("approved_by"):
        how += f", approved by {grading['approved_by']}"
    return f"{grading['grade']}  ({how}, {grading['at'][:19]})"


def suggestion(view: Suggestion) -> str:
    lines = [
        f"{view.code}: the rulebook {view.rulebook} grades it {view.grade} by rule {view.rule}",
    ]
    for reason in view.reasons:
        lines.append(f"  because {reason}")
    lines.append("  checks, in order of precedence:")
    for check in view.checks:
        mark = "met    " if check["met"] else "not met"
        lines.append(f"    {check['rule']:<10} {mark}  {check['because']}")
    return "\n".join(lines)


def history(entries: list[HistoryEntry]) -> str:
    lines = []
    for entry in entries:
        when = entry.at[:19].replace("T", " ")
        line = f"{entry.version:>4}  {when}Z  {entry.actor:<12} {entry.what}"
        if entry.why:
            line += f"\n{'':>6}why: {entry.why}"
        lines.append(line)
    return "\n".join(lines)


def changes(page: ChangesPage) -> str:
    """One line per change: its cursor, when, which incident, who, what and why."""
    lines = []
    for change in page.changes:
        when = change.at[:19].replace("T", " ")
        line = f"{change.cursor}  {when}Z  {change.code:<10} {change.by:<12} {change.what}"
        if change.why:
            line += f"; why: {change.why}"
        lines.append(" ".join(line.splitlines()))  # a reason on several lines: on one
    return "\n".join(lines)

"""Human-readable text for what the reading commands print."""

from __future__ import annotations

from typing import Any

from verify.application.views import HistoryEntry, IncidentView, Suggestion
from verify.domain.values import CasualtyRange


def count(value: dict[str, Any]) -> str:
    return str(CasualtyRange.model_validate(value))


def incident(view: IncidentView) -> str:
    location = view.location
    place = location["name"]
    if location.get("lat") is not None:
        place += f" ({location['lat']}, {location['lon']}"
        place += f", {location['precision']})" if location.get("precision") else ")"
    lines = [
        f"{view.code}  {view.date}  {place}, {view.country}",
        f"  state        {view.state}" + (
            f"  (duplicate of {view.duplicate_of})" if view.duplicate_of else ""),
        f"  grade        {_grade_line(view)}",
        f"  belligerents {', '.join(view.belligerents) or 'unknown'}",
        f"  killed       {count(view.civilians_killed)}   injured {count(view.civilians_injured)}",
    ]
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
    for strike in view.strikes:
        report = f" ({strike['report']})" if strike.get("report") else ""
        lines.append(f"  strike       {strike['status']} by {strike['belligerent']}{report}")
    for claim in view.contested_by:
        reason = f": {claim['reason']}" if claim.get("reason") else ""
        lines.append(f"  contested by {claim['belligerent']}{reason}")
    for assessment in view.assessments:
        reason = f": {assessment['reason']}" if assessment.get("reason") else ""
        lines.append(
            f"  assessment   {assessment['belligerent']} {assessment['outcome']}{reason}"
        )
    for finding in view.discounts:
        lines.append(f"  discount     {finding['basis']}: {finding['rationale']}")
    for note in view.notes:
        lines.append(f"  note         {note['at'][:16]} {note['by']}: {note['text']}")
    if location.get("coordinates_text"):
        lines.append(f"  coordinates  given as {location['coordinates_text']!r}, not readable")
    for path, text in view.unread.items():
        lines.append(f"  kept as given  {path}: {text}")
    lines.append(f"  version      {view.version}   updated {view.updated_at}")
    return "\n".join(lines)


def _grade_line(view: IncidentView) -> str:
    if view.grading is None:
        return "ungraded"
    grading = view.grading
    if grading.get("override"):
        how = f"override by {grading['by']}; rulebook said {grading.get('rulebook_grade')}"
    elif grading.get("imported"):
        how = f"imported by {grading['by']}"
    else:
        how = f"rule {grading['rule']}, rulebook {grading['rulebook']}, by {grading['by']}"
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

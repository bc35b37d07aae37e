"""What each form on an incident page does: the same application command as the CLI's.

A form's fields become the same value objects the command line builds, and
the same application method runs; no rule is decided here. Each action
returns the sentence the command line would print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from verify.application.app import VerifyApp
from verify.application.casework import Amendment
from verify.application.messages import (
    STILL_IN_FILES,
    parse_count,
    parse_day,
    parse_moment,
    parse_time,
    validation_sentence,
)
from verify.domain.duties import Action
from verify.domain.errors import InvalidInput
from verify.domain.values import (
    Assessment,
    CasualtyRange,
    CompetingClaim,
    DiscountBasis,
    DiscountFinding,
    DisputeOutcome,
    Grade,
    Location,
    Precision,
    Rating,
    Source,
    StrikeConfirmation,
    canonical_code,
)

Form = Mapping[str, str]


class Fields:
    """Read a submitted form: trimmed text, required or not, parsed as the CLI parses it."""

    def __init__(self, form: Form) -> None:
        self.form = form

    def text(self, name: str, label: str | None = None) -> str:
        value = self.optional(name)
        if value is None:
            raise InvalidInput(f"{label or name.replace('_', ' ')} is required")
        return value

    def optional(self, name: str) -> str | None:
        value = self.form.get(name, "")
        value = value.strip() if isinstance(value, str) else ""
        return value or None

    def flag(self, name: str) -> bool:
        return self.optional(name) is not None

    def number(self, name: str) -> float | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise InvalidInput(f"{name.replace('_', ' ')} {value!r} is not a number") from None

    def count(self, name: str) -> CasualtyRange | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_count(value)
        except ValueError as error:
            raise InvalidInput(f"{name}: {error}") from None

    def date(self, name: str) -> dt.date | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_day(value)
        except ValueError as error:
            raise InvalidInput(str(error)) from None


Model = TypeVar("Model", bound=BaseModel)


def build(model: type[Model], **values: object) -> Model:
    """A value object from form values; a rejection becomes the CLI's sentence."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidInput(validation_sentence(error)) from None


Perform = Callable[[VerifyApp, str, Fields, str, int], str]
"""(application, incident code, the form, the person acting, the version the form was made
from) -> the sentence the command line would print."""


@dataclass(frozen=True)
class IncidentAction:
    """One form on the incident page."""

    name: str
    title: str
    needs: Action
    perform: Perform


def _add_source(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    source = build(
        Source, url=f.text("url"), publisher=f.text("publisher"), kind=f.text("kind"),
        reliability=f.optional("reliability") or "F",
        credibility=f.optional("credibility") or 6, group=f.optional("group"),
        protected=f.flag("protected"), published=f.date("published"),
    )
    source_id, corroborated = app.add_source(code, source, actor, expected_version=seen)
    message = f"added source {source_id} to {code}"
    if corroborated:
        message += f"; {code} is now corroborated by two or more independent credible sources"
    return message


def _rerate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    rating = build(Rating, reliability=f.text("reliability"), credibility=f.text("credibility"))
    source_id = f.text("source_id", "the source")
    app.rerate_source(code, source_id, rating.reliability, rating.credibility,
                      f.text("reason"), actor, expected_version=seen)
    return f"re-rated source {source_id} of {code} to {rating}"


def _withdraw(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    source_id = f.text("source_id", "the source")
    app.withdraw_source(code, source_id, f.text("reason"), actor, expected_version=seen)
    return f"withdrew source {source_id} of {code}"


def _strike(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    strike = build(StrikeConfirmation, belligerent=f.text("belligerent"), status=f.text("status"),
                   report=f.optional("report"), distance_km=f.number("distance_km"))
    app.confirm_strike(code, strike, actor, expected_version=seen)
    return f"recorded a {strike.status.value} strike by {strike.belligerent} for {code}"


def _contest(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    claim = build(CompetingClaim, belligerent=f.text("belligerent"), reason=f.text("reason"))
    app.contest(code, claim, actor, expected_version=seen)
    return f"recorded a competing claim against {claim.belligerent} for {code}"


def _assess(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    assessment = build(
        Assessment, belligerent=f.text("belligerent"), outcome=f.text("outcome"),
        reason=f.optional("reason"), conceded_killed=f.count("conceded_killed") or CasualtyRange(),
    )
    app.assess(code, assessment, actor, expected_version=seen)
    return f"recorded {assessment.belligerent}'s assessment of {code}: {assessment.outcome.value}"


def _discount(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    basis = f.text("basis")
    # The form always shows the party field; it only counts for "another party".
    finding = build(DiscountFinding, basis=basis,
                    party=f.optional("party") if basis == DiscountBasis.OTHER_PARTY.value
                    else None, rationale=f.text("rationale"))
    app.discount(code, finding, actor, expected_version=seen)
    return f"recorded a discounting finding for {code}"


def _revise(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    killed, injured = f.count("killed"), f.count("injured")
    if killed is None and injured is None:
        raise InvalidInput("give civilians killed, injured or both")
    app.revise_harm(code, killed, injured, f.text("reason"), actor, expected_version=seen)
    return f"revised the casualty estimate of {code}"


def _grade(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    decision = app.grade(code, actor, expected_version=seen)
    if app.awaits_approval(decision):
        return (f"{code}: grade {decision.grade.value} proposed; it takes effect when "
                "a second person approves it")
    return f"{code} graded {decision.grade.value} by rule {decision.rule}"


def _override(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    grade = f.text("grade")
    if grade not in {g.value for g in Grade}:
        raise InvalidInput(f"{grade!r} is not a grade: choose one of "
                           + ", ".join(g.value for g in Grade))
    decision = app.override_grade(code, Grade(grade), f.text("rationale"), actor,
                                  expected_version=seen)
    if app.awaits_approval(decision):
        return f"{code}: override to {grade} proposed; it takes effect when approved"
    return f"{code} graded {decision.grade.value} (override)"


def _approve(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    decision = app.approve(code, actor, expected_version=seen)
    return f"{code} graded {decision.grade.value}: approved by {actor}"


def _dispute(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.dispute(code, f.text("by", "who disputes"), f.text("reason"), actor,
                expected_version=seen)
    return f"opened a dispute on {code}"


def _resolve(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    outcome = f.text("outcome")
    if outcome not in {o.value for o in DisputeOutcome}:
        raise InvalidInput("say whether the dispute is upheld or dismissed")
    app.resolve(code, DisputeOutcome(outcome), f.text("rationale"), actor,
                expected_version=seen)
    if outcome == DisputeOutcome.UPHELD.value:
        return f"dispute on {code} upheld: its grade is withdrawn; grade it again"
    return f"dispute on {code} dismissed: the grade stands"


def _duplicate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    try:
        original = canonical_code(f.text("of", "the original incident"))
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    app.mark_duplicate(code, original, actor, expected_version=seen)
    return f"marked {code} a duplicate of {original}"


def _undo_duplicate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    original = app.undo_duplicate(code, f.text("reason"), actor, expected_version=seen)
    return f"{code} is no longer a duplicate of {original}"


def _amend(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    """The amend form comes filled with what is recorded: only what was changed counts."""
    time = f.optional("time")
    if time is not None:
        try:
            time = parse_time(time)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    named = f.optional("belligerents")
    precision = f.optional("precision")
    if precision is not None and precision not in {p.value for p in Precision}:
        raise InvalidInput(f"{precision!r} is not a precision: choose one of "
                           + ", ".join(p.value for p in Precision))
    summary = f.optional("summary")
    amendment = Amendment(
        date=f.date("date"), date_end=f.date("date_end"), time=time,
        location=f.optional("location"), lat=f.number("lat"), lon=f.number("lon"),
        precision=Precision(precision) if precision else None, country=f.optional("country"),
        belligerents=[name.strip() for name in named.split(",") if name.strip()]
        if named is not None else None,
        summary=summary.replace("\r\n", "\n") if summary is not None else None)
    if (amendment.lat is None) != (amendment.lon is None):
        raise InvalidInput("give both latitude and longitude, or neither")
    changes = app.amend(code, amendment, f.text("reason"), actor, expected_version=seen)
    return f"amended {code}: " + ", ".join(field.replace("_", " ") for field in changes)


def _retract(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    retracted = app.retract(code, f.text("item_id", "the evidence"), f.text("reason"), actor,
                            expected_version=seen)
    return f"retracted {retracted} of {code}"


def _victim_fields(f: Fields, *, amending: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A victim form's personal details and open facts, as `victim add|amend` reads them."""
    age = f.optional("age")
    details: dict[str, Any] = {name: f.optional(name) for name in
                               ("name", "name_original", "family", "role")}
    if age is not None:
        if not age.isdigit():
            raise InvalidInput(f"age {age[:20]!r} is not a number of years")
        details["age"] = int(age)
    facts: dict[str, Any] = {name: f.optional(name) for name in ("status", "gender", "age_group")}
    named = f.optional("sources")
    facts["sources"] = [part for part in named.replace(",", " ").split() if part] \
        if named else None
    if not amending:
        facts["protected"] = f.flag("protected")
    elif f.optional("protected") is not None:
        facts["protected"] = f.optional("protected") == "yes"
    return ({k: v for k, v in details.items() if v is not None},
            {k: v for k, v in facts.items() if v is not None})


def _victim_add(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    details, facts = _victim_fields(f, amending=False)
    victim_id = app.add_victim(code, details, facts, actor, expected_version=seen)
    return f"recorded victim {victim_id} of {code}"


def _victim_amend(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    details, facts = _victim_fields(f, amending=True)
    victim_id = f.text("victim_id", "the victim")
    changed = app.amend_victim(code, victim_id, details, facts, f.text("reason"), actor,
                               expected_version=seen)
    return f"amended victim {victim_id} of {code}: " + ", ".join(
        name.replace("_", " ") for name in changed)


def _victim_withdraw(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    withdrawn = app.withdraw_victim(code, f.text("victim_id", "the victim"), f.text("reason"),
                                    actor, expected_version=seen)
    return f"withdrew victim {withdrawn} of {code}"


def _victim_erase(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    erased, scrubbed = app.erase_victim(code, f.text("victim_id", "the victim"),
                                        f.text("reason"), actor, expected_version=seen)
    return f"erased the personal details of victim {erased} of {code}" + (
        "" if scrubbed else f"; {STILL_IN_FILES}")


def _note(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.add_note(code, f.text("text", "the note"), actor, expected_version=seen)
    return f"added a note to {code}"


def _assign(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    person = app.assign(code, f.text("assignee", "the member"), actor, expected_version=seen)
    return f"assigned {code} to {person}"


def _unassign(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.assign(code, None, actor, expected_version=seen)
    return f"{code} is assigned to nobody now"


def _comment(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    comment_id, mentions = app.comment(code, f.text("text", "the comment"), actor,
                                       reply_to=f.optional("reply_to"), expected_version=seen)
    told = f" (mentioning {', '.join(mentions)})" if mentions else ""
    return f"added comment {comment_id} to {code}{told}"


def _tag(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    given = [part for part in (f.optional("tags") or "").split(",") if part.strip()]
    changed, now = app.tag_incident(code, given, actor, expected_version=seen)
    return f"put {', '.join(changed)} on {code}; its tags: {', '.join(now)}"


def _untag(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    changed, now = app.tag_incident(code, [f.text("tag")], actor, remove=True,
                                    expected_version=seen)
    return f"took {', '.join(changed)} off {code}; its tags: {', '.join(now) or 'none'}"


ACTIONS: dict[str, IncidentAction] = {
    action.name: action
    for action in (
        IncidentAction("source", "Add a source", Action.ADD_SOURCE, _add_source),
        IncidentAction("rerate", "Re-rate a source", Action.CHANGE_SOURCE, _rerate),
        IncidentAction("withdraw", "Withdraw a source", Action.CHANGE_SOURCE, _withdraw),
        IncidentAction("strike", "Confirm a strike", Action.RECORD_EVIDENCE, _strike),
        IncidentAction("contest", "Competing claim", Action.RECORD_EVIDENCE, _contest),
        IncidentAction("assess", "Belligerent's assessment", Action.RECORD_EVIDENCE, _assess),
        IncidentAction("discount", "Discounting finding", Action.RECORD_EVIDENCE, _discount),
        IncidentAction("revise", "Revise casualties", Action.RECORD_EVIDENCE, _revise),
        IncidentAction("grade", "Grade by the rulebook", Action.GRADE, _grade),
        IncidentAction("override", "Override the grade", Action.OVERRIDE, _override),
        IncidentAction("approve", "Approve the proposed grade", Action.APPROVE, _approve),
        IncidentAction("dispute", "Open a dispute", Action.DISPUTE, _dispute),
        IncidentAction("resolve", "Resolve the dispute", Action.RESOLVE, _resolve),
        IncidentAction("duplicate", "Mark a duplicate", Action.MARK_DUPLICATE, _duplicate),
        IncidentAction("undo_duplicate", "Take back the duplicate mark", Action.MARK_DUPLICATE,
                       _undo_duplicate),
        IncidentAction("amend", "Amend the incident", Action.CORRECT, _amend),
        IncidentAction("retract", "Retract", Action.CORRECT, _retract),
        IncidentAction("victim", "Record a victim", Action.RECORD_VICTIMS, _victim_add),
        IncidentAction("victim_amend", "Amend", Action.RECORD_VICTIMS, _victim_amend),
        IncidentAction("victim_withdraw", "Withdraw", Action.RECORD_VICTIMS, _victim_withdraw),
        IncidentAction("victim_erase", "Erase personal details", Action.ERASE, _victim_erase),
        IncidentAction("note", "Add a note", Action.NOTE, _note),
        IncidentAction("assign", "Assign", Action.ASSIGN, _assign),
        IncidentAction("unassign", "Take it back", Action.ASSIGN, _unassign),
        IncidentAction("comment", "Comment", Action.COMMENT, _comment),
        IncidentAction("tag", "Tag", Action.ASSIGN, _tag),
        IncidentAction("untag", "Remove", Action.ASSIGN, _untag),
    )
}

INLINE_ACTIONS = frozenset({"retract", "victim_amend", "victim_withdraw", "victim_erase",
                            "assign", "unassign", "comment", "tag", "untag"})
"""Actions offered beside what they act on (a piece of evidence, a victim), not in the side
list."""


def applicable(action: IncidentAction, duplicate: bool) -> bool:
    """Whether the side list offers an action: a duplicate takes only the undoing of its mark,
    and the mark's undoing is offered only on a duplicate."""
    if action.name in INLINE_ACTIONS:
        return False
    if duplicate:
        return action.name == "undo_duplicate"
    return action.name != "undo_duplicate"


def add_evidence_file(app: VerifyApp, code: str, stream: IO[bytes], name: str, f: Fields,
                      actor: str, seen: int) -> str:
    """The upload form: the same command as `evidence add`, the bytes streamed from the
    spooled upload."""
    collected_at = f.optional("collected_at")
    try:
        moment = parse_moment(collected_at) if collected_at else None
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    added = app.add_file(
        code, stream, actor, name=name, source=f.optional("source"), origin=f.optional("origin"),
        collected_by=f.optional("collected_by"), collected_at=moment,
        description=f.optional("description"), graphic=f.flag("graphic"),
        protected=f.flag("protected"), expected_version=seen)
    return (f"added {added.file_id} to {code}: {added.media_type}, {added.size:,} bytes, "
            f"sha256 {added.sha256}")


def report_incident(app: VerifyApp, f: Fields, actor: str) -> str:
    """The report form: a new incident, as `verify report` makes it."""
    date = f.date("date")
    if date is None:
        raise InvalidInput("the date is required")
    named = f.optional("belligerents") or ""
    belligerents = [name.strip() for name in named.split(",") if name.strip()]
    place = build(Location, name=f.text("location"), lat=f.number("lat"), lon=f.number("lon"),
                  precision=f.optional("precision"))
    try:
        code = canonical_code(f.text("code"))
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    return app.report_incident(
        code=code, date=date, country=f.text("country"), location=place,
        belligerents=belligerents, killed=f.count("killed") or CasualtyRange(),
        injured=f.count("injured") or CasualtyRange(), summary=f.optional("summary"),
        actor=actor,
    )

"""What each form on an incident page does: the same application command as the CLI's.

A form's fields become the same value objects the command line builds, and
the same application method runs; no rule is decided here. Each action
returns the sentence the command line would print.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
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
from verify.domain.sentences import Listed, sentence, sentence_of, sentence_template
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
    canonical_source_id,
)

Form = Mapping[str, str]

FIELD_NAMES = {
    "url": sentence_template("url"),
    "publisher": sentence_template("publisher"),
    "kind": sentence_template("kind"),
    "reliability": sentence_template("reliability"),
    "credibility": sentence_template("credibility"),
    "reason": sentence_template("reason"),
    "belligerent": sentence_template("belligerent"),
    "belligerents": sentence_template("belligerents"),
    "status": sentence_template("status"),
    "outcome": sentence_template("outcome"),
    "basis": sentence_template("basis"),
    "rationale": sentence_template("rationale"),
    "grade": sentence_template("grade"),
    "tag": sentence_template("tag"),
    "code": sentence_template("code"),
    "country": sentence_template("country"),
    "location": sentence_template("location"),
    "distance_km": sentence_template("distance km"),
    "lat": sentence_template("lat"),
    "lon": sentence_template("lon"),
    "date": sentence_template("date"),
    "date_end": sentence_template("date end"),
    "time": sentence_template("time"),
    "summary": sentence_template("summary"),
    "name": sentence_template("name"),
    "name_original": sentence_template("name original"),
    "age": sentence_template("age"),
    "family": sentence_template("family"),
    "role": sentence_template("role"),
    "gender": sentence_template("gender"),
    "age_group": sentence_template("age group"),
    "sources": sentence_template("sources"),
    "protected": sentence_template("protected"),
}
"""The words for the fields of the forms (and of what an amendment changes) that sentences
name: each is the field's name with spaces for underscores, as the command line says it."""

COUNT_PROBLEMS = {
    "killed": sentence_template("killed: %(problem)s"),
    "injured": sentence_template("injured: %(problem)s"),
    "conceded_killed": sentence_template("conceded_killed: %(problem)s"),
}
"""What is wrong with a casualty count, by the field it was given in."""


def field_name(name: str) -> str:
    """A field's name as a sentence says it ("date end" for ``date_end``)."""
    template = FIELD_NAMES.get(name)
    return sentence(template) if template is not None else name.replace("_", " ")


def field_names(names: Iterable[str]) -> str:
    """Fields named one after another ("date, summary")."""
    return Listed([field_name(name) for name in names], ", ")


class Fields:
    """Read a submitted form: trimmed text, required or not, parsed as the CLI parses it."""

    def __init__(self, form: Form) -> None:
        self.form = form

    def text(self, name: str, label: str | None = None) -> str:
        value = self.optional(name)
        if value is None:
            raise InvalidInput(sentence("%(field)s is required", field=label or field_name(name)))
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
            raise InvalidInput(sentence("%(field)s %(value)s is not a number",
                                        field=field_name(name), value=repr(value))) from None

    def count(self, name: str) -> CasualtyRange | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_count(value)
        except ValueError as error:
            template = COUNT_PROBLEMS.get(name)
            problem = sentence_of(error)
            raise InvalidInput(sentence(template, problem=problem) if template is not None
                               else sentence("%(field)s: %(problem)s", field=name,
                                             problem=problem)) from None

    def date(self, name: str) -> dt.date | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_day(value)
        except ValueError as error:
            raise InvalidInput(sentence_of(error)) from None

    def time(self, name: str) -> str | None:
        """A time of day as ``HH:MM``, read as `--time` reads it."""
        value = self.optional(name)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError as error:
            raise InvalidInput(sentence_of(error)) from None

    def words(self, name: str) -> list[str]:
        """The parts of a comma-separated field (tags, belligerents), trimmed; no blanks."""
        return [part.strip() for part in (self.optional(name) or "").split(",")
                if part.strip()]


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
    if corroborated:
        return sentence("added source %(source)s to %(code)s; %(code)s is now corroborated by "
                        "two or more independent credible sources", source=source_id, code=code)
    return sentence("added source %(source)s to %(code)s", source=source_id, code=code)


def _rerate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    rating = build(Rating, reliability=f.text("reliability"), credibility=f.text("credibility"))
    source_id = canonical_source_id(f.text("source_id", sentence("the source")))
    app.rerate_source(code, source_id, rating.reliability, rating.credibility,
                      f.text("reason"), actor, expected_version=seen)
    return sentence("re-rated source %(source)s of %(code)s to %(rating)s", source=source_id,
                    code=code, rating=str(rating))


def _withdraw(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    source_id = canonical_source_id(f.text("source_id", sentence("the source")))
    app.withdraw_source(code, source_id, f.text("reason"), actor, expected_version=seen)
    return sentence("withdrew source %(source)s of %(code)s", source=source_id, code=code)


def _strike(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    strike = build(StrikeConfirmation, belligerent=f.text("belligerent"), status=f.text("status"),
                   report=f.optional("report"), distance_km=f.number("distance_km"),
                   reported=f.date("reported"))
    app.confirm_strike(code, strike, actor, expected_version=seen)
    return sentence("recorded a %(status)s strike by %(belligerent)s for %(code)s",
                    status=strike.status, belligerent=strike.belligerent, code=code)


def _contest(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    claim = build(CompetingClaim, belligerent=f.text("belligerent"), reason=f.text("reason"))
    app.contest(code, claim, actor, expected_version=seen)
    return sentence("recorded a competing claim against %(belligerent)s for %(code)s",
                    belligerent=claim.belligerent, code=code)


def _assess(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    assessment = build(
        Assessment, belligerent=f.text("belligerent"), outcome=f.text("outcome"),
        reason=f.optional("reason"), conceded_killed=f.count("conceded_killed") or CasualtyRange(),
        dated=f.date("dated"),
    )
    app.assess(code, assessment, actor, expected_version=seen)
    return sentence("recorded %(belligerent)s's assessment of %(code)s: %(outcome)s",
                    belligerent=assessment.belligerent, code=code, outcome=assessment.outcome)


def _discount(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    basis = f.text("basis")
    # The form always shows the party field; it only counts for "another party".
    finding = build(DiscountFinding, basis=basis,
                    party=f.optional("party") if basis == DiscountBasis.OTHER_PARTY.value
                    else None, rationale=f.text("rationale"))
    app.discount(code, finding, actor, expected_version=seen)
    return sentence("recorded a discounting finding for %(code)s", code=code)


def _revise(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    killed, injured = f.count("killed"), f.count("injured")
    if killed is None and injured is None:
        raise InvalidInput(sentence("give civilians killed, injured or both"))
    app.revise_harm(code, killed, injured, f.text("reason"), actor, expected_version=seen)
    return sentence("revised the casualty estimate of %(code)s", code=code)


def _grade(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    decision = app.grade(code, actor, expected_version=seen)
    if app.awaits_approval(decision):
        return sentence("%(code)s: grade %(grade)s proposed; it takes effect when a second "
                        "person approves it", code=code, grade=decision.grade)
    return sentence("%(code)s graded %(grade)s by rule %(rule)s", code=code,
                    grade=decision.grade, rule=decision.rule)


def _override(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    grade = f.text("grade")
    if grade not in {g.value for g in Grade}:
        raise InvalidInput(sentence("%(value)s is not a grade: choose one of %(grades)s",
                                    value=repr(grade), grades=Listed(Grade, ", ")))
    decision = app.override_grade(code, Grade(grade), f.text("rationale"), actor,
                                  expected_version=seen)
    if app.awaits_approval(decision):
        return sentence("%(code)s: override to %(grade)s proposed; it takes effect when "
                        "approved", code=code, grade=Grade(grade))
    return sentence("%(code)s graded %(grade)s (override)", code=code, grade=decision.grade)


def _approve(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    decision = app.approve(code, actor, expected_version=seen)
    return sentence("%(code)s graded %(grade)s: approved by %(name)s", code=code,
                    grade=decision.grade, name=actor)


def _dispute(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.dispute(code, f.text("by", sentence("who disputes")), f.text("reason"), actor,
                expected_version=seen)
    return sentence("opened a dispute on %(code)s", code=code)


def _resolve(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    outcome = f.text("outcome")
    if outcome not in {o.value for o in DisputeOutcome}:
        raise InvalidInput(sentence("say whether the dispute is upheld or dismissed"))
    app.resolve(code, DisputeOutcome(outcome), f.text("rationale"), actor,
                expected_version=seen)
    if outcome == DisputeOutcome.UPHELD.value:
        return sentence("dispute on %(code)s upheld: its grade is withdrawn; grade it again",
                        code=code)
    return sentence("dispute on %(code)s dismissed: the grade stands", code=code)


def _duplicate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    try:
        original = canonical_code(f.text("of", sentence("the original incident")))
    except ValueError as error:
        raise InvalidInput(sentence_of(error)) from None
    app.mark_duplicate(code, original, actor, expected_version=seen)
    return sentence("marked %(code)s a duplicate of %(original)s", code=code, original=original)


def _undo_duplicate(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    original = app.undo_duplicate(code, f.text("reason"), actor, expected_version=seen)
    return sentence("%(code)s is no longer a duplicate of %(original)s", code=code,
                    original=original)


def _amend(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    """The amend form comes filled with what is recorded: only what was changed counts."""
    named = f.optional("belligerents")
    precision = f.optional("precision")
    if precision is not None and precision not in {p.value for p in Precision}:
        raise InvalidInput(sentence("%(value)s is not a precision: choose one of %(precisions)s",
                                    value=repr(precision), precisions=Listed(Precision, ", ")))
    summary = f.optional("summary")
    amendment = Amendment(
        date=f.date("date"), date_end=f.date("date_end"), time=f.time("time"),
        location=f.optional("location"), lat=f.number("lat"), lon=f.number("lon"),
        precision=Precision(precision) if precision else None, country=f.optional("country"),
        belligerents=f.words("belligerents") if named is not None else None,
        summary=summary.replace("\r\n", "\n") if summary is not None else None)
    if (amendment.lat is None) != (amendment.lon is None):
        raise InvalidInput(sentence("give both latitude and longitude, or neither"))
    changes = app.amend(code, amendment, f.text("reason"), actor, expected_version=seen)
    return sentence("amended %(code)s: %(fields)s", code=code, fields=field_names(changes))


def _retract(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    retracted = app.retract(code, f.text("item_id", sentence("the evidence")), f.text("reason"),
                            actor, expected_version=seen)
    return sentence("retracted %(item)s of %(code)s", item=retracted, code=code)


def _victim_fields(f: Fields, *, amending: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A victim form's personal details and open facts, as `victim add|amend` reads them."""
    age = f.optional("age")
    details: dict[str, Any] = {name: f.optional(name) for name in
                               ("name", "name_original", "family", "role")}
    if age is not None:
        if not age.isdigit():
            raise InvalidInput(sentence("age %(value)s is not a number of years",
                                        value=repr(age[:20])))
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
    return sentence("recorded victim %(victim)s of %(code)s", victim=victim_id, code=code)


def _victim_amend(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    details, facts = _victim_fields(f, amending=True)
    victim_id = f.text("victim_id", sentence("the victim"))
    changed = app.amend_victim(code, victim_id, details, facts, f.text("reason"), actor,
                               expected_version=seen)
    return sentence("amended victim %(victim)s of %(code)s: %(fields)s", victim=victim_id,
                    code=code, fields=field_names(changed))


def _victim_withdraw(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    withdrawn = app.withdraw_victim(code, f.text("victim_id", sentence("the victim")),
                                    f.text("reason"), actor, expected_version=seen)
    return sentence("withdrew victim %(victim)s of %(code)s", victim=withdrawn, code=code)


def _victim_erase(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    erased, scrubbed = app.erase_victim(code, f.text("victim_id", sentence("the victim")),
                                        f.text("reason"), actor, expected_version=seen)
    if scrubbed:
        return sentence("erased the personal details of victim %(victim)s of %(code)s",
                        victim=erased, code=code)
    return sentence("erased the personal details of victim %(victim)s of %(code)s; %(warning)s",
                    victim=erased, code=code, warning=sentence(STILL_IN_FILES))


def _note(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.add_note(code, f.text("text", sentence("the note")), actor, expected_version=seen)
    return sentence("added a note to %(code)s", code=code)


def _assign(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    person = app.assign(code, f.text("assignee", sentence("the member")), actor,
                        expected_version=seen)
    return sentence("assigned %(code)s to %(person)s", code=code, person=person)


def _unassign(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    app.assign(code, None, actor, expected_version=seen)
    return sentence("%(code)s is assigned to nobody now", code=code)


def _comment(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    comment_id, mentions = app.comment(code, f.text("text", sentence("the comment")), actor,
                                       reply_to=f.optional("reply_to"), expected_version=seen)
    if mentions:
        return sentence("added comment %(comment)s to %(code)s (mentioning %(names)s)",
                        comment=comment_id, code=code, names=Listed(mentions, ", "))
    return sentence("added comment %(comment)s to %(code)s", comment=comment_id, code=code)


def _tag(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    changed, now = app.tag_incident(code, f.words("tags"), actor, expected_version=seen)
    return sentence("put %(tags)s on %(code)s; its tags: %(now)s", tags=Listed(changed, ", "),
                    code=code, now=Listed(now, ", "))


def _untag(app: VerifyApp, code: str, f: Fields, actor: str, seen: int) -> str:
    changed, now = app.tag_incident(code, f.words("tags"), actor, remove=True,
                                    expected_version=seen)
    if not now:
        return sentence("took %(tags)s off %(code)s; its tags: none", tags=Listed(changed, ", "),
                        code=code)
    return sentence("took %(tags)s off %(code)s; its tags: %(now)s", tags=Listed(changed, ", "),
                    code=code, now=Listed(now, ", "))


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
        raise InvalidInput(sentence_of(error)) from None
    added = app.add_file(
        code, stream, actor, name=name, source=f.optional("source"), origin=f.optional("origin"),
        collected_by=f.optional("collected_by"), collected_at=moment,
        description=f.optional("description"), graphic=f.flag("graphic"),
        protected=f.flag("protected"), expected_version=seen)
    return sentence("added %(file)s to %(code)s: %(media_type)s, %(size)s bytes, "
                    "sha256 %(sha256)s", file=added.file_id, code=code,
                    media_type=added.media_type, size=f"{added.size:,}", sha256=added.sha256)


def report_incident(app: VerifyApp, f: Fields, actor: str) -> str:
    """The report form: a new incident, as `verify report` makes it."""
    date = f.date("date")
    if date is None:
        raise InvalidInput(sentence("the date is required"))
    place = build(Location, name=f.text("location"), lat=f.number("lat"), lon=f.number("lon"),
                  precision=f.optional("precision"))
    try:
        code = canonical_code(f.text("code"))
    except ValueError as error:
        raise InvalidInput(sentence_of(error)) from None
    return app.report_incident(
        code=code, date=date, country=f.text("country"), location=place,
        belligerents=f.words("belligerents"), killed=f.count("killed") or CasualtyRange(),
        injured=f.count("injured") or CasualtyRange(), summary=f.optional("summary"),
        actor=actor, date_end=f.date("date_end"), time=f.time("time"),
    )

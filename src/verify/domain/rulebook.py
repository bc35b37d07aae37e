"""The grading rulebook: which grade the evidence supports, and why.

Rulebook v1 follows ../shared/SPEC.md section 2. Every rule is stated as an
example table in features/grading.feature; keep the two in step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from pydantic import Field

from verify.domain.errors import Refused
from verify.domain.parties import NO_PARTIES, PartyNames
from verify.domain.sentences import Listed, Sentence, Text, reread, sentence, sentence_template
from verify.domain.values import (
    Assessment,
    AssessmentOutcome,
    CompetingClaim,
    Credibility,
    DiscountFinding,
    Grade,
    Rating,
    Reliability,
    Source,
    SourceKind,
    StrikeConfirmation,
    StrikeStatus,
    Value,
)


class CaseFile(Value):
    """Everything the rulebook may weigh about one incident, and nothing else."""

    code: str
    belligerents: tuple[str, ...]
    sources: tuple[Source, ...] = ()
    strikes: tuple[StrikeConfirmation, ...] = ()
    claims: tuple[CompetingClaim, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    discounts: tuple[DiscountFinding, ...] = ()
    parties: PartyNames = Field(default_factory=lambda: NO_PARTIES)
    """How party names compare: folded, and through the registered aliases.

    A factory, not a plain default: pydantic copies a plain default model on
    every case file, and a case file is built for every source added."""

    @property
    def active_sources(self) -> tuple[Source, ...]:
        return tuple(source for source in self.sources if not source.withdrawn)

    def is_alleged(self, party: str) -> bool:
        """Whether the incident alleges this party (under any of its names)."""
        key = self.parties.key(party)
        return any(self.parties.key(name) == key for name in self.belligerents)

    def parties_named(self) -> list[str]:
        """Each distinct party held responsible, alleged or by a competing claim, as first named."""
        named: dict[str, str] = {}
        for name in (*self.belligerents, *(claim.belligerent for claim in self.claims)):
            named.setdefault(self.parties.key(name), name)
        return list(named.values())

    def latest_assessments(self) -> dict[str, Assessment]:
        """The most recent assessment of each belligerent (a later one replaces an earlier)."""
        latest: dict[str, Assessment] = {}
        for assessment in self.assessments:
            key = self.parties.key(assessment.belligerent)
            latest.pop(key, None)
            latest[key] = assessment
        return {assessment.belligerent: assessment for assessment in latest.values()}


class Check(Value):
    """One rule's verdict on a case: whether it applies, and the reason."""

    rule: str
    met: bool
    because: Text


class Evidence(Value):
    """The pieces of evidence a grade relied on."""

    sources: tuple[str, ...] = ()
    strike: StrikeConfirmation | None = None
    assessment: Assessment | None = None
    claims: tuple[CompetingClaim, ...] = ()
    discount: DiscountFinding | None = None


REASONS = {
    "credible": sentence_template("%(belligerent)s assessed the allegation as credible"),
    "credible, because": sentence_template(
        "%(belligerent)s assessed the allegation as credible: %(reason)s"),
    "another party": sentence_template("%(party)s was most likely responsible: %(rationale)s"),
    "combatants": sentence_template("those killed were combatants: %(rationale)s"),
    "alleged": sentence_template("%(count)s belligerents alleged: %(names)s"),
    "claimed": sentence_template("competing claim: %(claims)s"),
    "sources and strike, reported": sentence_template(
        "%(count)s independent credible sources (%(sources)s) and a %(status)s strike by "
        "%(belligerent)s (%(report)s)"),
    "sources and strike": sentence_template(
        "%(count)s independent credible sources (%(sources)s) and a %(status)s strike by "
        "%(belligerent)s"),
    "one source": sentence_template(
        "a single independent credible source among %(count)s attached"),
    "no source": sentence_template("no credible source among %(count)s attached"),
    "no strike": sentence_template(
        "no declared or likely strike by an alleged belligerent near the place on the day"),
    "imported": sentence_template("imported grade"),
    "override": sentence_template(
        "reviewer override; the rulebook grades it %(grade)s by rule %(rule)s"),
}
"""Why the rulebook gave the grade it gave: each rule's reason when it is met. A decision
keeps its reasons as text; `reason_sentence` reads one back."""


def reason_sentence(text: str) -> str:
    """A recorded reason of the rulebook, made the sentence it was so an interface can say
    it in its language (a contested case's reasons one by one); other text as it is."""
    if isinstance(text, Sentence):
        return text
    kinds: dict[str, Callable[[str], object]] = {"status": StrikeStatus, "grade": Grade}
    pieces = text.split("; ")
    if len(pieces) > 1:  # a contested case's reasons, one after another
        parts = [reread(piece, REASONS.values(), kinds) for piece in pieces]
        if all(isinstance(part, Sentence) for part in parts):
            return Listed(parts, "; ")
    return reread(text, REASONS.values(), kinds)


class GradeDecision(Value):
    """What the rulebook grades a case, by which rule, on which evidence, and why."""

    grade: Grade
    rule: str
    rulebook: str
    evidence: Evidence = Field(default_factory=Evidence)
    reasons: tuple[Text, ...]
    checks: tuple[Check, ...] = ()


def describe_source(source: Source) -> str:
    """A source as reasons name it; a protected source by its id only, so reasons can be shown."""
    if source.protected:
        return sentence("%(source)s (protected, %(rating)s)",
                        source=source.id, rating=str(source.rating))
    return sentence("%(source)s (%(publisher)s, %(rating)s)",
                    source=source.id, publisher=source.publisher_name, rating=str(source.rating))


class SourceVerdict(Value):
    """How the rulebook weighed one source."""

    id: str
    rating: str
    kind: str
    credible: bool
    credible_because: Text
    group: str
    counted: bool
    counted_because: Text
    withdrawn: bool


class StrikeVerdict(Value):
    belligerent: str
    status: str
    report: str | None
    counts: bool
    because: Text


class Explanation(Value):
    """A grade and every piece of evidence that satisfied or failed its rules."""

    code: str
    decision: GradeDecision
    sources: tuple[SourceVerdict, ...]
    strikes: tuple[StrikeVerdict, ...]
    claims: tuple[CompetingClaim, ...]
    assessments: tuple[Assessment, ...]
    discounts: tuple[DiscountFinding, ...]


class Rulebook:
    """Rulebook v1. Later versions subclass it and change one predicate each."""

    version = "v1"
    summary = sentence_template(
        "credible = reliability A-C and credibility 1-3; sources in one group count once"
    )
    credible_reliabilities: tuple[str, ...] = ("A", "B", "C")
    credible_credibilities: tuple[int, ...] = (1, 2, 3)

    def rates_credible(self, rating: Rating) -> bool:
        """Whether an Admiralty rating is credible: the one place this rule is stated."""
        return self._credible(rating.reliability, rating.credibility)

    def is_credible(self, source: Source, case: CaseFile | None = None) -> bool:
        """Whether a source counts as credible (its rating, in rulebook v1)."""
        return self._credible(source.reliability, source.credibility)

    def _credible(self, reliability: Reliability, credibility: Credibility) -> bool:
        # A StrEnum member equals its letter and an IntEnum member its number.
        return (reliability in self.credible_reliabilities
                and credibility in self.credible_credibilities)

    def group_of(self, source: Source) -> str:
        """The independence group a source belongs to: sources in one group count once."""
        return source.independence_group

    def independent_credible_sources(self, case: CaseFile) -> tuple[Source, ...]:
        """One credible source per independence group, in the order they were added."""
        return self._independent(case, case.active_sources)

    def _independent(self, case: CaseFile, active: tuple[Source, ...]) -> tuple[Source, ...]:
        seen: set[str] = set()
        chosen: list[Source] = []
        for source in active:
            if not self.is_credible(source, case):
                continue
            group = self.group_of(source)
            if group in seen:
                continue
            seen.add(group)
            chosen.append(source)
        return tuple(chosen)

    def explain(self, case: CaseFile) -> Explanation:
        """The decision, with a verdict on each source and strike (refuses an empty case)."""
        decision = self.decide(case)
        counted = {source.id for source in self.independent_credible_sources(case)}
        verdicts = []
        for source in case.sources:
            credible = self.is_credible(source, case)
            if source.withdrawn:
                because_counted = sentence("withdrawn: it no longer counts")
            elif source.id in counted:
                because_counted = sentence("counted: the first credible source of its group")
            elif not credible:
                because_counted = sentence("not counted: not credible")
            else:
                because_counted = sentence(
                    "not counted: its group is already counted by another source")
            verdicts.append(SourceVerdict(
                id=source.id, rating=str(source.rating), kind=source.kind_name,
                credible=credible,
                credible_because=self.credibility_reason(source, credible),
                group=self.group_label(source),
                counted=source.id in counted, counted_because=because_counted,
                withdrawn=source.withdrawn,
            ))
        strongest = self.strike_by_alleged_belligerent(case)
        strikes = []
        for strike in case.strikes:
            alleged = case.is_alleged(strike.belligerent)
            strikes.append(StrikeVerdict(
                belligerent=strike.belligerent, status=strike.status.value,
                report=strike.report, counts=strike == strongest,
                because=(sentence("the strongest strike by an alleged belligerent")
                         if strike == strongest
                         else sentence("a stronger strike is already counted") if alleged
                         else sentence("%(belligerent)s is not an alleged belligerent",
                                       belligerent=strike.belligerent)),
            ))
        latest = case.latest_assessments()
        return Explanation(
            code=case.code, decision=decision, sources=tuple(verdicts),
            strikes=tuple(strikes), claims=case.claims,
            assessments=tuple(latest.values()), discounts=case.discounts,
        )

    def group_label(self, source: Source) -> str:
        """The independence group as a person reads it: the group as typed, or the source id."""
        group = self.group_of(source)
        if group == source.independence_group:
            return source.group or source.id
        return group.split(":", 1)[-1]

    def credibility_reason(self, source: Source, credible: bool) -> str:
        """Why a source's rating is credible or not, as a sentence."""
        bounds = {"rating": str(source.rating),
                  "low": self.credible_reliabilities[0], "high": self.credible_reliabilities[-1],
                  "first": self.credible_credibilities[0], "last": self.credible_credibilities[-1]}
        if credible:
            return sentence("%(rating)s meets reliability %(low)s-%(high)s and credibility "
                            "%(first)s-%(last)s", **bounds)
        return sentence("%(rating)s falls short of reliability %(low)s-%(high)s and credibility "
                        "%(first)s-%(last)s", **bounds)

    def strike_by_alleged_belligerent(self, case: CaseFile) -> StrikeConfirmation | None:
        """The strongest strike confirmation by an alleged belligerent (declared beats likely)."""
        alleged = [strike for strike in case.strikes if case.is_alleged(strike.belligerent)]
        for status in (StrikeStatus.DECLARED, StrikeStatus.LIKELY):
            for strike in alleged:
                if strike.status is status:
                    return strike
        return None

    def decide(self, case: CaseFile) -> GradeDecision:
        """Grade a case; refuse when it has no source to grade on."""
        active = case.active_sources
        if not active:
            raise Refused(sentence("incident %(code)s cannot be graded: it has no source",
                                   code=case.code))
        # Weighed once for FAIR and WEAK: `grade --all` decides for every incident.
        independent = self._independent(case, active)
        strike = self.strike_by_alleged_belligerent(case)
        checks = [
            self._check_confirmed(case),
            self._check_discounted(case),
            self._check_contested(case),
            self._check_fair(case, independent, strike),
        ]
        for (check, grade, evidence) in checks:
            if check.met:
                return self._decision(grade, check, evidence, checks)
        weak_check, weak_evidence = self._check_weak(active, independent, strike)
        return self._decision(Grade.WEAK, weak_check, weak_evidence, checks, weak=True)

    def _decision(
        self,
        grade: Grade,
        chosen: Check,
        evidence: Evidence,
        checks: Sequence[tuple[Check, Grade, Evidence]],
        *,
        weak: bool = False,
    ) -> GradeDecision:
        """The decision by the ``chosen`` check, with every check weighed; WEAK, weighed only
        when no other rule was met, comes last."""
        all_checks = tuple(check for check, _, _ in checks)
        if weak:
            all_checks = (*all_checks, chosen)
        return GradeDecision(
            grade=grade,
            rule=chosen.rule,
            rulebook=self.version,
            evidence=evidence,
            reasons=(chosen.because,),
            checks=all_checks,
        )

    def _check_confirmed(self, case: CaseFile) -> tuple[Check, Grade, Evidence]:
        for belligerent, assessment in case.latest_assessments().items():
            if assessment.outcome is AssessmentOutcome.CREDIBLE:
                because = sentence(REASONS["credible"],
                                   belligerent=belligerent)
                if assessment.reason:
                    because = sentence(
                        REASONS["credible, because"],
                        belligerent=belligerent, reason=assessment.reason)
                return (
                    Check(rule="CONFIRMED", met=True, because=because),
                    Grade.CONFIRMED,
                    Evidence(assessment=assessment),
                )
        return _unmet("CONFIRMED"), Grade.CONFIRMED, _no_evidence()

    def _check_discounted(self, case: CaseFile) -> tuple[Check, Grade, Evidence]:
        if case.discounts:
            finding = case.discounts[-1]
            if finding.party:
                because = sentence(REASONS["another party"],
                                   party=finding.party, rationale=finding.rationale)
            else:
                because = sentence(REASONS["combatants"],
                                   rationale=finding.rationale)
            return (
                Check(rule="DISCOUNTED", met=True, because=because),
                Grade.DISCOUNTED,
                Evidence(discount=finding),
            )
        return _unmet("DISCOUNTED"), Grade.DISCOUNTED, _no_evidence()

    def _check_contested(self, case: CaseFile) -> tuple[Check, Grade, Evidence]:
        """Contested when more than one party is held responsible, alleged or claimed.

        A competing claim that names an alleged party adds no party of its own:
        it is how an archive says the alleged parties contest it between them.
        """
        if len(case.parties_named()) > 1:
            reasons: list[str] = []
            alleged = {case.parties.key(name): name for name in case.belligerents}
            if len(alleged) > 1:
                reasons.append(sentence(REASONS["alleged"],
                                        count=len(alleged),
                                        names=Listed(alleged.values(), ", ")))
            if case.claims:
                claims = Listed((_claimed(claim) for claim in case.claims), "; ")
                reasons.append(sentence(REASONS["claimed"], claims=claims))
            return (
                Check(rule="CONTESTED", met=True, because=Listed(reasons, "; ")),
                Grade.CONTESTED,
                Evidence(claims=case.claims),
            )
        if case.claims:
            check = _unmet("CONTESTED", "claimed")
        else:
            check = _unmet("CONTESTED", "alleged" if case.belligerents else "")
        return check, Grade.CONTESTED, _no_evidence()

    def _check_fair(self, case: CaseFile, independent: tuple[Source, ...],
                    strike: StrikeConfirmation | None) -> tuple[Check, Grade, Evidence]:
        source_ids = tuple(source.id for source in independent)
        if len(independent) >= 2 and strike is not None:
            described = Listed((describe_source(source) for source in independent), ", ")
            if strike.report:
                because = sentence(
                    REASONS["sources and strike, reported"],
                    count=len(independent), sources=described, status=strike.status,
                    belligerent=strike.belligerent, report=strike.report)
            else:
                because = sentence(
                    REASONS["sources and strike"],
                    count=len(independent), sources=described, status=strike.status,
                    belligerent=strike.belligerent)
            return (
                Check(rule="FAIR", met=True, because=because),
                Grade.FAIR,
                Evidence(sources=source_ids, strike=strike),
            )
        missing: list[str] = []
        if len(independent) == 1:
            missing.append(sentence("%(count)s independent credible source (needs 2)",
                                    count=len(independent)))
        elif len(independent) < 2:
            missing.append(sentence("%(count)s independent credible sources (needs 2)",
                                    count=len(independent)))
        if strike is None:
            missing.append(sentence("no declared or likely strike by an alleged belligerent")
                           if case.belligerents else sentence("no belligerent alleged"))
        return (
            Check(rule="FAIR", met=False, because=Listed(missing, "; ")),
            Grade.FAIR,
            Evidence(sources=source_ids, strike=strike),
        )

    def _check_weak(self, active: tuple[Source, ...], independent: tuple[Source, ...],
                    strike: StrikeConfirmation | None) -> tuple[Check, Evidence]:
        if len(independent) < 2:
            attached = len(active)
            if independent:
                because = sentence(REASONS["one source"], count=attached)
            else:
                because = sentence(REASONS["no source"], count=attached)
        else:
            because = sentence(REASONS["no strike"])
        evidence = Evidence(sources=tuple(source.id for source in active), strike=strike)
        return Check(rule="WEAK", met=True, because=because), evidence


@functools.cache
def _no_evidence() -> Evidence:
    """The evidence of a rule not met that points to none: one value, made once (values are
    frozen), instead of once for every decision."""
    return Evidence()


@functools.cache
def _unmet(rule: str, case: str = "") -> Check:
    """A rule not met for a reason that names nothing of the case, made once."""
    because = {
        ("CONFIRMED", ""): sentence("no belligerent has accepted responsibility"),
        ("DISCOUNTED", ""): sentence("no finding that the dead were combatants or that "
                                     "another party was responsible"),
        ("CONTESTED", "alleged"): sentence("one belligerent alleged and no competing claim"),
        ("CONTESTED", ""): sentence("no belligerent alleged and no competing claim"),
        ("CONTESTED", "claimed"): sentence(
            "one party held responsible; no other party claimed"),
    }[rule, case]
    return Check(rule=rule, met=False, because=because)


def _claimed(claim: CompetingClaim) -> str:
    """A competing claim as a reason names it: the party, and why when it was said."""
    if claim.reason:
        return sentence("%(belligerent)s (%(reason)s)",
                        belligerent=claim.belligerent, reason=claim.reason)
    return claim.belligerent


class RulebookV2(Rulebook):
    """An example of a stricter methodology, for `verify audit regrade --rulebook v2`.

    Two changes from v1: a credible source needs reliability A or B (C no
    longer suffices), and official and belligerent sources are not independent
    of the belligerent: together they count as one source.
    """

    version = "v2"
    summary = sentence_template(
        "credible = reliability A-B and credibility 1-3; official and belligerent "
        "sources count together as one"
    )
    credible_reliabilities: tuple[str, ...] = ("A", "B")
    belligerent_side = (SourceKind.OFFICIAL, SourceKind.BELLIGERENT)

    def group_of(self, source: Source) -> str:
        if source.kind in self.belligerent_side:
            return "group:official and belligerent sources"
        return source.independence_group


RULEBOOK_V1 = Rulebook()
RULEBOOK_V2 = RulebookV2()
RULEBOOKS: dict[str, Rulebook] = {book.version: book for book in (RULEBOOK_V1, RULEBOOK_V2)}
CURRENT_RULEBOOK = RULEBOOK_V1
"""The rulebook in force: every grade records its version."""

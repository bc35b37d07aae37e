"""Grading: by the rulebook, by a reviewer's override, approved by a second person, disputed.

Under separation of duties (a team file) the weighty grades are recorded as
proposals and take effect when a different person approves them.
"""

from __future__ import annotations

import copy
from typing import Any

from verify.application.base import IncidentStore, Progress, fewer_collections
from verify.application.views import GradeAllSummary, Suggestion
from verify.domain.duties import Action
from verify.domain.errors import Refused, VerifyError
from verify.domain.incident import Incident
from verify.domain.parties import PartyNames
from verify.domain.rulebook import CURRENT_RULEBOOK, GradeDecision, Rulebook
from verify.domain.sentences import sentence, sentence_of
from verify.domain.values import DisputeOutcome, Grade

GRADE_BATCH = 500
"""How many incidents ``grade --all`` saves in one transaction."""


class Grading(IncidentStore):
    """Commands that grade incidents and settle disputes about their grades."""

    def grade(self, code: str, actor: str, *, expected_version: int | None = None
              ) -> GradeDecision:
        parties = self.party_names()
        with self.changing(code, actor, Action.GRADE, expected_version,
                           parties=parties) as incident:
            decision = incident.grade_by_rulebook(
                actor, second_person=self.second_person, parties=parties)
        return decision

    def override_grade(self, code: str, grade: Grade, rationale: str, actor: str, *,
                       expected_version: int | None = None) -> GradeDecision:
        parties = self.party_names()
        with self.changing(code, actor, Action.OVERRIDE, expected_version,
                           parties=parties) as incident:
            decision = incident.override_grade(
                grade, rationale, actor, second_person=self.second_person, parties=parties)
        return decision

    def approve(self, code: str, actor: str, *, expected_version: int | None = None
                ) -> GradeDecision:
        """A second person lets a proposed grade take effect."""
        parties = self.party_names()
        with self.changing(code, actor, Action.APPROVE, expected_version,
                           parties=parties) as incident:
            decision = incident.approve_grade(actor, parties)
        return decision

    def dispute(self, code: str, by: str, reason: str, actor: str, *,
                expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.DISPUTE, expected_version) as incident:
            incident.dispute_grade(by, reason, actor)

    def resolve(self, code: str, outcome: DisputeOutcome, rationale: str, actor: str, *,
                expected_version: int | None = None) -> None:
        with self.changing(code, actor, Action.RESOLVE, expected_version) as incident:
            incident.resolve_dispute(outcome, rationale, actor,
                                     second_person=self.second_person)

    def refusals_now(self, incident: Incident, actor: str) -> dict[str, str]:
        """Why each change that depends on the incident's state would be refused now, for
        ``actor``: each is tried on a copy of the incident, never saved, so the rules stay
        the domain's own. Keys are the web's action names; absent ones would be taken."""
        parties = self.party_names()
        second = self.second_person
        proposed = (incident.proposal or {}).get("grade")
        other_grade = Grade.WEAK if proposed != Grade.WEAK.value else Grade.FAIR
        trials: dict[str, Any] = {
            "grade": lambda i: i.grade_by_rulebook(actor, second_person=second,
                                                   parties=parties),
            "override": lambda i: i.override_grade(other_grade, "-", actor,
                                                   second_person=second, parties=parties),
            "approve": lambda i: i.approve_grade(actor, parties),
            "dispute": lambda i: i.dispute_grade(actor, "-", actor),
            "resolve": lambda i: i.resolve_dispute(DisputeOutcome.DISMISSED, "-", actor,
                                                   second_person=second),
        }
        refused: dict[str, str] = {}
        for name, trial in trials.items():
            try:
                trial(copy.deepcopy(incident))
            except VerifyError as problem:
                refused[name] = sentence_of(problem)
        if not any(not source.withdrawn for source in incident.source_list()):
            refused["rerate"] = refused["withdraw"] = sentence(
                "incident %(code)s has no source that is not withdrawn", code=incident.code)
            refused["victim"] = sentence(
                "a victim cites the sources that name them, and incident %(code)s has none that "
                "is not withdrawn", code=incident.code)
        return refused

    def suggest_grade(self, code: str) -> Suggestion:
        incident = self.load(code)
        return Suggestion.of(incident.code, incident.suggest_grade(self.party_names()))

    def explain(self, code: str, rulebook: Rulebook | None = None) -> dict[str, Any]:
        """The rulebook's grade with every piece of evidence weighed, beside the recorded one."""
        incident = self.load(code)
        book = rulebook or CURRENT_RULEBOOK
        explanation = book.explain(incident.case_file(self.party_names()))
        return {**explanation.model_dump(mode="json"), "recorded": incident.grading}

    def grade_all(self, actor: str, progress: Progress | None = None, *, due: bool = False
                  ) -> GradeAllSummary:
        """Grade every ungraded incident by the rulebook, many incidents per transaction.

        With ``due``, re-grade instead the graded incidents whose evidence
        changed so that the rulebook now decides otherwise (``regrade_due``);
        without it those are only listed. Under separation of duties the
        grades that need a second person are recorded as proposals and
        counted apart.
        """
        self.authorize(actor, Action.GRADE)
        codes: dict[str, dict[str, list[str]]] = {"graded": {}, "proposed": {}}
        outcome_of: dict[str, tuple[str, str]] = {}
        not_gradable: list[str] = []
        conflicts: list[str] = []
        waiting: list[str] = []
        batch: list[Incident] = []
        parties = self.party_names()

        def flush() -> None:
            for incident in self.save_many(batch):
                conflicts.append(incident.code)
                kind, grade = outcome_of[incident.code]
                codes[kind][grade].remove(incident.code)
            batch.clear()
            outcome_of.clear()

        with fewer_collections():
            for incident in self._incidents():
                if progress is not None:
                    progress(1)
                if incident.regrade_due is not None and not due and incident.dispute is None:
                    waiting.append(incident.code)
                outcome = self._grade_into(incident, actor, not_gradable, parties, due)
                if outcome is not None:
                    codes[outcome[0]].setdefault(outcome[1], []).append(incident.code)
                    outcome_of[incident.code] = outcome
                    batch.append(incident)
                if len(batch) >= GRADE_BATCH:
                    flush()
            flush()
        graded, proposed = (
            {grade.value: codes[kind][grade.value] for grade in Grade
             if codes[kind].get(grade.value)}
            for kind in ("graded", "proposed")
        )
        return GradeAllSummary(
            graded=sum(len(found) for found in graded.values()),
            by_grade={grade: len(found) for grade, found in graded.items()},
            incidents_by_grade=graded,
            proposed={grade: len(found) for grade, found in proposed.items()},
            proposed_incidents=proposed,
            not_gradable=not_gradable,
            conflicts=conflicts,
            regrade_due=waiting,
        )

    def _grade_into(
        self, incident: Incident, actor: str, not_gradable: list[str], parties: PartyNames,
        due: bool,
    ) -> tuple[str, str] | None:
        """Grade one incident for ``grade --all`` if it waits: ("graded" or "proposed", grade).

        Waiting means ungraded, or (with ``due``) flagged for re-grading.
        """
        waits = incident.regrade_due is not None if due else incident.grading is None
        if (not waits or incident.proposal is not None
                or incident.duplicate_of or incident.dispute):
            return None
        try:
            decision = incident.grade_by_rulebook(
                actor, second_person=self.second_person, parties=parties)
        except Refused:
            not_gradable.append(incident.code)
            return None
        kind = "proposed" if incident.proposal is not None else "graded"
        return kind, decision.grade.value

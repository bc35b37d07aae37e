"""The auditor's questions, answered from the stored history without changing it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from verify.application.app import VerifyApp
from verify.domain.chain import BadEvent, ChainReport, Seal, format_head, verify_chain
from verify.domain.errors import InvalidInput, Refused
from verify.domain.incident import Incident, project_incident
from verify.domain.rulebook import RULEBOOKS, Rulebook
from verify.domain.strikes import StrikeReport

Progress = Callable[[int], None]


class Auditor:
    """Verifies the hash chain and snapshots, seals the head, re-grades under other rules."""

    def __init__(self, app: VerifyApp, store_label: str) -> None:
        self.app = app
        self.recorder: Any = app.recorder
        if not hasattr(self.recorder, "chain_rows"):
            raise InvalidInput("this store keeps no hash chain")
        self.path = store_label

    # ----------------------------------------------------------------- verify

    def verify(self, seal: Seal | None = None, progress: Progress | None = None) -> dict[str, Any]:
        """Recompute the chain over every stored event, then check every snapshot."""
        rows = self.recorder.chain_rows()
        if progress is not None:
            rows = _counting(rows, progress)
        report = verify_chain(rows, seal)
        snapshots, bad_snapshot = (0, None) if not report.intact else self._check_snapshots()
        document: dict[str, Any] = {
            "intact": report.intact and bad_snapshot is None,
            "events": report.events,
            "head": format_head(report.head),
            "snapshots_checked": snapshots,
            "seal_checked": report.seal_checked,
            "first_bad": None,
            "problem": None,
        }
        if report.first_bad is not None:
            document["first_bad"] = self._describe(report.first_bad)
            document["problem"] = self._sentence(report, report.first_bad)
        elif bad_snapshot is not None:
            document["problem"] = bad_snapshot
        return document

    def seal(self) -> dict[str, Any]:
        """The head of an intact chain, as a line to publish."""
        checked = self.verify()
        if not checked["intact"]:
            raise Refused(
                f"cannot seal a store whose history fails the audit: {checked['problem']}"
            )
        head = bytes.fromhex(checked["head"].removeprefix("sha256:"))
        at = dt.datetime.now(dt.UTC)
        sealed = Seal(checked["events"], head)
        return {
            "store": self.path,
            "events": sealed.events,
            "head": checked["head"],
            "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "line": sealed.line(self.path, at),
        }

    def _check_snapshots(self) -> tuple[int, str | None]:
        """Every snapshot must equal the state its events give at that version."""
        snapshots = self.recorder.snapshot_rows()
        for checked, (originator, version, topic, state) in enumerate(snapshots, start=1):
            identity = UUID(originator)
            code = self.code_of(identity)
            try:
                snapshot = self.app.mapper.to_domain_event(StoredEvent(
                    originator_id=identity, originator_version=version, topic=topic,
                    state=bytes(state)))
                restored = snapshot.mutate(None)  # type: ignore[attr-defined]
            except Exception:
                return checked, f"the snapshot of {code} at version {version} cannot be read"
            replayed = project_incident(None, self.app.events.get(identity, lte=version))
            if replayed is None or vars(restored) != vars(replayed):
                return checked, (f"the snapshot of {code} at version {version} does not match "
                                 "its events")
        return len(snapshots), None

    def code_of(self, originator: UUID | str) -> str:
        """An incident's code from its first event, for naming it in a report."""
        try:
            identity = originator if isinstance(originator, UUID) else UUID(str(originator))
            first = next(iter(self.app.events.get(identity, lte=1)), None)
        except Exception:
            first = None
        if isinstance(first, Incident.Reported):
            return first.code
        if isinstance(first, StrikeReport.Recorded):
            return f"strike report {first.report['reference']}"
        return f"the record with id {originator}"

    def _describe(self, bad: BadEvent) -> dict[str, Any]:
        return {
            "position": bad.position,
            "notification_id": bad.notification_id,
            "code": self.code_of(bad.originator_id) if bad.originator_id else None,
            "version": bad.version,
            "event": bad.event_type,
            "problem": bad.problem,
        }

    def _sentence(self, report: ChainReport, bad: BadEvent) -> str:
        if not bad.originator_id:
            return bad.problem
        return (f"event {bad.position} of the log ({self.code_of(bad.originator_id)} version "
                f"{bad.version}, {bad.event_type}) {bad.problem}")

    # ---------------------------------------------------------------- regrade

    def regrade(self, rulebook: Rulebook, progress: Progress | None = None) -> dict[str, Any]:
        """Every graded incident whose grade the given rulebook would change; writes nothing."""
        changes: list[dict[str, Any]] = []
        transitions: Counter[str] = Counter()
        compared = 0
        parties = self.app.party_names()
        for incident in self.app.incidents_for_audit():
            if progress is not None:
                progress(1)
            grading = incident.grading
            if grading is None or incident.duplicate_of is not None:
                continue
            compared += 1
            try:
                decision = rulebook.decide(incident.case_file(parties))
                new_grade, new_rule = decision.grade.value, decision.rule
                reasons = list(decision.reasons)
            except Refused as refusal:
                new_grade, new_rule, reasons = None, None, [str(refusal)]
            if new_grade == grading["grade"]:
                continue
            kind = ("override" if grading["override"] else "imported" if grading["imported"]
                    else "rulebook")
            changes.append({
                "code": incident.code, "from": grading["grade"], "to": new_grade,
                "rule": new_rule, "reasons": reasons, "was_graded_by": kind,
                "was_rule": grading["rule"], "was_rulebook": grading["rulebook"],
            })
            transitions[f"{grading['grade']} -> {new_grade or 'ungradable'}"] += 1
        return {
            "rulebook": rulebook.version,
            "summary": rulebook.summary,
            "compared": compared,
            "changed": len(changes),
            "unchanged": compared - len(changes),
            "by_change": dict(sorted(transitions.items())),
            "changes": changes,
        }


def rulebook_named(name: str) -> Rulebook:
    try:
        return RULEBOOKS[name.lower()]
    except KeyError:
        raise InvalidInput(
            f"no rulebook {name!r}; there are {', '.join(sorted(RULEBOOKS))}"
        ) from None


def _counting(rows: Any, progress: Progress) -> Any:
    for count, row in enumerate(rows, start=1):
        if count % 10_000 == 0:
            progress(10_000)
        yield row

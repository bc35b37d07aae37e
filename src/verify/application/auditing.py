"""The auditor's questions, answered from the stored history without changing it."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from verify.application.app import VerifyApp
from verify.domain.chain import (
    BadEvent,
    ChainReport,
    Seal,
    format_head,
    stored_form,
    verify_chain,
)
from verify.domain.errors import InvalidInput, Refused
from verify.domain.incident import Incident, project_incident
from verify.domain.merkle import MerkleTree
from verify.domain.proofs import format_root, stored_event_leaf
from verify.domain.rulebook import RULEBOOKS, Rulebook
from verify.domain.strikes import StrikeReport
from verify.domain.timestamps import Attestation, Stamped, timestamped_data

Progress = Callable[[int], None]


class TimestampAuthority(Protocol):
    """An RFC 3161 timestamping authority (`verify.adapters.timestamps`)."""

    def stamp(self, data: bytes) -> Stamped:
        """A token for these bytes, checked against the request (Refused when none)."""
        ...


class TimestampCheck(Protocol):
    """A kept timestamp token and the certificates trusted to have signed it."""

    def check(self, head: bytes) -> Attestation:
        """What the token attests of this head (Refused when it does not hold)."""
        ...


class Auditor:
    """Verifies the hash chain and snapshots, seals the head, re-grades under other rules."""

    def __init__(self, app: VerifyApp, store_label: str) -> None:
        self.app = app
        self.recorder: Any = app.recorder
        if not hasattr(self.recorder, "chain_rows"):
            raise InvalidInput("this store keeps no hash chain")
        self.path = store_label

    # ----------------------------------------------------------------- verify

    def verify(self, seal: Seal | None = None, progress: Progress | None = None, *,
               tree: MerkleTree | None = None,
               timestamp: TimestampCheck | None = None) -> dict[str, Any]:
        """Recompute the chain over every stored event, read every record back the way
        loading does, then check every snapshot; with ``tree``, also grow the Merkle tree
        over the events in the same pass; with a seal and its ``timestamp``, check the
        token attests the seal's head."""
        places = PlaceCheck(getattr(self.app.mapper, "check_place", None))
        sealed_tree = None
        if tree is None and seal is not None and seal.merkle_root is not None:
            tree = sealed_tree = MerkleTree()
            sealed_tree.follow(seal.events)
        quick = self._quick_walk(seal, progress, places) if tree is None else None
        if quick is not None:
            report = quick.report
            bad_read = None if places.check is None else \
                self._check_read_path(report.content, places)
        else:
            rows = self.recorder.chain_rows()
            if tree is not None:
                rows = _into_tree(rows, tree)
            tried = tree is None and getattr(self.recorder, "chain_walk", None) is not None
            report = verify_chain(rows, seal, None if tried else progress)
            bad_read = None if not report.intact else \
                self._check_read_path(report.content, places)
        if report.intact and not bad_read and seal is not None and sealed_tree is not None \
                and sealed_tree.old_root != seal.merkle_root:
            bad_read = (f"the seal's merkle_root is not the root of the Merkle tree over its "
                        f"{seal.events} events, whose head it matches: the seal line was "
                        "altered after it was printed")
        snapshots, bad_snapshot = (0, None) if not report.intact or bad_read else \
            self._check_snapshots()
        bad_snapshot = bad_read or bad_snapshot
        attested = None
        if seal is not None and timestamp is not None and report.intact \
                and bad_snapshot is None:
            try:
                attested = timestamp.check(seal.head).document()
            except Refused as refusal:
                bad_snapshot = str(refusal)
        document: dict[str, Any] = {
            "intact": report.intact and bad_snapshot is None,
            "events": report.events,
            "head": format_head(report.head),
            "snapshots_checked": snapshots,
            "encrypted_checked": places.bound + places.unbound,
            "encrypted_unbound": places.unbound,
            "seal_checked": report.seal_checked,
            "timestamp": attested,
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
        """The head of an intact chain and the Merkle root over the same events, as a line
        to publish."""
        tree = MerkleTree()
        checked = self.verify(tree=tree)
        if not checked["intact"]:
            raise Refused(
                f"cannot seal a store whose history fails the audit: {checked['problem']}"
            )
        head = bytes.fromhex(checked["head"].removeprefix("sha256:"))
        at = dt.datetime.now(dt.UTC)
        assert tree.size == checked["events"], "the tree and the chain walked the same events"
        sealed = Seal(checked["events"], head, tree.root())
        return {
            "store": self.path,
            "events": sealed.events,
            "head": checked["head"],
            "merkle_root": format_root(tree.root()),
            "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "line": sealed.line(self.path, at),
        }

    @staticmethod
    def timestamp(sealed: dict[str, Any], authority: TimestampAuthority) -> Stamped:
        """An authority's token for a seal's head (`seal`'s document), checked against the
        request; nothing is kept here."""
        head = bytes.fromhex(str(sealed["head"]).removeprefix("sha256:"))
        return authority.stamp(timestamped_data(head))

    def _quick_walk(self, seal: Seal | None, progress: Progress | None,
                    places: PlaceCheck) -> Any:
        """An intact chain proven the store's quick way (`adapters.chain_walk`: both cores,
        and SQLite's check that the events' index holds their rows, which answers the
        read-back without reading it, unless each event must be decrypted where it stands);
        None when the store has no quick way or it finds anything amiss, and then the
        careful walk (`verify_chain`) runs from the start and names what it is."""
        walk = getattr(self.recorder, "chain_walk", None)
        if walk is None:
            return None
        decrypting = places.check is not None
        walked = walk().audit(seal, progress, content=decrypting, index=not decrypting)
        if walked is None or not (decrypting or walked.index_intact):
            return None
        return walked

    def _check_read_path(self, content: int, places: PlaceCheck) -> str | None:
        """Every record's events, read as `show` and `history` read them, are the ones stored.

        The walk reads events in the order of the log; loading reads one
        record's events through the database's index on (record, version). A
        database altered behind the program's back so that the two disagree
        (an index rebuilt to point elsewhere, say) shows another history to
        everyone who reads it while every stored row and chain link stays
        intact: this is where the audit sees it. With the cipher key, each
        event's ciphertext must also belong where it stands (its record,
        version and type; see `PlaceCheck`).
        """
        read_total = ReadBack.summed(places.watch(self.recorder.events_by_record()))
        if places.misplaced is not None:
            originator, version, topic = places.misplaced
            return (f"the encrypted event at version {version} of {self.code_of(originator)} "
                    f"({topic.rsplit('.', 1)[-1]}) was not encrypted there: it was moved from "
                    "elsewhere in the history or altered behind the program's back")
        if read_total == content:
            return None
        expected = ReadBack.by_record(
            (originator, version, topic, state) for event_id, originator, version, topic, state,
            *_ in self.recorder.chain_rows() if event_id is not None)
        read = ReadBack.by_record(self.recorder.events_by_record())
        for originator in sorted(set(expected) | set(read)):
            if read.get(originator) != expected.get(originator):
                return (f"the events of {self.code_of(originator)} read back differently "
                        "through the database's index than they are stored in the log: the "
                        "database was altered behind the program's back (its index, say), so "
                        "what is shown is not what was recorded")
        return None

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
        if isinstance(first, Incident.Reported) and first.originator_id.hex == \
                str(originator).replace("-", ""):
            return first.code
        if isinstance(first, StrikeReport.Recorded):
            return f"strike report {first.report['reference']}"
        # The index may be what is broken: find the report in the log's own order.
        for reported in self.app.events_of(Incident.Reported):
            if reported.originator_id.hex == str(originator).replace("-", ""):
                return str(reported.code)
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


class ReadBack:
    """What the log stores, summed to compare with what loading reads, at little cost.

    Each stored event, in the form the chain hashes it (`chain.stored_form`:
    record, version, topic and bytes, length-prefixed), is hashed with Python's
    keyed hash (SipHash) and the hashes summed: a hash of the rows as a
    multiset, made by the walk of the log (`ChainReport.content`) and here for
    the loading side. Equal sums of a read that comes in strictly increasing
    (record, version) order mean loading reads exactly the stored events, each
    record's in version order. The key is drawn anew by every process, so rows
    cannot be forged to sum alike. (A tuple's hash would not do: it is nearly
    additive in its items' hashes, so events whose parts were swapped between
    two rows summed alike about one time in four.) When the sums differ, the
    slow path (a SHA-256 of each record's events on both sides) names the
    record that reads back differently.
    """

    @staticmethod
    def summed(events: Iterable[tuple[str, int, str, bytes]]) -> int | None:
        """The sum for ``events`` (read through loading's index), or None when they do not
        come in strictly increasing (record, version) order (a row read twice, say)."""
        summed = 0
        last: tuple[str, int] = ("", 0)
        for originator, version, topic, state in events:
            key = (originator, version)
            if not key > last:
                return None
            last = key
            summed += hash(stored_form(originator, version, topic, state))
        return summed

    @staticmethod
    def part(version: int, topic: str, state: bytes) -> bytes:
        kind = topic.encode()
        return (struct.pack(">QQ", version, len(kind)) + kind
                + struct.pack(">Q", len(state)) + state)

    @staticmethod
    def by_record(events: Iterable[tuple[str, int, str, bytes]]) -> dict[str, bytes]:
        """The digest of each record's events, in the order they come."""
        hashes: dict[str, Any] = {}
        for originator, version, topic, state in events:
            digest = hashes.get(originator)
            if digest is None:
                digest = hashes[originator] = hashlib.sha256()
            digest.update(ReadBack.part(version, topic, state))
        return {originator: digest.digest() for originator, digest in hashes.items()}


class PlaceCheck:
    """Checks that each encrypted event decrypts where it stands (with the cipher key only).

    Events are encrypted with their record, version and type as associated
    data, so ciphertext copied to another place fails here though its chain
    link was recomputed. Events encrypted before that binding are counted as
    unbound: they are read, but where they stand is not proven.
    """

    def __init__(self, check: Callable[[Any, int, str, bytes], bool | None] | None) -> None:
        self.check = check
        self.bound = 0
        self.unbound = 0
        self.misplaced: tuple[str, int, str] | None = None

    def watch(self, events: Iterable[tuple[str, int, str, bytes]]
              ) -> Iterator[tuple[str, int, str, bytes]]:
        for event in events:
            if self.check is not None and self.misplaced is None:
                originator, version, topic, state = event
                try:
                    bound = self.check(originator, version, topic, state)
                except ValueError:  # the mapper's deserialisation error is one
                    self.misplaced = (originator, version, topic)
                else:
                    if bound is True:
                        self.bound += 1
                    elif bound is False:
                        self.unbound += 1
            yield event


def _into_tree(rows: Iterator[tuple[Any, ...]], tree: MerkleTree) -> Iterator[tuple[Any, ...]]:
    """Pass the chain rows on, appending each stored event's leaf to the tree."""
    for row in rows:
        event_id, originator, version, topic, state = row[:5]
        if event_id is not None:
            tree.append(stored_event_leaf(originator, version, topic, bytes(state)))
        yield row

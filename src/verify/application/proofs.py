"""Proofs for a reader who holds only a published root: made in one pass, checked from the file.

`Prover` walks the log once, in order, growing the Merkle tree
(`verify.domain.merkle`) and keeping only what the asked-for proof needs: an
incident's events and their audit paths, or the path from an earlier sealed
size. It never checks the hash chain on the way (that is `audit verify`'s
work): a proof made from a rewritten log fails against the root published
before the rewrite, which is the point of publishing it. `check_proof` reads a
proof file's bytes and needs no store at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from verify.application.app import VerifyApp
from verify.application.messages import validation_sentence
from verify.domain.errors import InvalidInput, Refused, UnknownIncident
from verify.domain.incident import incident_id
from verify.domain.merkle import MerkleTree, leaf_hash
from verify.domain.proofs import (
    HASHING,
    ConsistencyProof,
    InclusionProof,
    ProvenEvent,
    PublishedRoot,
    event_leaf,
    format_root,
    stored_event_leaf,
)
from verify.domain.values import canonical_code

MAX_PROOF_BYTES = 64_000_000
"""A larger proof file is refused unread: an incident of 100,000 events proves in less."""

LogRow = tuple[str, int, str, bytes]
"""(record id, version, topic, stored bytes): one stored event, as the tree takes it."""


class Prover:
    """Proves an incident's events, or the log's growth, against the log's Merkle root."""

    def __init__(self, app: VerifyApp) -> None:
        self.app = app
        self.recorder: Any = app.recorder
        if not hasattr(self.recorder, "chain_rows"):
            raise InvalidInput("this store keeps no hash chain")

    def incident(self, code: str, sealed: PublishedRoot | None = None) -> dict[str, Any]:
        """An inclusion proof of every event of incident ``code`` in the log as it is now,
        or, given a seal, in the log as it was sealed (its first events, unchanged)."""
        code = canonical_code(code)
        if not self.app.has_incident(code):
            raise UnknownIncident(code)
        for _, proof in self.incidents([code], sealed):
            return proof
        size = sealed.events if sealed is not None else self.app.recorder.max_notification_id()
        raise Refused(f"{code} has no event among the {size} sealed: it was reported "
                      "after the seal")

    def incidents(self, codes: Iterable[str], sealed: PublishedRoot | None = None
                  ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(code, inclusion proof) for each incident of ``codes`` with an event in the log (as
        sealed, given a seal), all made in one walk of the log: a whole archive's proofs cost
        one pass, not one each."""
        limit = _sealed_size(sealed) if sealed is not None else None
        records = {incident_id(code).hex: code for code in codes}
        tree = MerkleTree()
        proven: dict[str, list[ProvenEvent]] = {}
        for originator, version, topic, state in self._log(limit):
            if originator not in records:
                tree.append(stored_event_leaf(originator, version, topic, state))
                continue
            digest = hashlib.sha256(state).digest()
            proven.setdefault(originator, []).append(ProvenEvent(
                index=tree.size, version=version, topic=topic, state_sha256=digest.hex(),
                path=[]))
            tree.append(leaf_hash(event_leaf(originator, version, topic, digest)), prove=True)
        root = tree.root()
        if sealed is not None:
            self._check_sealed(tree.size, root, sealed)
        for record, events in proven.items():
            with_paths = [event.model_copy(update={"path": [
                node.hex() for node in tree.inclusion_path(event.index)]}) for event in events]
            proof = InclusionProof(proof="inclusion", hashing=HASHING, code=records[record],
                                   record=record, tree_size=tree.size,
                                   root=format_root(root), events=with_paths)
            yield records[record], proof.model_dump(mode="json")

    def consistency(self, old: PublishedRoot) -> dict[str, Any]:
        """A proof that the log now extends the one sealed earlier with root ``old``."""
        old_size = _sealed_size(old)
        tree = MerkleTree()
        tree.follow(old_size)
        for originator, version, topic, state in self._log():
            tree.append(stored_event_leaf(originator, version, topic, state))
        self._check_sealed(tree.size, tree.old_root, old)
        proof = ConsistencyProof(
            proof="consistency", hashing=HASHING, old_size=old_size,
            old_root=format_root(old.root), tree_size=tree.size, root=format_root(tree.root()),
            path=[node.hex() for node in tree.consistency_path()])
        return proof.model_dump(mode="json")

    def _log(self, limit: int | None = None) -> Iterator[LogRow]:
        """The stored events in log order (their first ``limit``), read as the audit reads them."""
        if limit == 0:
            return
        count = 0
        for event_id, originator, version, topic, state, *_ in self.recorder.chain_rows():
            if event_id is None:  # a chain row whose event is gone: not in the log
                continue
            yield originator, version, topic, state if isinstance(state, bytes) else bytes(state)
            count += 1
            if count == limit:
                return

    @staticmethod
    def _check_sealed(size: int, root: bytes | None, sealed: PublishedRoot) -> None:
        """The log's first events, as many as were sealed, still give the sealed root."""
        assert sealed.events is not None
        if size < sealed.events or root is None:
            raise Refused(f"the store holds {size} events, fewer than the {sealed.events} "
                          "sealed: events were cut off the log since, or the seal is of "
                          "another store")
        if root != sealed.root:
            raise Refused(f"the first {sealed.events} events of the log give the root "
                          f"{format_root(root)}, not the sealed {format_root(sealed.root)}: they "
                          "were rewritten since, or the seal is of another store")


def _sealed_size(sealed: PublishedRoot) -> int:
    if sealed.events is None:
        raise InvalidInput("a root alone does not say how many events it covers: give the "
                           "whole seal line, or the event count with --events")
    return sealed.events


def check_proof(content: bytes, root: PublishedRoot,
                old_root: PublishedRoot | None = None) -> dict[str, Any]:
    """Check a proof file's content against the published root; needs no store."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as error:
        raise InvalidInput(f"the proof file is not JSON: {_reason(error)}") from None
    kind = document.get("proof") if isinstance(document, dict) else None
    proof: InclusionProof | ConsistencyProof
    try:
        if kind == "inclusion":
            proof = InclusionProof.model_validate(document)
        elif kind == "consistency":
            proof = ConsistencyProof.model_validate(document)
        else:
            raise InvalidInput('the proof file is not a proof of `verify audit prove`: its '
                               '"proof" is neither "inclusion" nor "consistency"')
    except ValidationError as error:
        raise InvalidInput(f"the proof file does not read as an {kind} proof: "
                           f"{validation_sentence(error)}") from None
    report: dict[str, Any] = {"proof": kind, "tree_size": proof.tree_size, "root": proof.root,
                              "size_checked": root.events is not None}
    if isinstance(proof, InclusionProof):
        if old_root is not None:
            raise InvalidInput("--old-root goes with a consistency proof; this one proves "
                               "an incident's events")
        problem = proof.problem(root)
        report |= {"code": proof.code, "events": len(proof.events)}
    else:
        problem = proof.problem(root, old_root)
        report |= {"old_size": proof.old_size, "old_root": proof.old_root,
                   "old_root_checked": old_root is not None}
    return {"holds": problem is None, **report, "problem": problem}


def _reason(error: BaseException) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    if isinstance(error, RecursionError):
        return "it nests too deep"
    return str(error).split("\n", 1)[0]

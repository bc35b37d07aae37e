"""Proof documents: what a leaf is, what a proof holds, and that every byte of it counts."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from verify.domain.chain import Seal
from verify.domain.errors import InvalidInput
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
    parse_root,
    stored_event_leaf,
)

CODE = "CS1080"
TOPIC = "verify.domain.incident:Incident.SourceAdded"


def test_a_leaf_is_the_chains_fields_with_the_events_digest() -> None:
    record = incident_id(CODE).hex
    digest = hashlib.sha256(b"{}").digest()
    leaf = event_leaf(record, 3, TOPIC, digest)
    assert leaf == (len(record).to_bytes(8, "big") + record.encode() + (3).to_bytes(8, "big")
                    + len(TOPIC).to_bytes(8, "big") + TOPIC.encode() + digest)
    assert stored_event_leaf(record, 3, TOPIC, b"{}") == leaf_hash(leaf)


def log_with(mine: list[int], size: int) -> tuple[list[tuple[str, int, str, bytes]], str]:
    """A log of ``size`` events; those at ``mine`` are CODE's, versions 1, 2, …"""
    record = incident_id(CODE).hex
    rows, version = [], 0
    for index in range(size):
        if index in mine:
            version += 1
            rows.append((record, version, TOPIC, f"state {index}".encode()))
        else:
            rows.append((f"{index:032x}", 1, TOPIC, f"other {index}".encode()))
    return rows, record


def inclusion(rows: list[tuple[str, int, str, bytes]], record: str) -> InclusionProof:
    """The proof as `Prover` makes it, from the rows alone."""
    tree = MerkleTree()
    events = []
    for originator, version, topic, state in rows:
        mine = originator == record
        if mine:
            events.append((tree.size, version, topic, hashlib.sha256(state).hexdigest()))
        tree.append(stored_event_leaf(originator, version, topic, state), prove=mine)
    return InclusionProof(
        proof="inclusion", hashing=HASHING, code=CODE, record=record, tree_size=tree.size,
        root=format_root(tree.root()),
        events=[ProvenEvent(index=index, version=version, topic=topic, state_sha256=digest,
                            path=[node.hex() for node in tree.inclusion_path(index)])
                for index, version, topic, digest in events])


def places(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [place for key, item in value.items() for place in places(item, (*where, key))]
    if isinstance(value, list):
        return [place for index, item in enumerate(value)
                for place in places(item, (*where, index))]
    return [where]


def changed(document: dict[str, Any], place: tuple[Any, ...], character: int,
            bit: int) -> dict[str, Any]:
    """The document with one bit of one byte of one value flipped."""
    copy: Any = {**document}
    holder = copy
    for key in place[:-1]:
        holder[key] = holder[key].copy()
        holder = holder[key]
    value = holder[place[-1]]
    if isinstance(value, int):
        holder[place[-1]] = value ^ (1 << bit)
    else:
        raw = bytearray(value.encode())
        raw[character % len(raw)] ^= 1 << (bit % 7)
        holder[place[-1]] = raw.decode("utf-8", "replace")
    return copy


def holds(document: dict[str, Any], published: PublishedRoot) -> bool:
    model = InclusionProof if document.get("proof") == "inclusion" else ConsistencyProof
    try:
        proof = model.model_validate(document)
    except ValidationError:
        return False
    return proof.problem(published) is None


logs = st.integers(1, 120).flatmap(lambda size: st.tuples(
    st.just(size), st.sets(st.integers(0, size - 1), min_size=1, max_size=8)))


@settings(max_examples=60, deadline=None)
@given(logs, st.data())
def test_an_incidents_proof_holds_and_no_flipped_bit_leaves_it_holding(
        log: tuple[int, set[int]], draw: st.DataObject) -> None:
    size, mine = log
    rows, record = log_with(sorted(mine), size)
    proof = inclusion(rows, record)
    sealed = PublishedRoot(bytes.fromhex(proof.root[7:]), size)
    assert proof.problem(sealed) is None
    assert proof.problem(PublishedRoot(sealed.root)) is None
    document = proof.model_dump(mode="json")
    for place in draw.draw(st.lists(st.sampled_from(places(document)), max_size=12)):
        character, bit = draw.draw(st.integers(0, 200)), draw.draw(st.integers(0, 7))
        assert not holds(changed(document, place, character, bit), sealed), place


def test_every_field_counts() -> None:
    rows, record = log_with([2, 5, 6, 30], 40)
    proof = inclusion(rows, record)
    sealed = PublishedRoot(bytes.fromhex(proof.root[7:]), 40)
    document = proof.model_dump(mode="json")
    for place in places(document):
        for bit in range(7):
            assert not holds(changed(document, place, -1, bit), sealed), (place, bit)
    assert "left out" in (InclusionProof.model_validate(
        {**document, "events": document["events"][1:]}).problem(sealed) or "")
    assert "not the 41 sealed" in (proof.problem(PublishedRoot(sealed.root, 41)) or "")
    other = PublishedRoot(hashlib.sha256(b"another").digest(), 40)
    assert "is made against the root" in (proof.problem(other) or "")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.data())
def test_a_consistency_proof_holds_and_no_flipped_bit_leaves_it_holding(
        size: int, draw: st.DataObject) -> None:
    old_size = draw.draw(st.integers(0, size))
    tree = MerkleTree()
    tree.follow(old_size)
    for index in range(size):
        tree.append(leaf_hash(index.to_bytes(4, "big")))
    assert tree.old_root is not None
    proof = ConsistencyProof(
        proof="consistency", hashing=HASHING, old_size=old_size,
        old_root=format_root(tree.old_root), tree_size=size, root=format_root(tree.root()),
        path=[node.hex() for node in tree.consistency_path()])
    sealed, old = PublishedRoot(tree.root(), size), PublishedRoot(tree.old_root, old_size)
    assert proof.problem(sealed, old) is None
    document = proof.model_dump(mode="json")
    for place in draw.draw(st.lists(st.sampled_from(places(document)), max_size=8)):
        flipped = changed(document, place, draw.draw(st.integers(0, 80)),
                          draw.draw(st.integers(0, 7)))
        try:
            still = ConsistencyProof.model_validate(flipped).problem(sealed, old) is None
        except ValidationError:
            still = False
        assert not still, place


def test_a_published_root_reads_from_a_seal_line_or_alone() -> None:
    root = hashlib.sha256(b"root").digest()
    line = Seal(51, bytes(32), root).line("verify.sqlite", dt.datetime(2026, 12, 2))
    assert "events=51 head=sha256:" + "0" * 64 + " merkle_root=sha256:" + root.hex() in line
    assert PublishedRoot.parse(line) == PublishedRoot(root, 51)
    assert Seal.parse(line).merkle_root == root
    assert PublishedRoot.parse(root.hex().upper()) == PublishedRoot(root)
    assert PublishedRoot.parse(f" sha256:{root.hex()}\n") == PublishedRoot(root)
    assert parse_root("sha256:" + root.hex()) == root
    with pytest.raises(InvalidInput, match="merkle_root"):
        PublishedRoot.parse(f"verify seal: events=3 head=sha256:{root.hex()} at=x")
    for bad in ("", "sha256:", root.hex()[:-1], root.hex() + "0", "g" * 64, "md5:" + "0" * 64):
        with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
            PublishedRoot.parse(bad)

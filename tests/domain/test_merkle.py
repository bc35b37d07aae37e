"""The log's Merkle tree against RFC 9162's own recursive definitions, leaf by leaf.

The streaming tree keeps a handful of hashes; the definitions below hold every
leaf and recurse as the RFC writes them (sections 2.1.1, 2.1.3.1, 2.1.4.1). Every
root, inclusion path and consistency proof must be theirs, must verify, and must
stop verifying when any byte of it, or the root, changes.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.domain.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# ------------------------------------------------------- the RFC, as written


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True)


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def data(n: int) -> list[bytes]:
    return [f"event {i}".encode() for i in range(n)]


def grown(leaves: list[bytes], prove: set[int] = frozenset(),  # type: ignore[assignment]
          follow: int | None = None) -> MerkleTree:
    tree = MerkleTree()
    if follow is not None:
        tree.follow(follow)
    for index, leaf in enumerate(leaves):
        tree.append(leaf_hash(leaf), prove=index in prove)
    return tree


def flipped(value: bytes, position: int, bit: int) -> bytes:
    changed = bytearray(value)
    changed[position % len(changed)] ^= 1 << bit
    return bytes(changed)


# ------------------------------------------------------------------- roots


def test_the_empty_tree_has_the_hash_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_rfc_9162_figures_for_seven_leaves() -> None:
    """The trees of sections 2.1.5: the proofs the RFC lists, by its letters."""
    d = data(7)
    a, b, c, dd, e, f, j = (leaf_hash(x) for x in d)
    g, h, i = node_hash(a, b), node_hash(c, dd), node_hash(e, f)
    k, l = node_hash(g, h), node_hash(i, j)  # noqa: E741 - the RFC's own letter
    tree = grown(d, prove={0, 3, 4})
    assert tree.root() == node_hash(k, l)
    assert tree.inclusion_path(0) == [b, h, l]
    assert tree.inclusion_path(3) == [c, g, l]
    assert tree.inclusion_path(4) == [f, j, k]
    for old, expected in ((3, [c, dd, g, l]), (4, [l]), (6, [i, j, k])):
        followed = grown(d, follow=old)
        assert followed.consistency_path() == expected


@pytest.mark.parametrize("n", range(0, 70))
def test_roots_of_every_size_are_the_recursive_definitions(n: int) -> None:
    tree = MerkleTree()
    for size, leaf in enumerate(data(n), start=1):
        tree.append(leaf_hash(leaf))
        assert tree.root() == mth(data(size))
    assert tree.size == n


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33, 64, 65])
def test_every_inclusion_path_is_the_rfcs_and_verifies(n: int) -> None:
    leaves = data(n)
    tree = grown(leaves, prove=set(range(n)))
    root = tree.root()
    for m in range(n):
        assert tree.inclusion_path(m) == path(m, leaves)
        assert verify_inclusion(leaf_hash(leaves[m]), m, n, tree.inclusion_path(m), root)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33, 64, 65])
def test_every_consistency_proof_is_the_rfcs_and_verifies(n: int) -> None:
    leaves = data(n)
    root = mth(leaves)
    for m in range(0, n + 1):
        tree = grown(leaves, follow=m)
        assert tree.old_root == mth(leaves[:m])
        expected = proof(m, leaves) if m > 0 else []
        assert tree.consistency_path() == expected
        assert verify_consistency(m, mth(leaves[:m]), n, root, expected)


# --------------------------------------------------------------- properties

sizes = st.integers(min_value=1, max_value=300)


@pytest.mark.slow  # 150 trees drawn; every path of trees of 1 to 65 leaves is checked above
@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_a_few_proven_leaves_get_the_rfcs_paths(n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    proven = draw.draw(st.sets(st.integers(0, n - 1), max_size=6))
    tree = grown(leaves, prove=proven)
    assert tree.root() == mth(leaves)
    for m in proven:
        assert tree.inclusion_path(m) == path(m, leaves)


@pytest.mark.slow  # 150 trees drawn; test_proof_documents flips bits in the inner loop
@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_any_flipped_bit_or_other_root_fails_an_inclusion_proof(
        n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    m = draw.draw(st.integers(0, n - 1))
    tree = grown(leaves, prove={m})
    root, audit = tree.root(), tree.inclusion_path(m)
    leaf = leaf_hash(leaves[m])
    assert verify_inclusion(leaf, m, n, audit, root)
    position, bit = draw.draw(st.integers(0, 31)), draw.draw(st.integers(0, 7))
    assert not verify_inclusion(flipped(leaf, position, bit), m, n, audit, root)
    assert not verify_inclusion(leaf, m, n, audit, flipped(root, position, bit))
    if audit:
        node = draw.draw(st.integers(0, len(audit) - 1))
        changed = [*audit[:node], flipped(audit[node], position, bit), *audit[node + 1:]]
        assert not verify_inclusion(leaf, m, n, changed, root)
        assert not verify_inclusion(leaf, m, n, audit[:-1], root)
    assert not verify_inclusion(leaf, m, n, [*audit, root], root)
    if n > 1:
        other = draw.draw(st.integers(0, n - 1).filter(lambda index: index != m))
        if path(other, leaves) != audit:
            assert not verify_inclusion(leaf, other, n, audit, root)


def test_the_path_alone_does_not_bind_the_trees_size() -> None:
    """Leaf 0 of three leaves has the path of leaf 0 of four (a sibling, then the right
    half), so a proof's size is bound by the published seal's event count, not by its
    path: RFC 9162 signs the size beside the root for the same reason."""
    leaves = data(3)
    tree = grown(leaves, prove={0})
    audit = tree.inclusion_path(0)
    assert verify_inclusion(leaf_hash(leaves[0]), 0, 3, audit, tree.root())
    assert verify_inclusion(leaf_hash(leaves[0]), 0, 4, audit, tree.root())


@pytest.mark.slow  # 150 trees drawn; test_proof_documents flips bits in the inner loop
@settings(max_examples=150, deadline=None)
@given(sizes, st.data())
def test_any_flipped_bit_or_other_root_fails_a_consistency_proof(
        n: int, draw: st.DataObject) -> None:
    leaves = data(n)
    m = draw.draw(st.integers(1, n))
    tree = grown(leaves, follow=m)
    old, new, between = mth(leaves[:m]), tree.root(), tree.consistency_path()
    assert verify_consistency(m, old, n, new, between)
    position, bit = draw.draw(st.integers(0, 31)), draw.draw(st.integers(0, 7))
    assert not verify_consistency(m, flipped(old, position, bit), n, new, between)
    assert not verify_consistency(m, old, n, flipped(new, position, bit), between)
    if between:
        node = draw.draw(st.integers(0, len(between) - 1))
        changed = [*between[:node], flipped(between[node], position, bit),
                   *between[node + 1:]]
        assert not verify_consistency(m, old, n, new, changed)
        assert not verify_consistency(m, old, n, new, between[:-1])
    if m < n:
        assert not verify_consistency(m, old, n, new, [])
        rewritten = [*leaves[:m - 1], b"rewritten", *leaves[m:]]
        assert not verify_consistency(m, old, n, mth(rewritten), between)


def test_paths_out_of_range_lead_nowhere() -> None:
    leaf = leaf_hash(b"x")
    assert root_from_inclusion(leaf, 0, 0, []) is None
    assert root_from_inclusion(leaf, 3, 3, []) is None
    assert root_from_inclusion(leaf, -1, 3, []) is None
    assert root_from_inclusion(leaf, 0, 1, []) == leaf
    assert not verify_consistency(4, EMPTY_ROOT, 3, EMPTY_ROOT, [])
    assert verify_consistency(0, EMPTY_ROOT, 5, mth(data(5)), [])
    assert not verify_consistency(0, leaf, 5, mth(data(5)), [])


def test_memory_is_the_right_edge_not_the_log() -> None:
    """The tree over 2**16 - 1 leaves holds 16 hashes: one per set bit of its size."""
    tree = MerkleTree()
    for index in range(2**16 - 1):
        tree.append(leaf_hash(index.to_bytes(4, "big")))
    assert len(tree._edge) == 16
    tree.append(leaf_hash(b"last"))
    assert len(tree._edge) == 1

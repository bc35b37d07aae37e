"""A Merkle tree over the event log, hashed and shaped as RFC 9162 (section 2.1) says.

The hash chain proves the history to whoever holds all of it. The tree lets a
reader who holds only its root check a few events: an inclusion proof (about
log2 N hashes) shows an event stands at its place in the log, a consistency
proof shows a later log extends an earlier one unchanged. A leaf hashes as
SHA-256(0x00 || leaf), a node as SHA-256(0x01 || left || right); a tree of n > 1
leaves splits at k, the largest power of two below n.

`MerkleTree` takes the leaf hashes in log order, one pass, and keeps only the
complete subtrees on its right edge (one per set bit of its size), plus the few
subtrees a proof asked for beforehand needs: neither the log nor its leaf hashes
are ever held whole, and nothing is hashed twice. Pure arithmetic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256

EMPTY_ROOT = _sha256(b"").digest()
"""The root of a tree with no leaves (RFC 9162: the hash of the empty string)."""

Subtree = tuple[int, int]
"""(level, start): the leaves start .. start + 2**level - 1, cut off at the tree's size."""

_LEVELS = 64
"""Tree sizes fit in 64 bits, as RFC 9162's do."""


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """The tree over leaf hashes appended one at a time, with the proofs asked for.

    Call `follow` (for a consistency proof from an earlier size) before the
    leaves come, and append with ``prove=True`` the leaves whose inclusion is
    to be proven; read `inclusion_path` and `consistency_path` once all are in.
    """

    def __init__(self) -> None:
        self.size = 0
        self._edge: list[bytes] = []
        """The complete subtrees on the right edge, largest first: one per set bit of size."""
        self._wanted: set[Subtree] = set()
        self._kept: dict[Subtree, bytes] = {}
        self._old_size = 0
        self.old_root: bytes | None = None
        """The root the tree had at the size given to `follow`, once it got there."""

    def follow(self, old_size: int) -> None:
        """Keep what the consistency proof from the tree of ``old_size`` leaves needs."""
        self._old_size = old_size
        if old_size == 0:
            self.old_root = EMPTY_ROOT
            return
        low = _trailing_zeros(old_size)
        if old_size != 1 << low:
            self._wanted.add((low, old_size - (1 << low)))

    def append(self, leaf: bytes, *, prove: bool = False) -> None:
        """Add the next leaf's hash; with ``prove``, keep what its inclusion path needs."""
        index = self.size
        edge = self._edge
        if prove or index + 1 == self._old_size:
            self._keep_path_of(index)
        node = leaf
        wanted = self._wanted
        if wanted and (0, index) in wanted:
            self._kept[0, index] = node
        level = 0
        # Each trailing 1 bit of the index closes a complete subtree on the edge.
        while index >> level & 1:
            node = _sha256(b"\x01" + edge.pop() + node).digest()
            level += 1
            if wanted:
                found = (level, index >> level << level)
                if found in wanted:
                    self._kept[found] = node
        edge.append(node)
        self.size = index + 1
        if self.size == self._old_size:
            self.old_root = self.root()

    def root(self) -> bytes:
        """The root of the tree as it stands: the edge folded from the right."""
        if not self._edge:
            return EMPTY_ROOT
        return _fold(self._edge)

    def inclusion_path(self, index: int) -> list[bytes]:
        """The audit path of a leaf appended with ``prove`` (RFC 9162 section 2.1.3.1)."""
        if not 0 <= index < self.size:
            raise ValueError(f"no leaf {index} in a tree of {self.size}")
        return self._siblings(index, 0)

    def consistency_path(self) -> list[bytes]:
        """The consistency proof from the size given to `follow` (RFC 9162 section 2.1.4.1).

        It is the subtree that ends the old tree (unless the old tree is one
        complete subtree, whose root the reader holds), then the siblings of
        that subtree's ancestors in the tree now.
        """
        old = self._old_size
        if not 0 <= old <= self.size:
            raise ValueError(f"a tree of {self.size} cannot extend one of {old}")
        if old in (0, self.size):
            return []
        low = _trailing_zeros(old)
        path = [] if old == 1 << low else [self._subtree(low, old - (1 << low))]
        return path + self._siblings(old - 1, low)

    def _siblings(self, index: int, lowest: int) -> list[bytes]:
        path = []
        for level in range(lowest, (self.size - 1).bit_length()):
            sibling = ((index >> level) ^ 1) << level
            if sibling < self.size:
                path.append(self._subtree(level, sibling))
        return path

    def _keep_path_of(self, index: int) -> None:
        """Keep the left siblings now (they are the edge) and want the right ones."""
        edge = iter(self._edge)
        for level in reversed(range(_LEVELS)):
            start = ((index >> level) ^ 1) << level
            if index >> level & 1:
                self._kept[level, start] = next(edge)
            else:
                self._wanted.add((level, start))

    def _subtree(self, level: int, start: int) -> bytes:
        """A subtree's hash: kept when it closed, or, cut off at the edge, folded from it."""
        kept = self._kept.get((level, start))
        if kept is not None:
            return kept
        if not start < self.size < start + (1 << level):
            raise ValueError(f"the subtree ({level}, {start}) was not kept")
        # The edge's subtrees inside [start, size): the low bits of size, one each.
        inside = bin(self.size - start).count("1")
        return _fold(self._edge[-inside:])


def _fold(hashes: Sequence[bytes]) -> bytes:
    folded = hashes[-1]
    for left in reversed(hashes[:-1]):
        folded = node_hash(left, folded)
    return folded


def _trailing_zeros(number: int) -> int:
    return (number & -number).bit_length() - 1


# ------------------------------------------------------------------ checking


def root_from_inclusion(leaf: bytes, index: int, size: int,
                        path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion path leads to from a leaf hash (RFC 9162 section 2.1.3.2), or
    None when the path cannot belong to that index in a tree of that size."""
    if not 0 <= index < size:
        return None
    fn, sn, found = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            found = node_hash(sibling, found)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            found = node_hash(found, sibling)
        fn, sn = fn >> 1, sn >> 1
    return found if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes],
                     root: bytes) -> bool:
    return root_from_inclusion(leaf, index, size, path) == root


def verify_consistency(old_size: int, old_root: bytes, size: int, root: bytes,
                       path: Sequence[bytes]) -> bool:
    """Whether the tree of ``size`` leaves and ``root`` extends the one of ``old_size`` and
    ``old_root`` (RFC 9162 section 2.1.4.2)."""
    if not 0 <= old_size <= size:
        return False
    if old_size == 0:
        return not path and old_root == EMPTY_ROOT
    if old_size == size:
        return not path and old_root == root
    if not path:
        return False
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old_found = new_found = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_found, new_found = node_hash(node, old_found), node_hash(node, new_found)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            new_found = node_hash(new_found, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old_found == old_root and new_found == root

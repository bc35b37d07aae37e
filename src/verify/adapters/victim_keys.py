"""Victims' personal details, sealed under a key of each victim's own (SPEC section 11).

The events carry the details encrypted (AES-GCM, 256-bit keys); the keys live
in a table of their own beside the events, outside the hash chain. Erasing a
victim destroys its key: the sealed details can no longer be opened in this
store or in any copy taken afterwards, while every event byte, and so the
chain, stays as it was. Destruction leaves no copy of the key in the database
files: SQLite overwrites the deleted row (``secure_delete``) and its
write-ahead log is truncated; PostgreSQL rewrites the table (``VACUUM FULL``),
so the old row's file is gone. Backups taken before an erasure still hold the
key (docs/security.md).
"""

from __future__ import annotations

import base64
import os
import time
from abc import ABC, abstractmethod

KEY_TABLE = "verify_victim_key"
NONCE_BYTES = 12


def sealed_with(key_id: str, key: bytes, details: bytes) -> str:
    """Details sealed under a key, bound to the key's id (base64 of nonce and ciphertext)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when sealing

    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, details, key_id.encode())
                            ).decode()


def new_key() -> tuple[str, bytes]:
    """A new key and its id: the time first, so ids arrive in order (keys are appended to
    the table's index, not scattered through it), then random bits."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only when sealing

    return f"{time.time_ns():016x}{os.urandom(8).hex()}", AESGCM.generate_key(bit_length=256)


class VictimKeyTable(ABC):
    """Seal, open and erase victims' details; each store's recorder supplies the table."""

    def seal_details(self, details: bytes) -> tuple[str, str]:
        """A new key stored under a new id, and the details sealed with it (base64)."""
        key_id, key = new_key()
        self._store_keys([(key_id, key)])
        return key_id, sealed_with(key_id, key, details)

    def reseal_details(self, key_id: str, details: bytes) -> str | None:
        """Details sealed anew with an existing key (an amendment); None if it is erased."""
        key = self._read_key(key_id)
        if key is None:
            return None
        return sealed_with(key_id, key, details)

    def open_details(self, key_id: str, sealed: str | None) -> bytes | None:
        """The details, or None once the key is destroyed (or the seal does not open)."""
        if not sealed:
            return None
        key = self._read_key(key_id)
        if key is None:
            return None
        from cryptography.exceptions import InvalidTag  # only for an incident with victims
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = base64.b64decode(sealed)
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            return None

    def destroy_key(self, key_id: str) -> bool:
        """Destroy a key so that no copy of it stays in the database's files; False when the
        row is gone but its bytes wait for the next vacuum (another session held the
        table)."""
        return self._destroy_key(key_id)

    @abstractmethod
    def _store_keys(self, keys: list[tuple[str, bytes]]) -> None: ...

    @abstractmethod
    def _read_key(self, key_id: str) -> bytes | None: ...

    @abstractmethod
    def _destroy_key(self, key_id: str) -> bool: ...


class CollectingSealer(VictimKeyTable):
    """Seals with new keys kept in memory, for a process that cannot write the store (an
    import's worker): the keys go back with the events and are written in the events' own
    transaction (`insert_rows(..., victim_keys=...)`). It opens what it sealed, so the
    worker can index the victims' names as the read model does."""

    def __init__(self) -> None:
        self._by_id: dict[str, bytes] = {}

    @property
    def keys(self) -> list[tuple[str, bytes]]:
        """Every key made, with its id, in the order made."""
        return list(self._by_id.items())

    def _store_keys(self, keys: list[tuple[str, bytes]]) -> None:
        self._by_id.update(keys)

    def _read_key(self, key_id: str) -> bytes | None:
        return self._by_id.get(key_id)

    def _destroy_key(self, key_id: str) -> bool:
        return self._by_id.pop(key_id, None) is not None


__all__ = ["KEY_TABLE", "CollectingSealer", "VictimKeyTable", "new_key", "sealed_with"]

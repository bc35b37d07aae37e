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
import uuid
from abc import ABC, abstractmethod

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_TABLE = "verify_victim_key"
NONCE_BYTES = 12


class VictimKeyTable(ABC):
    """Seal, open and erase victims' details; each store's recorder supplies the table."""

    def seal_details(self, details: bytes) -> tuple[str, str]:
        """A new key stored under a new id, and the details sealed with it (base64)."""
        key_id = uuid.uuid4().hex
        key = AESGCM.generate_key(bit_length=256)
        self._store_key(key_id, key)
        return key_id, self.reseal_details(key_id, details) or ""

    def reseal_details(self, key_id: str, details: bytes) -> str | None:
        """Details sealed anew with an existing key (an amendment); None if it is erased."""
        key = self._read_key(key_id)
        if key is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, details, key_id.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open_details(self, key_id: str, sealed: str | None) -> bytes | None:
        """The details, or None once the key is destroyed (or the seal does not open)."""
        if not sealed:
            return None
        key = self._read_key(key_id)
        if key is None:
            return None
        raw = base64.b64decode(sealed)
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            return None

    def destroy_key(self, key_id: str) -> None:
        """Destroy a key so that no copy of it stays in the database's files."""
        self._destroy_key(key_id)

    @abstractmethod
    def _store_key(self, key_id: str, key: bytes) -> None: ...

    @abstractmethod
    def _read_key(self, key_id: str) -> bytes | None: ...

    @abstractmethod
    def _destroy_key(self, key_id: str) -> None: ...


__all__ = ["KEY_TABLE", "VictimKeyTable"]

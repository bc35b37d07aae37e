"""Events encrypted at rest and bound to their place in the history.

The library's AES cipher encrypts an event's contents but not where it
stands: without the key, one incident's encrypted ``Graded`` event copied
into another incident (with its chain link recomputed, which needs no key)
decrypted there and showed as that incident's grade. Here each event and
snapshot is encrypted with its record's id, its version and its topic as
associated data (AES-GCM authenticates them without storing them twice), so
ciphertext moved to another record, version or event type no longer
decrypts: loading refuses it and ``verify audit verify`` names it.

Ciphertext written before events were bound (the library's own format) is
still read, unbound: a store keeps every event it ever recorded.

The cipher is the library's AES-GCM cipher built on the ``cryptography``
package (`eventsourcing.cryptography`), whose ciphertext is the same as the
pycryptodome one's; its key schedule is made once, not for every event,
which made the audit of an encrypted store about ten times faster
(docs/performance.md).
"""

from __future__ import annotations

import struct
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import Environment

BOUND = b"\x00vb1"
"""The prefix of ciphertext bound to its place (the library's own has none)."""


def place_of(originator_id: UUID | str, version: int, topic: str) -> bytes:
    """What an event's ciphertext is bound to: its record, version and topic, unambiguously."""
    try:
        record = UUID(str(originator_id)).hex
    except ValueError:
        record = str(originator_id)
    parts = [record.encode(), topic.encode()]
    return b"verify event\x00" + struct.pack(">Q", version) + b"".join(
        struct.pack(">I", len(part)) + part for part in parts)


class PlaceBoundCipher(AESCipher):
    """AES-GCM with associated data: the library's cipher, told where the text belongs.

    Laid out as the library lays out its own (nonce, tag, encrypted text),
    after the `BOUND` prefix.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.aead = AESGCM(self.key)

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._sealed(plaintext, None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        return self._opened(ciphertext, None)

    def encrypt_at(self, plaintext: bytes, place: bytes) -> bytes:
        return BOUND + self._sealed(plaintext, place)

    def decrypt_at(self, ciphertext: bytes, place: bytes) -> bytes:
        """The plaintext, if the ciphertext was encrypted for this place (or before binding)."""
        if ciphertext.startswith(BOUND):
            try:
                return self._opened(ciphertext[len(BOUND):], place)
            except ValueError:
                pass  # one unbound ciphertext in 2**32 starts like a bound one
        return self._opened(ciphertext, None)

    def _sealed(self, plaintext: bytes, place: bytes | None) -> bytes:
        nonce = self.random_bytes(12)
        encrypted = self.aead.encrypt(nonce, plaintext, place)
        return nonce + encrypted[-16:] + encrypted[:-16]

    def _opened(self, ciphertext: bytes, place: bytes | None) -> bytes:
        if len(ciphertext) < 28:
            raise ValueError("damaged ciphertext: too short")
        nonce, tag, encrypted = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
        try:
            return self.aead.decrypt(nonce, encrypted + tag, place)
        except InvalidTag:
            raise ValueError("the ciphertext does not authenticate") from None

    @staticmethod
    def is_bound(ciphertext: bytes) -> bool:
        return ciphertext.startswith(BOUND)


class PlaceBoundMapper(Mapper[Any]):
    """The library's mapper, encrypting each event for its place when the cipher can."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: Mapper[Any] = Mapper(self.transcoder, self.compressor, None)
        self._bound = self.cipher if isinstance(self.cipher, PlaceBoundCipher) else None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if self._bound is None:
            return super().to_stored_event(domain_event)
        stored = self._plain.to_stored_event(domain_event)
        place = place_of(stored.originator_id, stored.originator_version, stored.topic)
        return StoredEvent(originator_id=stored.originator_id,
                           originator_version=stored.originator_version, topic=stored.topic,
                           state=self._bound.encrypt_at(stored.state, place))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if self._bound is None:
            return super().to_domain_event(stored_event)
        return self._plain.to_domain_event(self._opened(stored_event))

    def _opened(self, stored: StoredEvent) -> StoredEvent:
        assert self._bound is not None
        place = place_of(stored.originator_id, stored.originator_version, stored.topic)
        try:
            state = self._bound.decrypt_at(stored.state, place)
        except ValueError as error:
            raise MapperDeserialisationError(
                f"Failed to decrypt the stored event of {stored.originator_id} version "
                f"{stored.originator_version} ({stored.topic}): {error}") from None
        return StoredEvent(originator_id=stored.originator_id,
                           originator_version=stored.originator_version, topic=stored.topic,
                           state=state)

    def check_place(self, originator_id: UUID | str, version: int, topic: str,
                    state: bytes) -> bool | None:
        """Whether stored ciphertext is bound to this place (True) or older, unbound (False).

        None when there is no key to check with; raises MapperDeserialisationError
        when the ciphertext does not belong here (moved, altered, or another key).
        """
        if self._bound is None:
            return None
        self._opened(StoredEvent(originator_id=originator_id, originator_version=version,
                                 topic=topic, state=state))
        return self._bound.is_bound(state)

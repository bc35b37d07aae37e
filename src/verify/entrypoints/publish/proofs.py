"""Every published incident's inclusion proof, made in one pass over the sealed log.

Proving incidents one at a time would walk the whole log once each: an archive
of 100,000 incidents would walk it 100,000 times. `prove_all` walks it once
(`verify.domain.merkle.MerkleTree` keeps what every asked-for path needs) and
gives each incident the same `InclusionProof` document `audit prove` writes, so
`audit check-proof` and the standard-library checker of docs/audit.md read it.

The walk is the prover's own (`Prover.incidents`), the one `audit prove` takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from verify.application.app import VerifyApp
from verify.application.proofs import Prover
from verify.domain.proofs import (
    PublishedRoot,
)


def prove_all(app: VerifyApp, codes: Iterable[str], sealed: PublishedRoot
              ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(code, inclusion proof) for each incident of ``codes`` with an event among the
    sealed ones, against the sealed root; refused (`Refused`) when the log's first
    events no longer give that root."""
    return Prover(app).incidents(codes, sealed)

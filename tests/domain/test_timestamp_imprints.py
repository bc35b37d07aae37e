"""What a timestamp of a seal covers, and when an authority's answer counts as one."""

from __future__ import annotations

import datetime as dt
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from verify.domain.timestamps import (
    Attestation,
    answer_problem,
    imprint_of,
    imprint_problem,
    timestamped_data,
)

HEAD = hashlib.sha256(b"a history").digest()


def attesting(data: bytes, nonce: int | None = 7) -> Attestation:
    return Attestation(time=dt.datetime(2026, 5, 1, 12, 0, 1, tzinfo=dt.UTC),
                       authority="CN=a TSA", serial=3, imprint=imprint_of(data),
                       policy="1.2.3", nonce=nonce)


def test_the_head_is_what_is_timestamped_so_its_sha256_is_the_imprint() -> None:
    assert timestamped_data(HEAD) == HEAD
    assert attesting(HEAD).imprint == hashlib.sha256(HEAD).digest()
    assert attesting(HEAD).document() == {
        "time": "2026-05-01T12:00:01Z", "authority": "CN=a TSA", "serial": 3,
        "imprint": "sha256:" + hashlib.sha256(HEAD).hexdigest(), "policy": "1.2.3",
    }


def test_an_answer_counts_only_for_the_digest_and_nonce_sent() -> None:
    assert answer_problem(attesting(HEAD), HEAD, 7) is None
    assert answer_problem(attesting(HEAD, None), HEAD, None) is None
    assert answer_problem(attesting(b"another"), HEAD, 7) == \
        "a token for another digest than the head's"
    assert answer_problem(attesting(HEAD, 8), HEAD, 7) == \
        "a token for another request (its nonce differs from the one sent)"
    assert answer_problem(attesting(HEAD, None), HEAD, 7) is not None


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_a_kept_token_attests_exactly_one_head(head: bytes, other: bytes) -> None:
    assert imprint_problem(attesting(timestamped_data(head)), head) is None
    problem = imprint_problem(attesting(timestamped_data(head)), other)
    assert (problem is None) == (head == other)
    if problem is not None:
        assert f"the seal's head sha256:{other.hex()}" in problem

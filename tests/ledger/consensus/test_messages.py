"""Wire messages: signatures, envelopes, watermarks and commit certificates."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.consensus.messages import (
    Certificate,
    Envelope,
    Step,
    Verdict,
    Vote,
    decode_envelope,
    make_challenge,
    sign_record,
    verify_certificate,
    verify_signed,
    watermark_ok,
)
from ledger.consensus.validators import ValidatorSet, ValidatorSetError
from ledger.crypto import PrivateKey
from ledger.encoding import DecodeError, sha256

KEYS = [PrivateKey.from_seed(f"msg-{i}".encode()) for i in range(4)]
VALIDATORS = ValidatorSet.of((f"v{i}", k.public_key, 1) for i, k in enumerate(KEYS))
BLOCK = sha256(b"block")
CHALLENGE = make_challenge(KEYS[0], 7, 2)


def precommit(i: int, *, block_hash: bytes = BLOCK, challenge: bytes = CHALLENGE) -> Vote:
    vote = Vote(
        step=Step.PRECOMMIT,
        height=7,
        round=2,
        block_hash=block_hash,
        verdict=Verdict.APPROVE,
        reason=0,
        proposer="v0",
        challenge=challenge,
        node=f"v{i}",
        signature=bytes(65),
    )
    return sign_record(vote, KEYS[i])


def certificate(votes: list[Vote]) -> Certificate:
    return Certificate(height=7, round=2, block_hash=BLOCK, votes=tuple(votes))


def test_signed_vote_verifies_only_under_its_key_and_content() -> None:
    vote = precommit(1)
    assert verify_signed(vote, KEYS[1].public_key)
    assert not verify_signed(vote, KEYS[2].public_key)
    assert not verify_signed(dataclasses.replace(vote, round=3), KEYS[1].public_key)


def test_envelope_round_trips_and_holds_exactly_one_message() -> None:
    vote = precommit(1)
    data = Envelope(vote=vote).encode()
    assert decode_envelope(data, max_bytes=10_000) == Envelope(vote=vote)
    with pytest.raises(DecodeError, match="exactly one"):
        decode_envelope(Envelope().encode(), max_bytes=10_000)
    with pytest.raises(DecodeError):
        decode_envelope(data, max_bytes=len(data) - 1)


def test_watermark_is_the_proposers_challenge_signature() -> None:
    assert watermark_ok(precommit(1), VALIDATORS)
    assert not watermark_ok(precommit(1, challenge=b""), VALIDATORS)
    assert not watermark_ok(precommit(1, challenge=make_challenge(KEYS[0], 7, 3)), VALIDATORS)
    assert not watermark_ok(precommit(1, challenge=make_challenge(KEYS[1], 7, 2)), VALIDATORS)


def test_certificate_of_three_of_four_verifies() -> None:
    assert verify_certificate(certificate([precommit(i) for i in (0, 1, 3)]), VALIDATORS)


def test_certificate_needs_more_than_two_thirds_of_the_weight() -> None:
    assert not verify_certificate(certificate([precommit(0), precommit(1)]), VALIDATORS)
    heavy = ValidatorSet.of([("v0", KEYS[0].public_key, 5), ("v1", KEYS[1].public_key, 1)])
    only_heavy = Certificate(height=7, round=2, block_hash=BLOCK, votes=(precommit(0),))
    assert verify_certificate(only_heavy, heavy)  # 5 of 6 > 2/3
    assert not verify_certificate(
        Certificate(height=7, round=2, block_hash=BLOCK, votes=(precommit(1),)), heavy
    )


def test_certificate_rejects_a_duplicate_signer() -> None:
    assert not verify_certificate(
        certificate([precommit(0), precommit(1), precommit(1)]), VALIDATORS
    )


def test_certificate_rejects_a_forged_signature() -> None:
    forged = dataclasses.replace(precommit(2), signature=precommit(3).signature)
    assert not verify_certificate(certificate([precommit(0), precommit(1), forged]), VALIDATORS)


def test_certificate_rejects_other_blocks_rounds_and_watermarks() -> None:
    other = precommit(2, block_hash=sha256(b"other"))
    assert not verify_certificate(certificate([precommit(0), precommit(1), other]), VALIDATORS)
    blind = precommit(2, challenge=b"")
    assert not verify_certificate(certificate([precommit(0), precommit(1), blind]), VALIDATORS)
    outsider = sign_record(dataclasses.replace(precommit(2), node="x9"), KEYS[2])
    assert not verify_certificate(certificate([precommit(0), precommit(1), outsider]), VALIDATORS)


def test_validator_set_rejects_bad_members() -> None:
    with pytest.raises(ValidatorSetError, match="twice"):
        ValidatorSet.of([("a", KEYS[0].public_key, 1), ("a", KEYS[1].public_key, 1)])
    with pytest.raises(ValidatorSetError, match="weight"):
        ValidatorSet.of([("a", KEYS[0].public_key, 0)])
    with pytest.raises(ValidatorSetError, match="33"):
        ValidatorSet.of([("a", b"short", 1)])
    assert VALIDATORS.is_quorum(3) and not VALIDATORS.is_quorum(2)
    assert VALIDATORS.is_one_third(2) and not VALIDATORS.is_one_third(1)

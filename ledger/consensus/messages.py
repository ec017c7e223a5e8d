"""Wire messages of consensus: PoW claims, proposals, watermarked votes, certificates, catch-up.

Every message travels as the canonical bytes of an :class:`Envelope` holding exactly one of
its fields, on one shared topic. Signed records carry a 65-byte ``signature`` over
``sha256(canonical({"domain": <kind>, "body": <fields without signature>}))``, so a signature
made for one kind of message can never be replayed as another.

The watermark (ARCHITECTURE.md "Consensus, in words"): a :class:`Vote` is a verdict on one
proposal, signed over (height, round, block hash, ϕ challenge, verdict, reason code, proposer).
The challenge ϕ of round r is the proposer's own signature over ``("challenge", h, r)``: nobody
can predict it before the proposal is out, and anybody can check it against the proposer's key.
So an approving vote whose ϕ is empty (*missing* watermark) or is not the named proposer's
challenge signature (*forged* watermark) proves by itself that the voter approved blind.

Verdicts map onto Tendermint (arXiv 1807.04938, Algorithm 1): ``APPROVE`` is a vote for
``id(v)``; ``OBJECT`` (the block is invalid, with the application's reason code 1..999) and
``NIL`` (no proposal, locked on another value, ...; a machine reason ≥ 1000) both count as nil.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, ClassVar, TypeVar

from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey, verify
from ledger.encoding import DecodeError, InvalidValue, Length, Record, canonical, sha256
from ledger.signing import SignedRecord

__all__ = [
    "APP_REASON_MAX",
    "Certificate",
    "Decided",
    "Envelope",
    "LockRecord",
    "PowClaim",
    "Proposal",
    "ProposalHeader",
    "Reason",
    "Step",
    "Verdict",
    "Vote",
    "challenge_digest",
    "decode_envelope",
    "make_challenge",
    "sign_record",
    "verify_certificate",
    "verify_signed",
    "watermark_ok",
]

APP_REASON_MAX = 999
"""Application reason codes (``Application.check``) are 1..999; machine reasons start at 1000."""

R = TypeVar("R", bound=SignedRecord)
Hash32 = Annotated[bytes, Length(32)]
Signature = Annotated[bytes, Length(65)]


class Step(IntEnum):
    """What a signed consensus message is, for persistence and evidence keys."""

    PROPOSAL = 0
    PREVOTE = 1
    PRECOMMIT = 2
    LOCK = 3
    """Persistence only: the :class:`LockRecord` of a lock, never a vote's step."""


class Verdict(IntEnum):
    """A validator's answer to a proposal."""

    NIL = 0
    APPROVE = 1
    OBJECT = 2


class Reason(IntEnum):
    """Machine reason codes of NIL votes (application codes are 1..999)."""

    VALID = 0
    NO_PROPOSAL = 1000
    LOCKED = 1001
    NO_QUORUM = 1002
    NO_LOCK_PROOF = 1003


@dataclass(frozen=True, slots=True, kw_only=True)
class PowClaim(SignedRecord):
    """A validator's proof of work for the leader election of (height, round)."""

    height: int
    round: int
    prev_hash: Hash32
    node: str
    nonce: int
    signature: Signature

    SIGNING_DOMAIN: ClassVar[str] = "satedge/claim/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalHeader(SignedRecord):
    """The signed part of a proposal: the block is bound by its hash; ϕ is ``challenge``."""

    height: int
    round: int
    valid_round: int
    proposer: str
    pow_nonce: int
    timestamp_ms: int
    block_hash: Hash32
    challenge: Signature
    signature: Signature

    SIGNING_DOMAIN: ClassVar[str] = "satedge/proposal/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Vote(SignedRecord):
    """A watermarked verdict: a Tendermint prevote or precommit (module docstring)."""

    step: Step
    height: int
    round: int
    block_hash: Hash32 | None
    verdict: Verdict
    reason: int
    proposer: str
    challenge: bytes
    node: str
    signature: Signature

    SIGNING_DOMAIN: ClassVar[str] = "satedge/vote/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal(Record):
    """Header, block bytes and, for a re-proposal, the prevotes that made the value valid."""

    header: ProposalHeader
    block: bytes
    proof: tuple[Vote, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate(Record):
    """Approving precommits of more than 2/3 of the weight for one block at (height, round)."""

    height: int
    round: int
    block_hash: Hash32
    votes: tuple[Vote, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided(Record):
    """A committed block with its certificate, sent to a peer that is behind."""

    block: bytes
    certificate: Certificate


@dataclass(frozen=True, slots=True, kw_only=True)
class LockRecord(Record):
    """What a node persists when it locks (line 36): the proposal and the > 2/3 prevotes.

    With it a restarted node still knows its locked block and can re-propose it with its proof,
    which Tendermint's liveness needs (its WAL keeps every message for the same reason).
    """

    proposal: Proposal
    prevotes: tuple[Vote, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope(Record):
    """What goes on the wire: exactly one of the fields is set."""

    claim: PowClaim | None = None
    proposal: Proposal | None = None
    vote: Vote | None = None
    decided: Decided | None = None


def sign_record(record: R, key: PrivateKey) -> R:
    """A copy of ``record`` (a PowClaim, ProposalHeader or Vote) signed with ``key``."""
    return record.signed_with(key)


def verify_signed(record: SignedRecord, public_key: bytes) -> bool:
    """True when the record's ``signature`` is ``public_key``'s over its digest."""
    return record.signed_by(public_key)


def challenge_digest(height: int, round_: int) -> bytes:
    """What a proposer signs to make the challenge ϕ of (height, round)."""
    return sha256(canonical({"domain": "satedge/challenge/v1", "height": height, "round": round_}))


def make_challenge(key: PrivateKey, height: int, round_: int) -> bytes:
    """The proposer's challenge ϕ for (height, round): its signature over the challenge digest."""
    return key.sign(challenge_digest(height, round_))


def watermark_ok(vote: Vote, validators: ValidatorSet) -> bool:
    """True when an APPROVE vote's ϕ is its named proposer's challenge for (height, round).

    Votes that do not approve carry no obligation and always pass.
    """
    if vote.verdict != Verdict.APPROVE:
        return True
    proposer = validators.get(vote.proposer)
    if proposer is None or not vote.challenge:
        return False
    return verify(proposer.public_key, challenge_digest(vote.height, vote.round), vote.challenge)


def decode_envelope(data: bytes, *, max_bytes: int) -> Envelope:
    """Decode wire bytes into an envelope with exactly one field set.

    Raises:
        DecodeError: Any defect, naming the field (see :mod:`ledger.encoding`).
    """
    envelope = Envelope.decode(data, max_bytes=max_bytes)
    present = [e for e in (envelope.claim, envelope.proposal, envelope.vote, envelope.decided) if e]
    if len(present) != 1:
        raise InvalidValue("", f"an envelope holds exactly one message, found {len(present)}")
    return envelope


def verify_certificate(certificate: Certificate, validators: ValidatorSet) -> bool:
    """True when the certificate proves a commit (Tendermint line 49) under ``validators``.

    Every vote must be an approving precommit of the certificate's height, round and block
    hash, by a distinct member, validly signed and watermarked; their weight must exceed two
    thirds of the total.
    """
    signers: set[str] = set()
    for vote in certificate.votes:
        member = validators.get(vote.node)
        if (
            member is None
            or vote.node in signers
            or vote.step != Step.PRECOMMIT
            or vote.verdict != Verdict.APPROVE
            or vote.height != certificate.height
            or vote.round != certificate.round
            or vote.block_hash != certificate.block_hash
            or not verify_signed(vote, member.public_key)
            or not watermark_ok(vote, validators)
        ):
            return False
        signers.add(vote.node)
    return validators.is_quorum(validators.weight_of(signers))


_ = DecodeError  # re-exported for callers catching decode failures next to decode_envelope

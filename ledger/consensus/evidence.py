"""Provable offences of consensus: self-contained proofs of the chain's evidence kinds.

The kinds are the chain's one coded table, :class:`ledger.evidence_kinds.EvidenceKind` (plenum
``suspicion_codes.py``; re-exported here), whose weights on Nn the genesis parameters fix. Every
:class:`Evidence` carries the offender's own signed messages (canonical bytes of a :class:`Vote`
or :class:`ProposalHeader`), plus the block when validity is at stake, so any node can check it
with :func:`verify_evidence` without trusting the reporter. Consensus proves six kinds
(``TRADE_FRAUD`` and ``TIMEOUT`` have no consensus proof):

==================  ==============================================================
kind                proof
==================  ==============================================================
EQUIVOCATION        two different signed proposals, or votes of one step, for (h, r)
FORGED_WATERMARK    a signed APPROVE vote whose ϕ is not the proposer's challenge
MISSING_WATERMARK   a signed APPROVE vote with an empty challenge ϕ
FALSE_VERDICT       a signed vote and the block: APPROVE of an invalid block, or
                    OBJECT (application reason) to a valid one
INVALID_BLOCK       a signed proposal header and its block, which the app rejects
MANIPULATED_PRICE   as INVALID_BLOCK, where the app's reason is a wrong price
==================  ==============================================================

An offence is identified by :attr:`Evidence.key` = (kind, offender, height, round, step); a
machine records each key once, and a chain accepts each key once. Local observations that
prove nothing (a timeout, a bad signature that anybody could have sent under another's name)
are never evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.consensus.messages import (
    APP_REASON_MAX,
    ProposalHeader,
    Step,
    Verdict,
    Vote,
    verify_signed,
    watermark_ok,
)
from ledger.consensus.validators import ValidatorSet
from ledger.encoding import DecodeError, Record
from ledger.evidence_kinds import EvidenceKind

__all__ = ["Evidence", "EvidenceKey", "EvidenceKind", "conflicting", "verify_evidence"]


EvidenceKey = tuple[EvidenceKind, str, int, int, Step]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence(Record):
    """A self-contained proof of one offence (module docstring)."""

    kind: EvidenceKind
    offender: str
    height: int
    round: int
    step: Step
    first: bytes
    second: bytes
    block: bytes

    @property
    def key(self) -> EvidenceKey:
        """(kind, offender, height, round, step): one offence, whoever reports it."""
        return (self.kind, self.offender, self.height, self.round, self.step)


def _decode(data: bytes, step: Step, max_bytes: int) -> Vote | ProposalHeader | None:
    try:
        if step == Step.PROPOSAL:
            return ProposalHeader.decode(data, max_bytes=max_bytes)
        vote = Vote.decode(data, max_bytes=max_bytes)
    except DecodeError:
        return None
    return vote if vote.step == step else None


def _signer(message: Vote | ProposalHeader) -> str:
    return message.proposer if isinstance(message, ProposalHeader) else message.node


def conflicting(a: Vote | ProposalHeader, b: Vote | ProposalHeader) -> bool:
    """True when two signed messages of one signer, step, height and round say different things.

    The same content signed twice (ECDSA signatures need not be unique) is no conflict.
    """
    return a.unsigned_fields() != b.unsigned_fields()


def verify_evidence(
    evidence: Evidence,
    validators: ValidatorSet,
    *,
    block_hash: Callable[[bytes], bytes],
    check: Callable[[int, bytes], int],
    offence_of: Callable[[int], EvidenceKind],
    max_bytes: int = 1 << 22,
) -> bool:
    """True when ``evidence`` proves its offence under ``validators`` (those of its height).

    Args:
        evidence: The proof.
        validators: The validator set of ``evidence.height``.
        block_hash: The application's block hash.
        check: The application's validity check of a block at a height (0 = valid).
        offence_of: Which kind a non-zero reason code is (INVALID_BLOCK or MANIPULATED_PRICE).
        max_bytes: Largest signed message accepted inside the proof.
    """
    member = validators.get(evidence.offender)
    first = _decode(evidence.first, evidence.step, max_bytes)
    if member is None or first is None or _signer(first) != evidence.offender:
        return False
    if (first.height, first.round) != (evidence.height, evidence.round):
        return False
    if not verify_signed(first, member.public_key):
        return False
    kind = evidence.kind
    if kind == EvidenceKind.EQUIVOCATION:
        second = _decode(evidence.second, evidence.step, max_bytes)
        return (
            second is not None
            and evidence.first < evidence.second
            and _signer(second) == evidence.offender
            and (second.height, second.round) == (evidence.height, evidence.round)
            and conflicting(first, second)
            and verify_signed(second, member.public_key)
        )
    if evidence.second:
        return False
    if kind in (EvidenceKind.MISSING_WATERMARK, EvidenceKind.FORGED_WATERMARK):
        if not isinstance(first, Vote) or first.verdict != Verdict.APPROVE or evidence.block:
            return False
        missing = not first.challenge
        wanted = EvidenceKind.MISSING_WATERMARK if missing else EvidenceKind.FORGED_WATERMARK
        return kind == wanted and not watermark_ok(first, validators)
    if block_hash(evidence.block) != first.block_hash:
        return False
    status = check(evidence.height, evidence.block)
    if kind == EvidenceKind.FALSE_VERDICT:
        if not isinstance(first, Vote):
            return False
        if first.verdict == Verdict.APPROVE:
            return status != 0
        return first.verdict == Verdict.OBJECT and 0 < first.reason <= APP_REASON_MAX and not status
    if kind in (EvidenceKind.INVALID_BLOCK, EvidenceKind.MANIPULATED_PRICE):
        return isinstance(first, ProposalHeader) and status != 0 and offence_of(status) == kind
    return False

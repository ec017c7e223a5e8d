"""Consensus evidence as chain transactions: kinds, subjects and the proof binding.

An offence found by consensus (:class:`ledger.consensus.evidence.Evidence`) goes on chain as a
``ratings``/``evidence`` transaction whose ``proof`` is the consensus record and whose
``subject`` is ``r<round>/<step>`` (:func:`offence_subject`). :func:`check_binding` is the first
step of :class:`~ledger.chain_app.ChainApp`'s evidence verifier (the plain
:data:`~ledger.families.ratings.EvidenceVerifier` of its ratings family), refusing evidence
whose payload does not match its proof, whose kind has no verifiable proof, or whose
block-validity proof is older than ``params.evidence_max_age`` blocks (module docstring of
:mod:`ledger.chain_app`).
"""

from __future__ import annotations

from ledger.consensus.evidence import Evidence as ConsensusEvidence
from ledger.consensus.messages import Step
from ledger.encoding import DecodeError
from ledger.errors import InvalidTransaction, RejectReason
from ledger.evidence_kinds import EvidenceKind
from ledger.families.ratings import EvidencePayload, evidence_key

__all__ = [
    "BLOCK_VALIDITY_KINDS",
    "CONSENSUS_KINDS",
    "MAX_PENDING_EVIDENCE",
    "check_binding",
    "offence_subject",
]

CONSENSUS_KINDS = frozenset(
    {
        EvidenceKind.EQUIVOCATION,
        EvidenceKind.FORGED_WATERMARK,
        EvidenceKind.MISSING_WATERMARK,
        EvidenceKind.FALSE_VERDICT,
        EvidenceKind.INVALID_BLOCK,
        EvidenceKind.MANIPULATED_PRICE,
    }
)
"""Kinds with a consensus proof (:mod:`ledger.consensus.evidence`)."""

BLOCK_VALIDITY_KINDS = frozenset(
    {EvidenceKind.FALSE_VERDICT, EvidenceKind.INVALID_BLOCK, EvidenceKind.MANIPULATED_PRICE}
)
"""Kinds whose proof re-executes a block (bounded by ``params.evidence_max_age``)."""

MAX_PENDING_EVIDENCE = 1024


def offence_subject(evidence: ConsensusEvidence) -> str:
    """The chain's ``subject`` of a consensus offence: ``r<round>/<step>`` (e.g. ``r0/prevote``)."""
    return _subject(evidence.round, evidence.step)


def _subject(round_: int, step: Step) -> str:
    return f"r{round_}/{step.name.lower()}"


def _chain_key(evidence: ConsensusEvidence) -> bytes:
    return evidence_key(
        offender=evidence.offender,
        kind=evidence.kind,
        height=evidence.height,
        subject=offence_subject(evidence),
    )


def _bad_evidence(detail: str, field: str) -> InvalidTransaction:
    return InvalidTransaction(RejectReason.BAD_EVIDENCE, detail, field=field)


def check_binding(payload: EvidencePayload, height: int, max_age: int) -> ConsensusEvidence:
    """The consensus proof of ``payload``, checked to prove exactly the payload's offence.

    Args:
        payload: The evidence transaction's payload.
        height: The height of the block recording it.
        max_age: ``params.evidence_max_age``.

    Returns:
        ``payload.proof`` decoded (its signatures and re-execution are not checked here).

    Raises:
        InvalidTransaction: BAD_EVIDENCE naming the field: a kind without a consensus proof, a
            proof that does not decode, is of another (kind, offender, height, subject), is not
            below ``height``, or proves block (in)validity older than ``max_age`` blocks.
    """
    if payload.kind not in CONSENSUS_KINDS:
        raise _bad_evidence(f"no verifiable proof of {payload.kind.name} yet", "payload.kind")
    try:
        proof = ConsensusEvidence.from_fields(payload.proof, "payload.proof")
    except DecodeError as exc:
        raise _bad_evidence(f"not a consensus proof: {exc.reason}", exc.field) from None
    if proof.kind != payload.kind or proof.offender != payload.offender:
        raise _bad_evidence("the proof is of another kind or offender", "payload.proof")
    if proof.height != payload.height:
        raise _bad_evidence(f"the proof is of height {proof.height}", "payload.height")
    if payload.subject != offence_subject(proof):
        raise _bad_evidence(f"must be {offence_subject(proof)!r}", "payload.subject")
    if not payload.height < height:
        raise _bad_evidence(f"offence must be below the block's height {height}", "payload.height")
    if payload.kind in BLOCK_VALIDITY_KINDS and payload.height < height - max_age:
        raise _bad_evidence(
            f"proof of block validity older than {max_age} blocks", "payload.height"
        )
    return proof

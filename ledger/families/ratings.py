"""The ``ratings`` family: ratings of edge nodes and evidence of misbehaviour (SCIENCE.md §4).

* ``rating``: a certified user (or edge node) reports on a certified edge node: counts of
  positive and negative interactions (Np, Nn of eq. 5) and the communication quality ``suc``
  in parts per million (None when there was no traffic: Ind = 1).
  ``height`` is the height at which the rater issued it (≤ the block's height), so the
  reputation table can order a pair's ratings independently of inclusion order.
* ``evidence``: a proof that ``offender`` misbehaved (``ledger.evidence_kinds.EvidenceKind``)
  at ``height``, ``subject`` distinguishing offences of one kind at one height. Each offence is
  recorded once: the state keeps ``sha256(canonical(offender, kind, height, subject))`` (with the
  proof's hash), and a second report of the same offence, with the same or another proof, is
  rejected (DUPLICATE_EVIDENCE). What makes a proof valid depends on its kind (two signed votes
  for an equivocation, ...): the consensus layer passes an :data:`EvidenceVerifier` (e.g. a
  wrapper of ``ledger.consensus.evidence.verify_evidence``), which receives the whole decoded
  payload and so checks both the proof and that it proves this payload's offence (offender,
  kind, height, subject); without one, only the structure is checked, so production wiring
  must pass one.

Neither operation computes reputation: the block's ``ledger.evidence_kinds.Rating`` and
``Evidence`` records are returned by ``apply_block`` for ``ReputationTable.apply_block``, so
every honest node derives the same table from the chain alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.encoding import JsonObject, Record, canonical, sha256
from ledger.errors import InvalidTransaction, RejectReason
from ledger.evidence_kinds import Evidence, EvidenceKind, Rating
from ledger.families.identity import active_certificate, certificate_of
from ledger.families.registry import BlockContext, TransactionFamily, TxContext, decode_op
from ledger.identity import Role
from ledger.state import EVIDENCE_PREFIX, State
from ledger.transactions import AdmittedTransaction

__all__ = [
    "MAX_COUNT",
    "EvidencePayload",
    "EvidenceVerifier",
    "RatingPayload",
    "RatingsFamily",
    "evidence_key",
]

PPM = 1_000_000
MAX_COUNT = 1_000_000
"""Most interactions one rating may report in each of Np and Nn."""
MAX_SUBJECT_LENGTH = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingPayload(Record):
    """Rate an edge node."""

    op: str
    ratee: str
    positive: int
    negative: int
    success_ppm: int | None
    height: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidencePayload(Record):
    """Report an offence with its proof."""

    op: str
    kind: EvidenceKind
    offender: str
    height: int
    subject: str
    proof: JsonObject


EvidenceVerifier = Callable[[EvidencePayload, BlockContext, State], str | None]
"""(payload, block, state) → None if ``payload.proof`` holds and proves the payload's offence.

Called once the family's own checks pass (sender, offender's certificate, non-empty proof,
height, subject length, not a duplicate). Returns why not otherwise, which the family rejects
as BAD_EVIDENCE on ``payload.proof``; a verifier may instead raise
:class:`~ledger.errors.InvalidTransaction` itself (BAD_EVIDENCE) to name another field, e.g.
``payload.height`` when the proof is of another height. ``block`` gives the recording block's
height and parameters (e.g. ``params.evidence_max_age``).
"""


_OPERATIONS: dict[str, type[Record]] = {"rating": RatingPayload, "evidence": EvidencePayload}


def evidence_key(*, offender: str, kind: EvidenceKind, height: int, subject: str) -> bytes:
    """State key recording that this offence (offender, kind, height, subject) is on chain."""
    identity = {"height": height, "kind": int(kind), "offender": offender, "subject": subject}
    return EVIDENCE_PREFIX + sha256(canonical(identity))


def _structure_only(payload: EvidencePayload, block: BlockContext, state: State) -> None:
    return None


class RatingsFamily(TransactionFamily[Record]):
    """Ratings and evidence; emits records for the reputation table."""

    name = "ratings"
    version = 1

    def __init__(self, verifier: EvidenceVerifier | None = None) -> None:
        self._verifier: EvidenceVerifier = verifier or _structure_only

    def decode_payload(self, payload: JsonObject) -> Record:
        """A RatingPayload or EvidencePayload, by ``op``."""
        return decode_op(_OPERATIONS, payload)

    def apply(self, state: State, tx: AdmittedTransaction, payload: Record, ctx: TxContext) -> None:
        """Check the rating or evidence and append its record to the block context."""
        block = ctx.block
        sender = ctx.sender
        if isinstance(payload, RatingPayload):
            if sender.role not in (Role.USER, Role.EDGE):
                raise InvalidTransaction(
                    RejectReason.NOT_AUTHORIZED, "only users and edge nodes rate", field="sender"
                )
            if payload.ratee == sender.node_id:
                raise InvalidTransaction(
                    RejectReason.SELF_RATING, "a node cannot rate itself", field="payload.ratee"
                )
            active_certificate(
                state,
                payload.ratee,
                timestamp_ms=block.timestamp_ms,
                role=Role.EDGE,
                field="payload.ratee",
            )
            for name in ("positive", "negative"):
                count = getattr(payload, name)
                if not 0 <= count <= MAX_COUNT:
                    raise InvalidTransaction(
                        RejectReason.BAD_PAYLOAD,
                        f"must be in [0, {MAX_COUNT}]",
                        field=f"payload.{name}",
                    )
            if not 0 <= payload.height <= block.height:
                raise InvalidTransaction(
                    RejectReason.BAD_PAYLOAD,
                    f"must be in [0, {block.height}] (issue height)",
                    field="payload.height",
                )
            if payload.success_ppm is not None and not 0 <= payload.success_ppm <= PPM:
                raise InvalidTransaction(
                    RejectReason.BAD_PAYLOAD,
                    f"must be in [0, {PPM}] or null",
                    field="payload.success_ppm",
                )
            block.ratings.append(
                Rating(
                    rater=sender.node_id,
                    ratee=payload.ratee,
                    positive=payload.positive,
                    negative=payload.negative,
                    success_ppm=payload.success_ppm,
                    height=payload.height,
                )
            )
            return
        assert isinstance(payload, EvidencePayload)
        if sender.role is None:
            raise InvalidTransaction(
                RejectReason.NOT_AUTHORIZED,
                "the authority does not report evidence",
                field="sender",
            )
        if certificate_of(state, payload.offender) is None:
            raise InvalidTransaction(
                RejectReason.UNKNOWN_RECIPIENT,
                f"{payload.offender!r} has no certificate",
                field="payload.offender",
            )
        if not payload.proof:
            raise InvalidTransaction(
                RejectReason.BAD_EVIDENCE, "empty proof", field="payload.proof"
            )
        if not 0 <= payload.height <= block.height:
            raise InvalidTransaction(
                RejectReason.BAD_EVIDENCE,
                f"offence height must be in [0, {block.height}]",
                field="payload.height",
            )
        if len(payload.subject) > MAX_SUBJECT_LENGTH:
            raise InvalidTransaction(
                RejectReason.BAD_EVIDENCE,
                f"longer than {MAX_SUBJECT_LENGTH}",
                field="payload.subject",
            )
        key = evidence_key(
            offender=payload.offender,
            kind=payload.kind,
            height=payload.height,
            subject=payload.subject,
        )
        if key in state:
            raise InvalidTransaction(
                RejectReason.DUPLICATE_EVIDENCE,
                "this offence is already recorded",
                field="payload",
            )
        problem = self._verifier(payload, block, state)
        if problem is not None:
            raise InvalidTransaction(RejectReason.BAD_EVIDENCE, problem, field="payload.proof")
        record = Evidence(
            offender=payload.offender,
            kind=payload.kind,
            height=payload.height,
            reporter=sender.node_id,
            subject=payload.subject,
        )
        stored = record.to_fields()
        stored["proof_hash"] = sha256(canonical(payload.proof)).hex()
        stored["recorded_at"] = block.height
        state.set(key, canonical(stored))
        block.evidence.append(record)

"""Checking consensus proofs on chain: past states from undo records, evidence queued.

Part of :class:`~ledger.chain_app.ChainApp`. The ratings family's verifier checks that an
evidence payload's proof is of the payload's offence (:func:`~ledger.chain_evidence.check_binding`)
and re-checks the consensus proof with :func:`ledger.consensus.evidence.verify_evidence`; a
block-validity proof re-executes the block on the state of its parent height, rebuilt from the
store's state and the undo sets of the last ``params.evidence_max_age`` blocks. A proof that
needs an older state is refused as undecidable (:class:`_Undecidable`), never judged either
way. Offences this node's machine recorded are queued until they are on chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.block import ChainTip, decode_block
from ledger.chain import apply_block
from ledger.chain_evidence import (
    MAX_PENDING_EVIDENCE,
    _chain_key,
    check_binding,
    offence_subject,
)
from ledger.chain_reasons import ChainReason, NotAValidator, reason_of
from ledger.consensus.evidence import Evidence as ConsensusEvidence
from ledger.consensus.evidence import verify_evidence
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import sha256
from ledger.errors import InvalidBlock
from ledger.evidence_kinds import EvidenceKind
from ledger.families import FamilyRegistry
from ledger.families.ratings import EvidencePayload, RatingsFamily
from ledger.families.registry import BlockContext
from ledger.params import ChainParams
from ledger.state import State
from ledger.store import ChainStore
from ledger.transactions import AdmittedTransaction, admit_record, sign_transaction

__all__ = ["ProofsMixin"]


class _Undecidable(Exception):
    """A proof needs a state older than the evidence window (never a verdict either way)."""


class ProofsMixin:
    """Evidence-proof checking, undo-record states and the evidence queue (module docstring)."""

    params: ChainParams
    chain_id: str
    key: PrivateKey
    store: ChainStore
    state: State
    tips: list[ChainTip]
    registry: FamilyRegistry
    _validators: dict[int, ValidatorSet | None]
    _undo: dict[int, dict[bytes, bytes | None]]
    _pending: dict[bytes, ConsensusEvidence]
    _past: dict[tuple[int, bytes], int]
    _depth: int

    if TYPE_CHECKING:  # implemented by ChainApp and ValidatorsMixin

        @property
        def height(self) -> int:
            """The last committed height."""

        def block_hash(self, block: bytes) -> bytes:
            """The header hash of a block (ChainApp)."""

        def offence_of(self, reason: int) -> EvidenceKind:
            """The offence of proposing a block rejected for ``reason`` (ChainApp)."""

        def _is_validator(self, node: str, height: int) -> bool: ...

    def _check_past(self, height: int, block: bytes) -> int:
        """``check`` of a block at an earlier height ``height`` ≤ :attr:`height`, for proofs.

        Raises:
            _Undecidable: The state of ``height − 1`` is older than the undo window.
        """
        if not 1 <= height <= self.height:
            return ChainReason.WRONG_HEIGHT
        key = (height, sha256(block))
        known = self._past.get(key)
        if known is not None:
            return known
        state = self._state_at(height - 1)
        try:
            decoded = decode_block(block, params=self.params)
            if not self._is_validator(decoded.header.leader, height):
                raise NotAValidator(f"leader {decoded.header.leader!r} is not a validator")
            apply_block(
                state,
                decoded,
                parent=self.tips[height - 1],
                params=self.params,
                registry=self.registry,
                dry_run=True,
            )
            reason = 0
        except InvalidBlock as exc:
            reason = reason_of(exc)
        self._past[key] = reason
        return reason

    def _state_at(self, height: int) -> State:
        """The state of an earlier ``height``: the store's state with undo sets applied."""
        if any(h not in self._undo for h in range(self.height, height, -1)):
            raise _Undecidable(
                f"the state of height {height} is older than the {self.params.evidence_max_age}"
                f" blocks kept at height {self.height}"
            )
        state = State.from_items(self.store.state_items())
        for past in range(self.height, height, -1):
            for key, old in self._undo[past].items():
                if old is None:
                    state.delete(key)
                else:
                    state.set(key, old)
        state.commit()
        return state

    # ----------------------------------------------------------------------------- evidence

    def _verify_evidence(
        self, payload: EvidencePayload, block: BlockContext, state: State
    ) -> str | None:
        """The ratings family's verifier: None when the proof binds to ``payload`` and holds.

        Raises:
            InvalidTransaction: BAD_EVIDENCE when the proof is not of the payload's offence
                (:func:`~ledger.chain_evidence.check_binding`).
        """
        evidence = check_binding(payload, block.height, block.params.evidence_max_age)
        return self._verify_proof(evidence)

    def _verify_proof(self, evidence: ConsensusEvidence) -> str | None:
        """None when the consensus proof ``evidence`` holds, else why not."""
        outer = self._depth == 0
        self._depth += 1
        try:
            validators = self._validators.get(evidence.height)
            if validators is None:
                return f"no validator set is known at height {evidence.height}"
            ok = verify_evidence(
                evidence,
                validators,
                block_hash=self.block_hash,
                check=self._check_past,
                offence_of=self.offence_of,
                max_bytes=self.params.max_block_bytes,
            )
            return (
                None
                if ok
                else f"the {evidence.kind.name} proof against {evidence.offender!r} does not hold"
            )
        except _Undecidable as exc:
            if not outer:
                raise
            return f"cannot be judged: {exc}"
        finally:
            self._depth -= 1

    def verify_offence(self, evidence: ConsensusEvidence) -> str | None:
        """None when this chain would accept ``evidence``'s proof now, else why not.

        Only the proof is judged (not its age or whether it is already recorded).
        """
        return self._verify_proof(evidence)

    def add_evidence(self, evidence: ConsensusEvidence) -> None:
        """Queue an offence this node's machine recorded, for its next proposals."""
        key = _chain_key(evidence)
        if key in self.state or len(self._pending) >= MAX_PENDING_EVIDENCE:
            return
        self._pending.setdefault(key, evidence)

    @property
    def pending_evidence(self) -> tuple[ConsensusEvidence, ...]:
        """Offences queued and not yet on chain."""
        return tuple(self._pending.values())

    def _evidence_transaction(self, evidence: ConsensusEvidence, nonce: int) -> AdmittedTransaction:
        payload = EvidencePayload(
            op="evidence",
            kind=evidence.kind,
            offender=evidence.offender,
            height=evidence.height,
            subject=offence_subject(evidence),
            proof=evidence.to_fields(),
        )
        tx = sign_transaction(
            self.key,
            chain_id=self.chain_id,
            nonce=nonce,
            fee=self.params.min_fee,
            family=RatingsFamily.name,
            version=RatingsFamily.version,
            payload=payload,
        )
        return admit_record(tx, chain_id=self.chain_id)

"""Proposing: client transactions into the mempool, and blocks built from it.

Part of :class:`~ledger.chain_app.ChainApp`: a leader's block carries its own transactions in
nonce order, then the queued evidence (each as a ``ratings``/``evidence`` transaction, at most
``max_evidence``, none too old to be judged), then the other mempool transactions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.block import Block, ChainTip
from ledger.chain import ApplyResult, build_block
from ledger.chain_evidence import BLOCK_VALIDITY_KINDS
from ledger.chain_reasons import ChainAppError, ChainReason
from ledger.consensus.evidence import Evidence as ConsensusEvidence
from ledger.consensus.messages import make_challenge
from ledger.crypto import PrivateKey
from ledger.encoding import sha256
from ledger.errors import InvalidTransaction, RejectReason
from ledger.families import FamilyRegistry
from ledger.mempool import Mempool
from ledger.params import ChainParams
from ledger.state import State
from ledger.transactions import AdmittedTransaction, admit

__all__ = ["ProposerMixin"]


class ProposerMixin:
    """Mempool admission and block proposals (module docstring)."""

    params: ChainParams
    chain_id: str
    key: PrivateKey
    address: bytes
    state: State
    mempool: Mempool
    registry: FamilyRegistry
    max_evidence: int
    _pending: dict[bytes, ConsensusEvidence]
    _checked: dict[bytes, tuple[int, Block | None, ApplyResult | None]]
    _ids: dict[bytes, bytes]

    if TYPE_CHECKING:  # implemented by ChainApp, ValidatorsMixin and ProofsMixin

        @property
        def height(self) -> int:
            """The last committed height."""

        @property
        def tip(self) -> ChainTip:
            """The last committed block as the parent of the next."""

        def _is_validator(self, node: str, height: int) -> bool: ...
        def _evidence_transaction(
            self, evidence: ConsensusEvidence, nonce: int
        ) -> AdmittedTransaction: ...

    def submit(self, tx: bytes) -> int:
        """Admit a client transaction to the mempool: 0, a RejectReason or a MempoolReason."""
        try:
            admitted = admit(tx, chain_id=self.chain_id, max_bytes=self.params.max_tx_bytes)
        except InvalidTransaction as exc:
            return int(exc.reason)
        return self.mempool.add(admitted, self.state.account(admitted.sender_address).nonce)

    def _candidates(self, height: int) -> list[AdmittedTransaction]:
        own: list[AdmittedTransaction] = []
        others: list[AdmittedTransaction] = []
        for tx in self.mempool.candidates(first=self.address):
            (own if tx.sender_address == self.address else others).append(tx)
        nonce = self.state.account(self.address).nonce
        for tx in own:
            if tx.tx.nonce != nonce:
                break
            nonce += 1
        evidence: list[AdmittedTransaction] = []
        oldest = height - self.params.evidence_max_age
        for key in sorted(self._pending):
            item = self._pending[key]
            if item.kind in BLOCK_VALIDITY_KINDS and item.height < oldest:
                del self._pending[key]  # too old to be judged: no block may take it
                continue
            if item.height >= height or len(evidence) >= self.max_evidence:
                continue
            evidence.append(self._evidence_transaction(item, nonce))
            nonce += 1
        return [*own, *evidence, *others]

    def propose(
        self,
        *,
        height: int,
        round_: int,
        prev_hash: bytes,
        timestamp_ms: int,
        leader: str,
        nonce: int,
    ) -> bytes:
        """A block on the current tip from the mempool and pending evidence (module docstring).

        Raises:
            ChainAppError: ``height`` or ``prev_hash`` is not the next block's.
        """
        if height != self.height + 1 or prev_hash != self.tip.block_hash:
            raise ChainAppError(
                f"propose at height {height} on {prev_hash.hex()[:12]}: the chain is at "
                f"{self.height} with head {self.tip.block_hash.hex()[:12]}"
            )
        built = build_block(
            self.state,
            self._candidates(height),
            parent=self.tip,
            leader=leader,
            round=round_,
            timestamp_ms=timestamp_ms,
            pow_nonce=nonce,
            challenge=sha256(make_challenge(self.key, height, round_)),
            params=self.params,
            registry=self.registry,
        )
        keep = (RejectReason.BAD_NONCE, RejectReason.INSUFFICIENT_FUNDS)
        self.mempool.remove(h for h, exc in built.rejected if exc.reason not in keep)
        data = built.block.encode()
        reason = 0
        if not self._is_validator(leader, height):
            reason = ChainReason.NOT_A_VALIDATOR
        digest = sha256(data)
        self._checked[digest] = (reason, built.block, built.result if not reason else None)
        self._ids[digest] = built.block.block_hash  # built with its own tx_root
        return data

"""A small :class:`~ledger.consensus.app.Application` for tests, the simulator and the benchmark.

A toy transaction is a signed transfer ``(sender key, nonce, amount)``; a toy block is the
canonical bytes of :class:`ToyBlock`: height, parent hash, the leader and its PoW nonce, a
timestamp, the transactions (their canonical bytes), a *price* that the leader computes and
every validator recomputes (``UNIT_PRICE × Σ amount``: the toy stand-in for the interference
price, so a wrong one is *manipulated price*), and evidence to record on chain. The block hash is
``sha256`` of the block bytes.

Every validator verifies every transaction signature itself: once when the transaction reaches
its mempool (``submit``) and, for transactions it has not seen, when it checks a block; verified
transaction hashes are cached. ``check`` is a pure function of the committed chain below the
height and the block bytes (parent hash, transactions and evidence already on chain *below*
that height), so it can judge blocks of past heights, which evidence verification needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, ClassVar

from ledger.consensus.evidence import Evidence, EvidenceKey, EvidenceKind, verify_evidence
from ledger.consensus.messages import Certificate
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import DecodeError, Length, Record, sha256
from ledger.signing import SignedRecord

__all__ = ["UNIT_PRICE", "ToyApp", "ToyBlock", "ToyReason", "ToyTx", "make_tx"]

UNIT_PRICE = 3
MAX_TX_BYTES = 512
MAX_BLOCK_BYTES = 1 << 23
MAX_EVIDENCE = 32
"""At most this many evidence records per block (the rest wait for later blocks)."""
MAX_EVIDENCE_BYTES = 1 << 20
"""... and at most this many bytes of signed messages and blocks inside them."""


class ToyReason(IntEnum):
    """Why the toy app rejects a block or transaction (application codes, 1..999)."""

    MALFORMED = 1
    WRONG_HEIGHT = 2
    WRONG_PARENT = 3
    BAD_SIGNATURE = 4
    WRONG_PRICE = 5
    REPLAYED_TX = 6
    BAD_EVIDENCE = 7
    DUPLICATE_EVIDENCE = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyTx(SignedRecord):
    """A signed toy transfer."""

    sender: Annotated[bytes, Length(33)]
    nonce: int
    amount: int
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "satedge/toy-tx/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyBlock(Record):
    """A toy block (module docstring)."""

    height: int
    round: int
    prev_hash: Annotated[bytes, Length(32)]
    leader: str
    nonce: int
    timestamp_ms: int
    price: int
    txs: tuple[bytes, ...]
    evidence: tuple[Evidence, ...]


def make_tx(key: PrivateKey, nonce: int, amount: int) -> bytes:
    """The canonical bytes of a toy transaction signed by ``key``."""
    unsigned = ToyTx(sender=key.public_key, nonce=nonce, amount=amount, signature=bytes(65))
    return unsigned.signed_with(key).encode()


def _tx_reason(tx: bytes) -> tuple[int, int]:
    """(reason, amount) of a transaction's bytes: signature and form only."""
    try:
        decoded = ToyTx.decode(tx, max_bytes=MAX_TX_BYTES)
    except DecodeError:
        return ToyReason.MALFORMED, 0
    if decoded.amount < 0:
        return ToyReason.MALFORMED, 0
    if not decoded.signed_by(decoded.sender):
        return ToyReason.BAD_SIGNATURE, 0
    return 0, decoded.amount


class ToyApp:
    """One node's toy chain, mempool and pending evidence (module docstring)."""

    def __init__(self, validators: ValidatorSet, genesis_hash: bytes, *, max_txs: int = 1000):
        self.validators = validators
        self.max_txs = max_txs
        self.hashes: list[bytes] = [genesis_hash]
        self.blocks: list[bytes] = [b""]
        self.certificates: list[Certificate | None] = [None]
        self.tx_height: dict[bytes, int] = {}
        self.evidence_height: dict[EvidenceKey, int] = {}
        self.amounts: dict[bytes, int] = {}
        self.mempool: dict[bytes, bytes] = {}
        self.pending_evidence: dict[EvidenceKey, Evidence] = {}

    @property
    def height(self) -> int:
        """The last committed height (0 = genesis)."""
        return len(self.hashes) - 1

    def head_hash(self) -> bytes:
        """Hash of the last committed block (the genesis hash at height 0)."""
        return self.hashes[-1]

    def evidence_on_chain(self, key: EvidenceKey) -> bool:
        """Whether the offence ``key`` is recorded in a committed block."""
        return key in self.evidence_height

    def restarted(self) -> ToyApp:
        """The same app: the toy chain, its pools and pending evidence stand for the disk."""
        return self

    def validator_set(self, height: int) -> ValidatorSet:
        """A fixed validator set."""
        return self.validators

    def block_hash(self, block: bytes) -> bytes:
        """``sha256`` of the block bytes."""
        return sha256(block)

    def submit(self, tx: bytes) -> int:
        """Verify and admit a transaction to the mempool."""
        tx_hash = sha256(tx)
        if tx_hash in self.tx_height:
            return ToyReason.REPLAYED_TX
        if tx_hash not in self.amounts:
            reason, amount = _tx_reason(tx)
            if reason:
                return reason
            self.amounts[tx_hash] = amount
        self.mempool[tx_hash] = tx
        return 0

    def committed(self, height: int) -> tuple[bytes, Certificate] | None:
        """The committed block of ``height`` and its certificate."""
        if not 1 <= height <= self.height:
            return None
        certificate = self.certificates[height]
        return None if certificate is None else (self.blocks[height], certificate)

    def add_evidence(self, evidence: Evidence) -> None:
        """Queue evidence for the next block this node proposes (unless already on chain)."""
        if evidence.key not in self.evidence_height:
            self.pending_evidence.setdefault(evidence.key, evidence)

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
        """A block of up to ``max_txs`` mempool transactions and all pending evidence."""
        txs = [tx for h, tx in self.mempool.items() if h not in self.tx_height][: self.max_txs]
        price = UNIT_PRICE * sum(self.amounts[sha256(tx)] for tx in txs)
        evidence: list[Evidence] = []
        size = 0
        for key, item in sorted(self.pending_evidence.items()):
            if key in self.evidence_height or item.height >= height:
                continue
            size += len(item.block) + len(item.first) + len(item.second)
            if len(evidence) >= MAX_EVIDENCE or size > MAX_EVIDENCE_BYTES:
                break
            evidence.append(item)
        block = ToyBlock(
            height=height,
            round=round_,
            prev_hash=prev_hash,
            leader=leader,
            nonce=nonce,
            timestamp_ms=timestamp_ms,
            price=price,
            txs=tuple(txs),
            evidence=tuple(evidence),
        )
        return block.encode()

    def check(self, height: int, block: bytes) -> int:
        """0 if ``block`` is valid at ``height`` given the chain below it, else a ToyReason."""
        try:
            decoded = ToyBlock.decode(block, max_bytes=MAX_BLOCK_BYTES)
        except DecodeError:
            return ToyReason.MALFORMED
        if decoded.height != height or not 1 <= height <= len(self.hashes):
            return ToyReason.WRONG_HEIGHT
        if decoded.prev_hash != self.hashes[height - 1]:
            return ToyReason.WRONG_PARENT
        total = 0
        seen: set[bytes] = set()
        for tx in decoded.txs:
            tx_hash = sha256(tx)
            if tx_hash in seen or self.tx_height.get(tx_hash, height) < height:
                return ToyReason.REPLAYED_TX
            seen.add(tx_hash)
            amount = self.amounts.get(tx_hash)
            if amount is None:
                reason, amount = _tx_reason(tx)
                if reason:
                    return reason
                self.amounts[tx_hash] = amount
            total += amount
        if decoded.price != UNIT_PRICE * total:
            return ToyReason.WRONG_PRICE
        keys: set[EvidenceKey] = set()
        for evidence in decoded.evidence:
            key = evidence.key
            if key in keys or self.evidence_height.get(key, height) < height:
                return ToyReason.DUPLICATE_EVIDENCE
            keys.add(key)
            if evidence.height >= height or not verify_evidence(
                evidence,
                self.validator_set(evidence.height),
                block_hash=self.block_hash,
                check=self.check,
                offence_of=self.offence_of,
            ):
                return ToyReason.BAD_EVIDENCE
        return 0

    def offence_of(self, reason: int) -> EvidenceKind:
        """A wrong price is a manipulated price; anything else an invalid block."""
        if reason == ToyReason.WRONG_PRICE:
            return EvidenceKind.MANIPULATED_PRICE
        return EvidenceKind.INVALID_BLOCK

    def commit(
        self, height: int, block: bytes, block_hash: bytes, certificate: Certificate
    ) -> None:
        """Append the block; forget its transactions and evidence from the pools."""
        if height != len(self.hashes):
            raise ValueError(f"commit of height {height} on a chain of height {self.height}")
        decoded = ToyBlock.decode(block, max_bytes=MAX_BLOCK_BYTES)
        self.hashes.append(block_hash)
        self.blocks.append(block)
        self.certificates.append(certificate)
        for tx in decoded.txs:
            tx_hash = sha256(tx)
            self.tx_height[tx_hash] = height
            self.mempool.pop(tx_hash, None)
        for evidence in decoded.evidence:
            self.evidence_height[evidence.key] = height
            self.pending_evidence.pop(evidence.key, None)


def tamper_price(block: bytes) -> bytes:
    """The block with its price raised by one (a *manipulated price*)."""
    decoded = ToyBlock.decode(block, max_bytes=MAX_BLOCK_BYTES)
    return dataclasses.replace(decoded, price=decoded.price + 1).encode()


def tamper_signature(block: bytes) -> bytes:
    """The block with a transaction whose signature does not verify (an *invalid block*)."""
    decoded = ToyBlock.decode(block, max_bytes=MAX_BLOCK_BYTES)
    forged = ToyTx(
        sender=PrivateKey.from_seed(b"toy-forger").public_key,
        nonce=decoded.height,
        amount=0,
        signature=bytes(65),
    ).encode()
    return dataclasses.replace(decoded, txs=(*decoded.txs, forged)).encode()

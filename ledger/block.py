"""Blocks: header, body, transaction root, and the commit-certificate container.

The block hash is ``sha256(canonical(header))``; the header commits to the body through
``tx_root`` and to the state after the block through ``state_root``. ``tx_root`` is the RFC 6962
(Certificate Transparency) Merkle tree hash over the transaction hashes: leaves
``SHA-256(0x00 ‖ tx_hash)``, nodes ``SHA-256(0x01 ‖ left ‖ right)``, the left subtree holding the
largest power of two below n, and ``SHA-256("")`` for an empty block. The domain bytes rule out
the second-preimage trick that Bitcoin's duplicate-last construction allows.

The body holds the transactions as records; canonical encoding is unique, so each transaction's
hash is the same whether it travelled alone or inside a block. The commit certificate (the
approving watermarks, defined by ``ledger.consensus``) is produced after the block and is not
covered by the block hash: :class:`CommittedBlock` pairs a block with its certificate bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from ledger.encoding import DecodeError, Length, Record, sha256
from ledger.errors import BadBlockEncoding, BlockTooLarge
from ledger.params import ChainParams
from ledger.transactions import Transaction

__all__ = [
    "EMPTY_ROOT",
    "Block",
    "BlockHeader",
    "ChainTip",
    "CommittedBlock",
    "block_size",
    "decode_block",
    "merkle_root",
]

EMPTY_ROOT = sha256(b"")


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of ``leaves`` (each the 32-byte hash of a transaction).

    Built bottom-up, carrying an odd last node up a level unchanged, which gives the same tree
    as RFC 6962's split at the largest power of two below n.
    """
    if not leaves:
        return EMPTY_ROOT
    level = [sha256(b"\x00" + leaf) for leaf in leaves]
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockHeader(Record):
    """What the block hash covers.

    Attributes:
        height: Genesis is 0; each block is its parent's height + 1.
        round: Consensus round in which the block was proposed.
        prev_hash: Parent's block hash (the genesis hash for height 1).
        tx_root: RFC 6962 root of the transaction hashes.
        state_root: State root after executing the block (:mod:`ledger.state`).
        timestamp_ms: Leader's emulated time, never before the parent's.
        leader: Node id of the miner head that proposed it.
        pow_nonce: The leader's proof-of-work nonce (checked by consensus, not here).
        challenge: ϕ, the leader's fresh random challenge for the watermarks.
    """

    height: int
    round: int
    prev_hash: Annotated[bytes, Length(32)]
    tx_root: Annotated[bytes, Length(32)]
    state_root: Annotated[bytes, Length(32)]
    timestamp_ms: int
    leader: str
    pow_nonce: int
    challenge: Annotated[bytes, Length(32)]

    @property
    def block_hash(self) -> bytes:
        """SHA-256 of the canonical header."""
        return sha256(self.encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class Block(Record):
    """A header and its transactions, in execution order."""

    header: BlockHeader
    transactions: tuple[Transaction, ...]

    @property
    def block_hash(self) -> bytes:
        """The header's hash."""
        return self.header.block_hash

    def tip(self) -> ChainTip:
        """This block as the parent of the next."""
        return ChainTip(
            height=self.header.height,
            block_hash=self.block_hash,
            timestamp_ms=self.header.timestamp_ms,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommittedBlock(Record):
    """A block with its commit certificate (opaque here; ``ledger.consensus`` defines it)."""

    block: Block
    certificate: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainTip:
    """What a new block is checked against: its parent's height, hash and timestamp."""

    height: int
    block_hash: bytes
    timestamp_ms: int


def block_size(header: BlockHeader, raw_transactions: Sequence[bytes]) -> int:
    """Length of the block's canonical bytes, from its parts' canonical bytes.

    ``{"header":H,"transactions":[T1,T2,...]}``: 10 + |H| + 17 + Σ|Ti| + (n−1) + 2.
    """
    body = sum(len(raw) for raw in raw_transactions) + max(len(raw_transactions) - 1, 0)
    return 29 + len(header.encode()) + body


def decode_block(data: bytes, *, params: ChainParams) -> Block:
    """Strictly decode a block received from a peer.

    Raises:
        BlockTooLarge: More bytes or transactions than the parameters allow.
        BadBlockEncoding: Not a canonical block (the message names the field).
    """
    if len(data) > params.max_block_bytes:
        raise BlockTooLarge(f"{len(data)} bytes, more than {params.max_block_bytes}")
    try:
        block = Block.decode(data, max_bytes=params.max_block_bytes)
    except DecodeError as exc:
        raise BadBlockEncoding(str(exc)) from None
    if len(block.transactions) > params.max_block_txs:
        raise BlockTooLarge(
            f"{len(block.transactions)} transactions, more than {params.max_block_txs}"
        )
    return block

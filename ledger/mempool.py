"""The mempool: admitted transactions waiting for a block, deduplicated and bounded.

Transactions enter already admitted (decoded, signature checked: ``ledger.transactions.admit``)
and are kept by hash, so the same signed bytes are held once however often they arrive. Per
sender they are ordered by nonce; a sender holds one transaction per nonce (the first one wins:
no replacement), at most ``max_nonce_gap`` nonces ahead of its account. The pool is bounded by
``max_txs`` and ``max_bytes``: when full, new transactions are refused with a code, never
silently evicted. ``candidates`` lists the transactions in a deterministic order for
``ledger.chain.build_block``: senders in order of their oldest waiting transaction, each
sender's transactions by nonce; ``prune`` drops what a committed state has made stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import IntEnum

from ledger.state import State
from ledger.transactions import AdmittedTransaction

__all__ = ["Mempool", "MempoolReason"]


class MempoolReason(IntEnum):
    """Why the mempool refuses a transaction (codes above ``RejectReason``'s, below 1000)."""

    FULL = 100
    """The pool holds ``max_txs`` transactions or ``max_bytes`` bytes."""
    STALE_NONCE = 101
    """The nonce is below the sender's account nonce (already used)."""
    NONCE_TOO_FAR = 102
    """The nonce is more than ``max_nonce_gap`` ahead of the sender's account."""
    NONCE_TAKEN = 103
    """Another transaction of the sender with this nonce is waiting (no replacement)."""


class Mempool:
    """Admitted transactions by hash and by (sender, nonce) (module docstring).

    Args:
        max_txs: Most transactions held.
        max_bytes: Most bytes (sum of the raw transactions) held.
        max_nonce_gap: Largest distance of a nonce ahead of the sender's account nonce.
    """

    def __init__(
        self, *, max_txs: int = 10_000, max_bytes: int = 64 << 20, max_nonce_gap: int = 64
    ) -> None:
        if max_txs < 1 or max_bytes < 1 or max_nonce_gap < 0:
            raise ValueError("mempool bounds: max_txs, max_bytes ≥ 1 and max_nonce_gap ≥ 0")
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self.max_nonce_gap = max_nonce_gap
        self._by_hash: dict[bytes, AdmittedTransaction] = {}
        self._by_sender: dict[bytes, dict[int, bytes]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    @property
    def size_bytes(self) -> int:
        """Sum of the raw sizes of the transactions held."""
        return self._bytes

    @property
    def by_hash(self) -> Mapping[bytes, AdmittedTransaction]:
        """The held transactions by hash (``apply_block``'s ``admitted`` argument)."""
        return self._by_hash

    def add(self, tx: AdmittedTransaction, account_nonce: int) -> int:
        """Hold ``tx``; 0 when held (or already held), else a :class:`MempoolReason`.

        Args:
            tx: An admitted transaction.
            account_nonce: The sender's next nonce in the committed state.
        """
        if tx.tx_hash in self._by_hash:
            return 0
        nonce = tx.tx.nonce
        if nonce < account_nonce:
            return MempoolReason.STALE_NONCE
        if nonce > account_nonce + self.max_nonce_gap:
            return MempoolReason.NONCE_TOO_FAR
        waiting = self._by_sender.get(tx.sender_address, {})
        if nonce in waiting:
            return MempoolReason.NONCE_TAKEN
        if len(self._by_hash) >= self.max_txs or self._bytes + len(tx.raw) > self.max_bytes:
            return MempoolReason.FULL
        self._by_hash[tx.tx_hash] = tx
        self._by_sender.setdefault(tx.sender_address, {})[nonce] = tx.tx_hash
        self._bytes += len(tx.raw)
        return 0

    def remove(self, tx_hashes: Iterable[bytes]) -> None:
        """Forget these transactions (those not held are ignored)."""
        for tx_hash in tx_hashes:
            tx = self._by_hash.pop(tx_hash, None)
            if tx is None:
                continue
            self._bytes -= len(tx.raw)
            waiting = self._by_sender[tx.sender_address]
            del waiting[tx.tx.nonce]
            if not waiting:
                del self._by_sender[tx.sender_address]

    def prune(self, state: State) -> int:
        """Drop the transactions whose nonce ``state`` has used; returns how many."""
        stale = [
            tx_hash
            for sender, waiting in self._by_sender.items()
            for nonce, tx_hash in waiting.items()
            if nonce < state.account(sender).nonce
        ]
        self.remove(stale)
        return len(stale)

    def sender_nonces(self, sender: bytes) -> list[int]:
        """The nonces waiting from ``sender``, ascending."""
        return sorted(self._by_sender.get(sender, {}))

    def candidates(self, *, first: bytes | None = None) -> Iterator[AdmittedTransaction]:
        """Every held transaction: ``first``'s (if given) then the other senders (docstring).

        Senders come in the order their oldest waiting transaction arrived; each sender's
        transactions by nonce.
        """
        senders = list(self._by_sender)
        if first is not None and first in self._by_sender:
            senders.remove(first)
            senders.insert(0, first)
        for sender in senders:
            waiting = self._by_sender[sender]
            for nonce in sorted(waiting):
                yield self._by_hash[waiting[nonce]]

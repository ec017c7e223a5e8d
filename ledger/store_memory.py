"""``MemoryStore``: the chain store in dictionaries, with the rules of ``ledger.store``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ledger.store import (
    Closable,
    StoreClosed,
    StoredBlock,
    StoreNotInitialised,
    check_same_genesis,
    check_uint,
    check_vote,
    genesis_puts,
    is_new,
    split_writes,
    vote_conflict,
)


class MemoryStore(Closable):
    """A ``ChainStore`` in dictionaries: same rules as ``SqliteStore``, nothing survives close."""

    def __init__(self) -> None:
        self._blocks: list[StoredBlock] = []
        self._by_hash: dict[bytes, StoredBlock] = {}
        self._state: dict[bytes, bytes] = {}
        self._votes: dict[tuple[int, int, int], bytes] = {}
        self._genesis: tuple[bytes, bytes, bytes] | None = None
        self._closed = False

    def _open(self) -> None:
        if self._closed:
            raise StoreClosed("memory store: used after close")

    def head(self) -> StoredBlock | None:
        """The highest committed block, or None."""
        self._open()
        return self._blocks[-1] if self._blocks else None

    def height(self) -> int:
        """The head's height; 0 with only genesis."""
        self._open()
        return len(self._blocks)

    def init_genesis(
        self, genesis_bytes: bytes, genesis_hash: bytes, state_writes: Mapping[bytes, bytes]
    ) -> None:
        """Store genesis and its state once (see ``ChainStore.init_genesis``)."""
        self._open()
        puts, digest = genesis_puts(genesis_bytes, genesis_hash, state_writes)
        offered = (genesis_bytes, genesis_hash, digest)
        if self._genesis is not None:
            check_same_genesis(self._genesis, offered, "memory store")
            return
        self._genesis = offered
        self._state.update(puts)

    def genesis(self) -> tuple[bytes, bytes] | None:
        """``(genesis_bytes, genesis_hash)`` or None."""
        self._open()
        return None if self._genesis is None else self._genesis[:2]

    def commit(self, block: StoredBlock, state_writes: Mapping[bytes, bytes | None]) -> None:
        """Append a block and apply its writes atomically (see ``ChainStore.commit``)."""
        self._open()
        puts, deletes = split_writes(state_writes)
        if self._genesis is None:
            raise StoreNotInitialised(
                f"memory store: commit of height {block.height} before genesis"
            )
        at_height = self.block_at(block.height)
        if not is_new(
            block, self.height(), at_height, self.block_by_hash(block.block_hash), "memory store"
        ):
            return
        self._blocks.append(block)
        self._by_hash[block.block_hash] = block
        self._state.update(puts)
        for (key,) in deletes:
            self._state.pop(key, None)

    def block_at(self, height: int) -> StoredBlock | None:
        """The block at ``height`` or None."""
        self._open()
        return self._blocks[height - 1] if 1 <= height <= len(self._blocks) else None

    def blocks_from(self, height: int, limit: int) -> list[StoredBlock]:
        """Up to ``limit`` blocks from ``height`` on."""
        self._open()
        check_uint("limit", limit)
        start = max(height, 1) - 1
        return self._blocks[start : start + limit]

    def block_by_hash(self, block_hash: bytes) -> StoredBlock | None:
        """The block with this hash or None."""
        self._open()
        return self._by_hash.get(block_hash)

    def state_get(self, key: bytes) -> bytes | None:
        """The value of ``key`` or None."""
        self._open()
        return self._state.get(key)

    def state_items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """A key-ordered snapshot of the entries under ``prefix``."""
        self._open()
        return iter([(k, self._state[k]) for k in sorted(self._state) if k.startswith(prefix)])

    def persist_vote(self, height: int, round: int, step: int, payload: bytes) -> None:
        """Record a vote once (see ``ChainStore.persist_vote``)."""
        self._open()
        check_vote(height, round, step, payload)
        stored = self._votes.setdefault((height, round, step), payload)
        if stored != payload:
            raise vote_conflict("memory store", height, round, step)

    def votes_at(self, height: int) -> list[tuple[int, int, bytes]]:
        """``(round, step, payload)`` at ``height`` in order."""
        self._open()
        return sorted((r, s, p) for (h, r, s), p in self._votes.items() if h == height)

    def prune_votes(self, below_height: int) -> None:
        """Forget votes below ``below_height``."""
        self._open()
        check_uint("below_height", below_height)
        self._votes = {k: v for k, v in self._votes.items() if k[0] >= below_height}

    def check_integrity(self) -> None:
        """Nothing to check in memory (kept for symmetry with ``SqliteStore``)."""
        self._open()

    def close(self) -> None:
        """Mark the store closed."""
        self._closed = True

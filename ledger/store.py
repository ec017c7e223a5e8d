"""The chain store: committed blocks, the current state and this node's own votes.

The store is byte-oriented: blocks, commit certificates and state values arrive as canonical bytes
plus the few fields the store indexes (height, hash, state root), so it depends on no block or
transaction class. ``ChainStore`` is the protocol; ``MemoryStore`` (tests, models) and
``SqliteStore`` (one WAL database per node) implement it with the same rules, which live in the
module-level helpers below so that the two cannot drift apart. Every table and statement is in
``ledger/store_schema.py``; ``MemoryStore`` is in ``ledger/store_memory.py`` and ``SqliteStore`` in
``ledger/store_sqlite.py``.

Rules:
    * Genesis is height 0, written once by ``init_genesis``; ``commit`` appends heights 1, 2, …
      with no gaps. A committed height is never overwritten: the same block again is a no-op, a
      different one is a ``StoreConflict``.
    * A block and its state writes are applied atomically (one SQLite transaction).
    * ``persist_vote`` is durable before it returns, whatever the block durability setting, and
      refuses a second, different payload for the same (height, round, step).

Durability of ``SqliteStore`` (``synchronous``; figures in /work/shared/MEASURED.md):
    In WAL mode both settings survive a killed process (SIGKILL): a commit is in the WAL, in the
    OS page cache, once ``COMMIT`` returns. ``FULL`` (the default) also fsyncs the WAL at every
    commit, so a committed block survives power loss too, at ~0.16 ms per commit. ``NORMAL``
    syncs only at checkpoints: after a power loss the last blocks may be gone, which a node
    recovers by syncing them from peers. Votes cannot be recovered that way (a lost vote could
    let a restarted node sign twice), so ``persist_vote`` always commits with ``FULL``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Final, Protocol, Self, runtime_checkable

HASH_BYTES: Final = 32
MAX_SQL_INT: Final = 2**63 - 1


class StoreError(Exception):
    """Base of every error the chain store raises."""


class StoreConflict(StoreError):
    """A commit or vote contradicts what is already stored (never overwritten)."""


class StoreMismatch(StoreError):
    """The stored chain is not the one the caller expects (e.g. another genesis)."""


class StoreSchemaMismatch(StoreMismatch):
    """The database file has another (newer, older or foreign) schema."""


class StoreCorrupt(StoreError):
    """The database fails an integrity or structure check, or is not a database."""


class StoreNotInitialised(StoreError):
    """A block was committed before ``init_genesis``."""


class StoreClosed(StoreError):
    """The store was used after ``close``."""


class InvalidStoreInput(StoreError, ValueError):
    """The caller passed a malformed record, key, height or limit (local misuse)."""


class Synchronous(StrEnum):
    """SQLite ``PRAGMA synchronous`` for block commits (see the module docstring)."""

    FULL = "FULL"
    NORMAL = "NORMAL"


def check_bytes(name: str, value: object, length: int | None = None) -> None:
    """Raise InvalidStoreInput unless ``value`` is bytes (of ``length`` when given)."""
    if not isinstance(value, bytes):
        raise InvalidStoreInput(f"{name} must be bytes, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InvalidStoreInput(f"{name} must be {length} bytes, got {len(value)}")


def check_uint(name: str, value: object, minimum: int = 0) -> None:
    """Raise InvalidStoreInput unless ``value`` is an int (not bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidStoreInput(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= MAX_SQL_INT:
        raise InvalidStoreInput(f"{name} must be in [{minimum}, 2**63 - 1], got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBlock:
    """A committed block as the store keeps it.

    Attributes:
        height: Chain height, 1 or more (genesis, height 0, is kept apart by ``init_genesis``).
        block_hash: The block's 32-byte hash.
        block: The block's canonical encoding.
        certificate: The canonical commit certificate that committed it.
        state_root: The 32-byte state root after applying it.
    """

    height: int
    block_hash: bytes
    block: bytes
    certificate: bytes
    state_root: bytes

    def __post_init__(self) -> None:
        check_uint("StoredBlock.height", self.height, minimum=1)
        check_bytes("StoredBlock.block_hash", self.block_hash, HASH_BYTES)
        check_bytes("StoredBlock.block", self.block)
        check_bytes("StoredBlock.certificate", self.certificate)
        check_bytes("StoredBlock.state_root", self.state_root, HASH_BYTES)


@runtime_checkable
class ChainStore(Protocol):
    """What consensus and sync need from a node's storage."""

    def head(self) -> StoredBlock | None:
        """The highest committed block, or None when nothing is committed above genesis."""
        ...

    def height(self) -> int:
        """The head's height; 0 when only genesis (or nothing) is stored."""
        ...

    def init_genesis(
        self, genesis_bytes: bytes, genesis_hash: bytes, state_writes: Mapping[bytes, bytes]
    ) -> None:
        """Store genesis (height 0) and its state; a no-op for the same genesis and writes.

        Raises:
            StoreMismatch: another genesis, or the same one with other state writes, is stored.
        """
        ...

    def genesis(self) -> tuple[bytes, bytes] | None:
        """``(genesis_bytes, genesis_hash)``, or None before ``init_genesis``."""
        ...

    def commit(self, block: StoredBlock, state_writes: Mapping[bytes, bytes | None]) -> None:
        """Append ``block`` at head + 1 and apply its state writes (None deletes), atomically.

        Committing the block already stored at its height is a no-op (the stored certificate is
        kept and ``state_writes`` are not applied again).

        Raises:
            StoreConflict: a gap, another block at that height, or the hash stored elsewhere.
            StoreNotInitialised: ``init_genesis`` has not run.
        """
        ...

    def block_at(self, height: int) -> StoredBlock | None:
        """The block committed at ``height`` (1 or more), or None."""
        ...

    def blocks_from(self, height: int, limit: int) -> list[StoredBlock]:
        """Up to ``limit`` consecutive blocks starting at ``height``, for sync answers."""
        ...

    def block_by_hash(self, block_hash: bytes) -> StoredBlock | None:
        """The committed block with this hash, or None."""
        ...

    def state_get(self, key: bytes) -> bytes | None:
        """The current value of ``key``, or None."""
        ...

    def state_items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """A snapshot, taken at the call, of the state entries under ``prefix`` in key order."""
        ...

    def persist_vote(self, height: int, round: int, step: int, payload: bytes) -> None:
        """Durably record this node's signed vote before it is sent.

        Raises:
            StoreConflict: a different payload is already recorded for (height, round, step).
        """
        ...

    def votes_at(self, height: int) -> list[tuple[int, int, bytes]]:
        """This node's votes at ``height`` as ``(round, step, payload)``, in (round, step) order."""
        ...

    def prune_votes(self, below_height: int) -> None:
        """Forget the votes of every height below ``below_height``."""
        ...

    def close(self) -> None:
        """Release the store; later calls raise ``StoreClosed``. Closing twice is allowed."""
        ...


def split_writes(
    state_writes: Mapping[bytes, bytes | None],
) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes]]]:
    """Checked ``(puts, deletes)`` of a write set, before anything is applied."""
    puts: list[tuple[bytes, bytes]] = []
    deletes: list[tuple[bytes]] = []
    for key, value in state_writes.items():
        check_bytes("state key", key)
        if value is None:
            deletes.append((key,))
        else:
            check_bytes(f"state value of key {key.hex()}", value)
            puts.append((key, value))
    return puts, deletes


def genesis_puts(
    genesis_bytes: bytes, genesis_hash: bytes, state_writes: Mapping[bytes, bytes]
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Checked genesis writes and their order-independent digest."""
    check_bytes("genesis_bytes", genesis_bytes)
    check_bytes("genesis_hash", genesis_hash, HASH_BYTES)
    puts, deletes = split_writes(state_writes)
    if deletes:
        raise InvalidStoreInput(f"genesis state writes cannot delete (key {deletes[0][0].hex()})")
    digest = hashlib.sha256()
    for key, value in sorted(puts):
        digest.update(len(key).to_bytes(8, "big") + key + len(value).to_bytes(8, "big") + value)
    return puts, digest.digest()


def check_same_genesis(
    stored: tuple[bytes, bytes, bytes], offered: tuple[bytes, bytes, bytes], where: str
) -> None:
    """Raise ``StoreMismatch`` unless ``offered`` genesis equals the ``stored`` one."""
    if stored[1] != offered[1]:
        raise StoreMismatch(
            f"{where}: genesis {stored[1].hex()} is stored; refusing genesis {offered[1].hex()}"
        )
    if stored[0] != offered[0] or stored[2] != offered[2]:
        raise StoreMismatch(
            f"{where}: genesis {stored[1].hex()} is stored with other block bytes or state writes"
        )


def is_new(
    block: StoredBlock,
    head: int,
    at_height: StoredBlock | None,
    with_hash: StoredBlock | None,
    where: str,
) -> bool:
    """Whether ``block`` is to be appended (True) or is already committed (False).

    Raises:
        StoreConflict: it would leave a gap, replace a committed block or reuse a stored hash.
    """
    if at_height is not None:
        if at_height.block_hash != block.block_hash:
            raise StoreConflict(
                f"{where}: height {block.height} holds block {at_height.block_hash.hex()}; "
                f"refusing block {block.block_hash.hex()}"
            )
        if at_height.block != block.block or at_height.state_root != block.state_root:
            raise StoreConflict(
                f"{where}: block {block.block_hash.hex()} at height {block.height} is stored "
                "with other bytes or another state root"
            )
        return False
    if block.height != head + 1:
        raise StoreConflict(
            f"{where}: cannot commit height {block.height}: head is {head}, next is {head + 1}"
        )
    if with_hash is not None:
        raise StoreConflict(
            f"{where}: block {block.block_hash.hex()} is already at height {with_hash.height}; "
            f"refusing it at height {block.height}"
        )
    return True


def check_vote(height: int, round: int, step: int, payload: bytes) -> None:
    """Raise InvalidStoreInput unless the vote's coordinates and payload are well formed."""
    check_uint("vote height", height)
    check_uint("vote round", round)
    check_uint("vote step", step)
    check_bytes("vote payload", payload)


def vote_conflict(where: str, height: int, round: int, step: int) -> StoreConflict:
    """The error for a second, different vote at the same (height, round, step)."""
    return StoreConflict(
        f"{where}: a different vote is recorded at height {height}, round {round}, step {step}; "
        "refusing to sign twice"
    )


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key above every key starting with ``prefix``; None when there is none."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class Closable:
    """Context-manager support shared by both stores."""

    def close(self) -> None:
        """Release the store."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""``SqliteStore``: the chain store in one SQLite database per node (WAL mode).

Durability and rules: see ``ledger.store``; tables and statements: ``ledger.store_schema``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from ledger import store_schema as sql
from ledger.store import (
    Closable,
    InvalidStoreInput,
    StoreClosed,
    StoreCorrupt,
    StoredBlock,
    StoreError,
    StoreNotInitialised,
    StoreSchemaMismatch,
    Synchronous,
    check_same_genesis,
    check_uint,
    check_vote,
    genesis_puts,
    is_new,
    prefix_end,
    split_writes,
    vote_conflict,
)

BUSY_TIMEOUT_S: Final = 5.0
_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26


def _translate(exc: sqlite3.Error, where: str, what: str) -> StoreError:
    """A library error as the store's own, naming the file and the operation."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreCorrupt(f"{where}: {what}: the database is corrupt or not a database: {exc}")
    return StoreError(f"{where}: {what} failed: {exc}")


def _row_block(row: Any) -> StoredBlock | None:
    if row is None:
        return None
    height, block_hash, block, certificate, state_root = row
    return StoredBlock(
        height=height,
        block_hash=block_hash,
        block=block,
        certificate=certificate,
        state_root=state_root,
    )


class SqliteStore(Closable):
    """A ``ChainStore`` in one SQLite database per node (WAL mode, explicit transactions).

    Use it from one thread. Block durability follows ``synchronous`` (module docstring); votes
    are always committed with ``FULL``.

    Args:
        path: The database file; created with the schema of ``ledger/store_schema.py`` if new.
        synchronous: ``FULL`` (default: a committed block survives power loss) or ``NORMAL``
            (survives a killed process, not power loss).

    Raises:
        StoreSchemaMismatch: the file holds another schema version or foreign tables.
        StoreCorrupt: the file is not a database, or its blocks are not contiguous from 1.
        StoreError: the file cannot be opened or put in WAL mode.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: Synchronous = Synchronous.FULL
    ) -> None:
        self._path = os.fspath(path)
        if synchronous not in tuple(Synchronous):
            raise InvalidStoreInput(f"{self._path}: synchronous must be FULL or NORMAL")
        self._synchronous = Synchronous(synchronous)
        self._conn: sqlite3.Connection | None = None
        self._has_genesis = False
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise _translate(exc, self._path, "opening") from exc
        try:
            self._open_schema()
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def synchronous(self) -> Synchronous:
        """The durability setting of block commits."""
        return self._synchronous

    @contextmanager
    def _guard(self, what: str) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise StoreClosed(f"{self._path}: {what} after close")
        try:
            yield self._conn
        except sqlite3.Error as exc:
            raise _translate(exc, self._path, what) from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._guard(what) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _open_schema(self) -> None:
        with self._guard("opening") as conn:
            self._read_schema(conn)  # refuse a foreign or other-version file before changing it
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self._path}: cannot use WAL mode (journal_mode is {mode})")
            conn.execute(f"PRAGMA synchronous={self._synchronous.value}")
        with self._transaction("creating the schema") as conn:
            if self._read_schema(conn):
                for statement in sql.SCHEMA:
                    conn.execute(statement)
                conn.execute(sql.WRITE_VERSION, (sql.APPLICATION, sql.SCHEMA_VERSION))
        self._check_shape()

    def _read_schema(self, conn: sqlite3.Connection) -> bool:
        """True for an empty database; raises unless it holds this schema version, complete."""
        tables = {name for (name,) in conn.execute(sql.LIST_TABLES)}
        if sql.SCHEMA_VERSION_TABLE not in tables:
            if tables:
                raise StoreSchemaMismatch(
                    f"{self._path}: not a {sql.APPLICATION} database (it has tables "
                    f"{', '.join(sorted(tables))} and no {sql.SCHEMA_VERSION_TABLE})"
                )
            return True
        row = conn.execute(sql.READ_VERSION).fetchone()
        if row is None or tuple(row) != (sql.APPLICATION, sql.SCHEMA_VERSION):
            found = "no version row" if row is None else f"{row[0]!r} version {row[1]}"
            raise StoreSchemaMismatch(
                f"{self._path}: has schema {found}; this code reads only "
                f"{sql.APPLICATION!r} version {sql.SCHEMA_VERSION}"
            )
        missing = set(sql.TABLES) - tables
        if missing:
            raise StoreCorrupt(f"{self._path}: tables missing: {', '.join(sorted(missing))}")
        return False

    def _check_shape(self) -> None:
        with self._guard("checking the block heights") as conn:
            count, low, high = conn.execute(sql.BLOCK_SHAPE).fetchone()
            self._has_genesis = conn.execute(sql.READ_GENESIS).fetchone() is not None
        if count != high or low != 1:
            raise StoreCorrupt(
                f"{self._path}: {count} blocks stored between heights {low} and {high}: not "
                "contiguous from 1"
            )
        if count and not self._has_genesis:
            raise StoreCorrupt(f"{self._path}: {count} blocks stored but no genesis")

    def check_integrity(self) -> None:
        """Run SQLite's ``quick_check`` and the block-height check.

        Raises:
            StoreCorrupt: naming the file and the first problems found.
        """
        with self._guard("checking integrity") as conn:
            problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StoreCorrupt(f"{self._path}: integrity check failed: {'; '.join(problems[:5])}")
        self._check_shape()

    def head(self) -> StoredBlock | None:
        """The highest committed block, or None."""
        with self._guard("reading the head") as conn:
            return _row_block(conn.execute(sql.HEAD_BLOCK).fetchone())

    def height(self) -> int:
        """The head's height; 0 with only genesis."""
        with self._guard("reading the height") as conn:
            return int(conn.execute(sql.HEAD_HEIGHT).fetchone()[0])

    def init_genesis(
        self, genesis_bytes: bytes, genesis_hash: bytes, state_writes: Mapping[bytes, bytes]
    ) -> None:
        """Store genesis and its state once (see ``ChainStore.init_genesis``)."""
        puts, digest = genesis_puts(genesis_bytes, genesis_hash, state_writes)
        with self._transaction("storing genesis") as conn:
            row = conn.execute(sql.READ_GENESIS).fetchone()
            if row is not None:
                check_same_genesis(tuple(row), (genesis_bytes, genesis_hash, digest), self._path)
                return
            conn.execute(sql.WRITE_GENESIS, (genesis_bytes, genesis_hash, digest))
            conn.executemany(sql.STATE_PUT, puts)
        self._has_genesis = True

    def genesis(self) -> tuple[bytes, bytes] | None:
        """``(genesis_bytes, genesis_hash)`` or None."""
        with self._guard("reading genesis") as conn:
            row = conn.execute(sql.READ_GENESIS).fetchone()
        return None if row is None else (row[0], row[1])

    def commit(self, block: StoredBlock, state_writes: Mapping[bytes, bytes | None]) -> None:
        """Append a block and apply its writes in one transaction (see ``ChainStore.commit``)."""
        puts, deletes = split_writes(state_writes)
        with self._transaction(f"committing height {block.height}") as conn:
            if not self._has_genesis:
                self._has_genesis = conn.execute(sql.READ_GENESIS).fetchone() is not None
            if not self._has_genesis:
                raise StoreNotInitialised(
                    f"{self._path}: commit of height {block.height} before genesis"
                )
            head = int(conn.execute(sql.HEAD_HEIGHT).fetchone()[0])
            at_height = _row_block(conn.execute(sql.BLOCK_AT, (block.height,)).fetchone())
            with_hash = _row_block(conn.execute(sql.BLOCK_BY_HASH, (block.block_hash,)).fetchone())
            if not is_new(block, head, at_height, with_hash, self._path):
                return
            conn.execute(
                sql.INSERT_BLOCK,
                (block.height, block.block_hash, block.block, block.certificate, block.state_root),
            )
            conn.executemany(sql.STATE_PUT, puts)
            conn.executemany(sql.STATE_DELETE, deletes)

    def block_at(self, height: int) -> StoredBlock | None:
        """The block at ``height`` or None."""
        with self._guard(f"reading height {height}") as conn:
            return _row_block(conn.execute(sql.BLOCK_AT, (height,)).fetchone())

    def blocks_from(self, height: int, limit: int) -> list[StoredBlock]:
        """Up to ``limit`` blocks from ``height`` on."""
        check_uint("limit", limit)
        with self._guard(f"reading blocks from height {height}") as conn:
            rows = conn.execute(sql.BLOCKS_FROM, (height, limit)).fetchall()
        return [block for block in map(_row_block, rows) if block is not None]

    def block_by_hash(self, block_hash: bytes) -> StoredBlock | None:
        """The block with this hash or None."""
        with self._guard("reading a block by hash") as conn:
            return _row_block(conn.execute(sql.BLOCK_BY_HASH, (block_hash,)).fetchone())

    def state_get(self, key: bytes) -> bytes | None:
        """The value of ``key`` or None."""
        with self._guard("reading a state key") as conn:
            row = conn.execute(sql.STATE_GET, (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def state_items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """A key-ordered snapshot of the entries under ``prefix`` (read at the call)."""
        end = prefix_end(prefix)
        with self._guard("reading state items") as conn:
            if not prefix:
                rows = conn.execute(sql.STATE_ALL).fetchall()
            elif end is None:
                rows = conn.execute(sql.STATE_FROM, (prefix,)).fetchall()
            else:
                rows = conn.execute(sql.STATE_RANGE, (prefix, end)).fetchall()
        return iter([(bytes(key), bytes(value)) for key, value in rows])

    def persist_vote(self, height: int, round: int, step: int, payload: bytes) -> None:
        """Record a vote durably (``FULL``) before returning (see ``ChainStore.persist_vote``)."""
        check_vote(height, round, step, payload)
        with self._durable(), self._transaction(f"persisting a vote at height {height}") as conn:
            row = conn.execute(sql.VOTE_GET, (height, round, step)).fetchone()
            if row is not None:
                if row[0] != payload:
                    raise vote_conflict(self._path, height, round, step)
                return
            conn.execute(sql.VOTE_PUT, (height, round, step, payload))

    @contextmanager
    def _durable(self) -> Iterator[None]:
        """Commits inside are fsynced (``FULL``) whatever the block setting."""
        if self._synchronous is Synchronous.FULL:
            yield
            return
        with self._guard("raising synchronous to FULL") as conn:
            conn.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            with self._guard("restoring synchronous") as conn:
                conn.execute(f"PRAGMA synchronous={self._synchronous.value}")

    def votes_at(self, height: int) -> list[tuple[int, int, bytes]]:
        """``(round, step, payload)`` at ``height`` in order."""
        with self._guard(f"reading votes at height {height}") as conn:
            rows = conn.execute(sql.VOTES_AT, (height,)).fetchall()
        return [(int(r), int(s), bytes(p)) for r, s, p in rows]

    def prune_votes(self, below_height: int) -> None:
        """Forget votes below ``below_height``."""
        check_uint("below_height", below_height)
        with self._transaction(f"pruning votes below height {below_height}") as conn:
            conn.execute(sql.VOTES_PRUNE, (below_height,))

    def close(self) -> None:
        """Close the connection (the last close checkpoints the WAL). Closing twice is allowed."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

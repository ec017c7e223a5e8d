"""Every table, key and statement of the SQLite chain store, in one place (py-evm ``db/schema.py``).

One database per node. Changing any table or statement here means raising ``SCHEMA_VERSION``: a
store refuses to open a database whose recorded version is not the one this module describes.

Tables:
    ``schema_version``: one row (``id = 0``): the application name and the schema version.
    ``genesis``: one row (``id = 0``): the genesis block's canonical bytes, its hash and a digest of
        the genesis state writes (so a second ``init_genesis`` with other writes is caught).
    ``blocks``: committed blocks at heights 1, 2, …, contiguous; the genesis block (height 0) lives
        in ``genesis``, not here. ``block_hash`` is unique.
    ``state``: the current state as opaque key → value bytes, ordered by key (memcmp order, the
        same as Python's ``bytes`` order).
    ``votes``: this node's own signed consensus votes, one payload per (height, round, step).
"""

from __future__ import annotations

from typing import Final

APPLICATION: Final = "satedge-ledger"
SCHEMA_VERSION: Final = 1

SCHEMA_VERSION_TABLE: Final = "schema_version"
TABLES: Final = ("schema_version", "genesis", "blocks", "state", "votes")

SCHEMA: Final = (
    """CREATE TABLE schema_version (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        application TEXT NOT NULL,
        version INTEGER NOT NULL
    )""",
    """CREATE TABLE genesis (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        genesis BLOB NOT NULL,
        genesis_hash BLOB NOT NULL,
        state_digest BLOB NOT NULL CHECK (length(state_digest) = 32)
    )""",
    """CREATE TABLE blocks (
        height INTEGER PRIMARY KEY CHECK (height >= 1),
        block_hash BLOB NOT NULL UNIQUE CHECK (length(block_hash) = 32),
        block BLOB NOT NULL,
        certificate BLOB NOT NULL,
        state_root BLOB NOT NULL CHECK (length(state_root) = 32)
    )""",
    """CREATE TABLE state (
        key BLOB PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE votes (
        height INTEGER NOT NULL CHECK (height >= 0),
        round INTEGER NOT NULL CHECK (round >= 0),
        step INTEGER NOT NULL CHECK (step >= 0),
        payload BLOB NOT NULL,
        PRIMARY KEY (height, round, step)
    ) WITHOUT ROWID""",
)

# Statements, by table. Parameters are always bound, never formatted in.
LIST_TABLES: Final = "SELECT name FROM sqlite_master WHERE type = 'table'"
READ_VERSION: Final = "SELECT application, version FROM schema_version WHERE id = 0"
WRITE_VERSION: Final = "INSERT INTO schema_version (id, application, version) VALUES (0, ?, ?)"

READ_GENESIS: Final = "SELECT genesis, genesis_hash, state_digest FROM genesis WHERE id = 0"
WRITE_GENESIS: Final = (
    "INSERT INTO genesis (id, genesis, genesis_hash, state_digest) VALUES (0, ?, ?, ?)"
)

BLOCK_COLUMNS: Final = "height, block_hash, block, certificate, state_root"
HEAD_HEIGHT: Final = "SELECT COALESCE(MAX(height), 0) FROM blocks"
BLOCK_SHAPE: Final = (
    "SELECT COUNT(*), COALESCE(MIN(height), 1), COALESCE(MAX(height), 0) FROM blocks"
)
HEAD_BLOCK: Final = f"SELECT {BLOCK_COLUMNS} FROM blocks ORDER BY height DESC LIMIT 1"
BLOCK_AT: Final = f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE height = ?"
BLOCKS_FROM: Final = f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE height >= ? ORDER BY height LIMIT ?"
BLOCK_BY_HASH: Final = f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE block_hash = ?"
INSERT_BLOCK: Final = f"INSERT INTO blocks ({BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?)"

STATE_GET: Final = "SELECT value FROM state WHERE key = ?"
STATE_ALL: Final = "SELECT key, value FROM state ORDER BY key"
STATE_FROM: Final = "SELECT key, value FROM state WHERE key >= ? ORDER BY key"
STATE_RANGE: Final = "SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key"
STATE_PUT: Final = "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)"
STATE_DELETE: Final = "DELETE FROM state WHERE key = ?"

VOTE_GET: Final = "SELECT payload FROM votes WHERE height = ? AND round = ? AND step = ?"
VOTE_PUT: Final = "INSERT INTO votes (height, round, step, payload) VALUES (?, ?, ?, ?)"
VOTES_AT: Final = "SELECT round, step, payload FROM votes WHERE height = ? ORDER BY round, step"
VOTES_PRUNE: Final = "DELETE FROM votes WHERE height < ?"

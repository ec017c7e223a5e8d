"""The chain store: one behavioural suite for both stores, a model check, and real SIGKILLs."""

from __future__ import annotations

import hashlib
import importlib.util
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger import store_schema
from ledger.store import (
    ChainStore,
    InvalidStoreInput,
    StoreClosed,
    StoreConflict,
    StoreCorrupt,
    StoredBlock,
    StoreError,
    StoreMismatch,
    StoreNotInitialised,
    StoreSchemaMismatch,
    Synchronous,
)
from ledger.store_memory import MemoryStore
from ledger.store_sqlite import SqliteStore

WRITER_PATH = Path(__file__).with_name("crash_writer.py")
GENESIS = b'{"chain":"test","height":0}'
GENESIS_HASH = hashlib.sha256(GENESIS).digest()
GENESIS_STATE = {b"acct/alice": b"100", b"acct/bob": b"50", b"cfg": b"{}"}


def load_writer() -> ModuleType:
    """The crash writer script as a module, to share its deterministic chain."""
    spec = importlib.util.spec_from_file_location("crash_writer", WRITER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


writer = load_writer()


def make_block(height: int, tag: bytes = b"") -> StoredBlock:
    block = b'{"height":%d,"tag":"%s"}' % (height, tag.hex().encode())
    digest = hashlib.sha256(block).digest()
    return StoredBlock(
        height=height,
        block_hash=digest,
        block=block,
        certificate=b"cert:" + tag,
        state_root=hashlib.sha256(b"root" + block).digest(),
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChainStore]:
    chain: ChainStore = (
        MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "n.db")
    )
    yield chain
    chain.close()


@pytest.fixture
def chain(store: ChainStore) -> ChainStore:
    """A store with genesis and blocks 1..3 committed."""
    store.init_genesis(GENESIS, GENESIS_HASH, GENESIS_STATE)
    for height in (1, 2, 3):
        store.commit(make_block(height), {b"head": b"%d" % height})
    return store


def snapshot(store: ChainStore) -> tuple[Any, ...]:
    return (store.head(), store.height(), list(store.state_items()), store.genesis())


# --- behaviour, both stores -------------------------------------------------------------------


def test_both_stores_satisfy_the_protocol(store: ChainStore) -> None:
    assert isinstance(store, ChainStore)


def test_an_empty_store_has_nothing(store: ChainStore) -> None:
    assert (store.head(), store.height(), store.genesis()) == (None, 0, None)
    assert store.block_at(0) is None and store.block_at(1) is None
    assert store.blocks_from(0, 10) == []
    assert list(store.state_items()) == [] and store.state_get(b"x") is None
    assert store.votes_at(1) == []


def test_genesis_is_height_zero_and_idempotent(store: ChainStore) -> None:
    store.init_genesis(GENESIS, GENESIS_HASH, GENESIS_STATE)
    store.commit(make_block(1), {b"acct/alice": b"90"})
    store.init_genesis(GENESIS, GENESIS_HASH, dict(reversed(GENESIS_STATE.items())))
    assert store.genesis() == (GENESIS, GENESIS_HASH)
    assert store.height() == 1
    assert store.state_get(b"acct/alice") == b"90", "a repeated genesis must not re-apply state"


@pytest.mark.parametrize(
    ("genesis", "genesis_hash", "state", "message"),
    [
        (b"other", hashlib.sha256(b"other").digest(), GENESIS_STATE, GENESIS_HASH.hex()),
        (b"other bytes", GENESIS_HASH, GENESIS_STATE, "other block bytes or state writes"),
        (GENESIS, GENESIS_HASH, {b"acct/alice": b"1"}, "other block bytes or state writes"),
    ],
)
def test_a_different_genesis_is_refused(
    store: ChainStore, genesis: bytes, genesis_hash: bytes, state: dict[bytes, bytes], message: str
) -> None:
    store.init_genesis(GENESIS, GENESIS_HASH, GENESIS_STATE)
    before = snapshot(store)
    with pytest.raises(StoreMismatch, match=message):
        store.init_genesis(genesis, genesis_hash, state)
    assert snapshot(store) == before


def test_commit_needs_genesis(store: ChainStore) -> None:
    with pytest.raises(StoreNotInitialised, match="height 1 before genesis"):
        store.commit(make_block(1), {b"k": b"v"})
    assert store.state_get(b"k") is None


def test_commits_append_in_order(chain: ChainStore) -> None:
    assert chain.height() == 3
    assert chain.head() == make_block(3)
    assert [chain.block_at(h) for h in (1, 2, 3)] == [make_block(h) for h in (1, 2, 3)]
    assert chain.block_at(0) is None and chain.block_at(4) is None


def test_recommitting_the_same_block_is_a_no_op(chain: ChainStore) -> None:
    before = snapshot(chain)
    again = make_block(2)
    other_certificate = StoredBlock(
        height=2,
        block_hash=again.block_hash,
        block=again.block,
        certificate=b"another quorum",
        state_root=again.state_root,
    )
    chain.commit(again, {b"head": b"should not apply"})
    chain.commit(other_certificate, {b"new": b"nor this"})
    assert snapshot(chain) == before
    assert chain.block_at(2) == make_block(2), "the first certificate is kept"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (make_block(2, b"fork"), "height 2 holds block"),
        (make_block(5), "cannot commit height 5: head is 3, next is 4"),
        (
            StoredBlock(
                height=2,
                block_hash=make_block(2).block_hash,
                block=b"same hash, other bytes",
                certificate=b"",
                state_root=make_block(2).state_root,
            ),
            "stored with other bytes",
        ),
        (
            StoredBlock(
                height=4,
                block_hash=make_block(1).block_hash,
                block=b"reused hash",
                certificate=b"",
                state_root=bytes(32),
            ),
            "already at height 1; refusing it at height 4",
        ),
    ],
    ids=["fork", "gap", "same-hash-other-bytes", "hash-reused"],
)
def test_a_conflicting_commit_changes_nothing(
    chain: ChainStore, block: StoredBlock, message: str
) -> None:
    before = snapshot(chain)
    with pytest.raises(StoreConflict, match=message):
        chain.commit(block, {b"head": b"bad", b"acct/alice": None, b"new": b"x"})
    assert snapshot(chain) == before


def test_state_writes_and_deletes_apply_with_the_block(chain: ChainStore) -> None:
    assert chain.state_get(b"acct/bob") == b"50"
    chain.commit(make_block(4), {b"acct/bob": None, b"acct/carol": b"7", b"acct/alice": b"1"})
    assert chain.state_get(b"acct/bob") is None
    assert dict(chain.state_items(b"acct/")) == {b"acct/alice": b"1", b"acct/carol": b"7"}
    chain.commit(make_block(5), {b"never-there": None})
    assert chain.state_get(b"never-there") is None and chain.height() == 5


def test_malformed_writes_are_refused_before_anything_applies(chain: ChainStore) -> None:
    before = snapshot(chain)
    bad: Any = {b"a": b"1", b"b": 2}
    with pytest.raises(InvalidStoreInput, match="state value of key 62 must be bytes"):
        chain.commit(make_block(4), bad)
    assert snapshot(chain) == before


def test_blocks_from_pages_through_the_chain(chain: ChainStore) -> None:
    for height in range(4, 11):
        chain.commit(make_block(height), {})
    pages = [chain.blocks_from(start, 3) for start in range(1, 11, 3)]
    assert [b.height for page in pages for b in page] == list(range(1, 11))
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert chain.blocks_from(0, 2) == [make_block(1), make_block(2)]
    assert chain.blocks_from(11, 5) == [] and chain.blocks_from(1, 0) == []
    with pytest.raises(InvalidStoreInput, match="limit"):
        chain.blocks_from(1, -1)


def test_block_by_hash(chain: ChainStore) -> None:
    assert chain.block_by_hash(make_block(2).block_hash) == make_block(2)
    assert chain.block_by_hash(make_block(2, b"fork").block_hash) is None
    assert chain.block_by_hash(GENESIS_HASH) is None, "genesis is not a committed block"


def test_state_items_are_in_key_order_under_a_prefix(chain: ChainStore) -> None:
    keys = [b"", b"\x00", b"a", b"a\x00", b"a\x01", b"a\xff", b"a\xff\xff", b"ab", b"b", b"\xff"]
    chain.commit(make_block(4), {key: b"v" + key for key in reversed(keys)})
    everything = sorted({**GENESIS_STATE, b"head": b"3", **{k: b"v" + k for k in keys}}.items())
    assert list(chain.state_items()) == everything
    for prefix in (b"a", b"a\xff", b"\xff", b"acct/", b"zz", b"a\x00"):
        assert list(chain.state_items(prefix)) == [
            kv for kv in everything if kv[0].startswith(prefix)
        ]


def test_state_items_is_a_snapshot(chain: ChainStore) -> None:
    items = chain.state_items()
    chain.commit(make_block(4), {b"acct/alice": None, b"late": b"1"})
    assert dict(items) == {**GENESIS_STATE, b"head": b"3"}


def test_votes_persist_once_and_prune(store: ChainStore) -> None:
    store.persist_vote(5, 1, 2, b"precommit r1")
    store.persist_vote(5, 0, 1, b"prevote r0")
    store.persist_vote(5, 0, 1, b"prevote r0")
    store.persist_vote(6, 0, 1, b"prevote h6")
    assert store.votes_at(5) == [(0, 1, b"prevote r0"), (1, 2, b"precommit r1")]
    with pytest.raises(StoreConflict, match="height 5, round 0, step 1; refusing to sign twice"):
        store.persist_vote(5, 0, 1, b"another prevote")
    assert store.votes_at(5)[0] == (0, 1, b"prevote r0")
    store.prune_votes(6)
    assert store.votes_at(5) == [] and store.votes_at(6) == [(0, 1, b"prevote h6")]
    with pytest.raises(InvalidStoreInput, match="vote round"):
        store.persist_vote(7, -1, 0, b"x")


def test_a_closed_store_refuses_work(store: ChainStore) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreClosed):
        store.height()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"height": 0}, "height must be in"),
        ({"height": True}, "height must be an int"),
        ({"block_hash": b"short"}, "block_hash must be 32 bytes"),
        ({"state_root": "00" * 32}, "state_root must be bytes"),
    ],
)
def test_stored_block_checks_its_fields(fields: dict[str, Any], message: str) -> None:
    good: dict[str, Any] = {
        "height": 1,
        "block_hash": bytes(32),
        "block": b"b",
        "certificate": b"c",
        "state_root": bytes(32),
    }
    with pytest.raises(InvalidStoreInput, match=message):
        StoredBlock(**(good | fields))


# --- SQLite only ------------------------------------------------------------------------------


def raw(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement)
    connection.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "node.db"
    with SqliteStore(path) as chain:
        chain.init_genesis(GENESIS, GENESIS_HASH, GENESIS_STATE)
        for height in (1, 2, 3):
            chain.commit(make_block(height), {b"head": b"%d" % height})
    return path


@pytest.mark.parametrize("synchronous", list(Synchronous))
def test_reopening_keeps_blocks_state_and_votes(db: Path, synchronous: Synchronous) -> None:
    with SqliteStore(db, synchronous=synchronous) as chain:
        assert chain.synchronous is synchronous
        chain.persist_vote(4, 0, 1, b"my prevote")
    with SqliteStore(db) as chain:
        chain.check_integrity()
        assert chain.genesis() == (GENESIS, GENESIS_HASH)
        assert chain.blocks_from(1, 10) == [make_block(h) for h in (1, 2, 3)]
        assert chain.state_get(b"head") == b"3"
        assert chain.votes_at(4) == [(0, 1, b"my prevote")]
    assert _pragma(db, "journal_mode") == "wal"


def _pragma(path: Path, name: str) -> Any:
    with sqlite3.connect(path) as connection:
        value = connection.execute(f"PRAGMA {name}").fetchone()[0]
    connection.close()
    return value


def test_a_failure_inside_the_transaction_rolls_everything_back(db: Path) -> None:
    raw(
        db,
        "CREATE TRIGGER poison BEFORE INSERT ON state WHEN NEW.key = x'706f69736f6e' "
        "BEGIN SELECT RAISE(ABORT, 'poisoned key'); END",
    )
    with SqliteStore(db) as chain:
        before = snapshot(chain)
        writes = {b"head": b"4", b"new": b"1", b"poison": b"x", b"acct/bob": None}
        with pytest.raises(StoreError, match=r"node\.db: committing height 4 failed: poisoned"):
            chain.commit(make_block(4), writes)
        assert snapshot(chain) == before
        assert chain.block_at(4) is None and chain.block_by_hash(make_block(4).block_hash) is None
        chain.commit(make_block(4), {b"head": b"4"})
        assert chain.height() == 4


def test_a_newer_schema_is_refused_naming_the_file(db: Path) -> None:
    raw(db, f"UPDATE schema_version SET version = {store_schema.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreSchemaMismatch, match=rf"{db.name}: has schema .* version 2; this"):
        SqliteStore(db)


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw(path, "CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(StoreSchemaMismatch, match=r"other\.db: not a satedge-ledger database"):
        SqliteStore(path)
    assert _pragma(path, "journal_mode") == "delete", "a refused file is left as it was"


def test_a_missing_table_is_corrupt(db: Path) -> None:
    raw(db, "DROP TABLE votes")
    with pytest.raises(StoreCorrupt, match=r"node\.db: tables missing: votes"):
        SqliteStore(db)


def test_a_file_that_is_not_a_database_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"definitely not sqlite\n" * 200)
    with pytest.raises(StoreCorrupt, match=r"junk\.db: opening: the database is corrupt"):
        SqliteStore(path)


def test_a_missing_height_is_corrupt(db: Path) -> None:
    raw(db, "DELETE FROM blocks WHERE height = 2")
    with pytest.raises(StoreCorrupt, match=r"node\.db: 2 blocks stored between heights 1 and 3"):
        SqliteStore(db)


def test_an_unopenable_path_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"missing-dir/n\.db: opening failed"):
        SqliteStore(tmp_path / "missing-dir" / "n.db")


# --- model check ------------------------------------------------------------------------------

KEYS = st.lists(st.sampled_from([0x00, 0x61, 0x62, 0xFF]), max_size=3).map(bytes)
WRITES = st.dictionaries(KEYS, st.none() | st.binary(max_size=4), max_size=6)


def outcome(call: Callable[[], object]) -> object:
    try:
        return ("ok", call())
    except StoreError as error:
        return ("error", type(error))


class SqliteAgainstMemory(RuleBasedStateMachine):
    """Random commits, conflicts, votes and reopens: SqliteStore must behave as MemoryStore."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.path = Path(self.directory.name) / "node.db"
        self.real = SqliteStore(self.path, synchronous=Synchronous.NORMAL)
        self.model = MemoryStore()
        for chain in (self.real, self.model):
            chain.init_genesis(GENESIS, GENESIS_HASH, {b"a": b"genesis"})

    def both(self, action: Callable[[ChainStore], object]) -> object:
        real, model = outcome(lambda: action(self.real)), outcome(lambda: action(self.model))
        assert real == model
        return real

    @rule(writes=WRITES, tag=st.binary(max_size=2))
    def commit_next(self, writes: dict[bytes, bytes | None], tag: bytes) -> None:
        block = make_block(self.model.height() + 1, tag)
        assert self.both(lambda chain: chain.commit(block, writes)) == ("ok", None)

    @precondition(lambda self: self.model.height() > 0)
    @rule(data=st.data(), writes=WRITES, tag=st.binary(min_size=1, max_size=2))
    def commit_at_a_committed_height(
        self, data: st.DataObject, writes: dict[bytes, bytes | None], tag: bytes
    ) -> None:
        height = data.draw(st.integers(1, self.model.height()))
        stored = self.model.block_at(height)
        block = data.draw(st.sampled_from([stored, make_block(height, b"other" + tag)]))
        assert block is not None
        self.both(lambda chain: chain.commit(block, writes))

    @rule(writes=WRITES, skip=st.integers(2, 4))
    def commit_past_a_gap(self, writes: dict[bytes, bytes | None], skip: int) -> None:
        block = make_block(self.model.height() + skip)
        assert self.both(lambda chain: chain.commit(block, writes)) == ("error", StoreConflict)

    @rule(
        height=st.integers(0, 3),
        round=st.integers(0, 2),
        step=st.integers(0, 2),
        payload=st.sampled_from([b"x", b"y"]),
    )
    def persist_vote(self, height: int, round: int, step: int, payload: bytes) -> None:
        self.both(lambda chain: chain.persist_vote(height, round, step, payload))

    @rule(below=st.integers(0, 4))
    def prune_votes(self, below: int) -> None:
        self.both(lambda chain: chain.prune_votes(below))

    @rule(synchronous=st.sampled_from(Synchronous))
    def reopen(self, synchronous: Synchronous) -> None:
        self.real.close()
        self.real = SqliteStore(self.path, synchronous=synchronous)

    @rule(prefix=KEYS, start=st.integers(-1, 6), limit=st.integers(0, 4))
    def read(self, prefix: bytes, start: int, limit: int) -> None:
        self.both(lambda chain: list(chain.state_items(prefix)))
        self.both(lambda chain: chain.blocks_from(start, limit))
        self.both(lambda chain: chain.block_by_hash(make_block(start % 4 + 1).block_hash))

    @invariant()
    def same_chain_state_and_votes(self) -> None:
        self.both(snapshot)
        self.both(lambda chain: [chain.votes_at(height) for height in range(4)])

    def teardown(self) -> None:
        self.real.close()
        self.directory.cleanup()


SqliteAgainstMemory.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_sqlite_store_behaves_as_the_memory_store = SqliteAgainstMemory.TestCase


# --- real crashes -----------------------------------------------------------------------------

KILLS = 6
KILL_AFTER = 40


def run_and_kill(db: Path, synchronous: Synchronous, phase: float) -> list[int]:
    """Start the writer, let it print KILL_AFTER heights, SIGKILL it; the heights it printed.

    The kill comes ``phase`` of one commit cycle after the last height read, so that a series of
    kills with phases spread over [0, 1) lands in every part of the vote → commit → print cycle.
    """
    command = [sys.executable, str(WRITER_PATH), str(db), "1000000000"]
    process = subprocess.Popen(
        [*command, "--synchronous", synchronous.value],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    heights: list[int] = []
    try:
        for line in process.stdout:
            heights.append(int(line))
            if len(heights) == 2:
                started = time.perf_counter()
            if len(heights) >= KILL_AFTER:
                cycle_s = (time.perf_counter() - started) / (KILL_AFTER - 2)
                time.sleep(phase * cycle_s)
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        _, errors = process.communicate(timeout=30)
    assert len(heights) >= KILL_AFTER, f"writer stopped early: {errors}"
    assert process.returncode == -signal.SIGKILL
    return heights


def check_crashed_database(db: Path, printed: list[int]) -> int:
    with SqliteStore(db) as chain:
        chain.check_integrity()
        head = chain.height()
        assert head >= printed[-1], f"printed height {printed[-1]} lost; head is {head}"
        assert chain.blocks_from(1, head + 1) == [writer.block_for(h) for h in range(1, head + 1)]
        assert list(chain.state_items()) == sorted(writer.expected_state(head).items())
        assert len(list(chain.state_items(b"mark/"))) == head, "a block's writes are partial"
        for height in printed:
            assert chain.votes_at(height) == [writer.vote_for(height)]
    return head


@pytest.mark.parametrize("synchronous", list(Synchronous))
def test_sigkill_loses_no_committed_block(tmp_path: Path, synchronous: Synchronous) -> None:
    db = tmp_path / "node.db"
    head = 0
    for kill in range(KILLS):
        printed = run_and_kill(db, synchronous, phase=kill / KILLS)
        assert printed == list(range(head + 1, head + 1 + len(printed))), "resumes after the head"
        head = check_crashed_database(db, printed)


def test_the_writer_runs_to_its_end(tmp_path: Path) -> None:
    db = tmp_path / "node.db"
    done = subprocess.run(
        [sys.executable, str(WRITER_PATH), str(db), "5", "--synchronous", "NORMAL"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["1", "2", "3", "4", "5"]
    assert check_crashed_database(db, [1, 2, 3, 4, 5]) == 5


# --- figures for the report (run with: pytest -m slow -s tests/ledger/test_store.py) ----------


@pytest.mark.slow
def test_commit_rate_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["synchronous  writes/block  blocks/s  state rows/s"]
    for synchronous in Synchronous:
        for writes_per_block, blocks in ((1, 2000), (100, 500), (1000, 60)):
            path = tmp_path / f"{synchronous.value}-{writes_per_block}.db"
            with SqliteStore(path, synchronous=synchronous) as chain:
                chain.init_genesis(GENESIS, GENESIS_HASH, {})
                batches = [
                    {
                        hashlib.sha256(b"%d/%d" % (height, i)).digest(): bytes(100)
                        for i in range(writes_per_block)
                    }
                    for height in range(1, blocks + 1)
                ]
                started = time.perf_counter()
                for height, writes in enumerate(batches, start=1):
                    chain.commit(make_block(height), writes)
                elapsed = time.perf_counter() - started
            rate = blocks / elapsed
            lines.append(
                f"{synchronous.value:<12} {writes_per_block:>12} {rate:>9,.0f} "
                f"{rate * writes_per_block:>13,.0f}"
            )
    with capsys.disabled():
        print("\n" + "\n".join(lines))

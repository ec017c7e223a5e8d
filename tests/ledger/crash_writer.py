"""Crash-test writer: commits deterministic blocks to a SqliteStore as fast as it can.

Run as ``python crash_writer.py DB N [--synchronous FULL|NORMAL]``. It stores the genesis below
(idempotently), then for each height from the store's head + 1 up to N it persists this node's
vote, commits the block with its state writes and only then prints the height and flushes. The
test kills it with SIGKILL and checks the reopened database against ``expected_state``.

The test module loads this file to share the deterministic chain (``block_for``, ``writes_for``).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from ledger.store import StoredBlock, Synchronous
from ledger.store_sqlite import SqliteStore

GENESIS = b'{"chain":"crash-test","height":0}'
GENESIS_HASH = hashlib.sha256(GENESIS).digest()
GENESIS_STATE = {b"acct/%03d" % i: b"genesis" for i in range(0, 97, 3)}
WRITES_PER_BLOCK = 40
ACCOUNTS = 97


def block_for(height: int) -> StoredBlock:
    """The block committed at ``height``: bytes of varying length, hash = sha256(bytes)."""
    block = b'{"height":%d,"pad":"%s"}' % (height, b"x" * (height * 37 % 300))
    digest = hashlib.sha256(block).digest()
    return StoredBlock(
        height=height,
        block_hash=digest,
        block=block,
        certificate=b"certificate-of-" + digest,
        state_root=hashlib.sha256(b"root" + digest).digest(),
    )


def writes_for(height: int) -> dict[bytes, bytes | None]:
    """The state writes of ``height``: a delete, many overwrites and a per-block marker key."""
    writes: dict[bytes, bytes | None] = {b"acct/%03d" % (height * 13 % ACCOUNTS): None}
    for i in range(WRITES_PER_BLOCK):
        writes[b"acct/%03d" % ((height * 7 + i) % ACCOUNTS)] = b"%d:%d" % (height, i)
    writes[b"head"] = height.to_bytes(8, "big")
    writes[b"mark/%08d" % height] = b"1"
    return writes


def vote_for(height: int) -> tuple[int, int, bytes]:
    """This node's ``(round, step, payload)`` vote for ``height``."""
    return height % 3, 2, b"precommit-" + block_for(height).block_hash


def expected_state(head: int) -> dict[bytes, bytes]:
    """The state after genesis and blocks 1..``head``."""
    state = dict(GENESIS_STATE)
    for height in range(1, head + 1):
        for key, value in writes_for(height).items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
    return state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="the SQLite database file")
    parser.add_argument("count", type=int, help="commit heights up to this one")
    parser.add_argument("--synchronous", choices=[s.value for s in Synchronous], default="FULL")
    args = parser.parse_args(argv)
    with SqliteStore(args.db, synchronous=Synchronous(args.synchronous)) as store:
        store.init_genesis(GENESIS, GENESIS_HASH, GENESIS_STATE)
        for height in range(store.height() + 1, args.count + 1):
            store.persist_vote(height, *vote_for(height))
            store.commit(block_for(height), writes_for(height))
            sys.stdout.write(f"{height}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

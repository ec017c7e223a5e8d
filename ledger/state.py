"""The ledger state: byte keys → canonical byte values, with an undo journal and a state root.

Keys are a namespace prefix and an id (see the ``*_PREFIX`` constants); values are canonical
JSON bytes, so the SQLite store persists a block's write set (``Mapping[bytes, bytes | None]``,
None = deleted) without knowing what the values mean. Every write is journalled:
``snapshot()`` returns a position, ``revert(position)`` undoes later writes (a failing
transaction or block leaves the state exactly as it was), ``commit()`` forgets the journal once a
block is final (execution-specs ``state.py``: begin/commit/rollback transaction).

State root (a bucket tree, as Hyperledger Fabric 0.6's ``bucketTree``): each key falls in one of
65,536 buckets by the first two bytes of ``SHA-256(key)``. A bucket's hash is
``SHA-256(0x00 ‖ entries)`` over its entries in key order, each ``u32 len ‖ key ‖ u32 len ‖ value``;
a group's hash is ``SHA-256(0x01 ‖ its 256 bucket hashes)``; the root is
``SHA-256(0x02 ‖ the 256 group hashes)``. It is a fixed-shape Merkle tree, so a collision in the
root is a SHA-256 collision (domain bytes separate the levels; lengths make entries unambiguous).
It is maintained incrementally: a write only marks its key dirty, and ``state_root()`` rehashes
the dirty buckets, their groups and the top (about 3 µs per dirty key plus 8 KiB per dirty group).
Caveat: no compact non-membership proofs (not needed here), and an attacker who grinds keys into
one bucket only slows that bucket's rehash.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from ledger.encoding import Record, sha256

__all__ = [
    "ACCOUNT_PREFIX",
    "CERTIFICATE_PREFIX",
    "CERTIFIED_KEY_PREFIX",
    "EVIDENCE_PREFIX",
    "FAMILY_PREFIX",
    "META_PREFIX",
    "PAYMENT_PREFIX",
    "REVOKED_PREFIX",
    "Account",
    "FamilyStore",
    "State",
    "account_key",
    "reference_root",
    "total_supply",
]

ACCOUNT_PREFIX = b"acct/"
"""+ 20-byte address → ``{"balance": int, "nonce": int}``."""
CERTIFICATE_PREFIX = b"cert/"
"""+ node id → the :class:`ledger.identity.Certificate`."""
CERTIFIED_KEY_PREFIX = b"certkey/"
"""+ 20-byte address → ``{"node_id": str}`` (who holds this key)."""
REVOKED_PREFIX = b"revoked/"
"""+ node id → the :class:`ledger.identity.Revocation`."""
EVIDENCE_PREFIX = b"evidence/"
"""+ 32-byte proof hash → the evidence record (each offence recorded once)."""
PAYMENT_PREFIX = b"payment/"
"""+ 32-byte transaction hash → the payment receipt a beam controller checks before a grant."""
META_PREFIX = b"meta/"
"""+ name → chain-wide values (``authority``, ``issued``)."""
FAMILY_PREFIX = b"fam/"
"""+ family name + ``/`` + key → a market family's own state."""

N_BUCKETS = 1 << 16
GROUP_SIZE = 256
N_GROUPS = N_BUCKETS // GROUP_SIZE
_EMPTY_BUCKET = sha256(b"\x00")
_EMPTY_GROUP = sha256(b"\x01" + _EMPTY_BUCKET * GROUP_SIZE)
_LENGTH = struct.Struct(">I")

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Account(Record):
    """Balance (base units) and next nonce of an address; absent accounts are (0, 0)."""

    balance: int
    nonce: int


_EMPTY_ACCOUNT = Account(balance=0, nonce=0)


def account_key(address: bytes) -> bytes:
    """The state key of an address's account."""
    return ACCOUNT_PREFIX + address


def _decode_account(value: bytes) -> Account:
    fields = orjson.loads(value)
    return Account(balance=fields["balance"], nonce=fields["nonce"])


def _bucket_of(key: bytes) -> int:
    return int.from_bytes(sha256(key)[:2], "big")


class State:
    """Mutable key-value state with an undo journal and an incrementally hashed root.

    Not thread-safe; one owner at a time. Decoded values may be cached per key (``cached``);
    any write to the key drops its cache entry.
    """

    __slots__ = (
        "_bucket_hash",
        "_cache",
        "_data",
        "_dirty",
        "_group_hash",
        "_journal",
        "_members",
        "_root",
    )

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._journal: list[tuple[bytes, bytes | None]] = []
        self._cache: dict[bytes, Any] = {}
        self._dirty: set[bytes] = set()
        self._members: dict[int, set[bytes]] = {}
        self._bucket_hash: list[bytes] = [_EMPTY_BUCKET] * N_BUCKETS
        self._group_hash: list[bytes] = [_EMPTY_GROUP] * N_GROUPS
        self._root: bytes | None = None

    @classmethod
    def from_items(cls, items: Iterable[tuple[bytes, bytes]]) -> State:
        """A state holding exactly these entries (e.g. loaded from the store); no journal."""
        state = cls()
        state._data = dict(items)
        state._dirty = set(state._data)
        return state

    def copy(self) -> State:
        """An independent copy (O(n)); the journal is not copied."""
        other = State()
        other._data = dict(self._data)
        other._dirty = set(self._dirty)
        other._members = {b: set(keys) for b, keys in self._members.items()}
        other._bucket_hash = list(self._bucket_hash)
        other._group_hash = list(self._group_hash)
        other._root = self._root
        return other

    # -- raw access --------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, or None."""
        return self._data.get(key)

    def __contains__(self, key: bytes) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def set(self, key: bytes, value: bytes) -> None:
        """Write ``value`` (canonical bytes) at ``key``, journalled."""
        data = self._data
        self._journal.append((key, data.get(key)))
        data[key] = value
        self._cache.pop(key, None)
        self._dirty.add(key)
        self._root = None

    def delete(self, key: bytes) -> None:
        """Remove ``key`` (no-op if absent), journalled."""
        old = self._data.pop(key, None)
        if old is not None:
            self._journal.append((key, old))
            self._cache.pop(key, None)
            self._dirty.add(key)
            self._root = None

    def cached(self, key: bytes, decode: Callable[[bytes], T]) -> T | None:
        """The value at ``key`` decoded by ``decode``, memoised until the key is written.

        One key must always be read with the same decoder (each namespace has one).
        """
        cache = self._cache
        if key in cache:
            hit: T = cache[key]
            return hit
        value = self._data.get(key)
        if value is None:
            return None
        decoded = decode(value)
        cache[key] = decoded
        return decoded

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """Entries whose key starts with ``prefix``, in key order."""
        for key in sorted(k for k in self._data if k.startswith(prefix)):
            yield key, self._data[key]

    # -- accounts ----------------------------------------------------------------------------

    def account(self, address: bytes) -> Account:
        """The account of ``address`` ((0, 0) if it never held coin)."""
        found = self.cached(ACCOUNT_PREFIX + address, _decode_account)
        return _EMPTY_ACCOUNT if found is None else found

    def set_account(self, address: bytes, *, balance: int, nonce: int) -> None:
        """Write an account (the caller has checked the 64-bit range)."""
        key = ACCOUNT_PREFIX + address
        self.set(key, b'{"balance":%d,"nonce":%d}' % (balance, nonce))
        self._cache[key] = Account(balance=balance, nonce=nonce)

    # -- journal -----------------------------------------------------------------------------

    def snapshot(self) -> int:
        """A position in the journal to revert to."""
        return len(self._journal)

    def revert(self, snapshot: int) -> None:
        """Undo every write made after ``snapshot``."""
        journal = self._journal
        if not 0 <= snapshot <= len(journal):
            raise ValueError(f"snapshot {snapshot} is not in the journal (0..{len(journal)})")
        data, cache, dirty = self._data, self._cache, self._dirty
        while len(journal) > snapshot:
            key, old = journal.pop()
            if old is None:
                data.pop(key, None)
            else:
                data[key] = old
            cache.pop(key, None)
            dirty.add(key)
        self._root = None

    def commit(self) -> None:
        """Forget the journal: earlier snapshots can no longer be reverted to."""
        self._journal.clear()

    def write_set(self, snapshot: int) -> dict[bytes, bytes | None]:
        """Keys whose value changed since ``snapshot`` → new value (None = deleted), key order."""
        original: dict[bytes, bytes | None] = {}
        for key, old in self._journal[snapshot:]:
            original.setdefault(key, old)
        data = self._data
        return {key: data.get(key) for key in sorted(original) if data.get(key) != original[key]}

    # -- root --------------------------------------------------------------------------------

    def state_root(self) -> bytes:
        """The 32-byte bucket-tree root of the whole state (module docstring)."""
        if self._root is not None and not self._dirty:
            return self._root
        data, members = self._data, self._members
        dirty_buckets: set[int] = set()
        for key in self._dirty:
            bucket = _bucket_of(key)
            keys = members.get(bucket)
            if key in data:
                if keys is None:
                    keys = members[bucket] = set()
                keys.add(key)
            elif keys is not None:
                keys.discard(key)
                if not keys:
                    del members[bucket]
            dirty_buckets.add(bucket)
        self._dirty.clear()
        dirty_groups: set[int] = set()
        pack = _LENGTH.pack
        for bucket in dirty_buckets:
            keys = members.get(bucket)
            if keys is None:
                self._bucket_hash[bucket] = _EMPTY_BUCKET
            else:
                parts = [b"\x00"]
                for key in sorted(keys):
                    value = data[key]
                    parts += (pack(len(key)), key, pack(len(value)), value)
                self._bucket_hash[bucket] = sha256(b"".join(parts))
            dirty_groups.add(bucket // GROUP_SIZE)
        for group in dirty_groups:
            start = group * GROUP_SIZE
            chunk = self._bucket_hash[start : start + GROUP_SIZE]
            self._group_hash[group] = sha256(b"\x01" + b"".join(chunk))
        self._root = sha256(b"\x02" + b"".join(self._group_hash))
        return self._root


def reference_root(entries: Mapping[bytes, bytes]) -> bytes:
    """The state root recomputed from scratch (for tests and audits of ``state_root``)."""
    buckets: dict[int, list[bytes]] = {}
    for key in entries:
        buckets.setdefault(_bucket_of(key), []).append(key)
    hashes = [_EMPTY_BUCKET] * N_BUCKETS
    for bucket, keys in buckets.items():
        body = b"".join(
            _LENGTH.pack(len(k)) + k + _LENGTH.pack(len(entries[k])) + entries[k]
            for k in sorted(keys)
        )
        hashes[bucket] = sha256(b"\x00" + body)
    groups = [
        sha256(b"\x01" + b"".join(hashes[g * GROUP_SIZE : (g + 1) * GROUP_SIZE]))
        for g in range(N_GROUPS)
    ]
    return sha256(b"\x02" + b"".join(groups))


class FamilyStore:
    """A transaction family's own namespace in the state: ``fam/<name>/<key>``."""

    __slots__ = ("_prefix", "_state")

    def __init__(self, state: State, family: str) -> None:
        self._state = state
        self._prefix = FAMILY_PREFIX + family.encode() + b"/"

    def get(self, key: bytes) -> bytes | None:
        """The value at the family's ``key``, or None."""
        return self._state.get(self._prefix + key)

    def set(self, key: bytes, value: bytes) -> None:
        """Write canonical bytes at the family's ``key`` (journalled)."""
        self._state.set(self._prefix + key, value)

    def delete(self, key: bytes) -> None:
        """Remove the family's ``key`` (journalled)."""
        self._state.delete(self._prefix + key)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """The family's entries in key order, keys without the prefix."""
        cut = len(self._prefix)
        for key, value in self._state.items(self._prefix):
            yield key[cut:], value


def total_supply(state: State) -> int:
    """Sum of all account balances (base units)."""
    return sum(orjson.loads(value)["balance"] for _, value in state.items(ACCOUNT_PREFIX))

"""State: journal and revert, write sets, and the incremental root against a from-scratch root."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.state import FamilyStore, State, reference_root, total_supply

keys = st.binary(min_size=1, max_size=12)
values = st.binary(min_size=0, max_size=40)
ops = st.lists(st.tuples(keys, st.one_of(st.none(), values)), max_size=60)


def apply_ops(state: State, operations: list[tuple[bytes, bytes | None]]) -> None:
    for key, value in operations:
        if value is None:
            state.delete(key)
        else:
            state.set(key, value)


@settings(max_examples=60, deadline=None)
@given(base=ops, more=ops)
def test_incremental_root_matches_reference(
    base: list[tuple[bytes, bytes | None]], more: list[tuple[bytes, bytes | None]]
) -> None:
    state = State()
    apply_ops(state, base)
    state.state_root()
    apply_ops(state, more)
    assert state.state_root() == reference_root(dict(state.items()))


@settings(max_examples=60, deadline=None)
@given(base=ops, more=ops)
def test_revert_restores_contents_and_root(
    base: list[tuple[bytes, bytes | None]], more: list[tuple[bytes, bytes | None]]
) -> None:
    state = State()
    apply_ops(state, base)
    before, root = dict(state.items()), state.state_root()
    snapshot = state.snapshot()
    apply_ops(state, more)
    state.state_root()
    state.revert(snapshot)
    assert dict(state.items()) == before
    assert state.state_root() == root


@settings(max_examples=60, deadline=None)
@given(base=ops, more=ops)
def test_write_set_replays_to_the_same_state(
    base: list[tuple[bytes, bytes | None]], more: list[tuple[bytes, bytes | None]]
) -> None:
    state = State()
    apply_ops(state, base)
    state.commit()
    replica = State.from_items(state.items())
    snapshot = state.snapshot()
    apply_ops(state, more)
    for key, value in state.write_set(snapshot).items():
        if value is None:
            replica.delete(key)
        else:
            replica.set(key, value)
    assert dict(replica.items()) == dict(state.items())
    assert replica.state_root() == state.state_root()


def test_root_independent_of_insertion_order() -> None:
    entries = [(bytes([i]) * 3, bytes([i]) * i) for i in range(1, 50)]
    a = State.from_items(entries)
    b = State()
    for key, value in reversed(entries):
        b.set(key, value)
    assert a.state_root() == b.state_root()


def test_write_set_omits_unchanged_keys() -> None:
    state = State.from_items([(b"k", b"v")])
    snapshot = state.snapshot()
    state.set(b"k", b"w")
    state.set(b"k", b"v")
    state.set(b"new", b"x")
    state.delete(b"new")
    assert state.write_set(snapshot) == {}
    state.delete(b"k")
    assert state.write_set(snapshot) == {b"k": None}


def test_empty_root_is_the_reference_and_values_matter() -> None:
    assert State().state_root() == reference_root({})
    a = State.from_items([(b"k", b"1")])
    b = State.from_items([(b"k", b"2")])
    c = State.from_items([(b"k1", b"")])
    d = State.from_items([(b"k", b"1"), (b"x", b"")])
    assert len({a.state_root(), b.state_root(), c.state_root(), d.state_root()}) == 4


def test_copy_is_independent() -> None:
    state = State.from_items([(b"a", b"1")])
    clone = state.copy()
    clone.set(b"a", b"2")
    assert state.get(b"a") == b"1"
    assert clone.state_root() != state.state_root()


def test_revert_rejects_unknown_snapshot() -> None:
    state = State()
    with pytest.raises(ValueError, match="snapshot 3"):
        state.revert(3)


def test_accounts_and_cache_follow_writes_and_reverts() -> None:
    state = State()
    address = b"\x01" * 20
    assert state.account(address).balance == 0
    snapshot = state.snapshot()
    state.set_account(address, balance=5, nonce=1)
    assert state.account(address).balance == 5
    state.revert(snapshot)
    assert state.account(address).balance == 0
    state.set_account(address, balance=7, nonce=2)
    state.set_account(b"\x02" * 20, balance=3, nonce=0)
    assert total_supply(state) == 10


def test_family_store_namespaces() -> None:
    state = State()
    market = FamilyStore(state, "market")
    other = FamilyStore(state, "other")
    market.set(b"offer/1", b"{}")
    assert other.get(b"offer/1") is None
    assert list(market.items()) == [(b"offer/1", b"{}")]
    assert state.get(b"fam/market/offer/1") == b"{}"
    market.delete(b"offer/1")
    assert len(state) == 0

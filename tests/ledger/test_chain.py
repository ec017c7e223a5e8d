"""apply_block / build_block: header checks, atomicity, determinism, fees, reward, conservation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger.chain
from ledger.block import Block, ChainTip, merkle_root
from ledger.chain import ApplyResult, apply_block, build_block
from ledger.encoding import sha256
from ledger.errors import (
    BadHeight,
    BadLeader,
    BadParent,
    BadStateRoot,
    BadTimestamp,
    BadTransaction,
    BadTransactionRoot,
    BlockTooLarge,
    InvalidBlock,
    RejectReason,
)
from ledger.families import builtin_registry
from ledger.families.coin import issued
from ledger.genesis import dev_network, genesis_state, genesis_tip
from ledger.identity import RevocationReason, issue_revocation
from ledger.state import State, total_supply
from ledger.transactions import AdmittedTransaction, admit_record

NET = dev_network(users=6)
GENESIS = NET.genesis
PARAMS = GENESIS.params
REGISTRY = builtin_registry()
TIP = genesis_tip(GENESIS)
USERS = [f"user-{i:02d}" for i in range(6)]


def transfer(
    sender: str, nonce: int, recipient: str, amount: int, fee: int = 1
) -> AdmittedTransaction:
    payload = {
        "op": "transfer",
        "allocations": [
            {"recipient": NET.address(recipient).hex(), "amount": amount, "resource": None}
        ],
    }
    return NET.transaction(sender, nonce=nonce, family="coin", payload=payload, fee=fee)


def build(
    state: State,
    txs: list[AdmittedTransaction],
    parent: ChainTip = TIP,
    leader: str = "edge-00",
    **changes: Any,
) -> Block:
    built = build_block(
        state,
        txs,
        parent=parent,
        leader=leader,
        round=0,
        timestamp_ms=parent.timestamp_ms + 1_000,
        pow_nonce=42,
        challenge=b"\x05" * 32,
        params=changes.pop("params", PARAMS),
        registry=REGISTRY,
    )
    assert built.rejected == ()
    return built.block


def forge(block: Block, **changes: Any) -> Block:
    return dataclasses.replace(block, header=dataclasses.replace(block.header, **changes))


def apply(state: State, block: Block, parent: ChainTip = TIP, **kw: Any) -> ApplyResult:
    return apply_block(
        state, block, parent=parent, params=kw.pop("params", PARAMS), registry=REGISTRY, **kw
    )


def sample_txs() -> list[AdmittedTransaction]:
    return [
        transfer("user-00", 0, "user-01", 10),
        transfer("user-01", 0, "user-02", 7),
        transfer("user-00", 1, "user-03", 3, fee=4),
    ]


def test_build_then_apply() -> None:
    state = genesis_state(GENESIS)
    block = build(state, sample_txs())
    assert dict(state.items()) == dict(genesis_state(GENESIS).items())  # building changes nothing
    result = apply(state, block)
    assert result.state_root == block.header.state_root == state.state_root()
    assert result.tx_hashes == tuple(t.tx_hash for t in sample_txs())
    assert block.header.tx_root == merkle_root(result.tx_hashes)
    assert result.fees == 6 and result.reward == PARAMS.block_reward
    leader = state.account(NET.address("edge-00")).balance
    assert leader == 10**12 + 6 + PARAMS.block_reward
    assert total_supply(state) == issued(state)
    # the write set replayed on the parent state gives the same state (what the store does)
    replica = genesis_state(GENESIS)
    for key, value in result.write_set.items():
        assert value is not None
        replica.set(key, value)
    assert replica.state_root() == result.state_root
    assert list(result.write_set) == sorted(result.write_set)


def test_apply_is_deterministic() -> None:
    block = build(genesis_state(GENESIS), sample_txs())
    first, second = apply(genesis_state(GENESIS), block), apply(genesis_state(GENESIS), block)
    assert first.state_root == second.state_root
    assert first.write_set == second.write_set
    assert first.block_hash == second.block_hash == block.block_hash


def test_chain_of_blocks_and_dry_run() -> None:
    state = genesis_state(GENESIS)
    first = build(state, [transfer("user-00", 0, "user-01", 10)])
    apply(state, first)
    second = build(state, [transfer("user-00", 1, "user-01", 10)], parent=first.tip())
    before = dict(state.items())
    dry = apply(state, second, parent=first.tip(), dry_run=True)
    assert dict(state.items()) == before
    real = apply(state, second, parent=first.tip())
    assert (dry.state_root, dry.write_set) == (real.state_root, real.write_set)
    assert state.account(NET.address("user-01")).balance == 10**12 + 20


def assert_rejected(
    block: Block, error: type[InvalidBlock], parent: ChainTip = TIP, **kw: Any
) -> InvalidBlock:
    state = genesis_state(GENESIS)
    before, root = dict(state.items()), state.state_root()
    with pytest.raises(error) as info:
        apply(state, block, parent, **kw)
    assert dict(state.items()) == before and state.state_root() == root
    return info.value


def test_header_checks() -> None:
    block = build(genesis_state(GENESIS), sample_txs())
    assert_rejected(forge(block, tx_root=b"\x01" * 32), BadTransactionRoot)
    assert_rejected(forge(block, state_root=b"\x01" * 32), BadStateRoot)
    assert_rejected(forge(block, prev_hash=b"\x01" * 32), BadParent)
    assert_rejected(forge(block, height=2), BadHeight)
    assert_rejected(forge(block, timestamp_ms=TIP.timestamp_ms - 1), BadTimestamp)
    assert_rejected(block, BlockTooLarge, params=PARAMS.replace(max_block_txs=2))
    assert_rejected(block, BlockTooLarge, params=PARAMS.replace(max_block_bytes=500))
    reordered = dataclasses.replace(block, transactions=block.transactions[::-1])
    assert_rejected(reordered, BadTransactionRoot)


@pytest.mark.parametrize("leader", ["user-00", "beam-00", "nobody"])
def test_leader_must_be_a_certified_edge(leader: str) -> None:
    block = build(genesis_state(GENESIS), [])
    assert_rejected(forge(block, leader=leader), BadLeader)
    with pytest.raises(BadLeader):
        build(genesis_state(GENESIS), [], leader=leader)


def test_revoked_leader() -> None:
    state = genesis_state(GENESIS)
    revocation = issue_revocation(
        NET.authority,
        chain_id=GENESIS.chain_id,
        node_id="edge-01",
        reason=RevocationReason.MISBEHAVIOUR,
        timestamp_ms=1,
    )
    post = NET.transaction(
        "authority",
        nonce=0,
        family="identity",
        payload={"op": "revocation", "revocation": revocation.to_fields()},
    )
    first = build(state, [post])
    apply(state, first)
    with pytest.raises(BadLeader, match="revoked"):
        build(state, [], parent=first.tip(), leader="edge-01")


def test_an_invalid_transaction_invalidates_the_block() -> None:
    state = genesis_state(GENESIS)
    block = build(state, sample_txs())
    replay = dataclasses.replace(block, transactions=(*block.transactions, block.transactions[0]))
    replay = forge(
        replay, tx_root=merkle_root([*[t.tx_hash for t in sample_txs()], sample_txs()[0].tx_hash])
    )
    error = assert_rejected(replay, BadTransaction)
    assert isinstance(error, BadTransaction)
    assert (error.index, error.cause.reason) == (3, RejectReason.BAD_NONCE)


def test_forged_signature_from_a_peer_is_caught() -> None:
    state = genesis_state(GENESIS)
    block = build(state, sample_txs())
    tx0 = block.transactions[0]
    forged_tx = dataclasses.replace(
        tx0,
        payload={
            **tx0.payload,
            "allocations": [{**tx0.payload["allocations"][0], "amount": 10**6}],
        },
    )
    forged = dataclasses.replace(block, transactions=(forged_tx, *block.transactions[1:]))
    hashes = [sha256(forged_tx.encode()), *[t.tx_hash for t in sample_txs()[1:]]]
    forged = forge(forged, tx_root=merkle_root(hashes))
    error = assert_rejected(forged, BadTransaction)
    assert isinstance(error, BadTransaction) and error.cause.reason == RejectReason.BAD_SIGNATURE


def test_admitted_transactions_are_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    txs = sample_txs()
    block = build(genesis_state(GENESIS), txs)
    calls: list[bytes] = []
    original = admit_record

    def counting(tx: Any, **kw: Any) -> AdmittedTransaction:
        calls.append(tx.encode())
        return original(tx, **kw)

    monkeypatch.setattr(ledger.chain, "admit_record", counting)
    apply(genesis_state(GENESIS), block, admitted={t.tx_hash: t for t in txs[:2]})
    assert calls == [txs[2].raw]
    apply(genesis_state(GENESIS), block, verify_signatures=False)
    assert len(calls) == 1


def test_build_block_skips_invalid_and_respects_limits() -> None:
    state = genesis_state(GENESIS)
    good = [transfer("user-00", n, "user-01", 1) for n in range(5)]
    bad = [transfer("user-02", 5, "user-01", 1), transfer("user-03", 0, "user-01", 10**13)]
    built = build_block(
        state,
        [good[0], bad[0], *good[1:], bad[1]],
        parent=TIP,
        leader="edge-00",
        round=1,
        timestamp_ms=10,
        pow_nonce=0,
        challenge=bytes(32),
        params=PARAMS.replace(max_block_txs=4),
        registry=REGISTRY,
    )
    assert [t.tx_hash for t in good[:4]] == list(built.result.tx_hashes)
    assert [(h, e.reason) for h, e in built.rejected] == [(bad[0].tx_hash, RejectReason.BAD_NONCE)]
    assert apply(state, built.block).state_root == built.result.state_root


def test_reward_can_be_zero() -> None:
    params = PARAMS.replace(block_reward=0)
    state = genesis_state(GENESIS)
    block = build(state, [], params=params)
    before = issued(state)
    result = apply(state, block, params=params)
    assert (result.reward, issued(state)) == (0, before)


operations = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "deposit", "withdraw", "bad"]),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(1, 2 * 10**12),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations, split=st.integers(1, 10))
def test_coin_is_conserved(ops: list[tuple[str, int, int, int]], split: int) -> None:
    """Supply = genesis + deposits − withdrawals + rewards, over random blocks of random txs."""
    state = genesis_state(GENESIS)
    genesis_supply = total_supply(state)
    nonces: dict[str, int] = {}
    candidates: list[AdmittedTransaction] = []
    for kind, a, b, amount in ops:
        sender = "exchange-00" if kind in ("deposit", "withdraw") else USERS[a]
        nonce = nonces.get(sender, 0)
        if kind == "transfer":
            candidates.append(transfer(sender, nonce, USERS[b], amount))
        elif kind == "bad":  # a replayed nonce: must be skipped by the builder
            candidates.append(transfer(sender, max(nonce - 1, 0) if nonce else 7, USERS[b], 1))
            continue
        else:
            payload: dict[str, Any] = {"op": kind, "amount": amount, "reference": "r"}
            if kind == "deposit":
                payload["recipient"] = NET.address(USERS[b]).hex()
            candidates.append(NET.transaction(sender, nonce=nonce, family="coin", payload=payload))
        nonces[sender] = nonce + 1
    parent, minted, burned, rewards = TIP, 0, 0, 0
    for start in range(0, len(candidates), split):
        built = build_block(
            state,
            candidates[start : start + split],
            parent=parent,
            leader="edge-01",
            round=0,
            timestamp_ms=parent.timestamp_ms + 1,
            pow_nonce=0,
            challenge=bytes(32),
            params=PARAMS,
            registry=REGISTRY,
        )
        result = apply(state, built.block, parent)
        for tx in built.block.transactions:
            if tx.payload["op"] == "deposit":
                minted += tx.payload["amount"]
            elif tx.payload["op"] == "withdraw":
                burned += tx.payload["amount"]
        rewards += result.reward
        parent = built.block.tip()
        # later candidates whose nonce was skipped stay invalid; no matter
    assert total_supply(state) == genesis_supply + minted - burned + rewards == issued(state)

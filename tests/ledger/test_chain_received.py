"""Decoding received blocks with the mempool: caches never weaken the checks."""

from __future__ import annotations

import dataclasses

import pytest

import ledger.chain as chain_module
from ledger.block import Block, decode_block, merkle_root
from ledger.chain_app import ChainApp, ChainReason
from ledger.chain_received import decode_received
from ledger.encoding import DecodeError, canonical, decode_canonical
from ledger.errors import RejectReason
from ledger.families.coin import Allocation, PaymentPayload, TransferPayload
from ledger.genesis import dev_network
from ledger.params import ChainParams
from ledger.store_memory import MemoryStore
from ledger.transactions import Transaction, _signing_digest, admit

NET = dev_network(params=ChainParams.default(pow_difficulty=16, max_block_txs=8))


def new_app(node: str) -> ChainApp:
    return ChainApp.open(MemoryStore(), NET.genesis, node=node, key=NET.keys[node])


def transfer(user: str, nonce: int, amount: int = 5) -> bytes:
    payload = TransferPayload(
        op="transfer",
        allocations=(Allocation(recipient=NET.address("user-03"), amount=amount, resource=None),),
    )
    return NET.transaction(user, nonce=nonce, family="coin", payload=payload).raw


def proposal(leader: ChainApp, *raws: bytes) -> bytes:
    for raw in raws:
        assert leader.submit(raw) == 0
    return leader.propose(
        height=1, round_=0, prev_hash=leader.head_hash(), timestamp_ms=5, leader="edge-00", nonce=0
    )


def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every transaction ``apply_block`` verifies (``admit_record`` calls)."""
    seen: list[bytes] = []
    real = chain_module.admit_record  # type: ignore[attr-defined]

    def spy(tx: Transaction, **kw: object) -> object:
        seen.append(tx.signature)
        return real(tx, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(chain_module, "admit_record", spy)
    return seen


def test_transactions_in_the_mempool_are_not_verified_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leader, peer = new_app("edge-00"), new_app("edge-01")
    raws = [transfer("user-00", 0), transfer("user-01", 0)]
    block = proposal(leader, *raws)
    for raw in raws:
        assert peer.submit(raw) == 0
    seen = count_verifications(monkeypatch)
    assert peer.check(1, block) == 0
    assert seen == []


def test_a_transaction_not_in_the_mempool_is_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    leader, peer = new_app("edge-00"), new_app("edge-01")
    known, unknown = transfer("user-00", 0), transfer("user-01", 0)
    block = proposal(leader, known, unknown)
    assert peer.submit(known) == 0
    seen = count_verifications(monkeypatch)
    assert peer.check(1, block) == 0
    assert seen == [admit(unknown, chain_id=NET.genesis.chain_id, max_bytes=1 << 16).tx.signature]


def test_a_bad_signature_not_in_the_mempool_is_rejected() -> None:
    leader, peer = new_app("edge-00"), new_app("edge-01")
    block = proposal(leader, transfer("user-00", 0))
    decoded = Block.decode(block, max_bytes=1 << 20)
    tx = decoded.transactions[0]
    forged_tx = dataclasses.replace(tx, fee=tx.fee + 1)  # the signature no longer matches
    forged = dataclasses.replace(decoded, transactions=(forged_tx,))
    hashes = decode_received(forged.encode(), params=NET.genesis.params, known={}).tx_hashes
    root_ok = dataclasses.replace(
        forged, header=dataclasses.replace(decoded.header, tx_root=merkle_root(hashes))
    )
    assert peer.check(1, root_ok.encode()) == ChainReason.BAD_TRANSACTION + int(
        RejectReason.BAD_SIGNATURE
    )


def test_a_tampered_body_under_a_checked_header_is_rejected() -> None:
    leader, peer = new_app("edge-00"), new_app("edge-01")
    good = transfer("user-00", 0)
    block = proposal(leader, good)
    assert peer.submit(good) == 0
    assert peer.check(1, block) == 0
    header_hash = peer.block_hash(block)
    decoded = Block.decode(block, max_bytes=1 << 20)
    other = Block.decode(proposal(new_app("edge-02"), transfer("user-01", 0)), max_bytes=1 << 20)
    tampered = dataclasses.replace(decoded, transactions=other.transactions).encode()
    assert tampered != block
    assert Block.decode(tampered, max_bytes=1 << 20).block_hash == header_hash
    assert peer.block_hash(tampered) != header_hash
    assert peer.check(1, tampered) == ChainReason.BAD_TX_ROOT
    assert peer.check(1, block) == 0


def test_decode_received_is_decode_block() -> None:
    leader = new_app("edge-00")
    block = proposal(leader, transfer("user-00", 0), transfer("user-01", 0))
    for known in ({}, leader.mempool.by_hash):
        received = decode_received(block, params=NET.genesis.params, known=known)
        assert received.block == decode_block(block, params=NET.genesis.params)
        assert received.raws == tuple(tx.encode() for tx in received.block.transactions)
        assert received.tx_root_ok
    bad = block.replace(b'"fee":', b'"fee": ', 1)
    for data in (b"{}", b"[]", b"{bad", bad, block.replace(b'"leader"', b'"leaderx"', 1)):
        with pytest.raises(Exception) as slow:
            decode_block(data, params=NET.genesis.params)
        with pytest.raises(type(slow.value)) as fast:
            decode_received(data, params=NET.genesis.params, known={})
        assert str(fast.value) == str(slow.value)


def test_signing_digest_cut_from_the_raw_bytes_is_the_signing_digest() -> None:
    for version in (1, 7, 123):
        payload = PaymentPayload(
            op="pay",
            edge="edge-00",
            allocations=tuple(
                Allocation(recipient=NET.address("user-03"), amount=i, resource="signature")
                for i in range(3)
            ),
        )
        tx = dataclasses.replace(
            NET.transaction("user-00", nonce=0, family="coin", payload=payload).tx,
            version=version,
            payload={"signature": {"signature": "x"}, "version": 2},
        )
        raw = tx.encode()
        assert _signing_digest(tx, raw) == tx.signing_digest()
        assert _signing_digest(tx, raw + b" ") == tx.signing_digest()
        # hex that decodes to the same bytes but is not canonical: never cut from the raw bytes
        sender = tx.sender.hex()
        spaced = raw.replace(sender.encode(), f"{sender[:-2]}  {sender[-2:]}".encode())
        assert spaced != raw and _signing_digest(tx, spaced) == tx.signing_digest()


def test_from_decoded_gives_from_fields_results_and_errors() -> None:
    payload = PaymentPayload(
        op="pay",
        edge="edge-00",
        allocations=(Allocation(recipient=NET.address("user-03"), amount=1, resource=None),),
    )
    fields = decode_canonical(canonical(payload), max_bytes=1 << 16)
    assert PaymentPayload.from_decoded(fields) == PaymentPayload.from_fields(fields) == payload
    broken = [
        {**fields, "edge": 3},
        {**fields, "extra": 1},
        {k: v for k, v in fields.items() if k != "op"},
        {**fields, "allocations": [{**fields["allocations"][0], "amount": "1"}]},
        {**fields, "allocations": [{**fields["allocations"][0], "recipient": "00"}]},
        {**fields, "allocations": [{"amount": 1, "recipient": "00", "resource": None, "x": 1}]},
    ]
    for case in broken:
        with pytest.raises(DecodeError) as slow:
            PaymentPayload.from_fields(case, "payload")
        with pytest.raises(DecodeError) as fast:
            PaymentPayload.from_decoded(case, "payload")
        assert (type(fast.value), str(fast.value)) == (type(slow.value), str(slow.value))

"""Blocks: RFC 6962 transaction root, canonical block bytes and strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.block import (
    EMPTY_ROOT,
    Block,
    BlockHeader,
    CommittedBlock,
    block_size,
    decode_block,
    merkle_root,
)
from ledger.encoding import sha256
from ledger.errors import BadBlockEncoding, BlockTooLarge
from ledger.genesis import dev_network
from ledger.params import ChainParams


def rfc6962(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written recursively as the RFC states it."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + rfc6962(leaves[:k]) + rfc6962(leaves[k:]))


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_merkle_root_is_rfc6962(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == rfc6962(leaves)


def test_merkle_root_known_values_and_order() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    a, b = sha256(b"a"), sha256(b"b")
    assert merkle_root([a, b]) != merkle_root([b, a])
    # a one-leaf tree is not the leaf itself, and [x, x] is not [x] (no duplicate-last trick)
    assert merkle_root([a]) != a
    assert merkle_root([a, a]) != merkle_root([a])
    assert merkle_root([a, b, a]) != merkle_root([a, b, a, a])


def header(**changes: object) -> BlockHeader:
    fields: dict[str, object] = {
        "height": 1,
        "round": 0,
        "prev_hash": bytes(32),
        "tx_root": EMPTY_ROOT,
        "state_root": bytes(32),
        "timestamp_ms": 5,
        "leader": "edge-00",
        "pow_nonce": 9,
        "challenge": b"\x07" * 32,
    }
    fields.update(changes)
    return BlockHeader(**fields)  # type: ignore[arg-type]


def sample_block(n: int) -> Block:
    net = dev_network(edges=1, beams=0, users=1, exchanges=0)
    user = net.address("user-00")
    txs = tuple(
        net.transaction(
            "user-00",
            nonce=i,
            family="coin",
            payload={
                "op": "transfer",
                "allocations": [{"recipient": user.hex(), "amount": 1, "resource": None}],
            },
        ).tx
        for i in range(n)
    )
    return Block(header=header(), transactions=txs)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_block_size_is_the_canonical_length(n: int) -> None:
    block = sample_block(n)
    raws = [tx.encode() for tx in block.transactions]
    assert block_size(block.header, raws) == len(block.encode())


def test_block_roundtrip_and_hash_covers_header_only() -> None:
    block = sample_block(2)
    params = ChainParams.default()
    decoded = decode_block(block.encode(), params=params)
    assert decoded == block
    assert decoded.block_hash == sha256(block.header.encode())
    committed = CommittedBlock(block=block, certificate=b"\x01\x02")
    assert CommittedBlock.decode(committed.encode(), max_bytes=10**6) == committed
    assert committed.block.block_hash == block.block_hash
    tip = block.tip()
    assert (tip.height, tip.block_hash, tip.timestamp_ms) == (1, block.block_hash, 5)


def test_decode_block_limits() -> None:
    block = sample_block(3)
    data = block.encode()
    with pytest.raises(BlockTooLarge, match="bytes"):
        decode_block(data, params=ChainParams.default(max_block_bytes=len(data) - 1))
    with pytest.raises(BlockTooLarge, match="3 transactions"):
        decode_block(data, params=ChainParams.default(max_block_txs=2))


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=300))
def test_decode_block_rejects_garbage_with_a_typed_error(data: bytes) -> None:
    with pytest.raises((BadBlockEncoding, BlockTooLarge)):
        decode_block(data, params=ChainParams.default())


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.replace(b'"height":1', b'"height":1.0'), "height"),
        (lambda b: b.replace(b'"round":0', b'"round":"0"'), "header.round"),
        (lambda b: b.replace(b'"leader"', b'"leaderx"'), "header.leaderx"),
        (lambda b: b.replace(b'{"header"', b'{ "header"'), "<input>"),
        (lambda b: b.replace(b'"pow_nonce":9', b'"pow_nonce":9,"pox":1'), "header.pox"),
    ],
)
def test_decode_block_names_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    data = mutate(sample_block(0).encode())
    with pytest.raises(BadBlockEncoding, match=field.replace(".", r"\.")):
        decode_block(data, params=ChainParams.default())

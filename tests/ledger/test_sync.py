"""Sync: a node that missed blocks catches up from a peer's store, and refuses anything forged."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.block import Block
from ledger.chain_app import ChainApp
from ledger.consensus.messages import (
    Certificate,
    Step,
    Verdict,
    Vote,
    make_challenge,
    sign_record,
)
from ledger.crypto import PrivateKey
from ledger.encoding import sha256
from ledger.families.coin import Allocation, TransferPayload
from ledger.genesis import dev_network
from ledger.params import ChainParams
from ledger.store_memory import MemoryStore
from ledger.sync import (
    BadSyncBlock,
    BadSyncCertificate,
    MalformedSync,
    SyncBlock,
    SyncConflict,
    SyncGap,
    SyncRequest,
    SyncResponse,
    answer,
    catch_up,
    decode_request,
    decode_response,
)

NET = dev_network(params=ChainParams.default(pow_difficulty=16))
EDGES = ["edge-00", "edge-01", "edge-02", "edge-03"]


def certify(
    height: int, block_hash: bytes, signers: list[str], keys: dict[str, PrivateKey] | None = None
) -> Certificate:
    """Approving, watermarked precommits of ``signers`` (edge-00 proposed, round 0)."""
    keys = keys or NET.keys
    challenge = make_challenge(NET.keys["edge-00"], height, 0)
    votes = tuple(
        sign_record(
            Vote(
                step=Step.PRECOMMIT,
                height=height,
                round=0,
                block_hash=block_hash,
                verdict=Verdict.APPROVE,
                reason=0,
                proposer="edge-00",
                challenge=challenge,
                node=node,
                signature=bytes(65),
            ),
            keys[node],
        )
        for node in sorted(signers)
    )
    return Certificate(height=height, round=0, block_hash=block_hash, votes=votes)


def new_app(node: str) -> ChainApp:
    return ChainApp.open(MemoryStore(), NET.genesis, node=node, key=NET.keys[node])


def grow(app: ChainApp, blocks: int) -> None:
    """Commit ``blocks`` blocks with transfers, each with a > 2/3 certificate."""
    for _ in range(blocks):
        height = app.height + 1
        payload = TransferPayload(
            op="transfer",
            allocations=(
                Allocation(recipient=NET.address("user-02"), amount=height, resource=None),
            ),
        )
        tx = NET.transaction("user-00", nonce=height - 1, family="coin", payload=payload)
        assert app.submit(tx.raw) == 0
        block = app.propose(
            height=height,
            round_=0,
            prev_hash=app.head_hash(),
            timestamp_ms=100 * height,
            leader="edge-00",
            nonce=0,
        )
        block_hash = app.block_hash(block)
        app.commit(height, block, block_hash, certify(height, block_hash, EDGES[:3]))


@pytest.fixture(scope="module")
def source() -> ChainApp:
    app = new_app("edge-00")
    grow(app, 4)
    return app


def test_a_node_that_missed_blocks_catches_up(source: ChainApp) -> None:
    late = new_app("edge-03")
    first = answer(source.store, SyncRequest(from_height=1, limit=10), max_blocks=3)
    assert [b.height for b in first.blocks] == [1, 2, 3] and first.head == 4
    wire = decode_response(first.encode(), max_bytes=1 << 20)
    assert wire == first
    assert catch_up(late, wire) == 3
    rest = answer(source.store, decode_request(SyncRequest(from_height=4, limit=9).encode()), 9)
    assert catch_up(late, rest) == 1
    assert late.height == 4 and late.head_hash() == source.head_hash()
    assert late.state_root() == source.state_root()
    assert late.table.snapshot() == source.table.snapshot()
    assert [late.store.block_at(h) for h in (1, 4)] == [source.store.block_at(h) for h in (1, 4)]
    assert catch_up(late, first) == 0  # idempotent
    assert answer(source.store, SyncRequest(from_height=9, limit=2), 5).blocks == ()


def one(source: ChainApp, height: int) -> SyncBlock:
    stored = source.store.block_at(height)
    assert stored is not None
    return SyncBlock(height=height, block=stored.block, certificate=stored.certificate)


def response(*blocks: SyncBlock) -> SyncResponse:
    return SyncResponse(from_height=blocks[0].height, head=9, blocks=blocks)


def test_a_certificate_without_quorum_is_refused_and_nothing_changes(source: ChainApp) -> None:
    good = one(source, 1)
    block_hash = source.block_hash(good.block)
    weak = dataclasses.replace(good, certificate=certify(1, block_hash, EDGES[:2]).encode())
    late = new_app("edge-03")
    root = late.state_root()
    with pytest.raises(BadSyncCertificate, match="height 1") as info:
        catch_up(late, response(weak))
    assert info.value.height == 1
    assert late.height == 0 and late.state_root() == root and late.store.height() == 0


def test_a_certificate_signed_by_strangers_is_refused(source: ChainApp) -> None:
    good = one(source, 1)
    block_hash = source.block_hash(good.block)
    strangers = {n: PrivateKey.from_seed(n.encode() + b"/mallory") for n in EDGES}
    forged = certify(1, block_hash, EDGES, keys=strangers)
    late = new_app("edge-02")
    with pytest.raises(BadSyncCertificate, match="height 1"):
        catch_up(late, response(dataclasses.replace(good, certificate=forged.encode())))
    assert late.height == 0


def test_a_tampered_block_is_refused_even_with_a_quorum_for_it(source: ChainApp) -> None:
    good = one(source, 1)
    decoded = Block.decode(good.block, max_bytes=1 << 20)
    header = dataclasses.replace(decoded.header, state_root=sha256(b"mine"))
    tampered = dataclasses.replace(decoded, header=header).encode()
    # with the genuine certificate: the certificate names another block
    late = new_app("edge-01")
    with pytest.raises(BadSyncCertificate, match="height 1"):
        catch_up(late, response(dataclasses.replace(good, block=tampered)))
    # a colluding quorum certifies the tampered block: the chain's own rules still refuse it
    colluded = certify(1, header.block_hash, EDGES[:3]).encode()
    with pytest.raises(BadSyncBlock, match=r"height 1.*BadStateRoot") as info:
        catch_up(late, response(SyncBlock(height=1, block=tampered, certificate=colluded)))
    assert type(info.value.cause).__name__ == "BadStateRoot"
    assert late.height == 0 and late.store.height() == 0
    assert late.state_root() == new_app("edge-01").state_root()


def test_the_first_bad_block_stops_catch_up_and_earlier_ones_stay(source: ChainApp) -> None:
    late = new_app("edge-03")
    bad = dataclasses.replace(one(source, 2), certificate=b"{}")
    with pytest.raises(MalformedSync, match="height 2"):
        catch_up(late, response(one(source, 1), bad, one(source, 3)))
    assert late.height == 1 and late.head_hash() == source.store.block_at(1).block_hash  # type: ignore[union-attr]
    with pytest.raises(SyncGap, match="height 3"):
        catch_up(late, response(one(source, 3)))
    other = new_app("edge-01")
    block = other.propose(
        height=1, round_=0, prev_hash=other.head_hash(), timestamp_ms=7, leader="edge-01", nonce=0
    )
    block_hash = other.block_hash(block)
    conflicting = SyncBlock(
        height=1, block=block, certificate=certify(1, block_hash, EDGES[1:]).encode()
    )
    with pytest.raises(SyncConflict, match="height 1"):
        catch_up(late, response(conflicting))
    assert late.height == 1


def test_requests_are_checked() -> None:
    with pytest.raises(MalformedSync):
        decode_request(b'{"from_height":0,"limit":5}')
    with pytest.raises(MalformedSync):
        decode_request(b'{"from_height":1}')
    with pytest.raises(MalformedSync):
        answer(MemoryStore(), SyncRequest(from_height=1, limit=0), 5)

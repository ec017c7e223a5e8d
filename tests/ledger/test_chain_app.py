"""ChainApp: the real chain behind consensus — propose/check/commit, mempool, evidence, restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ledger.block import Block
from ledger.chain import build_block
from ledger.chain_app import ChainApp, ChainAppError, ChainReason, offence_subject
from ledger.consensus.app import ConsensusParams
from ledger.consensus.evidence import Evidence
from ledger.consensus.messages import Certificate, Step, Verdict, Vote, sign_record
from ledger.encoding import sha256
from ledger.errors import RejectReason
from ledger.evidence_kinds import EvidenceKind
from ledger.families import builtin_registry
from ledger.families.coin import Allocation, TransferPayload
from ledger.families.ratings import EvidencePayload, RatingPayload
from ledger.genesis import dev_network, genesis_hash
from ledger.mempool import Mempool, MempoolReason
from ledger.params import ChainParams
from ledger.state import reference_root
from ledger.store_memory import MemoryStore
from ledger.store_sqlite import SqliteStore

NET = dev_network(params=ChainParams.default(pow_difficulty=16, max_block_txs=8))
EDGES = NET.nodes(NET.genesis.certificates[0].role)


def new_app(node: str = "edge-00", store: MemoryStore | None = None, **kw: object) -> ChainApp:
    return ChainApp.open(
        store or MemoryStore(),
        NET.genesis,
        node=node,
        key=NET.keys[node],
        **kw,  # type: ignore[arg-type]
    )


def transfer(user: str, nonce: int, amount: int = 5, to: str = "user-03") -> bytes:
    payload = TransferPayload(
        op="transfer",
        allocations=(Allocation(recipient=NET.address(to), amount=amount, resource=None),),
    )
    return NET.transaction(user, nonce=nonce, family="coin", payload=payload).raw


def rating(user: str, nonce: int, edge: str, positive: int, negative: int) -> bytes:
    payload = RatingPayload(
        op="rating", ratee=edge, positive=positive, negative=negative, success_ppm=900_000, height=0
    )
    return NET.transaction(user, nonce=nonce, family="ratings", payload=payload).raw


def advance(app: ChainApp, *, leader: str = "edge-00", round_: int = 0) -> bytes:
    """Propose, check and commit the next block (with an unchecked placeholder certificate)."""
    height = app.height + 1
    block = app.propose(
        height=height,
        round_=round_,
        prev_hash=app.head_hash(),
        timestamp_ms=1_000 * height,
        leader=leader,
        nonce=0,
    )
    assert app.check(height, block) == 0
    block_hash = app.block_hash(block)
    app.commit(
        height,
        block,
        block_hash,
        Certificate(height=height, round=0, block_hash=block_hash, votes=()),
    )
    return block


def test_propose_check_commit_moves_coin_and_persists() -> None:
    app = new_app()
    before = app.state.account(NET.address("user-03")).balance
    assert app.submit(transfer("user-00", 0, 7)) == 0
    assert app.submit(transfer("user-01", 0, 11)) == 0
    block = advance(app)
    assert app.height == 1 and len(app.mempool) == 0
    assert len(Block.decode(block, max_bytes=1 << 20).transactions) == 2
    assert app.state.account(NET.address("user-03")).balance == before + 18
    stored = app.store.head()
    assert stored is not None and stored.block == block
    assert stored.block_hash == Block.decode(block, max_bytes=1 << 20).block_hash
    assert stored.state_root == app.state_root() == reference_root(dict(app.state.items()))
    assert dict(app.store.state_items()) == dict(app.state.items())
    committed = app.committed(1)
    assert committed is not None and committed[0] == block and committed[1].height == 1
    assert app.committed(2) is None


def test_check_names_what_is_wrong() -> None:
    app = new_app()
    app.submit(transfer("user-00", 0))
    block = app.propose(
        height=1, round_=0, prev_hash=app.head_hash(), timestamp_ms=5, leader="edge-01", nonce=0
    )
    decoded = Block.decode(block, max_bytes=1 << 20)
    bad_root = dataclasses.replace(
        decoded, header=dataclasses.replace(decoded.header, state_root=bytes(32))
    ).encode()
    assert app.check(1, bad_root) == ChainReason.BAD_STATE_ROOT
    assert app.check(2, block) == ChainReason.WRONG_HEIGHT
    assert app.check(1, b"{not a block") == ChainReason.MALFORMED
    dropped = dataclasses.replace(decoded, transactions=()).encode()
    assert app.check(1, dropped) == ChainReason.BAD_TX_ROOT
    # the consensus id never names two bodies: a body that does not match tx_root gets another id
    assert app.block_hash(dropped) != decoded.block_hash == app.block_hash(block)
    assert app.block_hash(b"junk") == sha256(b"\xffjunk")
    forged = dataclasses.replace(
        decoded, header=dataclasses.replace(decoded.header, leader="user-00")
    )
    assert app.check(1, forged.encode()) == ChainReason.NOT_A_VALIDATOR
    overspend = new_app()
    assert overspend.submit(transfer("user-00", 0, 10**13)) == 0
    empty = overspend.propose(
        height=1,
        round_=0,
        prev_hash=overspend.head_hash(),
        timestamp_ms=5,
        leader="edge-00",
        nonce=0,
    )
    assert Block.decode(empty, max_bytes=1 << 20).transactions == ()  # left out, not proposed
    assert len(overspend.mempool) == 1  # INSUFFICIENT_FUNDS may heal: kept
    assert app.check(1, block) == 0 and app.height == 0


def test_mempool_dedupes_orders_and_bounds() -> None:
    app = new_app()
    tx1, tx0 = transfer("user-00", 1), transfer("user-00", 0)
    assert app.submit(tx1) == 0 and app.submit(tx1) == 0 and app.submit(tx0) == 0
    assert len(app.mempool) == 2
    assert [t.tx.nonce for t in app.mempool.candidates()] == [0, 1]
    assert app.submit(transfer("user-00", 1, amount=6)) == MempoolReason.NONCE_TAKEN
    assert app.submit(transfer("user-00", 500)) == MempoolReason.NONCE_TOO_FAR
    assert app.submit(b"{}") == RejectReason.MALFORMED
    advance(app)
    assert len(app.mempool) == 0
    assert app.submit(tx0) == MempoolReason.STALE_NONCE
    small = new_app(mempool=Mempool(max_txs=1))
    assert small.submit(transfer("user-01", 0)) == 0
    assert small.submit(transfer("user-02", 0)) == MempoolReason.FULL


def test_validator_sets_are_the_same_on_every_node_and_follow_reputation() -> None:
    apps = [new_app(node) for node in ("edge-00", "edge-02")]
    for nonce, user in enumerate(("user-00", "user-01", "user-02")):
        for app in apps:
            assert app.submit(rating(user, 0, "edge-03", 0, 50)) == 0
        del nonce
    first = advance(apps[0])
    block_hash = apps[1].block_hash(first)
    assert apps[1].check(1, first) == 0
    apps[1].commit(
        1, first, block_hash, Certificate(height=1, round=0, block_hash=block_hash, votes=())
    )
    for app in apps:
        assert [v.node for v in app.validator_set(1).members] == EDGES
        assert [v.node for v in app.validator_set(2).members] == ["edge-00", "edge-01", "edge-02"]
        with pytest.raises(LookupError):
            app.validator_set(3)
    assert apps[0].table.snapshot() == apps[1].table.snapshot()
    assert apps[0].state_root() == apps[1].state_root()


def equivocation(height: int, node: str = "edge-01") -> Evidence:
    votes = [
        sign_record(
            Vote(
                step=Step.PREVOTE,
                height=height,
                round=0,
                block_hash=block_hash,
                verdict=verdict,
                reason=reason,
                proposer="edge-00",
                challenge=b"",
                node=node,
                signature=bytes(65),
            ),
            NET.keys[node],
        ).encode()
        for block_hash, verdict, reason in (
            (sha256(b"x"), Verdict.APPROVE, 0),
            (None, Verdict.NIL, 1000),
        )
    ]
    first, second = sorted(votes)
    return Evidence(
        kind=EvidenceKind.EQUIVOCATION,
        offender=node,
        height=height,
        round=0,
        step=Step.PREVOTE,
        first=first,
        second=second,
        block=b"",
    )


def test_recorded_evidence_goes_on_chain_once_and_suspends_the_offender() -> None:
    app = new_app("edge-02")
    advance(app)
    evidence = equivocation(1)
    assert app.verify_offence(evidence) is None
    wrong = dataclasses.replace(evidence, offender="edge-03")
    assert app.verify_offence(wrong) is not None
    app.add_evidence(evidence)
    app.add_evidence(evidence)
    assert len(app.pending_evidence) == 1
    block = advance(app, leader="edge-02")
    txs = Block.decode(block, max_bytes=1 << 20).transactions
    assert [(t.family, t.payload["subject"]) for t in txs] == [
        ("ratings", offence_subject(evidence))
    ]
    key = (EvidenceKind.EQUIVOCATION, "edge-01", 1, 0, Step.PREVOTE)
    assert app.evidence_on_chain(key) and not app.pending_evidence
    assert app.table.suspended("edge-01")
    assert "edge-01" not in app.validator_set(3) and "edge-01" in app.validator_set(2)
    app.add_evidence(evidence)  # already on chain: not queued again
    assert not app.pending_evidence


def test_a_block_carrying_a_false_proof_is_invalid() -> None:
    honest, liar = new_app("edge-00"), new_app("edge-03")
    first = advance(liar, leader="edge-03")
    first_hash = honest.block_hash(first)
    honest.commit(
        1, first, first_hash, Certificate(height=1, round=0, block_hash=first_hash, votes=())
    )
    forged = dataclasses.replace(equivocation(1), second=equivocation(1, "edge-02").second)
    assert honest.verify_offence(forged) is not None
    tx = liar._evidence_transaction(forged, 0)
    # the liar builds with a registry that checks evidence structure only: roots are right
    built = build_block(
        liar.state,
        [tx],
        parent=liar.tip,
        leader="edge-03",
        round=0,
        timestamp_ms=9,
        pow_nonce=0,
        challenge=bytes(32),
        params=liar.params,
        registry=builtin_registry(),
    )
    assert built.block.transactions == (tx.tx,)
    reason = honest.check(2, built.block.encode())
    assert reason == ChainReason.BAD_TRANSACTION + RejectReason.BAD_EVIDENCE
    assert honest.offence_of(reason) == EvidenceKind.INVALID_BLOCK
    # the honest proposer's own build leaves such a proof out
    liar.add_evidence(forged)
    block = liar.propose(
        height=2, round_=0, prev_hash=liar.head_hash(), timestamp_ms=9, leader="edge-03", nonce=0
    )
    assert Block.decode(block, max_bytes=1 << 20).transactions == ()


@pytest.mark.parametrize(
    "claim",
    [
        {"offender": "edge-03"},
        {"kind": EvidenceKind.FORGED_WATERMARK},
        {"height": 0},
        {"subject": "r1/prevote"},
    ],
)
def test_a_valid_proof_of_another_offence_is_rejected(claim: dict[str, object]) -> None:
    app = new_app("edge-00")
    advance(app)
    proof = equivocation(1)  # offence A: edge-01 equivocated at height 1, round 0, prevote
    assert app.verify_offence(proof) is None

    def block_with(**changes: object) -> bytes:
        fields: dict[str, object] = {
            "op": "evidence",
            "kind": proof.kind,
            "offender": proof.offender,
            "height": proof.height,
            "subject": offence_subject(proof),
            "proof": proof.to_fields(),
        }
        payload = EvidencePayload(**(fields | changes))  # type: ignore[arg-type]
        tx = NET.transaction("edge-02", nonce=0, family="ratings", payload=payload)
        built = build_block(
            app.state,
            [tx],
            parent=app.tip,
            leader="edge-00",
            round=0,
            timestamp_ms=2_000,
            pow_nonce=0,
            challenge=bytes(32),
            params=app.params,
            registry=builtin_registry(),  # structure only: the block's roots are right
        )
        assert built.block.transactions == (tx.tx,)
        return built.block.encode()

    assert app.check(2, block_with(**claim)) == (
        ChainReason.BAD_TRANSACTION + RejectReason.BAD_EVIDENCE
    )
    assert app.check(2, block_with()) == 0  # the same proof under its own offence holds


def test_restart_from_sqlite_gives_the_same_root_table_and_validators(tmp_path: Path) -> None:
    path = tmp_path / "edge-00.db"
    with SqliteStore(path) as store:
        app = new_app(store=store)  # type: ignore[arg-type]
        app.submit(transfer("user-00", 0))
        app.submit(rating("user-01", 0, "edge-02", 3, 0))
        advance(app)
        app.submit(rating("user-02", 0, "edge-03", 0, 9))
        advance(app, leader="edge-01")
        advance(app, leader="edge-02")
        root, snapshot, head = app.state_root(), app.table.snapshot(), app.head_hash()
        validators = app.validator_set(4)
    with SqliteStore(path) as store:
        again = ChainApp.open(store, NET.genesis, node="edge-00", key=NET.keys["edge-00"])
        assert again.height == 3 and again.head_hash() == head
        assert again.state_root() == root
        assert again.table.snapshot() == snapshot
        assert again.validator_set(4) == validators
        advance(again)  # and the chain goes on
        assert again.height == 4


def test_commit_is_idempotent_and_ordered() -> None:
    app = new_app()
    block = advance(app)
    block_hash = app.block_hash(block)
    app.commit(
        1, block, block_hash, Certificate(height=1, round=0, block_hash=block_hash, votes=())
    )
    assert app.height == 1
    with pytest.raises(ChainAppError, match="another block"):
        app.commit(
            1, block, bytes(32), Certificate(height=1, round=0, block_hash=bytes(32), votes=())
        )
    with pytest.raises(ChainAppError, match="height 3"):
        app.commit(
            3, block, block_hash, Certificate(height=3, round=0, block_hash=block_hash, votes=())
        )
    with pytest.raises(ChainAppError):
        app.propose(
            height=3, round_=0, prev_hash=app.head_hash(), timestamp_ms=0, leader="edge-00", nonce=0
        )
    assert genesis_hash(NET.genesis) == app.tips[0].block_hash


def test_consensus_parameters_come_from_the_genesis() -> None:
    chain = ChainParams.default(pow_difficulty=99, propose_timeout_ms=700, vote_timeout_ms=300)
    params = ConsensusParams.from_chain(chain, pow_attempts=5)
    assert params.pow_difficulty == 99 and params.pow_attempts == 5
    assert params.timeout_propose_ms == 700 and params.timeout_prevote_ms == 300
    assert params.timeout_commit_ms == chain.commit_timeout_ms
    assert params.timeout_precommit_delta_ms == chain.timeout_delta_ms
    assert params.max_resends == chain.max_resends
    assert params.max_message_bytes > 2 * chain.max_block_bytes
    with pytest.raises(ValueError, match="fixed by the chain"):
        ConsensusParams.from_chain(chain, pow_difficulty=1)
    with pytest.raises(ValueError, match="no field"):
        ConsensusParams.from_chain(chain, nonsense=1)

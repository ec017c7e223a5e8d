"""The pool simulator on the real chain: edge validators of a dev network over ``ChainApp`` s.

The one consensus module that knows the chain (as :mod:`.toyapp` is the toy's): it builds a
:class:`~ledger.consensus.pool.PoolSetup` from :func:`ledger.genesis.dev_network` (the edge nodes
are the validators, each member runs a :class:`ledger.chain_app.ChainApp` over its own
:class:`ledger.store_memory.MemoryStore`, restarts reopen it from that store), signs a small
workload (transfers, payments through an edge, exchange deposits and withdrawals, ratings of the
edges) and checks, besides the pool's own invariants (:func:`.pool.check_invariants`):

* validity: the agreed chain replays in a fresh ``ChainApp`` (each block passes ``check``, each
  certificate verifies against the validator set the replay computes for its height);
* coin conservation: after every block, total supply = ``issued`` = genesis + deposits −
  withdrawals + block rewards, the right side summed independently from the blocks;
* every offence an honest node detected verifies and is recorded on chain exactly once, and
  no evidence names an honest node;
* no honest validator is ever outside the validator set of any height;
* every honest node has the same state root and the same ``ReputationTable.snapshot()`` at
  every height they both committed, also across restarts (a replay equals the first pass).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ledger.block import Block
from ledger.chain import ApplyResult
from ledger.chain_app import ChainApp, offence_subject
from ledger.consensus.app import ConsensusParams
from ledger.consensus.hooks import (
    Amnesia,
    Behaviour,
    Delay,
    Equivocate,
    FalseVerdict,
    ForgeWatermark,
    InvalidBlock,
    Silent,
    WithholdVotes,
)
from ledger.consensus.messages import verify_certificate
from ledger.consensus.pool import (
    Faults,
    MemberResult,
    PoolResult,
    PoolSetup,
    SplitMix,
    ValidatorPool,
    check_invariants,
)
from ledger.consensus.soak import soak
from ledger.crypto import PrivateKey
from ledger.encoding import canonical, sha256
from ledger.families.coin import (
    Allocation,
    DepositPayload,
    PaymentPayload,
    TransferPayload,
    WithdrawPayload,
)
from ledger.families.coin import issued as coin_issued
from ledger.families.ratings import RatingPayload
from ledger.genesis import DevNetwork, dev_network, genesis_hash
from ledger.identity import Role
from ledger.params import ChainParams
from ledger.reputation import ReputationTable
from ledger.state import total_supply
from ledger.store_memory import MemoryStore

__all__ = [
    "CHAIN_BYZANTINE_KINDS",
    "CHAIN_SIM_PARAMS",
    "ChainRun",
    "chain_setup",
    "check_chain_invariants",
    "run_chain_seed",
    "tamper_state_root",
    "workload",
]

CHAIN_SIM_PARAMS = ChainParams.default(
    pow_difficulty=16,
    propose_timeout_ms=80,
    vote_timeout_ms=40,
    commit_timeout_ms=100,
    timeout_delta_ms=20,
    max_block_txs=4,
)
"""Genesis parameters for virtual-time runs (the pool's short timeouts, D = 16, small blocks)."""

_LOCAL = {"rebroadcast_ms": 250, "pow_attempts": 32}


def tamper_state_root(block: bytes) -> bytes:
    """The block with a wrong state root (an *invalid block* for every honest validator)."""
    decoded = Block.decode(block, max_bytes=1 << 24)
    header = dataclasses.replace(decoded.header, state_root=sha256(decoded.header.state_root))
    return dataclasses.replace(decoded, header=header).encode()


CHAIN_BYZANTINE_KINDS: dict[str, Callable[[], list[Behaviour]]] = {
    "none": list,
    "equivocate": lambda: [Equivocate()],
    "false_verdict": lambda: [FalseVerdict()],
    "forge_watermark": lambda: [ForgeWatermark()],
    "missing_watermark": lambda: [ForgeWatermark(missing=True)],
    "withhold_votes": lambda: [WithholdVotes()],
    "invalid_block": lambda: [InvalidBlock(tamper_state_root)],
    "amnesia": lambda: [Amnesia()],
    "silent": lambda: [Silent()],
    "delay": lambda: [Delay(120)],
    "twins": list,
}
"""Byzantine set-ups of the real chain (no price rule yet, so no manipulated price)."""


@lru_cache(maxsize=4)
def _network(n: int, users: int) -> DevNetwork:
    return dev_network(
        seed=b"satedge-pool-chain",
        edges=n,
        beams=1,
        users=users,
        exchanges=1,
        params=CHAIN_SIM_PARAMS,
    )


def workload(net: DevNetwork) -> list[bytes]:
    """Signed client transactions of the run, submitted to every member at time 0.

    Per user: a transfer, a payment through an edge to the beam, a rating of every edge; the
    exchange deposits to the first user, then withdraws.
    """
    users, edges = net.nodes(Role.USER), net.nodes(Role.EDGE)
    beam = net.address(net.nodes(Role.BEAM)[0])
    txs: list[bytes] = []
    for index, user in enumerate(users):
        other = net.address(users[(index + 1) % len(users)])
        steps: list[tuple[str, object]] = [
            (
                "coin",
                TransferPayload(
                    op="transfer",
                    allocations=(Allocation(recipient=other, amount=1_000 + index, resource=None),),
                ),
            ),
            (
                "coin",
                PaymentPayload(
                    op="payment",
                    edge=edges[index % len(edges)],
                    allocations=(Allocation(recipient=beam, amount=500, resource="ch-1"),),
                ),
            ),
        ]
        for edge in edges:
            rating = RatingPayload(
                op="rating", ratee=edge, positive=2, negative=0, success_ppm=950_000, height=0
            )
            steps.append(("ratings", rating))
        for nonce, (family, payload) in enumerate(steps):
            tx = net.transaction(user, nonce=nonce, family=family, payload=payload)  # type: ignore[arg-type]
            txs.append(tx.raw)
    exchange = net.nodes(Role.EXCHANGE)[0]
    deposit = DepositPayload(
        op="deposit", recipient=net.address(users[0]), amount=7_000, reference="dep-1"
    )
    withdraw = WithdrawPayload(op="withdraw", amount=3_000, reference="wd-1")
    txs.append(net.transaction(exchange, nonce=0, family="coin", payload=deposit).raw)
    txs.append(net.transaction(exchange, nonce=1, family="coin", payload=withdraw).raw)
    return txs


@dataclass(slots=True)
class ChainRun:
    """What a real-chain run records outside the pool: the network and per-member commit logs.

    Attributes:
        net: The dev network (genesis, keys).
        logs: Per member index, height → (state root, digest of the reputation snapshot).
        replay_mismatches: Heights where a restarted member's replay differed from its log.
    """

    net: DevNetwork
    logs: list[dict[int, tuple[bytes, bytes]]] = field(default_factory=list)
    replay_mismatches: list[str] = field(default_factory=list)


def chain_setup(n: int = 4, *, users: int = 3) -> tuple[PoolSetup, ChainRun]:
    """A pool setup of ``n`` edge validators on the real chain, and its run record."""
    net = _network(n, users)
    run = ChainRun(net=net)
    nodes = tuple(net.nodes(Role.EDGE))

    def make_app(index: int) -> ChainApp:
        member = len(run.logs)
        log: dict[int, tuple[bytes, bytes]] = {}
        run.logs.append(log)

        def observe(height: int, block: Block, result: ApplyResult, table: ReputationTable) -> None:
            entry = (result.state_root, sha256(canonical(table.snapshot())))
            known = log.setdefault(height, entry)
            if known != entry:
                run.replay_mismatches.append(f"member {member} height {height}")

        return ChainApp.open(
            MemoryStore(),
            net.genesis,
            node=nodes[index],
            key=net.keys[nodes[index]],
            on_commit=observe,
        )

    first = ChainApp.open(MemoryStore(), net.genesis, node=nodes[0], key=net.keys[nodes[0]])
    setup = PoolSetup(
        nodes=nodes,
        keys=tuple(net.keys[node] for node in nodes),
        genesis_hash=genesis_hash(net.genesis),
        validators=first.validator_set(1),
        make_app=make_app,
        params=ConsensusParams.from_chain(net.genesis.params, **_LOCAL),
    )
    return setup, run


def _replay(run: ChainRun) -> Callable[[PoolResult, str, MemberResult], None]:
    def replay(result: PoolResult, where: str, longest: MemberResult) -> None:
        net = run.net
        app = ChainApp.open(
            MemoryStore(), net.genesis, node="replay", key=PrivateKey.from_seed(b"replay")
        )
        genesis_total = sum(b.amount for b in net.genesis.balances)
        minted = genesis_total
        recorded: Counter[tuple[str, int, int, str]] = Counter()
        for node in result.honest_nodes:
            assert node in app.validator_set(1), f"{where}: honest {node} not a validator at 1"
        results: list[ApplyResult] = []
        app.on_commit = lambda h, b, r, t: results.append(r)
        for height in range(1, len(longest.hashes)):
            block, certificate = longest.blocks[height], longest.certificates[height]
            assert certificate is not None
            assert verify_certificate(certificate, app.validator_set(height)), (
                f"{where}: certificate of height {height} fails the replayed validator set"
            )
            reason = app.check(height, block)
            assert reason == 0, f"{where}: validity: block {height} fails check ({reason})"
            app.commit(height, block, longest.hashes[height], certificate)
            applied = results[-1]
            for record in applied.evidence:
                recorded[record.offence] += 1
                assert record.offender not in result.honest_nodes, (
                    f"{where}: height {height} records {record.kind.name} against honest "
                    f"{record.offender}"
                )
            minted += applied.reward
            for tx in Block.decode(block, max_bytes=1 << 24).transactions:
                if tx.family == "coin" and tx.payload.get("op") in ("deposit", "withdraw"):
                    amount = tx.payload["amount"]
                    assert isinstance(amount, int)
                    minted += amount if tx.payload["op"] == "deposit" else -amount
            supply = total_supply(app.state)
            assert supply == coin_issued(app.state) == minted, (
                f"{where}: coin conservation at height {height}: supply {supply}, issued "
                f"{coin_issued(app.state)}, genesis + deposits − withdrawals + rewards {minted}"
            )
            for node in result.honest_nodes:
                assert node in app.validator_set(height + 1), (
                    f"{where}: honest {node} is not a validator at height {height + 1}"
                )
            for key, evidence in result.detected.items():
                if key[2] == height:
                    problem = app.verify_offence(evidence)
                    assert problem is None, f"{where}: detected {key[0].name}: {problem}"
        for key, evidence in result.detected.items():
            offence = (evidence.offender, int(evidence.kind), evidence.height)
            count = recorded[(*offence, offence_subject(evidence))]
            assert count == 1, (
                f"{where}: offence {key[0].name} by {key[1]} at height {key[2]} recorded "
                f"{count} times"
            )

    return replay


def check_chain_invariants(result: PoolResult, run: ChainRun) -> None:
    """The pool's invariants with the real chain's replay, plus the module docstring's.

    Raises:
        AssertionError: Naming the seed, the scenario, the property and the height.
    """
    where = f"seed {result.seed} ({result.description})"
    check_invariants(result, replay=_replay(run))
    assert not run.replay_mismatches, (
        f"{where}: a restart replayed to another state or table: {run.replay_mismatches[0]}"
    )
    honest = [m.index for m in result.members if m.honest]
    for height in range(1, max(len(run.logs[i]) for i in honest) + 1):
        seen = {run.logs[i][height] for i in honest if height in run.logs[i]}
        assert len(seen) <= 1, (
            f"{where}: honest nodes differ in state root or reputation table at height {height}"
        )


def run_chain_seed(seed: int, *, n: int = 4, until_height: int = 3) -> tuple[PoolResult, ChainRun]:
    """One seed on the real chain: a rotating Byzantine kind, random faults, the workload."""
    kinds = list(CHAIN_BYZANTINE_KINDS)
    kind = kinds[seed % len(kinds)]
    rng = SplitMix(seed ^ 0xC4A1)
    bad = rng.below(n)
    twins = (bad,) if kind == "twins" else ()
    byzantine = {} if kind in ("none", "twins") else {bad: CHAIN_BYZANTINE_KINDS[kind]()}
    honest = [i for i in range(n) if i not in byzantine and i not in twins]
    faults = Faults.random(rng, n, honest)
    setup, run = chain_setup(n)
    pool = ValidatorPool(
        n,
        seed,
        byzantine=byzantine,
        twins=twins,
        faults=faults,
        txs=workload(run.net),
        setup=setup,
        description=f"chain; byzantine {kind} at {setup.nodes[bad]}; {faults.describe()}",
    )
    return pool.run(until_height, until_ms=20_000), run


def main(argv: Sequence[str] | None = None) -> int:
    """Soak on the real chain: run seeds and check every invariant; returns the failure count."""
    parser = argparse.ArgumentParser(description="Seeded real-chain consensus simulations.")
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--heights", type=int, default=3)
    args = parser.parse_args(argv)

    def check_seed(seed: int) -> None:
        check_chain_invariants(*run_chain_seed(seed, until_height=args.heights))

    return 1 if soak(range(args.first, args.first + args.seeds), check_seed) else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Consensus benchmark on the real chain: committed signed transactions/s, latency, allocations/s.

A fault-free pool of 4 edge validators of a :func:`ledger.genesis.dev_network`, each running a
:class:`ledger.chain_app.ChainApp` over its own in-memory store, in the deterministic simulator
(no broker, 1-2 ms virtual link delay, 10 ms block interval), all in this one process: a
wall-clock figure is the cost of *four* nodes. Every validator admits every client transaction
into its own mempool itself (decode, signature verified with ``ledger.crypto``), then the
leader builds each block, every validator checks it (a dry-run ``apply_block``) and commits it
(store write, state, reputation table).

Workload (issue 4): signed coin transfers from up to 1,000 distinct users (one transaction per
user per block, so nonces never serialise a block) at 1, 100 and 1,000 transactions per block;
then bulk payments (a user pays beam controllers through an edge) carrying 1,000 and 10,000
allocations each. A closed-loop client submits one block's worth of transactions to all four
validators at the start and again whenever the first validator commits a block, so every
block is full and a transaction's latency is from its submission to the last validator
committing it (wall milliseconds, and virtual milliseconds: link delays and the block
interval only). Throughput is transactions (allocations) committed by all four validators per
wall second of the run, admission at all four included.

Prints a table with the issue's targets; asserts nothing about time (only that every
submitted transaction was committed). ``--profile`` adds a cProfile of the 1,000-per-block
transfer run. Run with ``make bench`` or ``python bench/consensus_chain.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.console import Console
from rich.table import Table

from ledger.block import Block
from ledger.chain import ApplyResult
from ledger.chain_app import ChainApp
from ledger.consensus.app import ConsensusParams
from ledger.consensus.events import Action, CommitBlock, TransactionSubmitted
from ledger.consensus.pool import Faults, PoolSetup, ValidatorPool
from ledger.families.coin import Allocation, PaymentPayload, TransferPayload
from ledger.genesis import DevNetwork, dev_network, genesis_hash
from ledger.identity import Role
from ledger.params import ChainParams
from ledger.reputation import ReputationTable
from ledger.store_memory import MemoryStore

USERS = 1_000
BEAMS = 16
VALIDATORS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One benchmark row: ``blocks`` full blocks of ``per_block`` transactions.

    Attributes:
        label: What the row measures.
        per_block: Transactions per block (the chain's ``max_block_txs``).
        blocks: Blocks (batches) submitted.
        allocations: Allocations per bulk payment; 0 for single transfers.
        target: The issue's target for the row, as printed.
    """

    label: str
    per_block: int
    blocks: int
    allocations: int = 0
    target: str = ""


CASES = (
    Case(label="transfers", per_block=1, blocks=40),
    Case(label="transfers", per_block=100, blocks=12),
    Case(label="transfers", per_block=1_000, blocks=6, target="≥ 2,000"),
    Case(label="bulk", per_block=10, blocks=5, allocations=1_000, target="≥ 50,000"),
    Case(label="bulk", per_block=2, blocks=3, allocations=10_000, target="≥ 50,000"),
)


@lru_cache(maxsize=1)
def _network() -> DevNetwork:
    """4 edges, 16 beams, 1,000 users (signing their certificates is the slow part: cached)."""
    return dev_network(seed=b"satedge-bench-chain", edges=VALIDATORS, beams=BEAMS, users=USERS)


def network(per_block: int) -> DevNetwork:
    """The dev network with simulator timeouts and ``per_block`` transactions per block."""
    net = _network()
    params = ChainParams.default(
        pow_difficulty=16,
        propose_timeout_ms=80,
        vote_timeout_ms=40,
        commit_timeout_ms=10,
        timeout_delta_ms=20,
        max_block_txs=per_block,
        max_block_bytes=16 << 20,
    )
    return dataclasses.replace(net, genesis=dataclasses.replace(net.genesis, params=params))


def batches(net: DevNetwork, case: Case) -> list[list[tuple[bytes, bytes]]]:
    """Per block, the signed transactions (hash, raw bytes): user ``i`` sends slot ``i``."""
    users = net.nodes(Role.USER)
    edges = net.nodes(Role.EDGE)
    beams = [net.address(b) for b in net.nodes(Role.BEAM)]
    bulk = tuple(
        Allocation(recipient=beams[j % len(beams)], amount=1, resource=f"ch-{j % 64}")
        for j in range(case.allocations)
    )
    out: list[list[tuple[bytes, bytes]]] = []
    for nonce in range(case.blocks):
        batch = []
        for slot in range(case.per_block):
            payload: TransferPayload | PaymentPayload
            if case.allocations:
                payload = PaymentPayload(
                    op="payment", edge=edges[slot % len(edges)], allocations=bulk
                )
            else:
                recipient = net.address(users[(slot + 1) % len(users)])
                payload = TransferPayload(
                    op="transfer",
                    allocations=(Allocation(recipient=recipient, amount=1 + nonce, resource=None),),
                )
            tx = net.transaction(users[slot], nonce=nonce, family="coin", payload=payload)
            batch.append((tx.tx_hash, tx.raw))
        out.append(batch)
    return out


class ClosedLoopPool(ValidatorPool):
    """A pool fed one batch per block: the next batch when the first member commits a block.

    Notes the wall and virtual time of every submission and of every member's commits, and
    which transactions each height committed; done when every member committed every batch.
    """

    def __init__(self, setup: PoolSetup, feed: list[list[tuple[bytes, bytes]]]) -> None:
        super().__init__(
            VALIDATORS,
            2024,
            faults=Faults(min_delay_ms=1, max_delay_ms=2),
            txs=[raw for _, raw in feed[0]],
            check_signing=False,
            setup=setup,
        )
        self.feed = feed
        self.total = sum(len(batch) for batch in feed)
        self.submitted: list[tuple[float, int]] = [(0.0, 0)]
        self.commit_wall: dict[tuple[int, int], float] = {}
        self.commit_virtual: dict[tuple[int, int], int] = {}
        self.heights: dict[int, tuple[bytes, ...]] = {}
        self.committed = [0] * VALIDATORS
        self.finished = 0.0

    def observe(self, member: int, height: int, result: ApplyResult) -> None:
        """``ChainApp.on_commit`` of member ``member``: count and remember its transactions."""
        self.committed[member] += len(result.tx_hashes)
        self.heights.setdefault(height, result.tx_hashes)

    def run_timed(self) -> float:
        """Run until every batch is committed by every member; the wall seconds taken.

        The clock stops at the last commit, before the pool gathers its result (which decodes
        every stored block again, bookkeeping no node does).
        """
        started = time.perf_counter()
        self.submitted[0] = (started, 0)
        self.run(10**9, until_ms=10**9)
        return self.finished - started

    def _execute(self, member: Any, actions: list[Action]) -> bool:
        committed = super()._execute(member, actions)
        for action in actions:
            if not isinstance(action, CommitBlock):
                continue
            height = action.height
            self.commit_wall[(member.index, height)] = time.perf_counter()
            self.commit_virtual[(member.index, height)] = self.now_ms
            first = all(
                (m, height) not in self.commit_wall for m in range(self.n) if m != member.index
            )
            if first and len(self.submitted) < len(self.feed):
                batch = self.feed[len(self.submitted)]
                self.submitted.append((time.perf_counter(), self.now_ms))
                for other in self.members:
                    for _, raw in batch:
                        self._handle(other, TransactionSubmitted(tx=raw, now_ms=self.now_ms))
        return committed

    def _done(self, until_height: int) -> bool:
        if min(self.committed) < self.total:
            return False
        self.finished = self.finished or time.perf_counter()
        return True

    def latencies(self) -> tuple[list[float], list[float]]:
        """Per committed transaction: (wall ms, virtual ms) from submission to the last commit."""
        batch_of = {tx_hash: b for b, batch in enumerate(self.feed) for tx_hash, _ in batch}
        wall: list[float] = []
        virtual: list[float] = []
        for height, tx_hashes in self.heights.items():
            done_wall = max(self.commit_wall[(m, height)] for m in range(self.n))
            done_virtual = max(self.commit_virtual[(m, height)] for m in range(self.n))
            for tx_hash in tx_hashes:
                at_wall, at_virtual = self.submitted[batch_of[tx_hash]]
                wall.append((done_wall - at_wall) * 1000)
                virtual.append(float(done_virtual - at_virtual))
        return wall, virtual


def chain_pool(net: DevNetwork, feed: list[list[tuple[bytes, bytes]]]) -> ClosedLoopPool:
    """The 4 edge validators of ``net`` over fresh ``ChainApp`` s, fed ``feed``."""
    nodes = tuple(net.nodes(Role.EDGE))
    pools: list[ClosedLoopPool] = []

    def app(index: int) -> ChainApp:
        def observe(height: int, block: Block, result: ApplyResult, table: ReputationTable) -> None:
            pools[0].observe(index, height, result)

        node = nodes[index]
        key = net.keys[node]
        return ChainApp.open(MemoryStore(), net.genesis, node=node, key=key, on_commit=observe)

    apps = [app(i) for i in range(len(nodes))]
    setup = PoolSetup(
        nodes=nodes,
        keys=tuple(net.keys[node] for node in nodes),
        genesis_hash=genesis_hash(net.genesis),
        validators=apps[0].validator_set(1),
        make_app=lambda index: apps[index],
        params=ConsensusParams.from_chain(net.genesis.params, rebroadcast_ms=250, pow_attempts=32),
    )
    pools.append(ClosedLoopPool(setup, feed))
    return pools[0]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_case(case: Case, *, profile: bool = False) -> dict[str, float]:
    """Run one case; throughput, latencies and the block count of the committed chain."""
    net = network(case.per_block)
    pool = chain_pool(net, batches(net, case))
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    seconds = pool.run_timed()
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    assert min(pool.committed) == pool.total, (
        f"{case.label} at {case.per_block}/block: committed {pool.committed} of {pool.total}"
    )
    wall, virtual = pool.latencies()
    units = pool.total * max(1, case.allocations)
    return {
        "txs": pool.total,
        "units": units,
        "blocks": max(pool.heights),
        "seconds": seconds,
        "rate": units / seconds,
        "tps": pool.total / seconds,
        "p50": statistics.median(wall),
        "p99": percentile(wall, 0.99),
        "v50": statistics.median(virtual),
        "v99": percentile(virtual, 0.99),
    }


def main() -> None:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", action="store_true", help="cProfile the 1,000/block run")
    args = parser.parse_args()
    console = Console(width=120)
    table = Table(
        title="consensus on the real chain: 4 ChainApp validators, one process, simulator",
        caption="committed/s: transactions (bulk rows: allocations) committed by all 4 per wall "
        "second; "
        "wall/virtual ms: commit latency, submission → the last validator's commit",
    )
    for column in (
        "workload",
        "tx/block",
        "blocks",
        "txs",
        "wall s",
        "committed/s",
        "wall ms\np50 / p99",
        "virtual ms\np50 / p99",
        "target",
    ):
        left = column in ("workload", "target")
        table.add_column(column, justify="left" if left else "right", no_wrap=column != "latency")
    for case in CASES:
        row = run_case(case, profile=args.profile and case.per_block == 1_000)
        label = case.label
        if case.allocations:
            label = f"{case.label} ×{case.allocations:,}/tx"
        table.add_row(
            label,
            f"{case.per_block:,}",
            f"{row['blocks']:.0f}",
            f"{row['txs']:,.0f}",
            f"{row['seconds']:.2f}",
            f"{row['rate']:,.0f}",
            f"{row['p50']:,.0f} / {row['p99']:,.0f}",
            f"{row['v50']:.0f} / {row['v99']:.0f}",
            case.target,
        )
    console.print(table)


if __name__ == "__main__":
    main()

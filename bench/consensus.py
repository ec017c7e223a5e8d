"""Consensus benchmark: committed signed transactions per second and commit latency.

A pool of 4 validators in the deterministic simulator (no broker), fault-free, 1-2 ms virtual
link delay, at 1, 100 and 1,000 transactions per block. Each validator verifies every
transaction signature itself (once on admission to its mempool, with ``ledger.crypto.verify``);
all four run serially in this one process, so a wall-clock figure is the cost of *four* nodes.

Reported per row: transactions committed by every validator per wall second (transaction
admission at all four nodes included), and commit latency per block in wall milliseconds
(from the first node committing the previous block to the last node committing this one)
and in virtual milliseconds (network delays and the commit wait only). Prints a table; asserts
nothing about time. Run with ``make bench`` or ``python bench/consensus.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ledger.consensus.events import Action, CommitBlock
from ledger.consensus.pool import SIM_PARAMS, Faults, ValidatorPool
from ledger.consensus.toyapp import make_tx
from ledger.crypto import PrivateKey

CASES = ((1, 60), (100, 20), (1000, 8))
"""(transactions per block, blocks)."""


class TimedPool(ValidatorPool):
    """A pool that notes the wall time of every commit."""

    wall: dict[tuple[int, int], float]

    def _execute(self, member: Any, actions: list[Action]) -> bool:
        for action in actions:
            if isinstance(action, CommitBlock):
                self.wall[(member.index, action.height)] = time.perf_counter()
        return super()._execute(member, actions)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_case(per_block: int, blocks: int) -> dict[str, float]:
    clients = [PrivateKey.from_seed(f"bench-client-{i}".encode()) for i in range(16)]
    txs = [make_tx(clients[i % 16], i, 1 + i % 7) for i in range(per_block * blocks)]
    params = dataclasses.replace(SIM_PARAMS, timeout_commit_ms=10)
    pool = TimedPool(
        4,
        2024,
        faults=Faults(min_delay_ms=1, max_delay_ms=2),
        params=params,
        txs=txs,
        max_txs=per_block,
        check_signing=False,
    )
    pool.wall = {}
    started = time.perf_counter()
    result = pool.run(blocks, until_ms=10_000_000)
    elapsed = time.perf_counter() - started
    assert result.reached, f"{per_block} tx/block: the pool did not reach height {blocks}"
    committed = min(len(m.app.tx_height) for m in pool.members)
    latency_wall: list[float] = []
    latency_virtual: list[float] = []
    for height in range(2, blocks + 1):
        first_prev = min(pool.wall[(i, height - 1)] for i in range(4))
        last = max(pool.wall[(i, height)] for i in range(4))
        latency_wall.append((last - first_prev) * 1000)
        prev_ms = min(m.commit_times_ms[height - 2] for m in result.members)
        this_ms = max(m.commit_times_ms[height - 1] for m in result.members)
        latency_virtual.append(this_ms - prev_ms)
    return {
        "txs": committed,
        "tps": committed / elapsed,
        "p50": statistics.median(latency_wall),
        "p99": percentile(latency_wall, 0.99),
        "v50": statistics.median(latency_virtual),
        "v99": percentile(latency_virtual, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    table = Table(title="consensus: 4 validators, simulator, every validator verifies every tx")
    for column in (
        "tx/block",
        "txs committed",
        "committed tx/s (wall)",
        "latency p50 ms (wall)",
        "latency p99 ms (wall)",
        "latency p50 / p99 ms (virtual)",
    ):
        table.add_column(column, justify="right")
    for per_block, blocks in CASES:
        row = run_case(per_block, blocks)
        table.add_row(
            f"{per_block:,}",
            f"{row['txs']:,.0f}",
            f"{row['tps']:,.0f}",
            f"{row['p50']:.1f}",
            f"{row['p99']:.1f}",
            f"{row['v50']:.0f} / {row['v99']:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()

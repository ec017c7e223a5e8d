"""Ledger benchmark: signatures, admission, the state transition and bulk allocations, one core.

Targets (issue 4, item 11): ≥ 20,000 transactions/s through the state transition with signatures
verified once at admission (not in the loop), and ≥ 50,000 bulk allocations/s. Also measured:
signature checks/s, admissions/s (decode + signature + address), whole blocks/s through
``apply_block`` (mempool-admitted transactions, state root and write set included). Prints a
table; asserts nothing about time. Run with ``make bench`` or ``python bench/ledger_core.py``
(not named ``bench/ledger.py``: a script of that name would shadow the ``ledger`` package).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.console import Console
from rich.table import Table

from ledger.block import ChainTip
from ledger.chain import apply_block, apply_transaction, block_context, build_block
from ledger.crypto import PrivateKey, verify
from ledger.encoding import sha256
from ledger.families import FamilyRegistry, builtin_registry
from ledger.families.registry import BlockContext
from ledger.genesis import DevNetwork, dev_network, genesis_state, genesis_tip
from ledger.identity import Role
from ledger.state import State
from ledger.transactions import AdmittedTransaction, admit


def apply_all(
    state: State, txs: list[AdmittedTransaction], ctx: BlockContext, registry: FamilyRegistry
) -> None:
    for tx in txs:
        apply_transaction(state, tx, ctx, registry=registry)


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def transfers(net: DevNetwork, n: int) -> list[bytes]:
    users = net.nodes(Role.USER)
    out = []
    for i in range(n):
        sender, recipient = users[i % len(users)], users[(i + 1) % len(users)]
        payload = {
            "op": "transfer",
            "allocations": [
                {"recipient": net.address(recipient).hex(), "amount": 1, "resource": None}
            ],
        }
        out.append(
            net.transaction(sender, nonce=i // len(users), family="coin", payload=payload).raw
        )
    return out


RECIPIENTS = [PrivateKey.from_seed(i.to_bytes(4, "big")).address.hex() for i in range(1024)]


def bulk(net: DevNetwork, n_allocations: int, nonce: int) -> AdmittedTransaction:
    recipients = RECIPIENTS
    allocations = [
        {"recipient": recipients[i % len(recipients)], "amount": 1, "resource": f"ch-{i % 64}"}
        for i in range(n_allocations)
    ]
    return net.transaction(
        "user-00",
        nonce=nonce,
        family="coin",
        payload={"op": "transfer", "allocations": allocations},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    args = parser.parse_args()
    n = args.transactions
    console = Console()
    table = Table(title="ledger state transition, one core")
    for column in ("what", "count", "seconds", "per second", "target"):
        table.add_column(column, justify="right" if column != "what" else "left")

    net = dev_network(users=256, params=None)
    chain_id = net.genesis.chain_id
    params = net.genesis.params.replace(max_block_txs=max(n, 5_000), max_block_bytes=64 << 20)
    registry = builtin_registry()

    key = PrivateKey.from_seed(b"bench")
    digests = [sha256(i.to_bytes(4, "big")) for i in range(2_000)]
    signatures = [key.sign(d) for d in digests]
    seconds = timed(
        lambda: [verify(key.public_key, d, s) for d, s in zip(digests, signatures, strict=True)]
    )
    table.add_row(
        "signature verify",
        f"{len(digests):,}",
        f"{seconds:.3f}",
        f"{len(digests) / seconds:,.0f}",
        "",
    )

    raws = transfers(net, n)
    admitted: list[AdmittedTransaction] = []
    seconds = timed(
        lambda: admitted.extend(
            admit(r, chain_id=chain_id, max_bytes=params.max_tx_bytes) for r in raws
        )
    )
    table.add_row(
        "admit (decode + signature)", f"{n:,}", f"{seconds:.3f}", f"{n / seconds:,.0f}", ""
    )

    state = genesis_state(net.genesis)
    ctx = block_context(state, height=1, timestamp_ms=1, leader="edge-00", params=params)
    seconds = timed(partial(apply_all, state, admitted, ctx, registry))
    table.add_row(
        "apply_transaction (transfer)",
        f"{n:,}",
        f"{seconds:.3f}",
        f"{n / seconds:,.0f}",
        "≥ 20,000",
    )
    seconds = timed(state.state_root)
    table.add_row("  + state root of that block", "1", f"{seconds:.3f}", "", "")

    state = genesis_state(net.genesis)
    tip: ChainTip = genesis_tip(net.genesis)
    built = build_block(
        state,
        admitted,
        parent=tip,
        leader="edge-00",
        round=0,
        timestamp_ms=1,
        pow_nonce=0,
        challenge=bytes(32),
        params=params,
        registry=registry,
    )
    cache = {t.tx_hash: t for t in admitted}
    seconds = timed(
        lambda: apply_block(
            state, built.block, parent=tip, params=params, registry=registry, admitted=cache
        )
    )
    count = len(built.block.transactions)
    table.add_row(
        "apply_block (admitted, root, write set)",
        f"{count:,}",
        f"{seconds:.3f}",
        f"{count / seconds:,.0f}",
        "",
    )

    for size in (1, 100, 10_000, 50_000):
        state = genesis_state(net.genesis)
        ctx = block_context(state, height=1, timestamp_ms=1, leader="edge-00", params=params)
        repeats = max(1, 20_000 // size)
        txs = [bulk(net, size, nonce) for nonce in range(repeats)]
        seconds = timed(partial(apply_all, state, txs, ctx, registry))
        total = size * repeats
        table.add_row(
            f"bulk allocations, {size:,} per tx",
            f"{total:,}",
            f"{seconds:.3f}",
            f"{total / seconds:,.0f}",
            "≥ 50,000",
        )
    console.print(table)


if __name__ == "__main__":
    main()

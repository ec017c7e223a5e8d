"""A deterministic simulator of a validator pool, with faults, Byzantine members and invariants.

``ValidatorPool(n, seed, ...)`` runs ``n`` :class:`ConsensusMachine` s (each over its own
application: a :class:`~ledger.consensus.toyapp.ToyApp` by default, or whatever a
:class:`PoolSetup` makes, e.g. the real chain of :mod:`ledger.consensus.chainpool`) on one
virtual clock in integer milliseconds, and delivers every action between them under a scheduler
seeded by ``seed`` (plenum
``sim_network.py``, h11 ``tests/helpers.py``): random delay (hence reordering), loss,
duplication and partitions, all of which stop at ``Faults.heal_ms`` (Tendermint's GST). Members
can be Byzantine through the hooks of :mod:`.hooks`, or Twins (a second machine with the same
id and key); honest members can be restarted, keeping only what ``SimApp.restarted`` keeps
(the disk: the toy app as it is, a ``ChainApp`` reopened from its store) and the payloads of
their ``PersistVote`` actions.

:func:`check_invariants` then asserts, naming the seed and the height: agreement, validity
(the agreed chain replays in a fresh app), contiguous chains, certificate soundness (> 2/3 of
the weight, each signer once, valid signatures and watermarks), no double signing by an honest
node (also across restarts), liveness after the network heals, every offence an honest node
detected recorded on chain exactly once, and no evidence against an honest node.

Randomness is a SplitMix64 generator seeded with ``seed`` (floor 1 may not import ``random``).
Entry point: ``python -m ledger.consensus.pool --seeds 10000`` (``make soak``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ledger.consensus.driver import ValidatorPool
from ledger.consensus.faults import BYZANTINE_KINDS, Faults, Partition, SplitMix
from ledger.consensus.invariants import Replay, check_invariants
from ledger.consensus.simsetup import (
    SIM_PARAMS,
    MemberResult,
    PoolResult,
    PoolSetup,
    SimApp,
    toy_setup,
)
from ledger.consensus.soak import soak
from ledger.consensus.toyapp import make_tx
from ledger.crypto import PrivateKey

__all__ = [
    "BYZANTINE_KINDS",
    "SIM_PARAMS",
    "Faults",
    "MemberResult",
    "Partition",
    "PoolResult",
    "PoolSetup",
    "Replay",
    "SimApp",
    "SplitMix",
    "ValidatorPool",
    "check_invariants",
    "main",
    "run_seed",
    "toy_setup",
]


def run_seed(seed: int, *, n: int = 4, until_height: int = 3) -> PoolResult:
    """The CI/soak scenario of one seed: a rotating Byzantine kind and random faults."""
    kinds = list(BYZANTINE_KINDS)
    kind = kinds[seed % len(kinds)]
    rng = SplitMix(seed ^ 0x5A7ED6E)
    bad = rng.below(n)
    twins = (bad,) if kind == "twins" else ()
    byzantine = {} if kind in ("none", "twins") else {bad: BYZANTINE_KINDS[kind]()}
    honest = [i for i in range(n) if i not in byzantine and i not in twins]
    faults = Faults.random(rng, n, honest)
    clients = [PrivateKey.from_seed(f"pool-client-{i}".encode()) for i in range(2)]
    txs = [make_tx(clients[i % 2], i, 1 + i) for i in range(2 * until_height)]
    pool = ValidatorPool(
        n,
        seed,
        byzantine=byzantine,
        twins=twins,
        faults=faults,
        txs=txs,
        max_txs=2,
        description=f"byzantine {kind} at v{bad}; {faults.describe()}",
    )
    return pool.run(until_height)


def main(argv: Sequence[str] | None = None) -> int:
    """Soak: run many seeds and check every invariant; prints failures, returns their count."""
    parser = argparse.ArgumentParser(description="Seeded consensus simulations with faults.")
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--heights", type=int, default=3)
    args = parser.parse_args(argv)

    def check_seed(seed: int) -> None:
        check_invariants(run_seed(seed, n=args.validators, until_height=args.heights))

    return 1 if soak(range(args.first, args.first + args.seeds), check_seed) else 0


if __name__ == "__main__":
    raise SystemExit(main())

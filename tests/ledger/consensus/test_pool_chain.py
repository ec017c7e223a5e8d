"""The pool on the real chain: edge validators over ChainApps, faults, Byzantine members."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.consensus.chainpool import (
    CHAIN_BYZANTINE_KINDS,
    chain_setup,
    check_chain_invariants,
    run_chain_seed,
    workload,
)
from ledger.consensus.pool import Faults, ValidatorPool
from ledger.evidence_kinds import EvidenceKind

CI_SEEDS = 30
SLOW_SEEDS = 300


@pytest.mark.parametrize("seed", range(CI_SEEDS), ids=lambda s: f"seed={s}")
def test_real_chain_run_keeps_every_invariant(seed: int) -> None:
    check_chain_invariants(*run_chain_seed(seed))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(CI_SEEDS, SLOW_SEEDS), ids=lambda s: f"seed={s}")
def test_real_chain_soak(seed: int) -> None:
    check_chain_invariants(*run_chain_seed(seed))


def test_every_chain_byzantine_kind_is_in_the_ci_rotation() -> None:
    kinds = {list(CHAIN_BYZANTINE_KINDS)[s % len(CHAIN_BYZANTINE_KINDS)] for s in range(CI_SEEDS)}
    assert kinds == set(CHAIN_BYZANTINE_KINDS)


def test_offences_reach_the_chain_and_the_workload_is_committed() -> None:
    result, run = run_chain_seed(1)  # equivocation
    check_chain_invariants(result, run)
    assert {k[0] for k in result.detected} == {EvidenceKind.EQUIVOCATION}
    honest = next(m for m in result.members if m.honest)
    assert len(honest.hashes) - 1 >= 3
    setup, run = chain_setup()
    pool = ValidatorPool(4, 5, faults=Faults(max_delay_ms=3), txs=workload(run.net), setup=setup)
    result = pool.run(6)
    check_chain_invariants(result, run)
    apps = [m.app for m in pool.members]
    assert all(len(app.mempool) == 0 for app in apps)  # all 20 transactions committed
    assert len({app.state_root() for app in apps}) == 1


def test_the_checker_catches_diverging_roots_and_replays() -> None:
    result, run = run_chain_seed(0)
    check_chain_invariants(result, run)
    log = run.logs[1]
    log[1] = (bytes(32), log[1][1])
    with pytest.raises(
        AssertionError, match="differ in state root or reputation table at height 1"
    ):
        check_chain_invariants(result, run)
    result, run = run_chain_seed(0)
    run.replay_mismatches.append("member 2 height 1")
    with pytest.raises(AssertionError, match="restart replayed"):
        check_chain_invariants(result, run)


def test_the_checker_catches_an_invalid_committed_block() -> None:
    result, run = run_chain_seed(0)
    longest = max(result.members, key=lambda m: len(m.hashes))
    broken = dataclasses.replace(longest, blocks=(*longest.blocks[:2], b"{}", *longest.blocks[3:]))
    members = tuple(broken if m is longest else m for m in result.members)
    with pytest.raises(AssertionError, match="block 2 fails check"):
        check_chain_invariants(dataclasses.replace(result, members=members), run)

"""Seeded pool simulations: every invariant over 500 seeds in CI, 10,000 in the soak."""

from __future__ import annotations

import pytest

from ledger.consensus.pool import (
    BYZANTINE_KINDS,
    Faults,
    Partition,
    SplitMix,
    ValidatorPool,
    check_invariants,
    main,
    run_seed,
)

CI_SEEDS = 500


@pytest.mark.parametrize("seed", range(CI_SEEDS), ids=lambda s: f"seed={s}")
def test_seeded_run_keeps_every_invariant(seed: int) -> None:
    check_invariants(run_seed(seed))


def test_every_byzantine_kind_is_in_the_rotation() -> None:
    kinds = {list(BYZANTINE_KINDS)[s % len(BYZANTINE_KINDS)] for s in range(CI_SEEDS)}
    assert kinds == set(BYZANTINE_KINDS)


def test_a_seed_replays_identically() -> None:
    first, second = run_seed(41), run_seed(41)
    assert first.messages == second.messages
    assert [m.hashes for m in first.members] == [m.hashes for m in second.members]


def test_splitmix_is_the_reference_sequence() -> None:
    # First outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
    rng = SplitMix(0)
    assert [rng.next64() for _ in range(2)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_a_healed_partition_of_two_against_two_still_commits() -> None:
    split = Partition(start_ms=0, end_ms=2_000, groups=(frozenset({0, 1}), frozenset({2, 3})))
    pool = ValidatorPool(4, 3, faults=Faults(partitions=(split,), heal_ms=2_000))
    result = pool.run(3)
    check_invariants(result)
    assert min(t for m in result.members for t in m.commit_times_ms) > 2_000


def test_the_invariant_checker_catches_a_broken_run() -> None:
    result = run_seed(0)
    broken = result.members[1]
    forged_hashes = (*broken.hashes[:-1], bytes(32))
    tampered = type(result)(
        **{
            **{f: getattr(result, f) for f in result.__dataclass_fields__},
            "members": (
                result.members[0],
                type(broken)(
                    **{
                        **{f: getattr(broken, f) for f in broken.__dataclass_fields__},
                        "hashes": forged_hashes,
                    }
                ),
                *result.members[2:],
            ),
        }
    )
    with pytest.raises(AssertionError, match=r"seed 0 .*agreement violated"):
        check_invariants(tampered)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_soak_ten_thousand_seeds() -> None:
    assert main(["--seeds", "10000"]) == 0

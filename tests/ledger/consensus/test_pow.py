"""Leader election by PoW: seal check, lowest-hash search, deterministic tie-breaking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.consensus.pow import check, leader_of, pow_hash, solve, target
from ledger.encoding import canonical, sha256

PREV = sha256(b"prev")


def test_pow_hash_is_sha256_of_the_canonical_claim() -> None:
    fields = {"height": 3, "node": "v1", "nonce": 7, "prev_hash": PREV.hex(), "round": 2}
    assert pow_hash(3, 2, PREV, "v1", 7) == sha256(canonical(fields))


def test_solve_returns_the_lowest_valid_hash_in_its_budget() -> None:
    best = solve(5, 0, PREV, "v2", 8, 200)
    assert best is not None
    hashes = [pow_hash(5, 0, PREV, "v2", n) for n in range(200)]
    valid = [h for h in hashes if int.from_bytes(h, "big") < target(8)]
    assert best.hash == min(valid)
    assert check(5, 0, PREV, "v2", best.nonce, 8) == best.hash


def test_more_attempts_never_find_a_worse_hash() -> None:
    few = solve(1, 0, PREV, "v0", 4, 10)
    many = solve(1, 0, PREV, "v0", 4, 1000)
    assert few is not None and many is not None
    assert many.hash <= few.hash


def test_check_rejects_a_hash_above_the_target() -> None:
    nonce = next(
        n
        for n in range(1000)
        if int.from_bytes(pow_hash(1, 0, PREV, "v0", n), "big") >= target(256)
    )
    assert check(1, 0, PREV, "v0", nonce, 256) is None


def test_impossible_difficulty_finds_nothing() -> None:
    assert solve(1, 0, PREV, "v0", 1 << 257, 50) is None  # target 0
    with pytest.raises(ValueError, match="difficulty coefficient"):
        target(0)


def test_target_is_two_to_the_256_over_the_coefficient() -> None:
    assert target(1) == 1 << 256
    assert target(1 << 12) == 1 << 244
    assert target(3) == (1 << 256) // 3
    assert check(1, 0, PREV, "v0", 0, 1) == pow_hash(1, 0, PREV, "v0", 0)  # D = 1: any hash


def test_lowest_hash_wins_and_ties_go_to_the_smaller_id() -> None:
    low, high = bytes(31) + b"\x01", bytes(31) + b"\x02"
    assert leader_of([(high, "v0"), (low, "v9")]) == "v9"
    assert leader_of([(low, "v3"), (low, "v1"), (high, "v0")]) == "v1"
    assert leader_of([]) is None


@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.text(max_size=4)), min_size=1))
def test_leader_does_not_depend_on_arrival_order(claims: list[tuple[bytes, str]]) -> None:
    assert leader_of(claims) == leader_of(reversed(claims)) == leader_of(sorted(claims))

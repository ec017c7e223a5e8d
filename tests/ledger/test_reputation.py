"""The reputation table: eq. (6) by hand, monotonicity, determinism, thresholds and validators."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.encoding import canonical
from ledger.evidence_kinds import Evidence, EvidenceKind, InvalidEvidence, InvalidRating, Rating
from ledger.opinion import ReputationParams
from ledger.reputation import BlockOrderError, NoRating, ReputationTable, validators_at

FULL = 1_000_000
EDGES = ("e0", "e1", "e2")
RATERS = ("u0", "u1", "u2", "e0", "e1", "e2")
Block = tuple[list[Rating], list[Evidence]]


def rating(
    rater: str, ratee: str, pos: int = 0, neg: int = 0, suc: int | None = FULL, h: int = 1
) -> Rating:
    return Rating(rater=rater, ratee=ratee, positive=pos, negative=neg, success_ppm=suc, height=h)


def proof(offender: str, kind: EvidenceKind, h: int, subject: str = "") -> Evidence:
    return Evidence(offender=offender, kind=kind, height=h, reporter=None, subject=subject)


def feed(table: ReputationTable, blocks: Sequence[Block]) -> ReputationTable:
    for ratings, evidence in blocks:
        table.apply_block(table.height + 1, ratings, evidence)
    return table


# -- strategies ----------------------------------------------------------------------------------

PARAMS = [
    ReputationParams(),
    ReputationParams(strict_paper=True),
    ReputationParams(decay=Fraction(9, 10)),
    ReputationParams(decay=Fraction(1, 2), strict_paper=True, phi=Fraction(1, 5)),
    ReputationParams(phi=Fraction(2, 3), threshold=Fraction(1, 2), genesis_trust_milli=0),
]
params_st = st.sampled_from(PARAMS)
sucs = st.one_of(st.none(), st.sampled_from([0, 500_000, 900_000, FULL]), st.integers(0, FULL))


@st.composite
def chains(draw: st.DrawFn, max_blocks: int = 5) -> list[Block]:
    blocks: list[Block] = []
    for h in range(1, draw(st.integers(1, max_blocks)) + 1):
        ratings = []
        for _ in range(draw(st.integers(0, 6))):
            rater = draw(st.sampled_from(RATERS))
            ratee = draw(st.sampled_from([e for e in EDGES if e != rater]))
            ratings.append(
                rating(
                    rater,
                    ratee,
                    draw(st.integers(0, 5)),
                    draw(st.integers(0, 5)),
                    draw(sucs),
                    draw(st.integers(0, h)),
                )
            )
        evidence = [
            proof(
                draw(st.sampled_from(EDGES)),
                draw(st.sampled_from(list(EvidenceKind))),
                draw(st.integers(0, h)),
                draw(st.sampled_from(["", "x"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        ]
        blocks.append((ratings, evidence))
    return blocks


def table_of(params: ReputationParams, blocks: Sequence[Block]) -> ReputationTable:
    return feed(ReputationTable(params, genesis_edges=("e0", "e1")), blocks)


# -- eq. (5)-(6) ---------------------------------------------------------------------------------


def test_eq6_by_hand() -> None:
    # Node "e9" (not certified at genesis: no common counts), default parameters: φ = 1/2,
    # Beta(1,1) prior, a positive interaction weighs 1, a negative one 2.
    table = ReputationTable()
    table.apply_block(
        1,
        [
            rating("a", "e9", pos=3, neg=1, suc=800_000),  # Np = 3, Nn = 2
            rating("b", "e9", suc=None),  # no traffic
            rating("c", "e9", pos=5, suc=FULL),  # Np = 5, Nn = 0
        ],
    )
    # a: (3+1)/(3+2+2) = 4/7 → Tru = 4/5·4/7 = 16/35, Unt = 4/5·3/7 = 12/35, Ind = 1/5;
    #    term = 16/35 + 1/2·1/5 = 39/70.  b: Ind = 1 → term φ = 1/2.  c: Tru = 6/7, Ind = 0.
    assert table.opinion("a", "e9") == (
        table.opinion("a", "e9").__class__(Fraction(16, 35), Fraction(12, 35), Fraction(1, 5))
    )
    assert table.opinion("b", "e9").ind == 1
    assert table.reputation("e9") == Fraction(39, 70) + Fraction(1, 2) + Fraction(6, 7)
    assert table.reputation("e9") == Fraction(67, 35)
    assert table.mean_reputation("e9") == Fraction(67, 105)  # 0.638 ≥ 0.6
    assert table.raters("e9") == 3 and table.eligible("e9")

    strict = ReputationTable(ReputationParams(strict_paper=True))
    strict.apply_block(
        1,
        [
            rating("a", "e9", pos=3, neg=1, suc=800_000),  # 4/5·3/5 + 1/2·1/5 = 29/50
            rating("b", "e9", suc=None),  # 1/2
            rating("c", "e9", pos=5, suc=FULL),  # 5/5 = 1
        ],
    )
    assert strict.reputation("e9") == Fraction(52, 25)
    assert strict.opinion("c", "e9").tru == 1


@given(params_st, chains())
@settings(max_examples=60, deadline=None)
def test_eq6_is_the_sum_of_eq5_terms(params: ReputationParams, blocks: list[Block]) -> None:
    table = table_of(params, blocks)
    for edge in EDGES:
        raters = [r for r in RATERS if r != edge]
        opinions = []
        for rater in raters:
            try:
                opinions.append(table.opinion(rater, edge))
            except NoRating:
                continue
        assert len(opinions) == table.raters(edge)
        rep = sum((w.expected(params.phi) for w in opinions), Fraction(0))
        assert table.reputation(edge) == rep
        mean = table.mean_reputation(edge)
        assert mean == (rep / len(opinions) if opinions else table.chain_opinion(edge).tru)
        assert 0 <= mean <= 1
        # Exact threshold decisions, right at the boundary (exercises the bound fallback).
        tiny = Fraction(1, 10**40)
        assert table.meets(edge, mean)
        assert not table.meets(edge, mean + tiny)
        assert table.meets(edge, mean - tiny)
        assert table.mean_floor(edge, FULL) == mean.numerator * FULL // mean.denominator


# -- genesis, thresholds, validators -------------------------------------------------------------


def test_genesis_edges_are_validators_at_height_one() -> None:
    table = ReputationTable(genesis_edges=("e0", "e1"))
    # Genesis trust 3: (3+1)/(3+2) = 4/5 ≥ 3/5; a newcomer has 1/2 < 3/5.
    assert table.mean_reputation("e0") == Fraction(4, 5)
    assert table.mean_reputation("e7") == Fraction(1, 2)
    assert validators_at(1, ["e7", "e1", "e0", "e1"], table) == ("e0", "e1")
    assert table.chain_opinion("e0").ind == 0


def test_evidence_drops_a_node_below_the_threshold_at_the_next_height() -> None:
    table = ReputationTable(genesis_edges=EDGES)
    table.apply_block(1, [rating("u0", "e1", pos=2), rating("u1", "e1", pos=1, suc=900_000)])
    assert validators_at(2, EDGES, table) == EDGES
    before = table.mean_reputation("e1")
    # u0: Np = 2+3, Nn = 0 → 6/7; u1: Np = 1+3 → 9/10·5/6 + 1/2·1/10 = 4/5; mean = 0.83.
    assert before == (Fraction(6, 7) + Fraction(4, 5)) / 2
    table.apply_block(2, [], [proof("e1", EvidenceKind.INVALID_BLOCK, 2)])
    # The invalid block adds 5 to Nn as every rater sees it: u0 6/12, u1 9/10·5/11 + 1/20.
    assert table.mean_reputation("e1") == (Fraction(1, 2) + Fraction(9, 22) + Fraction(1, 20)) / 2
    assert not table.eligible("e1") and not table.suspended("e1")
    assert validators_at(3, EDGES, table) == ("e0", "e2")
    # Good conduct earns the place back.
    table.apply_block(3, [rating("u0", "e1", pos=20)])
    assert validators_at(4, EDGES, table) == EDGES


def test_equivocation_suspends_whatever_the_reputation() -> None:
    table = ReputationTable(genesis_edges=EDGES)
    table.apply_block(1, [rating("u0", "e2", pos=200)])
    table.apply_block(2, [], [proof("e2", EvidenceKind.EQUIVOCATION, 1, "vote-pair")])
    assert table.mean_reputation("e2") > Fraction(9, 10)  # (200+3+1)/(200+3+10+2)
    assert table.suspended("e2") and not table.eligible("e2")
    assert validators_at(3, EDGES, table) == ("e0", "e1")
    for height in range(3, 100):
        table.apply_block(height, [rating("u0", "e2", pos=100)])
    assert validators_at(100, EDGES, table) == ("e0", "e1")  # for good by default


def test_suspension_can_be_limited() -> None:
    table = ReputationTable(ReputationParams(suspension_blocks=3), genesis_edges=EDGES)
    table.apply_block(1, [], [proof("e0", EvidenceKind.EQUIVOCATION, 1)])
    heights_out = []
    for height in range(2, 8):
        if "e0" not in validators_at(height, EDGES, table):
            heights_out.append(height)
        table.apply_block(height)
    # Recorded at height 1: out of the validator sets of heights 2, 3, 4 and back at 5; the
    # equivocation's weight (10) alone keeps an unrated node below 3/5 though: (3+1)/(3+10+2).
    assert table.mean_reputation("e0") == Fraction(4, 15)
    assert heights_out == [2, 3, 4, 5, 6, 7]
    table2 = ReputationTable(
        ReputationParams(suspension_blocks=3, threshold=Fraction(1, 5)), genesis_edges=EDGES
    )
    table2.apply_block(1, [], [proof("e0", EvidenceKind.EQUIVOCATION, 1)])
    out = []
    for height in range(2, 8):
        out.append("e0" in validators_at(height, EDGES, table2))
        table2.apply_block(height)
    assert out == [False, False, False, True, True, True]


def test_an_offence_weighs_once() -> None:
    base = ReputationTable(genesis_edges=EDGES)
    twice = ReputationTable(genesis_edges=EDGES)
    distinct = ReputationTable(genesis_edges=EDGES)
    same = proof("e1", EvidenceKind.TRADE_FRAUD, 1, "tx-1")
    other_reporter = replace(same, reporter="e2")
    base.apply_block(1, [], [same])
    twice.apply_block(1, [], [same, other_reporter])
    twice.apply_block(2, [], [same])
    base.apply_block(2)
    distinct.apply_block(1, [], [same, replace(same, subject="tx-2")])
    assert twice.snapshot() == base.snapshot()
    assert base.chain_opinion("e1").tru == Fraction(4, 10)  # (3+1)/(3+5+2)
    assert distinct.chain_opinion("e1").tru == Fraction(4, 15)  # (3+1)/(3+10+2)


def test_latest_issued_quality_stands() -> None:
    table = ReputationTable()
    table.apply_block(1, [rating("u0", "e0", suc=600_000, h=1)])
    table.apply_block(2, [rating("u0", "e0", suc=900_000, h=2)])
    table.apply_block(3, [rating("u0", "e0", suc=100_000, h=1)])  # stale report arriving late
    assert table.opinion("u0", "e0").ind == Fraction(1, 10)
    # Same issue height: the lower suc; a known suc before an unknown one.
    table.apply_block(4, [rating("u0", "e0", suc=None, h=4), rating("u0", "e0", suc=700_000, h=4)])
    assert table.opinion("u0", "e0").ind == Fraction(3, 10)
    table.apply_block(
        5, [rating("u0", "e0", suc=800_000, h=5), rating("u0", "e0", suc=750_000, h=5)]
    )
    assert table.opinion("u0", "e0").ind == Fraction(1, 4)
    table.apply_block(6, [rating("u0", "e0", suc=None, h=6)])  # no traffic lately
    assert table.opinion("u0", "e0").ind == 1


def test_decay_by_hand() -> None:
    params = ReputationParams(decay=Fraction(1, 2), genesis_trust_milli=8000)
    table = ReputationTable(params, genesis_edges=["e0"])
    table.apply_block(1, [rating("u0", "e0", pos=3, neg=1)])  # stored 3000, 2000 at height 1
    table.apply_block(2)
    table.apply_block(3, [], [proof("e0", EvidenceKind.FALSE_VERDICT, 3)])  # 2000 at height 3
    # Height 3: Np = ⌊3000/4⌋ + ⌊8000/8⌋ = 750 + 1000, Nn = ⌊2000/4⌋ + 2000 = 2500.
    assert table.opinion("u0", "e0").tru == Fraction(1750 + 1000, 1750 + 2500 + 2000)
    table.apply_block(4, [rating("u0", "e0", pos=1)])  # stored ⌊3000/8⌋ + 1000 = 1375, ⌊2000/8⌋
    for height in range(5, 8):
        table.apply_block(height)
    # Height 7: Np = ⌊1375/8⌋ + ⌊8000/128⌋ = 171 + 62, Nn = ⌊250/8⌋ + ⌊2000/16⌋ = 31 + 125.
    assert table.opinion("u0", "e0").tru == Fraction(233 + 1000, 233 + 156 + 2000)


# -- properties ----------------------------------------------------------------------------------


def _reps(table: ReputationTable) -> dict[str, tuple[Fraction, Fraction]]:
    return {e: (table.reputation(e), table.mean_reputation(e)) for e in EDGES}


@given(params_st, chains(), st.integers(1, 4), st.booleans(), st.data())
@settings(max_examples=80, deadline=None)
def test_monotone_in_counts(
    params: ReputationParams, blocks: list[Block], extra: int, negative: bool, data: st.DataObject
) -> None:
    spots = [(b, r) for b, (ratings, _) in enumerate(blocks) for r in range(len(ratings))]
    if not spots:
        return
    b, r = data.draw(st.sampled_from(spots))
    changed = [(list(ratings), list(evidence)) for ratings, evidence in blocks]
    old = changed[b][0][r]
    if negative:
        changed[b][0][r] = replace(old, negative=old.negative + extra)
    else:
        changed[b][0][r] = replace(old, positive=old.positive + extra)
    base, more = _reps(table_of(params, blocks)), _reps(table_of(params, changed))
    for edge in EDGES:
        if edge != old.ratee:
            assert more[edge] == base[edge]
        elif negative:
            assert more[edge][0] <= base[edge][0] and more[edge][1] <= base[edge][1]
        else:
            assert more[edge][0] >= base[edge][0] and more[edge][1] >= base[edge][1]


@given(params_st, chains(), st.sampled_from(EDGES), st.sampled_from(list(EvidenceKind)), st.data())
@settings(max_examples=80, deadline=None)
def test_evidence_never_raises_reputation(
    params: ReputationParams,
    blocks: list[Block],
    offender: str,
    kind: EvidenceKind,
    data: st.DataObject,
) -> None:
    b = data.draw(st.integers(0, len(blocks) - 1))
    changed = [(list(ratings), list(evidence)) for ratings, evidence in blocks]
    changed[b][1].append(proof(offender, kind, b + 1, "extra"))
    base_table, more_table = table_of(params, blocks), table_of(params, changed)
    base, more = _reps(base_table), _reps(more_table)
    for edge in EDGES:
        if edge != offender:
            assert more[edge] == base[edge]
        else:
            assert more[edge][0] <= base[edge][0] and more[edge][1] <= base[edge][1]
            assert more_table.chain_opinion(edge).tru < base_table.chain_opinion(edge).tru or (
                params.evidence_weights_milli[kind] == 0 or base_table.chain_opinion(edge).tru == 0
            )
        assert more_table.eligible(edge) <= base_table.eligible(edge)


@given(params_st, chains(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_same_chain_same_table(params: ReputationParams, blocks: list[Block], rnd: object) -> None:
    one, two = (
        ReputationTable(params, genesis_edges=EDGES),
        ReputationTable(params, genesis_edges=EDGES),
    )
    for ratings, evidence in blocks:
        shuffled_r, shuffled_e = list(ratings), list(evidence)
        rnd.shuffle(shuffled_r)  # type: ignore[attr-defined]
        rnd.shuffle(shuffled_e)  # type: ignore[attr-defined]
        one.apply_block(one.height + 1, ratings, evidence)
        two.apply_block(two.height + 1, shuffled_r, shuffled_e)
        # Query one table in between (caches) and not the other: no difference either.
        validators_at(one.height + 1, EDGES, one)
        assert one.snapshot() == two.snapshot()
    assert canonical(one.snapshot()) == canonical(two.snapshot())
    assert [r.eligible for r in one.rows()] == [r.eligible for r in two.rows()]


def test_snapshot_is_canonical_and_rows_match() -> None:
    table = ReputationTable(genesis_edges=EDGES)
    table.apply_block(
        1,
        [rating("u0", "e0", pos=3, neg=1, suc=800_000), rating("u1", "e0", suc=None)],
        [proof("e2", EvidenceKind.EQUIVOCATION, 1)],
    )
    snapshot = table.snapshot()
    assert canonical(snapshot).startswith(b'{"height":1,"nodes":{"e0":')
    assert snapshot["nodes"]["e2"]["suspended"] is True
    assert snapshot["nodes"]["e0"]["raters"]["u0"] == [3000, 2000, 1, 1, 800_000]  # own counts
    assert snapshot["offences"] == [["e2", 1, 1, ""]]
    rows = {row.node: row for row in table.rows()}
    assert set(rows) == set(EDGES)
    for edge in EDGES:
        assert rows[edge].mean == pytest.approx(float(table.mean_reputation(edge)), rel=1e-12)
        assert rows[edge].eligible == table.eligible(edge)
        assert rows[edge].tru + rows[edge].unt + rows[edge].ind == pytest.approx(1.0)
    assert rows["e0"].rep == pytest.approx(float(table.reputation("e0")))
    assert rows["e0"].ind == pytest.approx(0.6)  # (0.2 + 1)/2
    assert [r.node for r in table.rows(["zz", "e1"])] == ["e1", "zz"]


def test_copy_is_independent() -> None:
    table = ReputationTable(genesis_edges=EDGES)
    kept = table.copy()
    table.apply_block(1, [], [proof("e0", EvidenceKind.INVALID_BLOCK, 1)])
    assert kept.height == 0 and kept.eligible("e0") and not table.eligible("e0")


# -- refusing garbage ----------------------------------------------------------------------------


def test_blocks_apply_in_order_only() -> None:
    table = ReputationTable()
    with pytest.raises(BlockOrderError, match="height 1, got 2"):
        table.apply_block(2)
    table.apply_block(1)
    with pytest.raises(BlockOrderError):
        table.apply_block(1)
    with pytest.raises(BlockOrderError, match="table of height 2, got 1"):
        validators_at(3, EDGES, table)


def test_bad_records_are_refused_and_change_nothing() -> None:
    table = ReputationTable(genesis_edges=EDGES)
    table.apply_block(1, [rating("u0", "e0", pos=1)])
    before = table.snapshot()
    good = rating("u1", "e1", pos=2, h=2)
    with pytest.raises(InvalidRating) as caught:
        table.apply_block(2, [good, rating("u1", "e1", h=3)])  # issued after its block
    assert caught.value.field == "height"
    with pytest.raises(InvalidEvidence) as evidence_error:
        table.apply_block(2, [good], [proof("e1", EvidenceKind.TIMEOUT, 5)])
    assert evidence_error.value.field == "height"
    with pytest.raises(InvalidRating, match="expected a Rating"):
        table.apply_block(2, [good, {"rater": "u1"}])  # type: ignore[list-item]
    with pytest.raises(InvalidEvidence, match="expected Evidence"):
        table.apply_block(2, [], [good])  # type: ignore[list-item]
    assert table.snapshot() == before
    with pytest.raises(NoRating):
        table.opinion("u9", "e0")
    with pytest.raises(ValueError, match="genesis_edges"):
        ReputationTable(genesis_edges=["ok", ""])


# -- performance (printed, not asserted) ---------------------------------------------------------


def _bench(blocks: int, decay: Fraction, n_edges: int = 100, n_users: int = 1000) -> str:
    """Users rate their edge and edges rate each other, each every 10 blocks; some timeouts."""
    edges = [f"edge-{k:03d}" for k in range(n_edges)]
    users = [f"user-{k:04d}" for k in range(n_users)]
    table = ReputationTable(ReputationParams(decay=decay), genesis_edges=edges)

    def noise(*key: int) -> int:
        return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:4], "big")

    apply_s = validators_s = 0.0
    count = 0
    for h in range(1, blocks + 1):
        ratings = [
            rating(
                user,
                edges[u % n_edges],
                noise(u, h) % 4,
                noise(u, h) >> 3 & 1,
                900_000 + noise(u, h) % 100_000,
                h,
            )
            for u, user in enumerate(users)
            if (u + h) % 10 == 0
        ]
        ratings += [
            rating(a, b, 1, int(noise(i, j, h) % 20 == 0), 950_000 + noise(i, j, h) % 50_000, h)
            for i, a in enumerate(edges)
            if (i + h) % 10 == 0
            for j, b in enumerate(edges)
            if i != j
        ]
        evidence = [proof(edges[h % n_edges], EvidenceKind.TIMEOUT, h)] if h % 25 == 0 else []
        start = time.perf_counter()
        table.apply_block(h, ratings, evidence)
        middle = time.perf_counter()
        chosen = validators_at(h + 1, edges, table)
        apply_s += middle - start
        validators_s += time.perf_counter() - middle
        count += len(ratings)
    return (
        f"{n_edges} edges × {n_users} users, {blocks} blocks, λ = {decay}: "
        f"{count / blocks:.0f} ratings/block, apply_block {apply_s / blocks * 1e3:.2f} ms, "
        f"validators_at {validators_s / blocks * 1e3:.2f} ms per block; |V| = {len(chosen)}"
    )


def test_performance_sanity(capsys: pytest.CaptureFixture[str]) -> None:
    line = _bench(40, Fraction(1))
    with capsys.disabled():
        print(f"\n[reputation] {line}")


@pytest.mark.slow
@pytest.mark.parametrize("decay", [Fraction(1), Fraction(9, 10)])
def test_performance_full(decay: Fraction, capsys: pytest.CaptureFixture[str]) -> None:
    line = _bench(1000, decay)
    with capsys.disabled():
        print(f"\n[reputation] {line}")

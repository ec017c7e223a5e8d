"""Per-node accumulators: cached eq. (6) bounds equal the exact terms, however they were built."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.accumulators import RateeAccumulator, suc_key
from ledger.opinion import SCALE, ReputationParams, contribution

PARAMS = [
    ReputationParams(),
    ReputationParams(strict_paper=True, phi=Fraction(1, 3)),
    ReputationParams(decay=Fraction(9, 10)),
    ReputationParams(decay=Fraction(2, 3), strict_paper=True),
]
events = st.lists(
    st.one_of(
        st.tuples(
            st.just("rating"),
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(0, 7),
            st.integers(0, 7),
            st.one_of(st.none(), st.integers(0, 1_000_000)),
        ),
        st.tuples(st.just("evidence"), st.integers(0, 10_000), st.booleans()),
        st.tuples(st.just("query")),
    ),
    max_size=25,
)


def check_bounds(node: RateeAccumulator, height: int) -> None:
    node.refresh(height)
    common = node.common(height)
    low_sum = inexact_sum = 0
    for pair in node.raters.values():
        num, den = contribution(*node.counts(pair, height, common), pair.success_ppm, node.params)
        low, rest = divmod(num * SCALE, den)
        assert (pair.low, pair.inexact) == (low, int(rest != 0))
        low_sum, inexact_sum = low_sum + low, inexact_sum + int(rest != 0)
    assert (node.low_sum, node.inexact_sum) == (low_sum, inexact_sum)


@given(st.sampled_from(PARAMS), st.integers(0, 5_000), events)
@settings(max_examples=100, deadline=None)
def test_bounds_match_exact_terms(
    params: ReputationParams, genesis: int, history: list[tuple[Any, ...]]
) -> None:
    node = RateeAccumulator(params, genesis)
    height = 0
    for event in history:
        height += 1
        if event[0] == "rating":
            _, rater, positive, negative, suc = event
            node.add_rating(height, rater, positive, negative, suc_key(height, suc))
        elif event[0] == "evidence":
            node.add_evidence(height, event[1], suspend=event[2])
        else:
            check_bounds(node, height)
    check_bounds(node, height)
    copy = node.copy()
    node.fresh_at = None  # force a rebuild: the same bounds as kept incrementally
    check_bounds(node, height)
    assert (copy.low_sum, copy.inexact_sum) == (node.low_sum, node.inexact_sum)
    assert 0 <= node.mean(height) <= 1

"""Eq. (5)-(6) arithmetic: the opinion triple, one rater's term, decay rounding and parameters."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.evidence_kinds import DEFAULT_EVIDENCE_WEIGHTS_MILLI, EvidenceKind
from ledger.opinion import (
    ReputationParamError,
    ReputationParams,
    belief_ratio,
    contribution,
    decayed,
    opinion_of,
)

counts = st.integers(min_value=0, max_value=10**9)
sucs = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000_000))
fractions01 = st.fractions(min_value=0, max_value=1, max_denominator=1000)


@given(counts, counts, sucs, st.booleans())
def test_eq5_opinion_is_a_distribution(
    np_milli: int, nn_milli: int, suc: int | None, strict: bool
) -> None:
    w = opinion_of(np_milli, nn_milli, suc, strict_paper=strict)
    assert w.tru + w.unt + w.ind == 1
    assert all(0 <= x <= 1 for x in (w.tru, w.unt, w.ind))
    # Ind = 1 − suc; unknown suc → Ind = 1.
    assert w.ind == (1 if suc is None else 1 - Fraction(suc, 1_000_000))


@given(counts, counts, st.integers(min_value=0, max_value=1_000_000))
def test_eq5_strict_paper_is_the_raw_ratio(np_milli: int, nn_milli: int, suc: int) -> None:
    w = opinion_of(np_milli, nn_milli, suc, strict_paper=True)
    certain = 1 - w.ind
    if np_milli + nn_milli > 0:
        assert w.tru == certain * Fraction(np_milli, np_milli + nn_milli)
        assert w.unt == certain * Fraction(nn_milli, np_milli + nn_milli)
    else:
        assert w.tru == w.unt == certain / 2


@given(counts, counts, st.integers(min_value=0, max_value=1_000_000))
def test_eq5_default_uses_the_beta_prior(np_milli: int, nn_milli: int, suc: int) -> None:
    # Beta(1,1): (Np+1)/(Np+Nn+2) with counts in milli-interactions (1 = 1000).
    w = opinion_of(np_milli, nn_milli, suc, strict_paper=False)
    certain = Fraction(suc, 1_000_000)
    assert w.tru == certain * Fraction(np_milli + 1000, np_milli + nn_milli + 2000)
    assert w.unt == certain * Fraction(nn_milli + 1000, np_milli + nn_milli + 2000)


def test_newcomer_and_unknown_quality() -> None:
    # No interactions: Tru = Unt = (1 − Ind)/2 in both modes; unknown suc: the term is φ.
    for strict in (False, True):
        w = opinion_of(0, 0, 800_000, strict_paper=strict)
        assert w.tru == w.unt == Fraction(2, 5)
        assert opinion_of(5000, 0, None, strict_paper=strict).expected(Fraction(1, 3)) == Fraction(
            1, 3
        )
    params = ReputationParams(phi=Fraction(3, 10))
    assert contribution(7000, 1000, None, params) == (3, 10)


@given(counts, counts, sucs, fractions01, st.booleans())
def test_contribution_is_the_expected_value(
    np_milli: int, nn_milli: int, suc: int | None, phi: Fraction, strict: bool
) -> None:
    params = ReputationParams(phi=phi, strict_paper=strict)
    num, den = contribution(np_milli, nn_milli, suc, params)
    expected = opinion_of(np_milli, nn_milli, suc, strict_paper=strict).expected(phi)
    assert Fraction(num, den) == expected
    assert 0 <= expected <= 1


@given(counts, counts, st.booleans())
def test_belief_ratio_is_monotone(np_milli: int, nn_milli: int, strict: bool) -> None:
    a, b = belief_ratio(np_milli, nn_milli, strict_paper=strict)
    more_pos = Fraction(*belief_ratio(np_milli + 1, nn_milli, strict_paper=strict))
    more_neg = Fraction(*belief_ratio(np_milli, nn_milli + 1, strict_paper=strict))
    assert more_neg <= Fraction(a, b) <= more_pos


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=300),
    st.fractions(min_value=Fraction(1, 100), max_value=1, max_denominator=100),
)
def test_decay_floors_the_exact_product(value: int, blocks: int, decay: Fraction) -> None:
    exact = value * decay**blocks
    assert decayed(value, blocks, decay) == exact.numerator // exact.denominator


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=50),
    st.fractions(min_value=Fraction(1, 100), max_value=1, max_denominator=100),
)
def test_decay_in_steps_never_exceeds_one_step(value: int, a: int, b: int, decay: Fraction) -> None:
    stepped = decayed(decayed(value, a, decay), b, decay)
    assert stepped <= decayed(value, a + b, decay) <= value
    assert decayed(value, a, Fraction(1)) == value


def test_decay_rejects_going_back_in_time() -> None:
    with pytest.raises(ValueError, match="backwards"):
        decayed(10, -1, Fraction(1, 2))


def test_default_params() -> None:
    params = ReputationParams()
    assert (params.phi, params.threshold, params.decay) == (
        Fraction(1, 2),
        Fraction(3, 5),
        Fraction(1),
    )
    assert dict(params.evidence_weights_milli) == dict(DEFAULT_EVIDENCE_WEIGHTS_MILLI)
    assert params.suspending_kinds == {EvidenceKind.EQUIVOCATION}
    assert params.negative_weight_milli > params.positive_weight_milli  # SCIENCE.md §4
    assert ReputationParams(phi=1, threshold=0).phi == Fraction(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"phi": 0.5}, "phi"),
        ({"phi": Fraction(3, 2)}, "phi"),
        ({"threshold": Fraction(-1, 5)}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"decay": 0}, "decay"),
        ({"decay": Fraction(11, 10)}, "decay"),
        ({"decay": 0.9}, "decay"),
        ({"positive_weight_milli": -1}, "positive_weight_milli"),
        ({"negative_weight_milli": 1.5}, "negative_weight_milli"),
        ({"genesis_trust_milli": -5}, "genesis_trust_milli"),
        ({"evidence_weights_milli": {EvidenceKind.TIMEOUT: 500}}, "evidence_weights_milli"),
        (
            {
                "evidence_weights_milli": {
                    **DEFAULT_EVIDENCE_WEIGHTS_MILLI,
                    EvidenceKind.TIMEOUT: -1,
                }
            },
            "evidence_weights_milli[TIMEOUT]",
        ),
        ({"strict_paper": 1}, "strict_paper"),
        ({"suspending_kinds": frozenset({1})}, "suspending_kinds"),
        ({"suspension_blocks": 0}, "suspension_blocks"),
    ],
)
def test_bad_params_name_the_parameter(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(ReputationParamError, match=f"^{named.replace('[', '.').replace(']', '.')}"):
        ReputationParams(**changes)

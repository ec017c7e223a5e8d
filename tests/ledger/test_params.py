"""Chain parameters: defaults, ranges, canonical round trip."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ledger.errors import InvalidParams
from ledger.evidence_kinds import DEFAULT_EVIDENCE_WEIGHTS_MILLI, EvidenceKind
from ledger.opinion import ReputationParams
from ledger.params import ChainParams, EvidenceWeight


def test_defaults_follow_science_section_4() -> None:
    params = ChainParams.default()
    assert params.phi_ppm == 500_000
    assert params.reputation_threshold_ppm == 600_000
    assert {w.kind: w.weight_milli for w in params.evidence_weights} == dict(
        DEFAULT_EVIDENCE_WEIGHTS_MILLI
    )
    assert params.evidence_weight_milli(EvidenceKind.EQUIVOCATION) == 10_000
    assert ChainParams.decode(params.encode(), max_bytes=10_000) == params


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pow_difficulty", 0),
        ("max_block_txs", 0),
        ("min_fee", -1),
        ("block_reward", -5),
        ("phi_ppm", 1_000_001),
        ("reputation_threshold_ppm", -1),
        ("decay_ppm", 0),
        ("negative_weight_milli", -1),
    ],
)
def test_out_of_range_parameters_are_named(name: str, value: int) -> None:
    with pytest.raises(InvalidParams, match=rf"params\.{name}"):
        ChainParams.default(**{name: value})


def test_evidence_weights_need_every_kind_once() -> None:
    weights = ChainParams.default().evidence_weights
    with pytest.raises(InvalidParams, match="evidence_weights"):
        ChainParams.default(evidence_weights=weights[1:])
    with pytest.raises(InvalidParams, match="evidence_weights"):
        ChainParams.default(evidence_weights=(*weights, weights[0]))
    negative = (EvidenceWeight(kind=weights[0].kind, weight_milli=-1), *weights[1:])
    with pytest.raises(InvalidParams, match=r"evidence_weights\[0\]"):
        ChainParams.default(evidence_weights=negative)


def test_replace_validates() -> None:
    params = ChainParams.default()
    assert params.replace(min_fee=3).min_fee == 3
    with pytest.raises(InvalidParams):
        params.replace(max_tx_bytes=0)


def test_reputation_params_are_the_chain_params_as_exact_fractions() -> None:
    params = ChainParams.default(phi_ppm=400_000, reputation_threshold_ppm=550_000)
    reputation = params.reputation_params()
    assert reputation.phi == Fraction(2, 5)
    assert reputation.threshold == Fraction(11, 20)
    assert reputation.decay == 1
    assert reputation.genesis_trust_milli == params.genesis_trust_milli
    assert reputation.evidence_weights_milli == {
        w.kind: w.weight_milli for w in params.evidence_weights
    }
    assert ReputationParams() == ChainParams.default().reputation_params()

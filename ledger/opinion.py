"""Eq. (5)-(6) in exact arithmetic: one rater's opinion of a node and its share of the reputation.

Li et al. eq. (5) (SCIENCE.md §4) gives rater i's opinion of node j as a subjective-logic triple

    Tru = (1 − Ind)·Np/(Np+Nn),  Unt = (1 − Ind)·Nn/(Np+Nn),  Ind = 1 − suc,

and eq. (6) sums ``Tru + φ·Ind`` over j's raters. Following SCIENCE.md §4 [recon], Np/(Np+Nn) is
replaced by the Beta(1,1) (Laplace) posterior mean (Np+1)/(Np+Nn+2), one pseudo-interaction each
way, unless ``strict_paper`` is set, which keeps the raw ratio and uses 1/2 only for Np+Nn = 0.

Everything that decides eligibility is an integer or a :class:`fractions.Fraction`, so every
honest node reaches the same decision bit for bit. Counts are integers in milli-interactions,
suc in ppm (:mod:`ledger.evidence_kinds`). Time decay (Np = Σ w·λ^(h_now − h_e)) uses a documented
integer rounding rule (:func:`decayed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType

from ledger.evidence_kinds import DEFAULT_EVIDENCE_WEIGHTS_MILLI, MILLI, PPM, EvidenceKind

__all__ = [
    "PRIOR_MILLI",
    "SCALE",
    "Opinion",
    "ReputationParamError",
    "ReputationParams",
    "belief_ratio",
    "contribution",
    "decay_powers",
    "decayed",
    "opinion_of",
]

PRIOR_MILLI = MILLI
"""Beta(1,1) prior: one positive and one negative pseudo-interaction (SCIENCE.md §4)."""

SCALE = 10**18
"""Fixed-point unit of the cached lower bounds of contributions (exact decisions fall back)."""


class ReputationParamError(ValueError):
    """A reputation parameter out of range or of the wrong type, naming the parameter."""


def _fraction(
    name: str, value: object, low: Fraction, high: Fraction, *, open_low: bool
) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise ReputationParamError(
            f"{name} must be a Fraction or int, never a float: got {type(value).__name__} {value!r}"
        )
    value = Fraction(value)
    if value < low or (open_low and value == low) or value > high:
        bracket = "(" if open_low else "["
        raise ReputationParamError(f"{name} must lie in {bracket}{low}, {high}], got {value}")
    return value


def _milli(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ReputationParamError(f"{name} must be an integer ≥ 0 (milli), got {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ReputationParams:
    """Parameters of the reputation table; every honest node must use the same (scenario/genesis).

    Attributes:
        phi: φ ∈ [0, 1], the weight of uncertainty (base rate) in eq. (6).
        threshold: Least mean reputation rep̄_j = rep_j/N_j ∈ [0, 1] of a validator (``≥``).
        decay: λ ∈ (0, 1] per block; 1 disables time decay (SCIENCE.md §4 suggests 0.9–1).
        positive_weight_milli: Weight of one positive interaction of a rating.
        negative_weight_milli: Weight of one negative interaction (SCIENCE.md §4: negatives
            weigh more than positives).
        evidence_weights_milli: Weight each evidence kind adds to the offender's Nn; must name
            every :class:`EvidenceKind`.
        genesis_trust_milli: Positive pseudo-interactions that the genesis block grants each
            certified edge node, so that the first validators are eligible at height 1.
        strict_paper: Use eq. (5)'s raw ratio Np/(Np+Nn) instead of the Beta(1,1) posterior.
        suspending_kinds: Evidence kinds that also suspend the offender from the validator set.
        suspension_blocks: How many heights a suspension lasts after the block that recorded
            the evidence; None suspends for good.

    Raises:
        ReputationParamError: A parameter out of range or of the wrong type.
    """

    phi: Fraction = Fraction(1, 2)
    threshold: Fraction = Fraction(3, 5)
    decay: Fraction = Fraction(1)
    positive_weight_milli: int = MILLI
    negative_weight_milli: int = 2 * MILLI
    evidence_weights_milli: Mapping[EvidenceKind, int] = field(
        default_factory=lambda: DEFAULT_EVIDENCE_WEIGHTS_MILLI, hash=False
    )
    genesis_trust_milli: int = 3 * MILLI
    strict_paper: bool = False
    suspending_kinds: frozenset[EvidenceKind] = frozenset({EvidenceKind.EQUIVOCATION})
    suspension_blocks: int | None = None

    def __post_init__(self) -> None:
        zero, one = Fraction(0), Fraction(1)
        set_ = object.__setattr__
        set_(self, "phi", _fraction("phi", self.phi, zero, one, open_low=False))
        set_(self, "threshold", _fraction("threshold", self.threshold, zero, one, open_low=False))
        set_(self, "decay", _fraction("decay", self.decay, zero, one, open_low=True))
        _milli("positive_weight_milli", self.positive_weight_milli)
        _milli("negative_weight_milli", self.negative_weight_milli)
        _milli("genesis_trust_milli", self.genesis_trust_milli)
        weights = dict(self.evidence_weights_milli)
        for kind in EvidenceKind:
            if kind not in weights:
                raise ReputationParamError(f"evidence_weights_milli lacks a weight for {kind.name}")
            _milli(f"evidence_weights_milli[{kind.name}]", weights[kind])
        extra = set(weights) - set(EvidenceKind)
        if extra:
            raise ReputationParamError(f"evidence_weights_milli has unknown kinds {sorted(extra)}")
        set_(
            self, "evidence_weights_milli", MappingProxyType({k: weights[k] for k in EvidenceKind})
        )
        if type(self.strict_paper) is not bool:
            raise ReputationParamError(f"strict_paper must be a bool, got {self.strict_paper!r}")
        if not all(isinstance(k, EvidenceKind) for k in self.suspending_kinds):
            raise ReputationParamError(
                f"suspending_kinds must be EvidenceKinds: {self.suspending_kinds}"
            )
        set_(self, "suspending_kinds", frozenset(self.suspending_kinds))
        blocks = self.suspension_blocks
        if blocks is not None and (type(blocks) is not int or blocks < 1):
            raise ReputationParamError(f"suspension_blocks must be None or ≥ 1, got {blocks!r}")


@dataclass(frozen=True, slots=True)
class Opinion:
    """Rater i's opinion w_{i→j} = {Tru, Unt, Ind} of eq. (5): exact, in [0, 1], summing to 1."""

    tru: Fraction
    unt: Fraction
    ind: Fraction

    def expected(self, phi: Fraction) -> Fraction:
        """This rater's term of eq. (6), Tru + φ·Ind (the subjective-logic expected value)."""
        return self.tru + phi * self.ind


def belief_ratio(np_milli: int, nn_milli: int, *, strict_paper: bool) -> tuple[int, int]:
    """Np/(Np+Nn) of eq. (5) as (numerator, denominator), denominator > 0.

    Beta(1,1) posterior mean (Np+1)/(Np+Nn+2) by default (SCIENCE.md §4); with ``strict_paper``
    the raw ratio, and 1/2 when Np+Nn = 0.
    """
    if strict_paper:
        total = np_milli + nn_milli
        return (np_milli, total) if total else (1, 2)
    return np_milli + PRIOR_MILLI, np_milli + nn_milli + 2 * PRIOR_MILLI


def opinion_of(
    np_milli: int, nn_milli: int, success_ppm: int | None, *, strict_paper: bool
) -> Opinion:
    """Eq. (5): the opinion held with weighted counts Np, Nn and quality suc (None → Ind = 1)."""
    if success_ppm is None:
        return Opinion(Fraction(0), Fraction(0), Fraction(1))
    num, den = belief_ratio(np_milli, nn_milli, strict_paper=strict_paper)
    certain = Fraction(success_ppm, PPM)
    return Opinion(certain * Fraction(num, den), certain * Fraction(den - num, den), 1 - certain)


def contribution(
    np_milli: int, nn_milli: int, success_ppm: int | None, params: ReputationParams
) -> tuple[int, int]:
    """A rater's term Tru + φ·Ind of eq. (6) as an exact (numerator, denominator) of integers.

    With s = suc in ppm and Np/(Np+Nn) = a/b (:func:`belief_ratio`) the term is
    (s·a·φ_d + φ_n·(10⁶ − s)·b) / (10⁶·b·φ_d); it is φ when suc is unknown.
    """
    phi_n, phi_d = params.phi.numerator, params.phi.denominator
    if success_ppm is None:
        return phi_n, phi_d
    a, b = belief_ratio(np_milli, nn_milli, strict_paper=params.strict_paper)
    return success_ppm * a * phi_d + phi_n * (PPM - success_ppm) * b, PPM * b * phi_d


@lru_cache(maxsize=4096)
def decay_powers(decay: Fraction, blocks: int) -> tuple[int, int]:
    """(numerator, denominator) of λ^blocks, exact (cached: a few Δ recur all the time)."""
    return decay.numerator**blocks, decay.denominator**blocks


def decayed(value_milli: int, blocks: int, decay: Fraction) -> int:
    """⌊value·λ^blocks⌋: a weighted count ``blocks`` heights after it was last written.

    Rounding rule (deterministic): a stored count is only ever decayed in one step from the
    height it was last written to the height it is read or rewritten at, by the exact rational
    λ^Δ, and floored once. Counts are rewritten only when a block carries records about them, so
    the stored values, and every read at a given height, depend on the chain alone.
    """
    if blocks < 0:
        raise ValueError(f"cannot decay backwards in time ({blocks} blocks)")
    if blocks == 0 or value_milli == 0 or decay == 1:
        return value_milli
    up, down = decay_powers(decay, blocks)
    return value_milli * up // down

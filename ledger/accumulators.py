"""What the reputation table holds about one node j: its raters' counts and exact eq. (6) bounds.

For each rater i of j: the weighted counts of positive and negative interactions (milli), the
height they were last written at (for decay) and the latest suc_{i→j}; for j itself the counts
common to every rater (genesis trust, evidence weight) and the height of any suspension. Each
rater's term Tru + φ·Ind of eq. (6) is cached as ⌊term·SCALE⌋ with a flag for "inexact", so that
a threshold on rep̄_j is decided exactly from integer sums, falling back to the exact Fraction
sum only when the bounds cannot tell (Li et al. eq. (5)-(6), SCIENCE.md §4).

Without decay (λ = 1) the cache is kept up to date rater by rater as ratings arrive, and rebuilt
only when evidence changes the common counts; with λ < 1 every term changes every block, so the
cache is rebuilt at most once per height, when j is queried.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ledger.evidence_kinds import PPM
from ledger.opinion import (
    PRIOR_MILLI,
    SCALE,
    Opinion,
    ReputationParams,
    belief_ratio,
    contribution,
    decay_powers,
    decayed,
    opinion_of,
)

__all__ = ["RateeAccumulator", "RaterCounts", "SucKey", "suc_key"]

SucKey = tuple[int, int, int]
"""(issued height, 1 if suc known else 0, −suc): among a pair's reports the greatest key stands,
i.e. the latest issued, and at equal heights the lowest suc, known before unknown."""


def suc_key(height: int, success_ppm: int | None) -> SucKey:
    """The ordering key of a suc report issued at ``height``."""
    return (height, 0, 0) if success_ppm is None else (height, 1, -success_ppm)


class RaterCounts:
    """Rater i's accumulators about j: stored decayed counts, latest suc, cached term bound."""

    __slots__ = ("at", "inexact", "low", "neg", "pos", "suc_key")

    def __init__(self) -> None:
        self.pos = 0
        self.neg = 0
        self.at = 0
        self.suc_key: SucKey = (-1, 0, 0)
        self.low = 0
        self.inexact = 0

    def copy(self) -> RaterCounts:
        """An independent copy."""
        other = RaterCounts()
        other.pos, other.neg, other.at, other.suc_key = self.pos, self.neg, self.at, self.suc_key
        other.low, other.inexact = self.low, self.inexact
        return other

    @property
    def success_ppm(self) -> int | None:
        """The suc of the standing report (None: unknown)."""
        return -self.suc_key[2] if self.suc_key[1] else None


class RateeAccumulator:
    """Everything about one ratee j; heights are passed in, parameters fixed at construction."""

    __slots__ = (
        "evidence",
        "evidence_at",
        "fresh_at",
        "genesis",
        "inexact_sum",
        "low_sum",
        "params",
        "raters",
        "steady",
        "suspended_at",
    )

    def __init__(self, params: ReputationParams, genesis_milli: int = 0) -> None:
        self.params = params
        self.steady = params.decay == 1  # no time decay: cached bounds hold across heights
        self.raters: dict[str, RaterCounts] = {}
        self.genesis = genesis_milli
        self.evidence = 0
        self.evidence_at = 0
        self.suspended_at: int | None = None
        self.low_sum = 0
        self.inexact_sum = 0
        self.fresh_at: int | None = 0  # the height the cached bounds hold for; None: stale

    def copy(self) -> RateeAccumulator:
        """An independent copy (parameters shared: they are immutable)."""
        other = RateeAccumulator(self.params, self.genesis)
        other.evidence, other.evidence_at = self.evidence, self.evidence_at
        other.suspended_at, other.fresh_at = self.suspended_at, self.fresh_at
        other.low_sum, other.inexact_sum = self.low_sum, self.inexact_sum
        other.raters = {rater: pair.copy() for rater, pair in self.raters.items()}
        return other

    # -- writing (only ever from chain records, at the height of the block carrying them) -------

    def add_evidence(self, height: int, weight_milli: int, *, suspend: bool) -> None:
        """Add offences' total weight to the common Nn; optionally suspend from ``height``."""
        blocks = height - self.evidence_at
        self.evidence = decayed(self.evidence, blocks, self.params.decay) + weight_milli
        self.evidence_at = height
        if suspend:
            self.suspended_at = height
        self.fresh_at = None

    def add_rating(
        self, height: int, rater: str, positive: int, negative: int, key: SucKey
    ) -> None:
        """Add one block's merged rating of ``rater`` (counts, suc report) at ``height``."""
        params = self.params
        pair = self.raters.get(rater)
        incremental = self.steady and self.fresh_at is not None
        if pair is None:
            pair = self.raters[rater] = RaterCounts()
        elif incremental:
            self.low_sum -= pair.low
            self.inexact_sum -= pair.inexact
        if not self.steady:
            blocks = height - pair.at
            pair.pos = decayed(pair.pos, blocks, params.decay)
            pair.neg = decayed(pair.neg, blocks, params.decay)
        pair.pos += positive * params.positive_weight_milli
        pair.neg += negative * params.negative_weight_milli
        pair.at = height
        pair.suc_key = max(pair.suc_key, key)
        if incremental:  # λ = 1: nothing decays, the stored counts are the counts
            num, den = contribution(
                pair.pos + self.genesis, pair.neg + self.evidence, pair.success_ppm, params
            )
            low, rest = divmod(num * SCALE, den)
            pair.low, pair.inexact = low, int(rest != 0)
            self.low_sum += pair.low
            self.inexact_sum += pair.inexact
        else:
            self.fresh_at = None

    # -- exact arithmetic ----------------------------------------------------------------------

    def common(self, height: int) -> tuple[int, int]:
        """(genesis trust, evidence weight) decayed to ``height``: counts every rater shares."""
        decay = self.params.decay
        return (
            decayed(self.genesis, height, decay),
            decayed(self.evidence, height - self.evidence_at, decay),
        )

    def counts(self, pair: RaterCounts, height: int, common: tuple[int, int]) -> tuple[int, int]:
        """Np, Nn of eq. (5) for one rater at ``height``, common counts included."""
        blocks, decay = height - pair.at, self.params.decay
        return (
            decayed(pair.pos, blocks, decay) + common[0],
            decayed(pair.neg, blocks, decay) + common[1],
        )

    def _exact_term(self, pair: RaterCounts, height: int, common: tuple[int, int]) -> Fraction:
        return Fraction(
            *contribution(*self.counts(pair, height, common), pair.success_ppm, self.params)
        )

    def refresh(self, height: int) -> None:
        """Make the cached bounds hold at ``height`` (a no-op when they already do).

        Each rater's term of :func:`~ledger.opinion.contribution`, inlined: with decay this loop
        runs for every queried node at every height. Tests check it against the exact sum.
        """
        params = self.params
        if self.fresh_at is not None and (self.steady or self.fresh_at == height):
            return
        genesis, evidence = self.common(height)
        phi_n, phi_d = params.phi.numerator, params.phi.denominator
        strict, prior = params.strict_paper, PRIOR_MILLI
        unknown_low, unknown_rest = divmod(phi_n * SCALE, phi_d)
        powers: dict[int, tuple[int, int]] = {0: (1, 1)}
        low_sum = inexact_sum = 0
        for pair in self.raters.values():
            suc, known, blocks = -pair.suc_key[2], pair.suc_key[1], height - pair.at
            if not known:
                low, rest = unknown_low, unknown_rest
            else:
                factor = powers.get(blocks)
                if factor is None:
                    factor = powers[blocks] = decay_powers(params.decay, blocks)
                np_milli = pair.pos * factor[0] // factor[1] + genesis
                nn_milli = pair.neg * factor[0] // factor[1] + evidence
                if not strict:
                    a, b = np_milli + prior, np_milli + nn_milli + 2 * prior
                elif np_milli + nn_milli:
                    a, b = np_milli, np_milli + nn_milli
                else:
                    a, b = 1, 2
                num = suc * a * phi_d + phi_n * (PPM - suc) * b
                low, rest = divmod(num * SCALE, PPM * b * phi_d)
            pair.low, pair.inexact = low, int(rest != 0)
            low_sum += low
            inexact_sum += pair.inexact
        self.low_sum, self.inexact_sum, self.fresh_at = low_sum, inexact_sum, height

    def opinion(self, pair: RaterCounts, height: int) -> Opinion:
        """Eq. (5): the opinion of the rater holding ``pair`` at ``height``."""
        np_milli, nn_milli = self.counts(pair, height, self.common(height))
        return opinion_of(
            np_milli, nn_milli, pair.success_ppm, strict_paper=self.params.strict_paper
        )

    def chain_opinion(self, height: int) -> Opinion:
        """The chain's own opinion: genesis trust against evidence, with Ind = 0."""
        genesis, evidence = self.common(height)
        return opinion_of(genesis, evidence, PPM, strict_paper=self.params.strict_paper)

    def reputation(self, height: int) -> Fraction:
        """rep_j = Σ_i (Tru_{i→j} + φ·Ind_{i→j}) of eq. (6), exactly (0 with no raters)."""
        self.refresh(height)
        if self.inexact_sum == 0:
            return Fraction(self.low_sum, SCALE)
        common = self.common(height)
        return sum((self._exact_term(p, height, common) for p in self.raters.values()), Fraction(0))

    def mean(self, height: int) -> Fraction:
        """rep̄_j = rep_j/N_j; the chain's opinion (its Tru) when nobody has rated j."""
        if not self.raters:
            return self.chain_opinion(height).tru
        return self.reputation(height) / len(self.raters)

    def meets(self, threshold: Fraction, height: int) -> bool:
        """rep̄_j ≥ ``threshold``, exactly: from the integer bounds, else from the Fraction sum."""
        if not self.raters:
            return self.chain_opinion(height).tru >= threshold
        self.refresh(height)
        target = threshold.numerator * len(self.raters) * SCALE  # compare x·t_d with this
        t_d = threshold.denominator
        if self.low_sum * t_d >= target:
            return True
        if self.inexact_sum == 0 or (self.low_sum + self.inexact_sum) * t_d <= target:
            return False  # the exact sum·SCALE is < low_sum + inexact_sum
        return self.reputation(height) >= threshold * len(self.raters)

    def mean_floor(self, unit: int, height: int) -> int:
        """⌊rep̄_j·unit⌋ exactly (unit 10⁶: ppm), from the bounds when they agree."""
        if self.raters:
            self.refresh(height)
            den = SCALE * len(self.raters)
            low = self.low_sum * unit // den
            if self.inexact_sum == 0 or (self.low_sum + self.inexact_sum) * unit // den == low:
                return low
        scaled = self.mean(height) * unit
        return scaled.numerator // scaled.denominator

    def suspended(self, height: int) -> bool:
        """Whether a suspending offence keeps j out of the validator set after ``height``."""
        if self.suspended_at is None:
            return False
        blocks = self.params.suspension_blocks
        return blocks is None or height < self.suspended_at + blocks

    # -- views ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The stored integers (canonical-encodable): what two honest tables must agree on."""
        return {
            "genesis_milli": self.genesis,
            "evidence_milli": self.evidence,
            "evidence_at": self.evidence_at,
            "suspended_at": self.suspended_at,
            "raters": {
                rater: [pair.pos, pair.neg, pair.at, pair.suc_key[0], pair.success_ppm]
                for rater, pair in sorted(self.raters.items())
            },
        }

    def float_view(self, height: int) -> tuple[float, float, float, float]:
        """(mean Tru, mean Unt, mean Ind, rep_j) as floats, for output only."""
        if not self.raters:
            chain = self.chain_opinion(height)
            return float(chain.tru), float(chain.unt), 0.0, 0.0
        self.refresh(height)
        common = self.common(height)
        tru = unt = ind = 0.0
        for pair in self.raters.values():
            suc = pair.success_ppm
            certain = 0.0 if suc is None else suc / PPM
            a, b = belief_ratio(
                *self.counts(pair, height, common), strict_paper=self.params.strict_paper
            )
            tru += certain * a / b
            unt += certain * (b - a) / b
            ind += 1.0 - certain
        count = len(self.raters)
        return tru / count, unt / count, ind / count, self.low_sum / SCALE

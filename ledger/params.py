"""Chain parameters fixed at genesis: PoW, reputation, timeouts, limits, fees and rewards.

Everything is an integer so the parameters can sit in the signed genesis record: fractions are
in parts per million (``_ppm``), weights in thousandths (``_milli``), durations in milliseconds.
The reputation quantities follow SCIENCE.md §4 (eq. 5-6 of Li et al.): φ (``phi_ppm``), the
eligibility threshold on the mean reputation rep̄ (``reputation_threshold_ppm``), the decay λ
(``decay_ppm``), the weights of positive and negative interactions and of each kind of evidence
on Nn (``ledger.evidence_kinds.EvidenceKind``) and the genesis trust of ``ledger.reputation``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from ledger.encoding import Record
from ledger.errors import InvalidParams
from ledger.evidence_kinds import DEFAULT_EVIDENCE_WEIGHTS_MILLI, PPM, EvidenceKind
from ledger.opinion import ReputationParams

__all__ = ["DEFAULT_EVIDENCE_WEIGHTS", "ChainParams", "EvidenceWeight"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceWeight(Record):
    """Weight of one evidence kind on the offender's negative count Nn, in thousandths."""

    kind: EvidenceKind
    weight_milli: int


DEFAULT_EVIDENCE_WEIGHTS: tuple[EvidenceWeight, ...] = tuple(
    EvidenceWeight(kind=kind, weight_milli=weight)
    for kind, weight in sorted(DEFAULT_EVIDENCE_WEIGHTS_MILLI.items())
)
"""``ledger.evidence_kinds.DEFAULT_EVIDENCE_WEIGHTS_MILLI`` as a signed tuple, by kind code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainParams(Record):
    """The public parameters of one chain (signed into its genesis).

    Attributes:
        pow_difficulty: Difficulty coefficient D: a PoW hash is valid when, read as a big-endian
            integer, it is below ``2**256 // D`` (so D hashes are expected per valid nonce).
            A validator's attempt budget per round (its compute power) should be several
            times D, or rounds often elect nobody: the default 16 against 64 attempts gives
            each validator a valid claim with probability 1 − (15/16)^64 ≈ 98 %.
        reputation_threshold_ppm: Miner eligibility: rep̄ = rep/N ≥ this (SCIENCE.md §4).
        phi_ppm: φ, the weight of uncertainty Ind in rep (eq. 6), in [0, 10⁶].
        decay_ppm: λ per round for the time-decayed counts (SCIENCE.md §4), in (0, 10⁶].
        positive_weight_milli, negative_weight_milli: Weight of one positive / negative
            interaction of a rating (thousandths).
        genesis_trust_milli: Positive pseudo-interactions granted to each genesis edge node.
        evidence_weights: Weight on Nn of each evidence kind, one entry per kind.
        propose_timeout_ms, vote_timeout_ms, commit_timeout_ms: Consensus step timeouts at
            round 0; ``timeout_delta_ms`` is added per round (Tendermint Algorithm 1).
        max_resends: How often a leader re-sends data to objectors.
        evidence_max_age: A block at height H accepts proof that a block was (in)valid at
            height e (false verdict, invalid block, manipulated price) only for
            ``H − evidence_max_age ≤ e < H``: every node keeps what it needs to re-check the
            blocks of that window, and older proof is refused alike on every node.
        max_block_txs, max_block_bytes, max_tx_bytes: Size limits.
        max_allocations: Most allocations in one bulk transfer or payment.
        min_fee: Smallest fee accepted, base units.
        block_reward: Coin minted to each block's leader, base units.
    """

    pow_difficulty: int
    reputation_threshold_ppm: int
    phi_ppm: int
    decay_ppm: int
    positive_weight_milli: int
    negative_weight_milli: int
    genesis_trust_milli: int
    evidence_weights: tuple[EvidenceWeight, ...]
    propose_timeout_ms: int
    vote_timeout_ms: int
    commit_timeout_ms: int
    timeout_delta_ms: int
    max_resends: int
    evidence_max_age: int
    max_block_txs: int
    max_block_bytes: int
    max_tx_bytes: int
    max_allocations: int
    min_fee: int
    block_reward: int

    @classmethod
    def default(cls, **overrides: object) -> ChainParams:
        """Defaults from SCIENCE.md §4 and sensible emulator values; keywords override them."""
        values: dict[str, object] = {
            "pow_difficulty": 16,
            "reputation_threshold_ppm": 600_000,
            "phi_ppm": 500_000,
            "decay_ppm": 1_000_000,
            "positive_weight_milli": 1_000,
            "negative_weight_milli": 2_000,
            "genesis_trust_milli": 3_000,
            "evidence_weights": DEFAULT_EVIDENCE_WEIGHTS,
            "propose_timeout_ms": 3_000,
            "vote_timeout_ms": 1_000,
            "commit_timeout_ms": 1_000,
            "timeout_delta_ms": 500,
            "max_resends": 3,
            "evidence_max_age": 16,
            "max_block_txs": 5_000,
            "max_block_bytes": 8 << 20,
            "max_tx_bytes": 4 << 20,
            "max_allocations": 50_000,
            "min_fee": 1,
            "block_reward": 50_000_000,
        }
        values.update(overrides)
        params = cls(**values)  # type: ignore[arg-type]
        params.validate()
        return params

    def validate(self) -> None:
        """Check every parameter's range.

        Raises:
            InvalidParams: Naming the first parameter out of range.
        """
        positive = (
            "pow_difficulty",
            "propose_timeout_ms",
            "vote_timeout_ms",
            "commit_timeout_ms",
            "evidence_max_age",
            "max_block_txs",
            "max_block_bytes",
            "max_tx_bytes",
            "max_allocations",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise InvalidParams(f"params.{name}: must be at least 1")
        non_negative = (
            "timeout_delta_ms",
            "max_resends",
            "min_fee",
            "block_reward",
            "positive_weight_milli",
            "negative_weight_milli",
            "genesis_trust_milli",
        )
        for name in non_negative:
            if getattr(self, name) < 0:
                raise InvalidParams(f"params.{name}: must not be negative")
        for name in ("reputation_threshold_ppm", "phi_ppm"):
            if not 0 <= getattr(self, name) <= PPM:
                raise InvalidParams(f"params.{name}: must be in [0, {PPM}]")
        if not 0 < self.decay_ppm <= PPM:
            raise InvalidParams(f"params.decay_ppm: must be in (0, {PPM}]")
        kinds = [w.kind for w in self.evidence_weights]
        if sorted(kinds) != sorted(EvidenceKind):
            raise InvalidParams("params.evidence_weights: need exactly one weight per EvidenceKind")
        for index, weight in enumerate(self.evidence_weights):
            if weight.weight_milli < 0:
                raise InvalidParams(f"params.evidence_weights[{index}].weight_milli: negative")

    def evidence_weight_milli(self, kind: EvidenceKind) -> int:
        """The weight of ``kind`` on Nn, in thousandths."""
        for weight in self.evidence_weights:
            if weight.kind == kind:
                return weight.weight_milli
        raise InvalidParams(f"params.evidence_weights: no weight for {kind.name}")

    def reputation_params(self) -> ReputationParams:
        """The reputation model's parameters (exact fractions) as the chain fixes them."""
        return ReputationParams(
            phi=Fraction(self.phi_ppm, PPM),
            threshold=Fraction(self.reputation_threshold_ppm, PPM),
            decay=Fraction(self.decay_ppm, PPM),
            positive_weight_milli=self.positive_weight_milli,
            negative_weight_milli=self.negative_weight_milli,
            evidence_weights_milli={w.kind: w.weight_milli for w in self.evidence_weights},
            genesis_trust_milli=self.genesis_trust_milli,
        )

    def replace(self, **changes: object) -> ChainParams:
        """A copy with some parameters changed, validated."""
        params = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        params.validate()
        return params

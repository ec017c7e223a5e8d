"""The reputation table of edge nodes (Li et al. eq. (5)-(6), SCIENCE.md §4) and the validator set.

The table is built only from chain records, fed block by block (``ReputationTable.apply_block``), so
every honest node holds the same table at every height; local observations enter only through
signed ratings (SCIENCE.md §4, last paragraph). Validators at height h are the certified edge nodes
whose reputation from the chain up to h−1 meets the threshold (:func:`validators_at`).

What enters rater i's opinion of j (eq. (5)):

- Np = Σ w⁺·λ^(h−h_e) over i's positive interactions with j, plus the genesis trust of j;
- Nn = Σ w⁻·λ^(h−h_e) over i's negative interactions, plus the evidence weight of j: each
  provable offence adds its kind's weight (``DEFAULT_EVIDENCE_WEIGHTS_MILLI``) to Nn *as seen by
  every rater*, so that "every rater updates Nn identically" (SCIENCE.md §4) and an offence costs
  the same on every honest node however many raters j has;
- suc is the latest suc_{i→j} that i reported (None: Ind = 1, the term is φ).

Decay counts from the height of the block that carries a record (h_e), not the height it was
issued at, and applies to the genesis trust (from height 0) and the evidence weight alike.

Genesis trust: the genesis block grants each certified edge node ``genesis_trust_milli`` positive
pseudo-interactions (common to all raters, like evidence). With the defaults (φ = 1/2, threshold
3/5, Beta(1,1) prior, trust 3) an unrated genesis node has rep̄ = (3+1)/(3+2) = 4/5 and is a
validator at height 1; a node certified later starts at 1/2 and must earn its place by ratings.

Mean over raters: rep̄_j = rep_j/N_j with N_j the raters that ever rated j. A node no one has
rated yet has rep̄_j = the chain's own opinion of it: Np = genesis trust, Nn = evidence, Ind = 0
(the chain is certain of what it recorded), i.e. (G+1)/(G+E+2) by default: 1/2 for a newcomer,
lowered by evidence like any other node.

Suspension: evidence of a kind in ``suspending_kinds`` (equivocation by default) removes the
offender from the validator set from the next height on, for ``suspension_blocks`` heights or,
by default, for good, whatever its reputation.

Order independence: within one block, rating counts of a pair add up, the latest-issued suc
stands (ties: the lower, known before unknown), and an offence is identified by (offender,
kind, height, subject) and weighs once; so the table after a block does not depend on the order
of the records in it. Exactness: every decision uses integers and Fractions; each rater's term is
cached as a lower bound in units of 1/SCALE and a threshold is decided exactly from those bounds,
falling back to the exact Fraction sum when a bound cannot tell.

Cost: with λ = 1 a rating costs O(1) (≈2 µs) and a threshold query O(1); with λ < 1 every term
changes every block, so the first query of a node at a height costs O(N_j) (≈1 µs per rater).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ledger.accumulators import RateeAccumulator, SucKey, suc_key
from ledger.evidence_kinds import PPM, Evidence, InvalidEvidence, InvalidRating, Rating
from ledger.opinion import Opinion, ReputationParams

__all__ = ["BlockOrderError", "NoRating", "ReputationRow", "ReputationTable", "validators_at"]

Offence = tuple[str, int, int, str]


class BlockOrderError(ValueError):
    """A block applied out of order, or a table asked for a height it does not hold."""


class NoRating(KeyError):
    """The rater has never rated the ratee on chain."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReputationRow:
    """One node at one height, as floats for reputation.csv and logs (never for decisions).

    Attributes:
        height: Height of the table (chain up to and including this block).
        node: Node id.
        raters: N_j.
        tru: Mean Tru over raters (the chain's opinion when N_j = 0).
        unt: Mean Unt over raters (likewise).
        ind: Mean Ind over raters (0 when N_j = 0: the chain is certain).
        rep: rep_j of eq. (6) (0 when N_j = 0).
        mean: rep̄_j.
        eligible: Whether the node meets the threshold and is not suspended.
        suspended: Whether evidence suspends it.
    """

    height: int
    node: str
    raters: int
    tru: float
    unt: float
    ind: float
    rep: float
    mean: float
    eligible: bool
    suspended: bool


class ReputationTable:
    """The reputation table at one height, advanced block by block from the chain alone.

    Args:
        params: Shared reputation parameters (defaults: :class:`ReputationParams`).
        genesis_edges: Edge nodes certified by the genesis block; each gets the genesis trust.

    A new table is at height 0 (the genesis block); apply blocks 1, 2, ... in order, empty ones
    too. Queries answer for the table's height.
    """

    def __init__(
        self, params: ReputationParams | None = None, *, genesis_edges: Iterable[str] = ()
    ) -> None:
        self.params = params if params is not None else ReputationParams()
        self._height = 0
        self._nodes: dict[str, RateeAccumulator] = {}
        self._offences: set[Offence] = set()
        for edge in genesis_edges:
            if type(edge) is not str or not edge:
                raise ValueError(f"genesis_edges: ids must be non-empty strings, got {edge!r}")
            self._nodes[edge] = RateeAccumulator(self.params, self.params.genesis_trust_milli)

    @property
    def height(self) -> int:
        """Height of the last block applied (0: genesis)."""
        return self._height

    def copy(self) -> ReputationTable:
        """An independent copy (e.g. to keep the table of an earlier height)."""
        other = ReputationTable(self.params)
        other._height = self._height
        other._nodes = {node_id: node.copy() for node_id, node in self._nodes.items()}
        other._offences = set(self._offences)
        return other

    def apply_block(
        self, height: int, ratings: Sequence[Rating] = (), evidence: Sequence[Evidence] = ()
    ) -> None:
        """Apply the rating and evidence records of the block at ``height``, all or nothing.

        Raises:
            BlockOrderError: ``height`` is not the table's height + 1.
            InvalidRating, InvalidEvidence: A record of the wrong type or issued after ``height``.
        """
        if height != self._height + 1:
            raise BlockOrderError(f"next block must be at height {self._height + 1}, got {height}")
        merged: dict[tuple[str, str], tuple[int, int, SucKey]] = {}
        for rating in ratings:
            if not isinstance(rating, Rating):
                raise InvalidRating("<record>", f"expected a Rating, got {type(rating).__name__}")
            if rating.height > height:
                raise InvalidRating("height", f"{rating.height} is after its block's {height}")
            pair = (rating.rater, rating.ratee)
            key = suc_key(rating.height, rating.success_ppm)
            entry = merged.get(pair)
            if entry is not None:
                key = max(key, entry[2])
                merged[pair] = (entry[0] + rating.positive, entry[1] + rating.negative, key)
            else:
                merged[pair] = (rating.positive, rating.negative, key)
        offences: dict[Offence, Evidence] = {}
        for proof in evidence:
            if not isinstance(proof, Evidence):
                raise InvalidEvidence("<record>", f"expected Evidence, got {type(proof).__name__}")
            if proof.height > height:
                raise InvalidEvidence("height", f"{proof.height} is after its block's {height}")
            if proof.offence not in self._offences:
                offences.setdefault(proof.offence, proof)
        self._height = height
        weights = self.params.evidence_weights_milli
        added: dict[str, tuple[int, bool]] = {}
        for offence, proof in offences.items():
            self._offences.add(offence)
            weight, suspend = added.get(proof.offender, (0, False))
            suspend = suspend or proof.kind in self.params.suspending_kinds
            added[proof.offender] = (weight + weights[proof.kind], suspend)
        for offender, (weight, suspend) in added.items():
            self._node(offender).add_evidence(height, weight, suspend=suspend)
        for (rater, ratee), (positive, negative, key) in merged.items():
            self._node(ratee).add_rating(height, rater, positive, negative, key)

    def _node(self, node_id: str) -> RateeAccumulator:
        node = self._nodes.get(node_id)
        if node is None:
            node = self._nodes[node_id] = RateeAccumulator(self.params)
        return node

    def _view(self, node_id: str) -> RateeAccumulator:
        """The node's accumulator, or an empty one (not stored) for a node never seen."""
        node = self._nodes.get(node_id)
        return node if node is not None else RateeAccumulator(self.params)

    def opinion(self, rater: str, ratee: str) -> Opinion:
        """Eq. (5): w_{i→j} at the table's height.

        Raises:
            NoRating: ``rater`` has never rated ``ratee`` on chain.
        """
        node = self._nodes.get(ratee)
        pair = node.raters.get(rater) if node is not None else None
        if node is None or pair is None:
            raise NoRating(f"{rater!r} has not rated {ratee!r} up to height {self._height}")
        return node.opinion(pair, self._height)

    def chain_opinion(self, node_id: str) -> Opinion:
        """The chain's own opinion of a node: genesis trust against evidence, with Ind = 0."""
        return self._view(node_id).chain_opinion(self._height)

    def raters(self, node_id: str) -> int:
        """N_j: how many raters have rated the node on chain."""
        node = self._nodes.get(node_id)
        return len(node.raters) if node is not None else 0

    def nodes(self) -> tuple[str, ...]:
        """Every node the table knows of (rated, offending or certified at genesis), sorted."""
        return tuple(sorted(self._nodes))

    def reputation(self, node_id: str) -> Fraction:
        """rep_j = Σ_i (Tru_{i→j} + φ·Ind_{i→j}) of eq. (6), exactly (0 for an unrated node)."""
        return self._view(node_id).reputation(self._height)

    def mean_reputation(self, node_id: str) -> Fraction:
        """rep̄_j = rep_j/N_j ∈ [0, 1]; the chain's opinion (its Tru) for an unrated node."""
        return self._view(node_id).mean(self._height)

    def meets(self, node_id: str, threshold: Fraction) -> bool:
        """Whether rep̄_j ≥ ``threshold``, decided exactly (suspension not considered)."""
        return self._view(node_id).meets(threshold, self._height)

    def suspended(self, node_id: str) -> bool:
        """Whether evidence of a suspending kind keeps the node out of the validator set."""
        return self._view(node_id).suspended(self._height)

    def eligible(self, node_id: str) -> bool:
        """Whether the node may validate at the next height: not suspended and rep̄ ≥ threshold."""
        node = self._view(node_id)
        return not node.suspended(self._height) and node.meets(self.params.threshold, self._height)

    def mean_floor(self, node_id: str, unit: int) -> int:
        """⌊rep̄_j·unit⌋ exactly (unit 10⁶: ppm)."""
        return self._view(node_id).mean_floor(unit, self._height)

    def snapshot(self) -> dict[str, Any]:
        """The whole table as ints, strs, bools and None: canonical-encodable, equal iff equal."""
        params = self.params
        nodes = {}
        for node_id in sorted(self._nodes):
            state = self._nodes[node_id].state()
            state["eligible"] = self.eligible(node_id)
            state["suspended"] = self.suspended(node_id)
            state["mean_ppm"] = self.mean_floor(node_id, PPM)
            nodes[node_id] = state
        return {
            "height": self._height,
            "params": {
                "phi": str(params.phi),
                "threshold": str(params.threshold),
                "decay": str(params.decay),
                "positive_weight_milli": params.positive_weight_milli,
                "negative_weight_milli": params.negative_weight_milli,
                "evidence_weights_milli": {
                    kind.name: weight for kind, weight in params.evidence_weights_milli.items()
                },
                "genesis_trust_milli": params.genesis_trust_milli,
                "strict_paper": params.strict_paper,
                "suspending_kinds": sorted(kind.name for kind in params.suspending_kinds),
                "suspension_blocks": params.suspension_blocks,
            },
            "offences": [list(offence) for offence in sorted(self._offences)],
            "nodes": nodes,
        }

    def rows(self, node_ids: Iterable[str] | None = None) -> list[ReputationRow]:
        """Float views of the given nodes (default: every known node), sorted by id."""
        rows = []
        for node_id in sorted(set(self._nodes if node_ids is None else node_ids)):
            node = self._view(node_id)
            tru, unt, ind, rep = node.float_view(self._height)
            count = len(node.raters)
            rows.append(
                ReputationRow(
                    height=self._height,
                    node=node_id,
                    raters=count,
                    tru=tru,
                    unt=unt,
                    ind=ind,
                    rep=rep,
                    mean=rep / count if count else tru,
                    eligible=self.eligible(node_id),
                    suspended=self.suspended(node_id),
                )
            )
        return rows


def validators_at(
    height: int, certified_edges: Iterable[str], table: ReputationTable
) -> tuple[str, ...]:
    """The validator set at ``height``: certified edge nodes eligible in the table of height − 1.

    Args:
        height: Height of the block being agreed (≥ 1).
        certified_edges: Edge nodes holding a valid certificate at that height.
        table: The reputation table built from the chain up to and including height − 1.

    Returns:
        The eligible certified edge nodes, sorted by id (possibly empty: the caller decides).

    Raises:
        BlockOrderError: ``table`` is not at height − 1.
    """
    if table.height != height - 1:
        raise BlockOrderError(
            f"validators at height {height} need the table of height {height - 1}, "
            f"got {table.height}"
        )
    return tuple(sorted(edge for edge in set(certified_edges) if table.eligible(edge)))

"""Bookkeeping of one round of one height: claims, proposals, first votes and weighted tallies.

Tallies follow Algorithm 1's message counting: "2f+1 ⟨PREVOTE, h, r, id(v)⟩" is the weight of
the distinct validators that sent *that* vote. An equivocator's conflicting votes are all kept
(and become evidence); each counts towards its own content, and a voter counts at most once per
content and once in "any" and "nil" tallies — exactly what a Byzantine validator could achieve by
showing different votes to different nodes, which the algorithm tolerates. Approving votes whose
watermark failed are kept for "any vote" counts but never count for a block. Tallies are
recomputed from these small tables on demand (validator sets are tens of members).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ledger.consensus.messages import Proposal, Verdict, Vote
from ledger.consensus.validators import ValidatorSet

__all__ = ["RoundState"]


@dataclass(slots=True)
class RoundState:
    """Everything a machine has seen of round ``round`` at its current height."""

    round: int
    claims: dict[str, tuple[bytes, bool]] = field(default_factory=dict)
    """Node → (lowest PoW hash, whether it meets the difficulty)."""
    leader: str | None = None
    elected: bool = False
    proposals: dict[str, Proposal] = field(default_factory=dict)
    prevotes: dict[str, list[Vote]] = field(default_factory=dict)
    precommits: dict[str, list[Vote]] = field(default_factory=dict)
    unwatermarked: set[bytes] = field(default_factory=set)
    """Signatures of APPROVE votes whose watermark is missing or forged (never counted)."""
    senders: set[str] = field(default_factory=set)
    prevote_timer: bool = False
    precommit_timer: bool = False
    locked_here: bool = False

    def _counted(self, votes: dict[str, list[Vote]]) -> Iterator[Vote]:
        for node_votes in votes.values():
            for vote in node_votes:
                if vote.signature not in self.unwatermarked:
                    yield vote

    def approvals(self, votes: dict[str, list[Vote]], block_hash: bytes) -> list[Vote]:
        """One counted APPROVE vote for ``block_hash`` per voter."""
        found: dict[str, Vote] = {}
        for vote in self._counted(votes):
            if vote.verdict == Verdict.APPROVE and vote.block_hash == block_hash:
                found.setdefault(vote.node, vote)
        return list(found.values())

    def quorum_for(
        self, votes: dict[str, list[Vote]], validators: ValidatorSet
    ) -> tuple[bytes, list[Vote]] | None:
        """The block hash approved by more than 2/3 of the weight, with those votes, if any."""
        hashes = {
            v.block_hash
            for v in self._counted(votes)
            if v.verdict == Verdict.APPROVE and v.block_hash is not None
        }
        for block_hash in sorted(hashes):
            approving = self.approvals(votes, block_hash)
            if validators.is_quorum(validators.weight_of(v.node for v in approving)):
                return block_hash, approving
        return None

    def nil_quorum(self, votes: dict[str, list[Vote]], validators: ValidatorSet) -> bool:
        """More than 2/3 of the weight voted nil (NIL or OBJECT)."""
        nil = {v.node for vs in votes.values() for v in vs if v.verdict != Verdict.APPROVE}
        return validators.is_quorum(validators.weight_of(nil))

    def any_quorum(self, votes: dict[str, list[Vote]], validators: ValidatorSet) -> bool:
        """More than 2/3 of the weight voted anything at all."""
        return validators.is_quorum(validators.weight_of(votes))

    def proposal_for(self, block_hash: bytes, prefer: str | None) -> Proposal | None:
        """A proposal of this round carrying ``block_hash``, the leader's when it has one."""
        if prefer is not None:
            mine = self.proposals.get(prefer)
            if mine is not None and mine.header.block_hash == block_hash:
                return mine
        for proposal in self.proposals.values():
            if proposal.header.block_hash == block_hash:
                return proposal
        return None

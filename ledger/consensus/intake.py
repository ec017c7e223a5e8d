"""Peers' messages into the machine: decode, verify and record claims, proposals, votes.

Part of :class:`~ledger.consensus.machine.ConsensusMachine`. Input from peers never raises:
undecodable, unsigned or malformed messages are dropped and counted in ``stats``; what a
message proves against its sender goes to :mod:`.detection`.
"""

from __future__ import annotations

from ledger.consensus.events import Send
from ledger.consensus.evidence import EvidenceKind, conflicting
from ledger.consensus.machine_core import MachineCore
from ledger.consensus.messages import (
    APP_REASON_MAX,
    Envelope,
    PowClaim,
    Proposal,
    Step,
    Verdict,
    Vote,
    challenge_digest,
    decode_envelope,
    verify_signed,
)
from ledger.consensus.pow import check as pow_check
from ledger.consensus.pow import pow_hash
from ledger.crypto import verify
from ledger.encoding import DecodeError, sha256

__all__ = ["IntakeMixin"]


class IntakeMixin(MachineCore):
    """Receiving PoW claims, proposals and votes (module docstring)."""

    # ---------------------------------------------------------------------------- messages

    def _receive(self, data: bytes) -> None:
        digest = sha256(data)
        if digest in self._seen:
            self.stats["duplicate"] += 1
            return
        self._seen.add(digest)
        try:
            envelope = decode_envelope(data, max_bytes=self.params.max_message_bytes)
        except DecodeError as exc:
            self.stats[f"undecodable:{type(exc).__name__}"] += 1
            return
        if envelope.claim is not None:
            self._on_claim(envelope.claim, data)
        elif envelope.proposal is not None:
            self._on_proposal(envelope.proposal, data)
        elif envelope.vote is not None:
            self._on_vote(envelope.vote, data)
        elif envelope.decided is not None:
            self._on_decided(envelope.decided, data)

    def _on_claim(self, claim: PowClaim, data: bytes) -> None:
        assert self.validators is not None
        if not self._admit(claim.height, claim.round, claim.node, data, claim=True):
            return
        if claim.prev_hash != self.prev_hash:
            self.stats["claim_wrong_parent"] += 1
            return
        member = self.validators.get(claim.node)
        if member is None or not verify_signed(claim, member.public_key):
            self.stats["bad_signature"] += 1
            return
        digest = pow_hash(claim.height, claim.round, claim.prev_hash, claim.node, claim.nonce)
        valid = pow_check(
            claim.height,
            claim.round,
            claim.prev_hash,
            claim.node,
            claim.nonce,
            self.params.pow_difficulty,
        )
        state = self._round_state(claim.round)
        state.senders.add(claim.node)
        known = state.claims.get(claim.node)
        if known is None or (valid is not None and (not known[1] or digest < known[0])):
            state.claims[claim.node] = (digest, valid is not None)
        self._maybe_close_election(state)

    def _challenge_ok(self, proposer: str, round_: int, challenge: bytes) -> bool:
        assert self.validators is not None
        key = (proposer, round_, challenge)
        cached = self._challenges.get(key)
        if cached is None:
            member = self.validators.get(proposer)
            cached = member is not None and verify(
                member.public_key, challenge_digest(self.height, round_), challenge
            )
            self._challenges[key] = cached
        return cached

    def _on_proposal(self, proposal: Proposal, data: bytes) -> None:
        assert self.validators is not None
        header = proposal.header
        if not self._admit(header.height, header.round, header.proposer, data):
            return
        member = self.validators.get(header.proposer)
        if not -1 <= header.valid_round < header.round:
            self.stats["proposal_bad_valid_round"] += 1
            return
        if member is None or not verify_signed(header, member.public_key):
            self.stats["bad_signature"] += 1
            return
        if not self._challenge_ok(header.proposer, header.round, header.challenge):
            self.stats["proposal_bad_challenge"] += 1
            return
        if self.app.block_hash(proposal.block) != header.block_hash:
            self.stats["proposal_block_mismatch"] += 1
            return
        state = self._round_state(header.round)
        state.senders.add(header.proposer)
        known = state.proposals.get(header.proposer)
        if known is not None:
            if conflicting(known.header, header):
                self._equivocation(
                    header.proposer, header.round, Step.PROPOSAL, known.header, header
                )
            return
        state.proposals[header.proposer] = proposal
        self._blocks.setdefault(header.block_hash, proposal.block)
        for vote in proposal.proof:
            if (
                vote.step == Step.PREVOTE
                and vote.round == header.valid_round
                and vote.block_hash == header.block_hash
            ):
                self._receive(Envelope(vote=vote).encode())
        status = self._check(header.block_hash)
        if status:
            kind = self.app.offence_of(status)
            self._evidence(
                kind,
                header.proposer,
                header.round,
                Step.PROPOSAL,
                header.encode(),
                b"",
                proposal.block,
            )

    def _on_vote(self, vote: Vote, data: bytes) -> None:
        assert self.validators is not None
        if not self._admit(vote.height, vote.round, vote.node, data):
            return
        if not _well_formed(vote):
            self.stats["vote_malformed"] += 1
            return
        member = self.validators.get(vote.node)
        if member is None or not verify_signed(vote, member.public_key):
            self.stats["bad_signature"] += 1
            return
        state = self._round_state(vote.round)
        state.senders.add(vote.node)
        table = state.prevotes if vote.step == Step.PREVOTE else state.precommits
        known = table.setdefault(vote.node, [])
        if any(not conflicting(k, vote) for k in known):
            return
        if known:
            self._equivocation(vote.node, vote.round, vote.step, known[0], vote)
            if len(known) >= 4:
                return
        known.append(vote)
        if vote.verdict == Verdict.APPROVE and not (
            vote.challenge and self._challenge_ok(vote.proposer, vote.round, vote.challenge)
        ):
            state.unwatermarked.add(vote.signature)
            kind = (
                EvidenceKind.FORGED_WATERMARK if vote.challenge else EvidenceKind.MISSING_WATERMARK
            )
            self._evidence(kind, vote.node, vote.round, vote.step, vote.encode(), b"", b"")
        if vote.block_hash is not None and vote.verdict != Verdict.NIL:
            status = self._status.get(vote.block_hash)
            if status is None:
                self._pending_verdicts.setdefault(vote.block_hash, []).append(vote)
            else:
                self._judge(vote, status)
        own = self._own.get((vote.round, Step.PROPOSAL))
        if (
            own is not None
            and vote.step == Step.PREVOTE
            and vote.verdict != Verdict.APPROVE
            and vote.node != self.node
            and self._resends[vote.node] < self.params.max_resends
        ):
            self._resends[vote.node] += 1
            self.stats["resend"] += 1
            self._out.append(Send(to=vote.node, data=own))


def _well_formed(vote: Vote) -> bool:
    """Verdict, block hash and reason agree (APPROVE: hash, 0; OBJECT: hash, app reason; NIL)."""
    if vote.step not in (Step.PREVOTE, Step.PRECOMMIT):
        return False
    if vote.verdict == Verdict.APPROVE:
        return vote.block_hash is not None and vote.reason == 0
    if vote.verdict == Verdict.OBJECT:
        return vote.block_hash is not None and 0 < vote.reason <= APP_REASON_MAX
    return vote.block_hash is None

"""Voting: the 'upon' rules of Algorithm 1 — prevote, lock, precommit, decide, skip.

Part of :class:`~ledger.consensus.machine.ConsensusMachine` (phases ``PREVOTE`` and
``PRECOMMIT`` of the :mod:`ledger.consensus.machine` docstring): signs, persists and
broadcasts this node's votes, and applies lines 22/28, 34, 36, 44, 47, 49 and 55 until none
fires.
"""

from __future__ import annotations

from ledger.consensus.events import Broadcast, CommitBlock, PersistVote, TimeoutKind
from ledger.consensus.machine_core import _VOTING, MachineCore, Phase
from ledger.consensus.messages import (
    Certificate,
    Envelope,
    LockRecord,
    Reason,
    Step,
    Verdict,
    Vote,
    sign_record,
)
from ledger.consensus.rounds import RoundState

__all__ = ["VotingMixin"]


class VotingMixin(MachineCore):
    """Own votes and the upon rules (module docstring)."""

    # ------------------------------------------------------------------------------- voting

    def _vote(
        self,
        step: Step,
        block_hash: bytes | None,
        verdict: Verdict,
        reason: int,
        proposer: str,
        challenge: bytes,
    ) -> None:
        """Sign, persist and broadcast this node's vote — or re-send the one already signed."""
        own = self._own.get((self.round, step))
        if own is not None:
            self._out.append(Broadcast(data=own))
            return
        vote = sign_record(
            Vote(
                step=step,
                height=self.height,
                round=self.round,
                block_hash=block_hash,
                verdict=verdict,
                reason=int(reason),
                proposer=proposer,
                challenge=challenge,
                node=self.node,
                signature=bytes(65),
            ),
            self.key,
        )
        data = Envelope(vote=vote).encode()
        self._own[(self.round, step)] = data
        self._out.append(PersistVote(height=self.height, round=self.round, step=step, payload=data))
        self._out.append(Broadcast(data=data))
        self._receive(data)

    def _progress(self) -> None:
        """Apply the 'upon' rules of Algorithm 1 until none fires."""
        while self.phase is not Phase.IDLE:
            if self._skip_round() or self._try_decide():
                continue
            state = self._round_state(self.round)
            if self.phase is Phase.PROPOSE and state.elected and self._try_prevote(state):
                continue
            if self.phase in _VOTING and not state.locked_here and self._try_lock(state):
                continue
            if self.phase is Phase.PREVOTE and self._try_nil_precommit(state):
                continue
            self._arm_timers(state)
            return

    def _skip_round(self) -> bool:
        """Line 55: > 1/3 of the weight is in a higher round → go there."""
        assert self.validators is not None
        higher = [
            r
            for r, s in self._rounds.items()
            if r > self.round and self.validators.is_one_third(self.validators.weight_of(s.senders))
        ]
        if not higher:
            return False
        self._start_round(max(higher))
        return True

    def _try_decide(self) -> bool:
        """Line 49: > 2/3 approving precommits for a known, valid block in some round."""
        assert self.validators is not None
        for state in self._rounds.values():
            found = state.quorum_for(state.precommits, self.validators)
            if found is None or found[0] not in self._blocks or self._check(found[0]) != 0:
                continue
            block_hash, votes = found
            self._decide(
                Certificate(
                    height=self.height,
                    round=state.round,
                    block_hash=block_hash,
                    votes=tuple(sorted(votes, key=lambda v: v.node)),
                )
            )
            return True
        return False

    def _decide(self, certificate: Certificate) -> None:
        block_hash = certificate.block_hash
        block = self._blocks[block_hash]
        state = self._rounds.get(certificate.round)
        proposal = None if state is None else state.proposal_for(block_hash, state.leader)
        self.app.commit(self.height, block, block_hash, certificate)
        self._out.append(
            CommitBlock(
                height=self.height,
                round=certificate.round,
                block=block,
                block_hash=block_hash,
                certificate=certificate.encode(),
                proposer="" if proposal is None else proposal.header.proposer,
            )
        )
        self._new_height(self.height + 1, block_hash, wait=True)

    def _try_prevote(self, state: RoundState) -> bool:
        """Lines 22 and 28: prevote on the elected leader's proposal."""
        assert self.validators is not None
        proposal = state.proposals.get(state.leader or "")
        if proposal is None:
            return False
        header = proposal.header
        valid_round = header.valid_round
        if valid_round >= 0:
            earlier = self._round_state(valid_round)
            approving = earlier.approvals(earlier.prevotes, header.block_hash)
            if not self.validators.is_quorum(self.validators.weight_of(v.node for v in approving)):
                return False
        status = self._check(header.block_hash)
        lock_ok = (
            self.ignore_lock
            or self._locked_round <= valid_round
            or self._locked_hash == header.block_hash
        )
        if status != 0:
            verdict, reason = Verdict.OBJECT, status
        elif lock_ok:
            verdict, reason = Verdict.APPROVE, Reason.VALID
        else:
            verdict, reason = Verdict.NIL, Reason.LOCKED
        self.phase = Phase.PREVOTE
        self._vote(
            Step.PREVOTE,
            header.block_hash if verdict != Verdict.NIL else None,
            verdict,
            reason,
            header.proposer,
            header.challenge,
        )
        return True

    def _try_lock(self, state: RoundState) -> bool:
        """Line 36: > 2/3 approving prevotes for a known valid block in this round."""
        assert self.validators is not None
        found = state.quorum_for(state.prevotes, self.validators)
        if found is None:
            return False
        block_hash = found[0]
        proposal = state.proposal_for(block_hash, state.leader)
        if proposal is None or self._check(block_hash) != 0:
            return False
        state.locked_here = True
        if self.phase is Phase.PREVOTE:
            self._locked_hash, self._locked_round = block_hash, state.round
            self.phase = Phase.PRECOMMIT
            if (state.round, Step.LOCK) not in self._own:
                lock = LockRecord(proposal=proposal, prevotes=tuple(found[1])).encode()
                self._own[(state.round, Step.LOCK)] = lock
                self._out.append(
                    PersistVote(height=self.height, round=state.round, step=Step.LOCK, payload=lock)
                )
            header = proposal.header
            self._vote(
                Step.PRECOMMIT,
                block_hash,
                Verdict.APPROVE,
                Reason.VALID,
                header.proposer,
                header.challenge,
            )
        self._valid_hash, self._valid_round = block_hash, state.round
        return True

    def _try_nil_precommit(self, state: RoundState) -> bool:
        """Line 44: > 2/3 nil prevotes → precommit nil."""
        assert self.validators is not None
        if not state.nil_quorum(state.prevotes, self.validators):
            return False
        self.phase = Phase.PRECOMMIT
        self._vote(Step.PRECOMMIT, None, Verdict.NIL, Reason.NO_QUORUM, "", b"")
        return True

    def _arm_timers(self, state: RoundState) -> None:
        """Lines 34 and 47: the first time > 2/3 of the weight (pre)voted anything."""
        assert self.validators is not None
        if (
            self.phase is Phase.PREVOTE
            and not state.prevote_timer
            and state.any_quorum(state.prevotes, self.validators)
        ):
            state.prevote_timer = True
            self._schedule(TimeoutKind.PREVOTE, state.round)
        if not state.precommit_timer and state.any_quorum(state.precommits, self.validators):
            state.precommit_timer = True
            self._schedule(TimeoutKind.PRECOMMIT, state.round)

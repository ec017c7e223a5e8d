"""Rounds and leaders: starting a round, the PoW election, the leader's proposal.

Part of :class:`~ledger.consensus.machine.ConsensusMachine` (phases ``ELECT`` and ``PROPOSE``
of the :mod:`ledger.consensus.machine` docstring): each validator signs and broadcasts its PoW
claim, the election closes on timeout or when every validator has claimed, and the winner
re-proposes its valid value with the prevotes that made it valid, or a new block.
"""

from __future__ import annotations

from ledger.consensus.events import Broadcast, PersistVote, TimeoutKind
from ledger.consensus.machine_core import MachineCore, Phase
from ledger.consensus.messages import (
    Envelope,
    PowClaim,
    Proposal,
    ProposalHeader,
    Step,
    Vote,
    make_challenge,
    sign_record,
)
from ledger.consensus.pow import leader_of, pow_hash, solve
from ledger.consensus.rounds import RoundState
from ledger.encoding import sha256

__all__ = ["ElectionMixin"]


class ElectionMixin(MachineCore):
    """Round start, PoW leader election and proposing (module docstring)."""

    def _start_round(self, round_: int) -> None:
        self.round, self.phase = round_, Phase.ELECT
        state = self._round_state(round_)
        claim = self._own_claims.get(round_)
        if claim is None:
            best = solve(
                self.height,
                round_,
                self.prev_hash,
                self.node,
                1,  # D = 1: the lowest hash of the budget; validity is judged against D below
                self.params.pow_attempts,
            )
            nonce = 0 if best is None else best.nonce
            unsigned = PowClaim(
                height=self.height,
                round=round_,
                prev_hash=self.prev_hash,
                node=self.node,
                nonce=nonce,
                signature=bytes(65),
            )
            claim = Envelope(claim=sign_record(unsigned, self.key)).encode()
            self._own_claims[round_] = claim
            self._own_nonces[round_] = nonce
            self._seen.add(sha256(claim))
            digest = pow_hash(self.height, round_, self.prev_hash, self.node, nonce)
            state.claims[self.node] = (digest, int.from_bytes(digest, "big") < self._target)
            state.senders.add(self.node)
        self._out.append(Broadcast(data=claim))
        self._schedule(TimeoutKind.ELECT, round_)
        self._maybe_close_election(state)

    def _maybe_close_election(self, state: RoundState) -> None:
        assert self.validators is not None
        if (
            state.round == self.round
            and self.phase is Phase.ELECT
            and len(state.claims) == len(self.validators)
        ):
            self._elect(state)

    def _elect(self, state: RoundState) -> None:
        state.leader = leader_of((h, n) for n, (h, ok) in state.claims.items() if ok)
        state.elected = True
        self.phase = Phase.PROPOSE
        self._schedule(TimeoutKind.PROPOSE, state.round)
        if state.leader == self.node:
            self._propose(state)

    def _propose(self, state: RoundState) -> None:
        own = self._own.get((state.round, Step.PROPOSAL))
        if own is not None:
            self._out.append(Broadcast(data=own))
            return
        proof: tuple[Vote, ...] = ()
        valid = self._valid_hash
        if valid is not None and valid in self._blocks:
            block, valid_round = self._blocks[valid], self._valid_round
            proof = tuple(
                sorted(
                    self._round_state(valid_round).approvals(
                        self._round_state(valid_round).prevotes, valid
                    ),
                    key=lambda v: v.node,
                )
            )
        else:
            valid_round = -1
            block = self.app.propose(
                height=self.height,
                round_=state.round,
                prev_hash=self.prev_hash,
                timestamp_ms=self._now,
                leader=self.node,
                nonce=self._claim_nonce(state.round),
            )
        block_hash = self.app.block_hash(block)
        self._blocks[block_hash] = block
        header = ProposalHeader(
            height=self.height,
            round=state.round,
            valid_round=valid_round,
            proposer=self.node,
            pow_nonce=self._claim_nonce(state.round),
            timestamp_ms=self._now,
            block_hash=block_hash,
            challenge=make_challenge(self.key, self.height, state.round),
            signature=bytes(65),
        )
        proposal = Proposal(header=sign_record(header, self.key), block=block, proof=proof)
        data = Envelope(proposal=proposal).encode()
        self._own[(state.round, Step.PROPOSAL)] = data
        self._seen.add(sha256(data))
        self._out.append(
            PersistVote(height=self.height, round=state.round, step=Step.PROPOSAL, payload=data)
        )
        self._out.append(Broadcast(data=data))
        state.proposals[self.node] = proposal
        state.senders.add(self.node)
        self._check(block_hash)

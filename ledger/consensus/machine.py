"""The consensus state machine: every transition in one place (h11 ``_state.py``), sans I/O.

``ConsensusMachine.handle(event) -> list[Action]`` is the whole interface. The machine is
Tendermint (arXiv 1807.04938, Algorithm 1) with a proof-of-work leader election in front of
each round and watermarked verdicts as its votes (ARCHITECTURE.md "Consensus, in words"):

``ELECT``
    At the start of round r every validator solves PoW over (h, r, prev hash, id) within its
    attempt budget and broadcasts a signed claim. The election closes at the ELECT timeout, or
    as soon as every validator has claimed; the lowest valid PoW hash wins, ties by id.
``PROPOSE``
    The winner proposes its ``validValue`` with its ``validRound`` and the prevotes that made it
    valid (a re-proposal), or else a new block from ``Application.propose``; the proposal holds
    a timestamp (the event's ``now_ms``) and a fresh challenge ϕ (:mod:`.messages`).
    Lines 22 / 28: on the elected leader's proposal every validator prevotes APPROVE (``id(v)``)
    when the block is valid and its lock allows, OBJECT with the app's reason when the block is
    invalid, NIL otherwise; line 57: NIL on the PROPOSE timeout. The leader re-sends its
    proposal to each objector up to ``max_resends`` times (it cannot change the block within
    the round: that would be equivocation; a new block waits for the next round).
``PREVOTE``
    Line 34 timer, line 36 (lock, precommit APPROVE, set valid value), line 44 (precommit NIL),
    line 61 (precommit NIL on timeout).
``PRECOMMIT``
    Line 47 timer, line 65 (next round on timeout). Line 49, in every phase: > 2/3 of the
    weight precommitted APPROVE for ``id(v)`` in some round and ``v`` is known and valid →
    commit, with those precommits as the certificate. Line 55: > 1/3 of the weight sent anything
    for a higher round → start that round.

Deviations from Algorithm 1, none of which safety depends on (safety rests on the > 2/3
prevote/precommit quorums and locks, which hold for any proposer):

- The proposer of round r is whoever this node elected; nodes that disagree prevote NIL.
- Lines 36 and 49 accept ``v`` from any signed proposal of the height carrying ``id(v)`` (or a
  verified :class:`Decided`), not only from the elected leader's.
- Own messages of the current and previous round (and the locked precommit) are re-broadcast
  every ``rebroadcast_ms`` (gossip, for liveness over lossy links: a node still in round r
  needs the round-r votes of a node that moved on, and line 55 covers larger gaps);
  a node that hears from a node behind it sends that node the :class:`Decided` block and
  certificates of the lagging height and up to ``catchup_batch − 1`` more (read back with
  ``Application.committed``); Decided messages up to that far ahead are buffered.
- After a commit the next height waits ``timeout_commit_ms`` (the block interval; Tendermint's
  ``timeoutCommit``) in phase ``NEW_HEIGHT`` before its round 0 starts; it still accepts the
  new height's messages meanwhile, and line 55 may start a later round early.
- Timeouts grow linearly per round: ``base + r · delta``.

Input from peers never raises: undecodable, unsigned, misaddressed or out-of-range messages
are dropped and counted in :attr:`ConsensusMachine.stats`; provable offences become
:class:`RecordEvidence` actions, each offence once. Local misuse (handling before ``Start``,
starting twice) raises :class:`LocalProtocolError`.
"""

from __future__ import annotations

from ledger.consensus.catchup import CatchUpMixin
from ledger.consensus.detection import DetectionMixin
from ledger.consensus.election import ElectionMixin
from ledger.consensus.events import (
    Action,
    Broadcast,
    Event,
    MessageReceived,
    Start,
    TimeoutFired,
    TimeoutKind,
    TransactionSubmitted,
)
from ledger.consensus.intake import IntakeMixin
from ledger.consensus.machine_core import LocalProtocolError, Phase
from ledger.consensus.messages import Reason, Step, Verdict
from ledger.consensus.voting import VotingMixin

__all__ = ["ConsensusMachine", "LocalProtocolError", "Phase"]


class ConsensusMachine(ElectionMixin, IntakeMixin, CatchUpMixin, DetectionMixin, VotingMixin):
    """One validator's consensus (module docstring).

    Args:
        node: This validator's id.
        key: Its signing key (the watermark key).
        app: The chain (:class:`~ledger.consensus.app.Application`).
        params: Timeouts, PoW and bounds.

    Attributes:
        stats: Counts of dropped messages by reason, re-sends, catch-ups.
        ignore_lock: The ``Amnesia`` misbehaviour hook's switch: prevote as if never locked.
    """

    # ----------------------------------------------------------------------------- interface

    def handle(self, event: Event) -> list[Action]:
        """Feed one event; returns the actions to execute, in order (see :mod:`.events`)."""
        self._now = event.now_ms
        if isinstance(event, Start):
            if self.phase is not Phase.IDLE:
                raise LocalProtocolError(f"{self.node}: Start at height {event.height} twice")
            self._new_height(event.height, event.prev_hash, event.restored)
        elif self.phase is Phase.IDLE:
            raise LocalProtocolError(f"{self.node}: {type(event).__name__} before Start")
        elif isinstance(event, MessageReceived):
            self._receive(event.data)
        elif isinstance(event, TimeoutFired):
            self._timeout(event)
        elif isinstance(event, TransactionSubmitted):
            reason = self.app.submit(event.tx)
            self.stats["tx_accepted" if reason == 0 else "tx_rejected"] += 1
        self._progress()
        out, self._out = self._out, []
        return out

    @property
    def locked(self) -> tuple[bytes | None, int]:
        """(lockedValue id, lockedRound) of Algorithm 1."""
        return self._locked_hash, self._locked_round

    # ------------------------------------------------------------------------ height / round

    def _new_height(
        self, height: int, prev_hash: bytes, restored: tuple[bytes, ...] = (), *, wait: bool = False
    ) -> None:
        self._reset_height()
        self.height, self.prev_hash = height, prev_hash
        self.validators = self.app.validator_set(height)
        self.round, self.phase = 0, Phase.ELECT
        start_round = 0
        for data in restored:
            start_round = max(start_round, self._restore(data))
        if wait and not restored:
            self.phase = Phase.NEW_HEIGHT
            self._schedule(TimeoutKind.COMMIT, 0)
        else:
            self._start_round(start_round)
        self._schedule(TimeoutKind.REBROADCAST, 0)
        waiting, self._future = self._future, []
        for future_height, data in waiting:
            if future_height == height:
                self._receive(data)
            elif future_height > height:
                self._future.append((future_height, data))

    # ------------------------------------------------------------------------------ timeouts

    def _timeout(self, event: TimeoutFired) -> None:
        if event.height != self.height:
            return
        kind, round_ = event.kind, event.round
        if kind == TimeoutKind.COMMIT:
            if self.phase is Phase.NEW_HEIGHT:
                self._start_round(0)
            return
        if kind == TimeoutKind.REBROADCAST:
            self._rebroadcast()
            self._schedule(TimeoutKind.REBROADCAST, 0)
            return
        if round_ != self.round:
            return
        if kind == TimeoutKind.ELECT and self.phase is Phase.ELECT:
            self._elect(self._round_state(round_))
        elif kind == TimeoutKind.PROPOSE and self.phase is Phase.PROPOSE:
            state = self._round_state(round_)
            leader = state.proposals.get(state.leader or "")
            proposer, challenge = (
                ("", b"") if leader is None else (leader.header.proposer, leader.header.challenge)
            )
            reason = Reason.NO_PROPOSAL if leader is None else Reason.NO_LOCK_PROOF
            self._vote(Step.PREVOTE, None, Verdict.NIL, reason, proposer, challenge)
            self.phase = Phase.PREVOTE
        elif kind == TimeoutKind.PREVOTE and self.phase is Phase.PREVOTE:
            self._vote(Step.PRECOMMIT, None, Verdict.NIL, Reason.NO_QUORUM, "", b"")
            self.phase = Phase.PRECOMMIT
        elif kind == TimeoutKind.PRECOMMIT:
            self._start_round(round_ + 1)

    def _rebroadcast(self) -> None:
        self.stats["rebroadcast"] += 1
        claim = self._own_claims.get(self.round)
        if claim is not None:
            self._out.append(Broadcast(data=claim))
        for round_ in (self.round - 1, self.round):
            for step in (Step.PROPOSAL, Step.PREVOTE, Step.PRECOMMIT):
                data = self._own.get((round_, step))
                if data is not None:
                    self._out.append(Broadcast(data=data))
        if self._locked_round >= 0 and self._locked_round != self.round:
            data = self._own.get((self._locked_round, Step.PRECOMMIT))
            if data is not None:
                self._out.append(Broadcast(data=data))

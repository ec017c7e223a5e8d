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

from collections import Counter
from enum import Enum

from ledger.consensus.app import Application, ConsensusParams
from ledger.consensus.events import (
    Action,
    Broadcast,
    CommitBlock,
    Event,
    MessageReceived,
    PersistVote,
    RecordEvidence,
    ScheduleTimeout,
    Send,
    Start,
    TimeoutFired,
    TimeoutKind,
    TransactionSubmitted,
)
from ledger.consensus.evidence import Evidence, EvidenceKind, conflicting
from ledger.consensus.messages import (
    APP_REASON_MAX,
    Certificate,
    Decided,
    Envelope,
    LockRecord,
    PowClaim,
    Proposal,
    ProposalHeader,
    Reason,
    Step,
    Verdict,
    Vote,
    challenge_digest,
    decode_envelope,
    make_challenge,
    sign_record,
    verify_certificate,
    verify_signed,
)
from ledger.consensus.pow import check as pow_check
from ledger.consensus.pow import leader_of, pow_hash, solve, target
from ledger.consensus.rounds import RoundState
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey, verify
from ledger.encoding import DecodeError, sha256

__all__ = ["ConsensusMachine", "LocalProtocolError", "Phase"]


class Phase(Enum):
    """Where the machine is within the current round (Tendermint's ``step``, plus ELECT)."""

    IDLE = "idle"
    NEW_HEIGHT = "new_height"
    ELECT = "elect"
    PROPOSE = "propose"
    PREVOTE = "prevote"
    PRECOMMIT = "precommit"


class LocalProtocolError(RuntimeError):
    """The driver misused the machine (the fault is local, never a peer's)."""


_VOTING = (Phase.PREVOTE, Phase.PRECOMMIT)


class ConsensusMachine:
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

    def __init__(
        self, node: str, key: PrivateKey, app: Application, params: ConsensusParams | None = None
    ) -> None:
        self.node = node
        self.key = key
        self.app = app
        self.params = params or ConsensusParams()
        self.stats: Counter[str] = Counter()
        self.ignore_lock = False
        self.phase = Phase.IDLE
        self.height = 0
        self.round = 0
        self.prev_hash = b""
        self.validators: ValidatorSet | None = None
        self._target = target(self.params.pow_difficulty)
        self._evidence_keys: set[tuple[object, ...]] = set()
        self._catchups: Counter[tuple[str, int]] = Counter()
        self._future: list[tuple[int, bytes]] = []
        self._out: list[Action] = []
        self._now = 0
        self._reset_height()

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

    def _reset_height(self) -> None:
        self._rounds: dict[int, RoundState] = {}
        self._blocks: dict[bytes, bytes] = {}
        self._status: dict[bytes, int] = {}
        self._own: dict[tuple[int, Step], bytes] = {}
        self._own_claims: dict[int, bytes] = {}
        self._own_nonces: dict[int, int] = {}
        self._pending_verdicts: dict[bytes, list[Vote]] = {}
        self._resends: Counter[str] = Counter()
        self._seen: set[bytes] = set()
        self._challenges: dict[tuple[str, int, bytes], bool] = {}
        self._locked_hash: bytes | None = None
        self._locked_round = -1
        self._valid_hash: bytes | None = None
        self._valid_round = -1

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

    def _restore(self, data: bytes) -> int:
        """Re-adopt one of this node's own persisted messages; returns its round."""
        try:
            envelope = decode_envelope(data, max_bytes=self.params.max_message_bytes)
        except DecodeError:
            try:
                lock = LockRecord.decode(data, max_bytes=self.params.max_message_bytes)
            except DecodeError:
                self.stats["restore_undecodable"] += 1
                return 0
            self._own[(lock.proposal.header.round, Step.LOCK)] = data
            self._receive(Envelope(proposal=lock.proposal).encode())
            for vote in lock.prevotes:
                self._receive(Envelope(vote=vote).encode())
            return lock.proposal.header.round
        if envelope.vote is not None and envelope.vote.height == self.height:
            vote = envelope.vote
            self._own[(vote.round, vote.step)] = data
            if (
                vote.step == Step.PRECOMMIT
                and vote.verdict == Verdict.APPROVE
                and vote.round > self._locked_round
            ):
                self._locked_hash, self._locked_round = vote.block_hash, vote.round
                self._valid_hash, self._valid_round = vote.block_hash, vote.round
            self._receive(data)
            return vote.round
        if envelope.proposal is not None and envelope.proposal.header.height == self.height:
            self._own[(envelope.proposal.header.round, Step.PROPOSAL)] = data
            self._receive(data)
            return envelope.proposal.header.round
        return 0

    def _round_state(self, round_: int) -> RoundState:
        state = self._rounds.get(round_)
        if state is None:
            state = self._rounds[round_] = RoundState(round=round_)
        return state

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

    def _claim_nonce(self, round_: int) -> int:
        return self._own_nonces.get(round_, 0)

    def _schedule(self, kind: TimeoutKind, round_: int) -> None:
        delay = self.params.timeout_ms(kind, round_)
        self._out.append(
            ScheduleTimeout(height=self.height, round=round_, kind=kind, delay_ms=delay)
        )

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

    def _admit(
        self, height: int, round_: int, node: str, data: bytes, *, claim: bool = False
    ) -> bool:
        """Route by height and round: keep the current height, buffer the next, answer the past.

        Only a stale *claim* is answered with the decided block: a node sends one whenever it
        starts a round or re-broadcasts, so a node that is stuck keeps asking, while the late
        votes of a node that is merely a little behind (and will decide by itself) do not.
        """
        assert self.validators is not None
        if height > self.height:
            if height > self.height + 1 or len(self._future) >= self.params.max_future_messages:
                self.stats["future_dropped"] += 1
            else:
                self._future.append((height, data))
            return False
        if height < self.height:
            self.stats["stale"] += 1
            key = (node, height)
            if (
                claim
                and node in self.validators
                and node != self.node
                and self._catchups[key] < self.params.max_catchup_replies
            ):
                self._catchups[key] += 1
                self._send_decided(node, height)
            return False
        if node not in self.validators:
            self.stats["not_a_validator"] += 1
            return False
        if not 0 <= round_ <= self.round + self.params.max_round_ahead:
            self.stats["round_out_of_range"] += 1
            return False
        return True

    def _send_decided(self, node: str, height: int) -> None:
        """Send a node that is behind the committed blocks from ``height`` on (catch-up)."""
        for past in range(height, min(height + self.params.catchup_batch, self.height)):
            committed = self.app.committed(past)
            if committed is None:
                return
            block, certificate = committed
            decided = Decided(block=block, certificate=certificate)
            self.stats["catchup_sent"] += 1
            self._out.append(Send(to=node, data=Envelope(decided=decided).encode()))

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

    def _check(self, block_hash: bytes) -> int:
        """The app's verdict on a known block (cached), judging votes that waited for it."""
        status = self._status.get(block_hash)
        if status is None:
            status = self._status[block_hash] = self.app.check(
                self.height, self._blocks[block_hash]
            )
        for vote in self._pending_verdicts.pop(block_hash, []):
            self._judge(vote, status)
        return status

    def _judge(self, vote: Vote, status: int) -> None:
        approve_invalid = vote.verdict == Verdict.APPROVE and status != 0
        object_valid = vote.verdict == Verdict.OBJECT and status == 0
        if (approve_invalid or object_valid) and vote.block_hash is not None:
            self._evidence(
                EvidenceKind.FALSE_VERDICT,
                vote.node,
                vote.round,
                vote.step,
                vote.encode(),
                b"",
                self._blocks[vote.block_hash],
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

    def _on_decided(self, decided: Decided, data: bytes) -> None:
        assert self.validators is not None
        certificate = decided.certificate
        if self.height < certificate.height < self.height + self.params.catchup_batch:
            if len(self._future) < self.params.max_future_messages:
                self._future.append((certificate.height, data))
            return
        if certificate.height != self.height:
            self.stats["decided_other_height"] += 1
            return
        if self.app.block_hash(decided.block) != certificate.block_hash or not (
            verify_certificate(certificate, self.validators)
        ):
            self.stats["decided_invalid"] += 1
            return
        self._blocks.setdefault(certificate.block_hash, decided.block)
        if self._check(certificate.block_hash) == 0:
            self.stats["catchup_applied"] += 1
            self._decide(certificate)

    # ------------------------------------------------------------------------------ evidence

    def _equivocation(
        self,
        node: str,
        round_: int,
        step: Step,
        first: Vote | ProposalHeader,
        second: Vote | ProposalHeader,
    ) -> None:
        a, b = sorted((first.encode(), second.encode()))
        self._evidence(EvidenceKind.EQUIVOCATION, node, round_, step, a, b, b"")

    def _evidence(
        self,
        kind: EvidenceKind,
        offender: str,
        round_: int,
        step: Step,
        first: bytes,
        second: bytes,
        block: bytes,
    ) -> None:
        key = (kind, offender, self.height, round_, step)
        if key in self._evidence_keys:
            return
        self._evidence_keys.add(key)
        evidence = Evidence(
            kind=kind,
            offender=offender,
            height=self.height,
            round=round_,
            step=step,
            first=first,
            second=second,
            block=block,
        )
        self._out.append(RecordEvidence(evidence=evidence))

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


def _well_formed(vote: Vote) -> bool:
    """Verdict, block hash and reason agree (APPROVE: hash, 0; OBJECT: hash, app reason; NIL)."""
    if vote.step not in (Step.PREVOTE, Step.PRECOMMIT):
        return False
    if vote.verdict == Verdict.APPROVE:
        return vote.block_hash is not None and vote.reason == 0
    if vote.verdict == Verdict.OBJECT:
        return vote.block_hash is not None and 0 < vote.reason <= APP_REASON_MAX
    return vote.block_hash is None

"""The validator pool's driver: members, the virtual-clock scheduler, running and results.

:class:`ValidatorPool` runs ``n`` consensus machines over their applications and delivers
every action between them under the seeded scheduler and faults described in
:mod:`ledger.consensus.pool`.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.consensus.app import ConsensusParams
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
    TransactionSubmitted,
)
from ledger.consensus.evidence import Evidence, EvidenceKey
from ledger.consensus.faults import Faults, SplitMix
from ledger.consensus.hooks import Behaviour, HookedMachine
from ledger.consensus.machine import ConsensusMachine
from ledger.consensus.messages import Certificate, ProposalHeader, Vote, decode_envelope
from ledger.consensus.simsetup import MemberResult, PoolResult, PoolSetup, SimApp, toy_setup
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import DecodeError, canonical, sha256

__all__ = ["ValidatorPool"]


@dataclass(slots=True)
class _Member:
    index: int
    node: str
    key: PrivateKey
    app: Any  # a SimApp; Any only because bench/consensus.py reads ToyApp fields through it
    machine: HookedMachine
    honest: bool
    epoch: int = 0
    stopped: bool = False
    persisted: dict[tuple[int, int, int], bytes] = field(default_factory=dict)
    commits: list[tuple[int, bytes, int]] = field(default_factory=list)
    signed: dict[tuple[str, int, int, int], bytes] = field(default_factory=dict)
    sent_seen: set[bytes] = field(default_factory=set)


class ValidatorPool:
    """``n`` validators (ids ``v0`` …) on one virtual clock (:mod:`ledger.consensus.pool`).

    Args:
        n: Number of validator identities (equal weights).
        seed: Seeds keys' genesis, the scheduler and the faults.
        byzantine: Member index → behaviours (hooks over that member's honest machine).
        twins: Member indices that get a second machine with the same id and key.
        faults: Network faults and restarts (none when omitted).
        params: Consensus parameters (``SIM_PARAMS`` when omitted).
        txs: Client transactions submitted to every member at time 0.
        max_txs: Largest number of transactions per block.
        check_signing: Decode every honest outgoing message to detect double signing.
        setup: Identities and applications (:func:`toy_setup` of ``n``, ``seed``, ``params``
            and ``max_txs`` when omitted; ``n`` must then equal ``len(setup.nodes)``).
    """

    def __init__(
        self,
        n: int,
        seed: int,
        *,
        byzantine: Mapping[int, Sequence[Behaviour]] | None = None,
        twins: Sequence[int] = (),
        faults: Faults | None = None,
        params: ConsensusParams | None = None,
        txs: Sequence[bytes] = (),
        max_txs: int = 1000,
        check_signing: bool = True,
        description: str = "",
        setup: PoolSetup | None = None,
    ) -> None:
        setup = setup or toy_setup(n, seed, params=params, max_txs=max_txs)
        if len(setup.nodes) != n:
            raise ValueError(f"the setup has {len(setup.nodes)} validators, not {n}")
        self.seed = seed
        self.rng = SplitMix(seed)
        self.faults = faults or Faults()
        self.params = setup.params
        self.check_signing = check_signing
        self.description = description
        self.genesis_hash = setup.genesis_hash
        keys = setup.keys
        self.validators = setup.validators
        byzantine = byzantine or {}
        faulty = set(byzantine) | set(twins)
        self.members: list[_Member] = []
        for i in [*range(n), *twins]:
            app = setup.make_app(i)
            machine = ConsensusMachine(setup.nodes[i], keys[i], app, self.params)
            behaviours = byzantine.get(i, ()) if len(self.members) == i else ()
            self.members.append(
                _Member(
                    index=len(self.members),
                    node=setup.nodes[i],
                    key=keys[i],
                    app=app,
                    machine=HookedMachine(machine, behaviours),
                    honest=i not in faulty,
                )
            )
        self.n = n
        self.now_ms = 0
        self.reached_ms = -1
        self.messages = 0
        self._queue: list[tuple[int, int, int, int, object]] = []
        self._seq = 0
        self.detected: dict[EvidenceKey, Evidence] = {}
        self.double_signs: list[str] = []
        self.txs = tuple(txs)
        for member, at_ms in self.faults.restarts:
            self._push(at_ms, 2, member, None)

    # ------------------------------------------------------------------------- scheduling

    def _push(self, at_ms: int, kind: int, member: int, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at_ms, self._seq, kind, member, item))

    def _deliver(self, source: int, target: int, data: bytes, delay_ms: int) -> None:
        faults = self.faults
        before_heal = self.now_ms < faults.heal_ms
        if any(p.separates(source, target, self.now_ms) for p in faults.partitions):
            return
        if before_heal and faults.loss_permille and self.rng.chance(faults.loss_permille):
            return
        copies = 2 if before_heal and self.rng.chance(faults.duplicate_permille) else 1
        for _ in range(copies):
            delay = self.rng.between(faults.min_delay_ms, faults.max_delay_ms) + delay_ms
            self._push(self.now_ms + delay, 0, target, data)

    def _execute(self, member: _Member, actions: list[Action]) -> bool:
        """Carry out a member's actions; True when it committed a block."""
        committed = False
        for action in actions:
            if isinstance(action, Broadcast):
                self._record_signed(member, action.data)
                for other in self.members:
                    if other.index != member.index:
                        self._deliver(member.index, other.index, action.data, action.delay_ms)
            elif isinstance(action, Send):
                self._record_signed(member, action.data)
                for other in self.members:
                    if other.node == action.to and other.index != member.index:
                        self._deliver(member.index, other.index, action.data, action.delay_ms)
            elif isinstance(action, ScheduleTimeout):
                fired = TimeoutFired(height=action.height, round=action.round, kind=action.kind)
                self._push(self.now_ms + action.delay_ms, 1, member.index, (member.epoch, fired))
            elif isinstance(action, PersistVote):
                member.persisted[(action.height, action.round, int(action.step))] = action.payload
            elif isinstance(action, RecordEvidence):
                member.app.add_evidence(action.evidence)
                if member.honest:
                    self.detected.setdefault(action.evidence.key, action.evidence)
            elif isinstance(action, CommitBlock):
                member.commits.append((action.height, action.block_hash, self.now_ms))
                committed = True
        return committed

    def _record_signed(self, member: _Member, data: bytes) -> None:
        """Keep what an honest member signed per slot; a different second content is a fault."""
        if not (self.check_signing and member.honest):
            return
        digest = sha256(data)
        if digest in member.sent_seen:
            return
        member.sent_seen.add(digest)
        try:
            envelope = decode_envelope(data, max_bytes=self.params.max_message_bytes)
        except DecodeError:
            return
        signed: Vote | ProposalHeader | None = envelope.vote
        if envelope.proposal is not None:
            signed = envelope.proposal.header
        if signed is None:
            return
        content = canonical(signed.unsigned_fields())
        step = 0 if isinstance(signed, ProposalHeader) else int(signed.step)
        slot = (member.node, signed.height, signed.round, step)
        known = member.signed.setdefault(slot, content)
        if known != content:
            self.double_signs.append(
                f"{member.node} signed two different messages for height {signed.height} "
                f"round {signed.round} step {step}"
            )

    def _handle(self, member: _Member, event: Event) -> bool:
        return self._execute(member, member.machine.handle(event))

    def _restart(self, member: _Member) -> None:
        member.epoch += 1
        member.app = member.app.restarted()
        height = member.app.height + 1
        machine = ConsensusMachine(member.node, member.key, member.app, self.params)
        member.machine = HookedMachine(machine, member.machine.behaviours)
        restored = tuple(
            payload for (h, _, _), payload in sorted(member.persisted.items()) if h == height
        )
        start = Start(
            height=height, prev_hash=member.app.head_hash(), now_ms=self.now_ms, restored=restored
        )
        self._handle(member, start)

    # ------------------------------------------------------------------------------- running

    def _done(self, until_height: int) -> bool:
        """Honest members reached the height; then misbehaviour stops until evidence is in."""
        honest = [m for m in self.members if m.honest]
        if any(m.app.height < until_height for m in honest):
            return False
        if self.reached_ms < 0:
            self.reached_ms = self.now_ms
            for member in self.members:
                for behaviour in member.machine.behaviours:
                    behaviour.enabled = False
                member.stopped = member.index >= self.n
        return all(m.app.evidence_on_chain(k) for k in self.detected for m in honest)

    def run(self, until_height: int, *, until_ms: int = 60_000) -> PoolResult:
        """Run until the honest members reach ``until_height`` and record the evidence.

        Once every honest member has committed ``until_height``, misbehaviour is switched off
        (and twins stopped) and the run goes on until every offence an honest member detected
        is on every honest chain, or until ``until_ms`` of virtual time. The result is unchecked.
        """
        for member in self.members:
            start = Start(height=1, prev_hash=self.genesis_hash, now_ms=0)
            self._handle(member, start)
            for tx in self.txs:
                self._handle(member, TransactionSubmitted(tx=tx, now_ms=0))
        reached = False
        while self._queue and not reached:
            at_ms, _, kind, index, item = heapq.heappop(self._queue)
            if at_ms > until_ms:
                break
            self.now_ms = at_ms
            member = self.members[index]
            if member.stopped:
                continue
            if kind == 0:
                assert isinstance(item, bytes)
                self.messages += 1
                committed = self._handle(member, MessageReceived(data=item, now_ms=at_ms))
            elif kind == 1:
                assert isinstance(item, tuple)
                epoch, fired = item
                if epoch != member.epoch:
                    continue
                committed = self._handle(
                    member,
                    TimeoutFired(
                        height=fired.height, round=fired.round, kind=fired.kind, now_ms=at_ms
                    ),
                )
            else:
                self._restart(member)
                committed = True
            if committed:
                reached = self._done(until_height)
        return self._result(until_height, reached)

    def _chain(self, app: SimApp) -> tuple[list[bytes], list[bytes], list[Certificate | None]]:
        hashes, blocks = [self.genesis_hash], [b""]
        certificates: list[Certificate | None] = [None]
        for height in range(1, app.height + 1):
            committed = app.committed(height)
            if committed is None:
                break
            block, certificate = committed
            hashes.append(app.block_hash(block))
            blocks.append(block)
            certificates.append(certificate)
        return hashes, blocks, certificates

    def _result(self, until_height: int, reached: bool) -> PoolResult:
        members = []
        for m in self.members:
            hashes, blocks, certificates = self._chain(m.app)
            members.append(
                MemberResult(
                    index=m.index,
                    node=m.node,
                    honest=m.honest,
                    hashes=tuple(hashes),
                    blocks=tuple(blocks),
                    certificates=tuple(certificates),
                    commit_times_ms=tuple(t for _, _, t in m.commits),
                    stats=dict(m.machine.machine.stats),
                )
            )
        honest = max((m for m in self.members if m.honest), key=lambda m: m.app.height)
        validator_sets: dict[int, ValidatorSet] = {}
        for height in range(1, honest.app.height + 2):
            try:
                validator_sets[height] = honest.app.validator_set(height)
            except LookupError:
                break
        return PoolResult(
            seed=self.seed,
            description=self.description or self.faults.describe(),
            until_height=until_height,
            reached=reached,
            now_ms=self.now_ms,
            heal_ms=self.faults.heal_ms,
            validators=self.validators,
            validator_sets=validator_sets,
            genesis_hash=self.genesis_hash,
            honest_nodes=frozenset(m.node for m in self.members if m.honest),
            members=tuple(members),
            detected=dict(self.detected),
            double_signs=tuple(self.double_signs),
            messages=self.messages,
        )

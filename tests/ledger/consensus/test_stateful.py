"""Hypothesis is the network scheduler of four real consensus machines on the toy chain.

The simulator's :class:`~ledger.consensus.driver.ValidatorPool` (with no random faults) holds
the machines, executes their actions (persisting votes, recording what every honest node
signs) and queues messages and timers; instead of popping its queue in time order, hypothesis
picks the schedule: which pending message reaches its target next, which is lost or
duplicated, which node's earliest timer fires, how far virtual time jumps, which client
transaction arrives where, which honest node restarts from its persisted votes
(:class:`~ledger.consensus.events.PersistVote`) and whether one node turns Byzantine through
the misbehaviour hooks (:mod:`ledger.consensus.hooks`, at most one of four, so f = 1).

After every step: agreement among honest nodes, every commit carries a sound certificate, no
honest node signs two different messages for one (height, round, step) even across restarts,
and each node's committed heights are contiguous. At teardown the faults stop: everything is
delivered and timers fire in time order until every honest node is two heights past the
highest honest height hypothesis left behind (liveness after healing).
"""

from __future__ import annotations

import heapq

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger.consensus.driver import ValidatorPool
from ledger.consensus.events import MessageReceived, Start, TimeoutFired, TransactionSubmitted
from ledger.consensus.faults import BYZANTINE_KINDS, Faults
from ledger.consensus.messages import Certificate, verify_certificate
from ledger.consensus.toyapp import make_tx
from ledger.crypto import PrivateKey

N = 4
MESSAGE, TIMER = 0, 1  # the pool queue's item kinds
LIVENESS_HEIGHTS = 2
LIVENESS_BUDGET_MS = 60_000
CLIENT = PrivateKey.from_seed(b"stateful-client")
HOOKED_KINDS = sorted(set(BYZANTINE_KINDS) - {"none", "twins"})  # twins are not a hook


class Network(RuleBasedStateMachine):
    """Four validators whose every message, loss, duplicate, timer and restart hypothesis picks."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = ValidatorPool(N, seed=7, faults=Faults())
        self.nonce = 0
        self.byzantine: list[str] = []
        self.verified: dict[tuple[int, int], Certificate] = {}
        for member in self.pool.members:
            self.pool._handle(member, Start(height=1, prev_hash=self.pool.genesis_hash))

    # --------------------------------------------------------------------------- the queue

    def _messages(self) -> list[int]:
        return [k for k, entry in enumerate(self.pool._queue) if entry[2] == MESSAGE]

    def _live_timers(self, index: int) -> list[int]:
        epoch = self.pool.members[index].epoch
        return [
            k
            for k, (_, _, kind, member, item) in enumerate(self.pool._queue)
            if kind == TIMER and member == index and isinstance(item, tuple) and item[0] == epoch
        ]

    def _take(self, position: int) -> tuple[int, int, object]:
        queue = self.pool._queue
        at_ms, _, _, member, item = queue.pop(position)
        heapq.heapify(queue)
        return at_ms, member, item

    def _deliver(self, member: int, data: bytes) -> None:
        self.pool.messages += 1
        event = MessageReceived(data=data, now_ms=self.pool.now_ms)
        self.pool._handle(self.pool.members[member], event)

    def _fire(self, member: int, at_ms: int, fired: TimeoutFired) -> None:
        self.pool.now_ms = max(self.pool.now_ms, at_ms)
        event = TimeoutFired(
            height=fired.height, round=fired.round, kind=fired.kind, now_ms=self.pool.now_ms
        )
        self.pool._handle(self.pool.members[member], event)

    def _step_in_order(self) -> None:
        at_ms, _, kind, index, item = heapq.heappop(self.pool._queue)
        if kind == MESSAGE:
            assert isinstance(item, bytes)
            self.pool.now_ms = max(self.pool.now_ms, at_ms)
            self._deliver(index, item)
        elif kind == TIMER:
            assert isinstance(item, tuple)
            epoch, fired = item
            if epoch == self.pool.members[index].epoch:
                self._fire(index, at_ms, fired)

    def _honest(self) -> list[int]:
        return [m.index for m in self.pool.members if m.honest]

    # ------------------------------------------------------------------------------ rules

    @precondition(lambda self: self._messages())
    @rule(pick=st.integers(0, 1 << 16))
    def deliver(self, pick: int) -> None:
        """Any pending message (not necessarily the oldest) reaches its target."""
        messages = self._messages()
        _, member, data = self._take(messages[pick % len(messages)])
        assert isinstance(data, bytes)
        self._deliver(member, data)

    @precondition(lambda self: self._messages())
    @rule(count=st.integers(1, 40))
    def deliver_burst(self, count: int) -> None:
        """Up to ``count`` pending messages arrive, oldest first (timers wait)."""
        for _ in range(count):
            messages = self._messages()
            if not messages:
                return
            oldest = min(messages, key=lambda k: self.pool._queue[k][:2])
            _, member, data = self._take(oldest)
            assert isinstance(data, bytes)
            self._deliver(member, data)

    @rule(count=st.integers(1, 60))
    def run_in_order(self, count: int) -> None:
        """The simulator's own schedule for ``count`` events: messages and timers by time."""
        for _ in range(count):
            if not self.pool._queue:
                return
            self._step_in_order()

    @precondition(lambda self: self._messages())
    @rule(pick=st.integers(0, 1 << 16))
    def drop(self, pick: int) -> None:
        """A pending message is lost."""
        messages = self._messages()
        self._take(messages[pick % len(messages)])

    @precondition(lambda self: self._messages())
    @rule(pick=st.integers(0, 1 << 16))
    def duplicate(self, pick: int) -> None:
        """A pending message will arrive twice."""
        messages = self._messages()
        at_ms, _, _, member, data = self.pool._queue[messages[pick % len(messages)]]
        self.pool._push(at_ms, MESSAGE, member, data)

    @rule(member=st.integers(0, N - 1))
    def fire_timeout(self, member: int) -> None:
        """The node's earliest live timer goes off (virtual time moves up to it)."""
        timers = self._live_timers(member)
        if not timers:
            return
        earliest = min(timers, key=lambda k: self.pool._queue[k][:2])
        at_ms, _, item = self._take(earliest)
        assert isinstance(item, tuple)
        self._fire(member, at_ms, item[1])

    @rule(delta_ms=st.integers(1, 500))
    def advance_time(self, delta_ms: int) -> None:
        """Virtual time jumps (later events and proposal timestamps carry it)."""
        self.pool.now_ms += delta_ms

    @rule(member=st.integers(0, N - 1), amount=st.integers(0, 1000), everyone=st.booleans())
    def submit_transaction(self, member: int, amount: int, everyone: bool) -> None:
        """A client transaction reaches one node's mempool (or every node's)."""
        self.nonce += 1
        event = TransactionSubmitted(
            tx=make_tx(CLIENT, self.nonce, amount), now_ms=self.pool.now_ms
        )
        for target in range(N) if everyone else [member]:
            self.pool._handle(self.pool.members[target], event)

    @rule(pick=st.integers(0, N - 1))
    def restart(self, pick: int) -> None:
        """An honest node crashes and resumes from its chain and persisted votes."""
        honest = self._honest()
        self.pool._restart(self.pool.members[honest[pick % len(honest)]])

    @precondition(lambda self: not self.byzantine)
    @rule(member=st.integers(0, N - 1), kind=st.sampled_from(HOOKED_KINDS))
    def turn_byzantine(self, member: int, kind: str) -> None:
        """One node (at most) starts to misbehave through the hooks."""
        target = self.pool.members[member]
        target.machine.behaviours = BYZANTINE_KINDS[kind]()
        target.honest = False
        self.byzantine.append(f"{target.node}: {kind}")

    # ------------------------------------------------------------------------- invariants

    @invariant()
    def no_honest_double_signing(self) -> None:
        """No honest node signed two different messages for one slot, restarts included."""
        assert not self.pool.double_signs, self.pool.double_signs

    @invariant()
    def agreement_with_sound_certificates(self) -> None:
        """Honest chains are prefixes of one another; every block has a valid certificate."""
        honest = [self.pool.members[i].app for i in self._honest()]
        longest = max(honest, key=lambda app: app.height)
        for app in honest:
            assert app.hashes == longest.hashes[: len(app.hashes)], "agreement violated"
        for app in (m.app for m in self.pool.members):
            for height in range(1, app.height + 1):
                certificate = app.certificates[height]
                assert certificate is not None, f"height {height} has no certificate"
                if self.verified.get((id(app), height)) is certificate:
                    continue  # checked when it appeared (the chain never rewrites it)
                assert certificate.height == height
                assert certificate.block_hash == app.hashes[height]
                assert verify_certificate(certificate, self.pool.validators)
                self.verified[(id(app), height)] = certificate

    @invariant()
    def commits_are_contiguous(self) -> None:
        """Each node committed heights 1, 2, … once each, matching its chain."""
        for member in self.pool.members:
            heights = [height for height, _, _ in member.commits]
            assert heights == list(range(1, len(heights) + 1)), (member.node, heights)
            assert [block_hash for _, block_hash, _ in member.commits] == member.app.hashes[1:]

    # ---------------------------------------------------------------------------- liveness

    def teardown(self) -> None:
        """Faults stop: deliver everything, fire timers in order; two more heights follow."""
        honest = [self.pool.members[i] for i in self._honest()]
        target = max(m.app.height for m in honest) + LIVENESS_HEIGHTS
        deadline_ms = self.pool.now_ms + LIVENESS_BUDGET_MS
        queue = self.pool._queue
        while any(m.app.height < target for m in honest):
            assert queue and self.pool.now_ms <= deadline_ms, (
                f"liveness: honest heights {[m.app.height for m in honest]} < {target} at "
                f"{self.pool.now_ms} ms (byzantine: {self.byzantine})"
            )
            self._step_in_order()
            self.no_honest_double_signing()
            self.agreement_with_sound_certificates()
            self.commits_are_contiguous()


TestNetwork = Network.TestCase
TestNetwork.settings = settings(
    max_examples=30,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SlowNetwork(Network):
    """The same machine, longer and more often."""


TestSlowNetwork = pytest.mark.slow(SlowNetwork.TestCase)
TestSlowNetwork.settings = settings(
    max_examples=300,
    stateful_step_count=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

"""The machine's transitions, pushed through real machines over a fake link (h11 style)."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.consensus.app import ConsensusParams
from ledger.consensus.events import (
    Action,
    Broadcast,
    CommitBlock,
    MessageReceived,
    PersistVote,
    ScheduleTimeout,
    Send,
    Start,
    TimeoutFired,
    TimeoutKind,
    TransactionSubmitted,
)
from ledger.consensus.machine import ConsensusMachine, LocalProtocolError, Phase
from ledger.consensus.messages import (
    Certificate,
    Envelope,
    Step,
    Verdict,
    Vote,
    sign_record,
    verify_certificate,
)
from ledger.consensus.toyapp import ToyApp, make_tx
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import sha256

KEYS = [PrivateKey.from_seed(f"machine-{i}".encode()) for i in range(4)]
VALIDATORS = ValidatorSet.of((f"v{i}", k.public_key, 1) for i, k in enumerate(KEYS))
GENESIS = sha256(b"genesis")
PARAMS = ConsensusParams(pow_attempts=16)


class Link:
    """Machines joined by a FIFO link; timers kept until the test fires them."""

    def __init__(self, n: int = 4) -> None:
        self.apps = [ToyApp(VALIDATORS, GENESIS) for _ in range(n)]
        self.machines = [ConsensusMachine(f"v{i}", KEYS[i], self.apps[i], PARAMS) for i in range(n)]
        self.queue: deque[tuple[int, bytes]] = deque()
        self.timers: list[tuple[int, ScheduleTimeout]] = []
        self.actions: list[list[Action]] = [[] for _ in range(n)]
        self.commits: list[list[CommitBlock]] = [[] for _ in range(n)]
        self.now_ms = 0
        for i, machine in enumerate(self.machines):
            self.take(i, machine.handle(Start(height=1, prev_hash=GENESIS)))

    def take(self, i: int, actions: list[Action]) -> None:
        self.actions[i] += actions
        for action in actions:
            if isinstance(action, Broadcast):
                self.queue += [(j, action.data) for j in range(len(self.machines)) if j != i]
            elif isinstance(action, Send):
                self.queue.append((int(action.to[1:]), action.data))
            elif isinstance(action, ScheduleTimeout):
                self.timers.append((i, action))
            elif isinstance(action, CommitBlock):
                self.commits[i].append(action)

    def deliver_all(self) -> None:
        while self.queue:
            j, data = self.queue.popleft()
            self.take(j, self.machines[j].handle(MessageReceived(data=data, now_ms=self.now_ms)))

    def fire(self, kind: TimeoutKind) -> None:
        due = [(i, t) for i, t in self.timers if t.kind == kind]
        self.timers = [(i, t) for i, t in self.timers if t.kind != kind]
        for i, timer in due:
            event = TimeoutFired(height=timer.height, round=timer.round, kind=kind)
            self.take(i, self.machines[i].handle(event))
        self.deliver_all()

    def run_height(self) -> None:
        for kind in (TimeoutKind.ELECT, TimeoutKind.PROPOSE, TimeoutKind.COMMIT):
            self.deliver_all()
            self.fire(kind)


def test_four_machines_commit_the_same_blocks_with_sound_certificates() -> None:
    link = Link()
    tx = make_tx(PrivateKey.from_seed(b"client"), 0, 5)
    for i, machine in enumerate(link.machines):
        link.take(i, machine.handle(TransactionSubmitted(tx=tx)))
    link.run_height()
    link.run_height()
    assert len({a.height for a in link.apps}) == 1
    assert link.apps[0].height >= 2
    assert len({tuple(a.hashes) for a in link.apps}) == 1
    assert sha256(tx) in link.apps[0].tx_height
    for commit in link.commits[0]:
        certificate = Certificate.decode(commit.certificate, max_bytes=1 << 20)
        assert verify_certificate(certificate, VALIDATORS)
        assert certificate.block_hash == commit.block_hash


def test_all_claims_close_the_election_without_waiting() -> None:
    link = Link()
    link.deliver_all()
    assert all(m.phase in (Phase.PREVOTE, Phase.PRECOMMIT) or m.height == 2 for m in link.machines)


def test_every_vote_is_persisted_before_it_is_broadcast() -> None:
    link = Link()
    link.run_height()
    for actions in link.actions:
        persisted: set[bytes] = set()
        for action in actions:
            if isinstance(action, PersistVote):
                persisted.add(action.payload)
            elif isinstance(action, Broadcast):
                envelope = Envelope.decode(action.data, max_bytes=1 << 23)
                if envelope.vote is not None or envelope.proposal is not None:
                    assert action.data in persisted


def test_no_proposal_means_nil_prevotes_and_a_new_round() -> None:
    link = Link()
    link.queue.clear()  # every claim is lost: each node elects itself or nobody
    for machine in link.machines:
        machine.params = PARAMS
    link.fire(TimeoutKind.ELECT)
    link.fire(TimeoutKind.PROPOSE)
    link.fire(TimeoutKind.PREVOTE)
    link.fire(TimeoutKind.PRECOMMIT)
    assert all(m.height == 1 for m in link.machines) or len({a.hashes[-1] for a in link.apps}) == 1


def test_timeouts_grow_with_the_round() -> None:
    params = ConsensusParams()
    assert params.timeout_ms(TimeoutKind.PROPOSE, 3) == 500 + 3 * 250
    assert params.timeout_ms(TimeoutKind.PREVOTE, 0) < params.timeout_ms(TimeoutKind.PREVOTE, 1)


def test_local_misuse_raises() -> None:
    machine = ConsensusMachine("v0", KEYS[0], ToyApp(VALIDATORS, GENESIS), PARAMS)
    with pytest.raises(LocalProtocolError, match="before Start"):
        machine.handle(MessageReceived(data=b"{}"))
    machine.handle(Start(height=1, prev_hash=GENESIS))
    with pytest.raises(LocalProtocolError, match="twice"):
        machine.handle(Start(height=1, prev_hash=GENESIS))


def started() -> ConsensusMachine:
    machine = ConsensusMachine("v0", KEYS[0], ToyApp(VALIDATORS, GENESIS), PARAMS)
    machine.handle(Start(height=1, prev_hash=GENESIS))
    return machine


def first_broadcast() -> bytes:
    action = Link().actions[1][0]
    assert isinstance(action, Broadcast)
    return action.data


REAL = first_broadcast()


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_garbage_never_raises_out_of_handle(data: bytes) -> None:
    machine = started()
    assert isinstance(machine.handle(MessageReceived(data=data)), list)


@settings(max_examples=200)
@given(st.integers(0, len(REAL) - 1), st.integers(0, 255))
def test_corrupted_messages_are_dropped_and_counted(position: int, value: int) -> None:
    machine = started()
    data = bytearray(REAL)
    data[position] = value
    machine.handle(MessageReceived(data=bytes(data)))
    assert sum(machine.stats.values()) >= 1 or bytes(data) == REAL


def test_oversized_input_is_dropped() -> None:
    machine = ConsensusMachine(
        "v0", KEYS[0], ToyApp(VALIDATORS, GENESIS), ConsensusParams(max_message_bytes=100)
    )
    machine.handle(Start(height=1, prev_hash=GENESIS))
    assert machine.handle(MessageReceived(data=b"{" * 1000)) == []
    assert machine.stats["undecodable:Oversized"] == 1


def alone_until_locked() -> tuple[ConsensusMachine, list[Action]]:
    """v2 elects itself, proposes, prevotes; two peers' prevotes make it lock and precommit."""
    machine = ConsensusMachine("v2", KEYS[2], ToyApp(VALIDATORS, GENESIS), PARAMS)
    actions = machine.handle(Start(height=1, prev_hash=GENESIS))
    actions += machine.handle(TimeoutFired(height=1, round=0, kind=TimeoutKind.ELECT))
    proposal = machine._rounds[0].proposals["v2"].header
    for i in (0, 1):
        vote = sign_record(
            Vote(
                step=Step.PREVOTE,
                height=1,
                round=0,
                block_hash=proposal.block_hash,
                verdict=Verdict.APPROVE,
                reason=0,
                proposer="v2",
                challenge=proposal.challenge,
                node=f"v{i}",
                signature=bytes(65),
            ),
            KEYS[i],
        )
        actions += machine.handle(MessageReceived(data=Envelope(vote=vote).encode()))
    return machine, actions


def test_lock_and_persist_before_broadcast_on_a_lone_proposer() -> None:
    machine, actions = alone_until_locked()
    assert machine.locked == (machine._rounds[0].proposals["v2"].header.block_hash, 0)
    steps = [a.step for a in actions if isinstance(a, PersistVote)]
    assert steps == [Step.PROPOSAL, Step.PREVOTE, Step.LOCK, Step.PRECOMMIT]


def test_a_restarted_node_keeps_its_lock_and_never_signs_again() -> None:
    machine, actions = alone_until_locked()
    persisted = tuple(a.payload for a in actions if isinstance(a, PersistVote))
    fresh = ConsensusMachine("v2", KEYS[2], machine.app, PARAMS)
    again = fresh.handle(Start(height=1, prev_hash=GENESIS, restored=persisted))
    assert fresh.locked == machine.locked
    for kind in (TimeoutKind.ELECT, TimeoutKind.PROPOSE, TimeoutKind.PREVOTE):
        again += fresh.handle(TimeoutFired(height=1, round=0, kind=kind))
    assert not [a for a in again if isinstance(a, PersistVote)]
    signed = {a.data for a in again if isinstance(a, Broadcast)} - {
        a.data for a in actions if isinstance(a, Broadcast)
    }
    for data in signed:  # only PoW claims may be new bytes; they are not votes
        assert Envelope.decode(data, max_bytes=1 << 23).claim is not None


def test_locked_node_prevotes_nil_for_another_block_unless_amnesiac() -> None:
    link = Link()
    link.deliver_all()
    machine = link.machines[0]
    locked_hash, locked_round = machine.locked
    assert locked_round == 0 or machine.height == 2
    if machine.height == 2:
        return
    assert locked_hash is not None
    assert any(
        v.verdict == Verdict.APPROVE for vs in machine._rounds[0].precommits.values() for v in vs
    )

"""Hypothesis drives the network; agreement and no double signing hold at every step.

Hypothesis picks which message arrives, is lost or duplicated, which timer fires and which node
restarts (keeping only its app and persisted votes).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ledger.consensus.events import (
    Action,
    Broadcast,
    MessageReceived,
    PersistVote,
    ScheduleTimeout,
    Send,
    Start,
    TimeoutFired,
)
from ledger.consensus.machine import ConsensusMachine
from ledger.consensus.messages import Envelope, verify_certificate
from ledger.consensus.pool import SIM_PARAMS
from ledger.consensus.toyapp import ToyApp
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import sha256

N = 4
KEYS = [PrivateKey.from_seed(f"stateful-{i}".encode()) for i in range(N)]
VALIDATORS = ValidatorSet.of((f"v{i}", k.public_key, 1) for i, k in enumerate(KEYS))
GENESIS = sha256(b"stateful")


class Network(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.apps = [ToyApp(VALIDATORS, GENESIS) for _ in range(N)]
        self.machines = [
            ConsensusMachine(f"v{i}", KEYS[i], self.apps[i], SIM_PARAMS) for i in range(N)
        ]
        self.in_flight: list[tuple[int, bytes]] = []
        self.timers: list[tuple[int, TimeoutFired]] = []
        self.persisted: list[dict[tuple[int, int, int], bytes]] = [{} for _ in range(N)]
        self.signed: dict[tuple[str, int, int, int], bytes] = {}
        for i in range(N):
            self.take(i, self.machines[i].handle(Start(height=1, prev_hash=GENESIS)))

    def take(self, i: int, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Broadcast | Send):
                self.note_signed(action.data)
                targets = range(N) if isinstance(action, Broadcast) else [int(action.to[1:])]
                self.in_flight += [(j, action.data) for j in targets if j != i]
            elif isinstance(action, ScheduleTimeout):
                fired = TimeoutFired(height=action.height, round=action.round, kind=action.kind)
                self.timers.append((i, fired))
            elif isinstance(action, PersistVote):
                self.persisted[i][(action.height, action.round, int(action.step))] = action.payload

    def note_signed(self, data: bytes) -> None:
        envelope = Envelope.decode(data, max_bytes=1 << 23)
        message = envelope.vote or (envelope.proposal.header if envelope.proposal else None)
        if message is None:
            return
        fields = message.to_fields()
        fields.pop("signature")
        node = fields.get("node") or fields["proposer"]
        step = fields.get("step", 0)
        slot = (node, message.height, message.round, step)
        assert (
            self.signed.setdefault(slot, repr(sorted(fields.items())).encode())
            == repr(sorted(fields.items())).encode()
        ), f"{slot} signed twice"

    @precondition(lambda self: self.in_flight)
    @rule(pick=st.integers(0, 10_000))
    def deliver(self, pick: int) -> None:
        j, data = self.in_flight.pop(pick % len(self.in_flight))
        self.take(j, self.machines[j].handle(MessageReceived(data=data)))

    @precondition(lambda self: self.in_flight)
    @rule(pick=st.integers(0, 10_000))
    def lose(self, pick: int) -> None:
        self.in_flight.pop(pick % len(self.in_flight))

    @precondition(lambda self: self.in_flight)
    @rule(pick=st.integers(0, 10_000))
    def duplicate(self, pick: int) -> None:
        self.in_flight.append(self.in_flight[pick % len(self.in_flight)])

    @precondition(lambda self: self.timers)
    @rule(pick=st.integers(0, 10_000))
    def fire(self, pick: int) -> None:
        i, fired = self.timers.pop(pick % len(self.timers))
        self.take(i, self.machines[i].handle(fired))

    @rule(i=st.integers(0, N - 1))
    def restart(self, i: int) -> None:
        app = self.apps[i]
        height = app.height + 1
        restored = tuple(p for (h, _, _), p in sorted(self.persisted[i].items()) if h == height)
        self.machines[i] = ConsensusMachine(f"v{i}", KEYS[i], app, SIM_PARAMS)
        self.timers = [(k, t) for k, t in self.timers if k != i]
        start = Start(height=height, prev_hash=app.hashes[-1], restored=restored)
        self.take(i, self.machines[i].handle(start))

    @invariant()
    def chains_agree_and_certificates_are_sound(self) -> None:
        longest = max(self.apps, key=lambda a: a.height)
        for app in self.apps:
            assert app.hashes == longest.hashes[: len(app.hashes)]
        for height in range(1, longest.height + 1):
            certificate = longest.certificates[height]
            assert certificate is not None and verify_certificate(certificate, VALIDATORS)


Network.TestCase.settings = settings(max_examples=30, stateful_step_count=120, deadline=None)
TestNetwork = Network.TestCase

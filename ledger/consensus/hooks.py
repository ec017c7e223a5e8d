"""Misbehaviour as thin hooks over an honest machine's inputs and outputs, never a copy of it.

A :class:`Behaviour` sees each event before the honest :class:`ConsensusMachine` does and each
action list after it; :class:`HookedMachine` chains them and can switch any on or off at run
time (CometBFT removed its "maverick" fork of the protocol for this reason: a copy drifts). The
hooks re-sign what they change with the node's own key, as a real Byzantine node would:

=================  =====================================================================
Equivocate         every fresh vote or proposal goes out twice, the second one conflicting
FalseVerdict       APPROVE becomes OBJECT (and OBJECT becomes APPROVE)
ForgeWatermark     APPROVE votes carry a made-up challenge ϕ (or none: ``missing=True``)
WithholdVotes      votes of the given steps are never sent
InvalidBlock       a fresh proposal's block is altered by ``tamper`` and re-hashed, re-signed
Amnesia            prevotes ignore the lock (the machine's one ``ignore_lock`` switch)
Silent             nothing is sent
Delay              everything sent is held back ``delay_ms``
=================  =====================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from ledger.consensus.events import Action, Broadcast, Event, Send
from ledger.consensus.machine import ConsensusMachine
from ledger.consensus.messages import (
    Envelope,
    Proposal,
    Reason,
    Step,
    Verdict,
    Vote,
    decode_envelope,
    sign_record,
)
from ledger.encoding import DecodeError, sha256

__all__ = [
    "Amnesia",
    "Behaviour",
    "Delay",
    "Equivocate",
    "FalseVerdict",
    "ForgeWatermark",
    "HookedMachine",
    "InvalidBlock",
    "Silent",
    "WithholdVotes",
]


class Behaviour:
    """A misbehaviour: identity on events and actions unless a subclass says otherwise."""

    enabled = True

    def incoming(self, machine: ConsensusMachine, event: Event) -> Event | None:
        """The event as the honest machine should see it (None: it never arrives)."""
        return event

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """The actions as they leave the node."""
        return actions

    @property
    def name(self) -> str:
        """The behaviour's class name (for reports)."""
        return type(self).__name__


class HookedMachine:
    """An honest machine with behaviours around it; ``handle`` has the machine's signature."""

    def __init__(self, machine: ConsensusMachine, behaviours: Iterable[Behaviour] = ()) -> None:
        self.machine = machine
        self.behaviours = list(behaviours)

    def handle(self, event: Event) -> list[Action]:
        """Pass ``event`` through the incoming hooks, the machine, then the outgoing hooks."""
        active = [b for b in self.behaviours if b.enabled]
        self.machine.ignore_lock = any(isinstance(b, Amnesia) for b in active)
        for behaviour in active:
            changed = behaviour.incoming(self.machine, event)
            if changed is None:
                return []
            event = changed
        actions = self.machine.handle(event)
        for behaviour in active:
            actions = behaviour.outgoing(self.machine, actions)
        return actions


def _envelope(action: Action, machine: ConsensusMachine) -> Envelope | None:
    if not isinstance(action, Broadcast | Send):
        return None
    try:
        return decode_envelope(action.data, max_bytes=machine.params.max_message_bytes)
    except DecodeError:
        return None


def _rewrite(
    machine: ConsensusMachine,
    actions: list[Action],
    change: Callable[[Envelope], Sequence[Envelope]],
) -> list[Action]:
    """Replace each outgoing message by ``change(envelope)`` (same kind of action)."""
    out: list[Action] = []
    for action in actions:
        envelope = _envelope(action, machine)
        if envelope is None or not isinstance(action, Broadcast | Send):
            out.append(action)
            continue
        for changed in change(envelope):
            data = changed.encode()
            out.append(dataclasses.replace(action, data=data))
    return out


def _resign_vote(machine: ConsensusMachine, vote: Vote, **changes: object) -> Envelope:
    return Envelope(vote=sign_record(dataclasses.replace(vote, **changes), machine.key))  # type: ignore[arg-type]


class Equivocate(Behaviour):
    """Send a conflicting second version of every vote and proposal (once per slot)."""

    def __init__(self) -> None:
        self._done: set[tuple[int, int, int]] = set()

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Append the conflicting twin after each first sending."""

        def change(envelope: Envelope) -> Sequence[Envelope]:
            if envelope.vote is not None:
                vote = envelope.vote
                slot = (vote.height, vote.round, int(vote.step))
                if slot in self._done:
                    return [envelope]
                self._done.add(slot)
                if vote.verdict == Verdict.APPROVE:
                    twin = _resign_vote(
                        machine,
                        vote,
                        block_hash=None,
                        verdict=Verdict.NIL,
                        reason=int(Reason.NO_PROPOSAL),
                    )
                else:
                    twin = _resign_vote(machine, vote, reason=vote.reason + 1)
                return [envelope, twin]
            if envelope.proposal is not None:
                header = envelope.proposal.header
                slot = (header.height, header.round, int(Step.PROPOSAL))
                if slot in self._done:
                    return [envelope]
                self._done.add(slot)
                other = sign_record(
                    dataclasses.replace(header, timestamp_ms=header.timestamp_ms + 1), machine.key
                )
                twin = Envelope(proposal=dataclasses.replace(envelope.proposal, header=other))
                return [envelope, twin]
            return [envelope]

        return _rewrite(machine, actions, change)


class FalseVerdict(Behaviour):
    """Object to what the honest machine approves, approve what it objects to."""

    def __init__(self, reason: int = 1) -> None:
        self.reason = reason

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Flip the verdict of every APPROVE or OBJECT vote and re-sign it."""

        def change(envelope: Envelope) -> Sequence[Envelope]:
            vote = envelope.vote
            if vote is None or vote.verdict == Verdict.NIL:
                return [envelope]
            if vote.verdict == Verdict.APPROVE:
                return [_resign_vote(machine, vote, verdict=Verdict.OBJECT, reason=self.reason)]
            return [_resign_vote(machine, vote, verdict=Verdict.APPROVE, reason=0)]

        return _rewrite(machine, actions, change)


class ForgeWatermark(Behaviour):
    """Approve with a challenge the proposer never made (or with none at all)."""

    def __init__(self, *, missing: bool = False) -> None:
        self.missing = missing

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Replace the challenge ϕ of every APPROVE vote and re-sign it."""

        def change(envelope: Envelope) -> Sequence[Envelope]:
            vote = envelope.vote
            if vote is None or vote.verdict != Verdict.APPROVE:
                return [envelope]
            forged = b"" if self.missing else (sha256(vote.challenge) * 3)[:65]
            return [_resign_vote(machine, vote, challenge=forged)]

        return _rewrite(machine, actions, change)


class WithholdVotes(Behaviour):
    """Never send votes of the given steps (default: both)."""

    def __init__(self, steps: Iterable[Step] = (Step.PREVOTE, Step.PRECOMMIT)) -> None:
        self.steps = frozenset(steps)

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Drop the withheld votes."""
        return _rewrite(
            machine,
            actions,
            lambda e: [] if e.vote is not None and e.vote.step in self.steps else [e],
        )


class InvalidBlock(Behaviour):
    """Propose ``tamper(block)`` instead of the block the honest machine built."""

    def __init__(self, tamper: Callable[[bytes], bytes]) -> None:
        self.tamper = tamper

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Tamper with fresh (not re-proposed) blocks, re-hash and re-sign the header."""

        def change(envelope: Envelope) -> Sequence[Envelope]:
            proposal = envelope.proposal
            if proposal is None or proposal.header.valid_round >= 0:
                return [envelope]
            block = self.tamper(proposal.block)
            header = sign_record(
                dataclasses.replace(proposal.header, block_hash=machine.app.block_hash(block)),
                machine.key,
            )
            return [Envelope(proposal=Proposal(header=header, block=block, proof=proposal.proof))]

        return _rewrite(machine, actions, change)


class Amnesia(Behaviour):
    """Prevote as if never locked: :class:`HookedMachine` sets ``ignore_lock`` while enabled."""


class Silent(Behaviour):
    """Send nothing (a crashed or partitioned node that still runs)."""

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Drop every Broadcast and Send."""
        return [a for a in actions if not isinstance(a, Broadcast | Send)]


class Delay(Behaviour):
    """Hold every outgoing message back by ``delay_ms``."""

    def __init__(self, delay_ms: int) -> None:
        self.delay_ms = delay_ms

    def outgoing(self, machine: ConsensusMachine, actions: list[Action]) -> list[Action]:
        """Add the delay to each Broadcast and Send."""
        return [
            dataclasses.replace(a, delay_ms=a.delay_ms + self.delay_ms)
            if isinstance(a, Broadcast | Send)
            else a
            for a in actions
        ]

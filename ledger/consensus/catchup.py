"""Routing by height and round, restoring own messages, and catching up lagging nodes.

Part of :class:`~ledger.consensus.machine.ConsensusMachine`: messages of the next height are
buffered, of a past height answered (a stale claim gets the :class:`Decided` blocks and
certificates of the lagging heights), of the current height admitted when in range; after a
restart the node re-adopts its persisted votes, proposals and locks; a verified
:class:`Decided` block is committed.
"""

from __future__ import annotations

from ledger.consensus.events import Send
from ledger.consensus.machine_core import MachineCore
from ledger.consensus.messages import (
    Decided,
    Envelope,
    LockRecord,
    Step,
    Verdict,
    decode_envelope,
    verify_certificate,
)
from ledger.encoding import DecodeError

__all__ = ["CatchUpMixin"]


class CatchUpMixin(MachineCore):
    """Admission, restore and catch-up (module docstring)."""

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

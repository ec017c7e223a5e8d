"""Evidence detection: the app's verdicts on blocks and offences recorded once each.

Part of :class:`~ledger.consensus.machine.ConsensusMachine`: a known block is checked by the
application once (cached), votes that waited for the verdict are judged (a false verdict is
an offence), equivocations are paired in canonical order, and every offence becomes one
:class:`~ledger.consensus.events.RecordEvidence` action per (kind, offender, height, round,
step).
"""

from __future__ import annotations

from ledger.consensus.events import RecordEvidence
from ledger.consensus.evidence import Evidence, EvidenceKind
from ledger.consensus.machine_core import MachineCore
from ledger.consensus.messages import ProposalHeader, Step, Verdict, Vote

__all__ = ["DetectionMixin"]


class DetectionMixin(MachineCore):
    """Block verdicts and offence detection (module docstring)."""

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

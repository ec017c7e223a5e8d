"""The consensus machine's state and shared helpers (:mod:`ledger.consensus.machine`).

:class:`MachineCore` holds every field of one validator's machine — height, round, phase,
per-height round states, own messages, locks — and the helpers every part of the machine uses.
The parts (:mod:`.election`, :mod:`.intake`, :mod:`.catchup`, :mod:`.detection`,
:mod:`.voting`) are mixins over it, joined by :class:`~ledger.consensus.machine.ConsensusMachine`.
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from typing import TYPE_CHECKING

from ledger.consensus.app import Application, ConsensusParams
from ledger.consensus.events import Action, ScheduleTimeout, TimeoutKind
from ledger.consensus.evidence import EvidenceKind
from ledger.consensus.messages import Certificate, Decided, ProposalHeader, Step, Verdict, Vote
from ledger.consensus.pow import target
from ledger.consensus.rounds import RoundState
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey

__all__ = ["LocalProtocolError", "MachineCore", "Phase"]


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


class MachineCore:
    """The fields of one validator's consensus machine, and the helpers shared by its parts.

    Args:
        node: This validator's id.
        key: Its signing key (the watermark key).
        app: The chain (:class:`~ledger.consensus.app.Application`).
        params: Timeouts, PoW and bounds.
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

    def _round_state(self, round_: int) -> RoundState:
        state = self._rounds.get(round_)
        if state is None:
            state = self._rounds[round_] = RoundState(round=round_)
        return state

    def _claim_nonce(self, round_: int) -> int:
        return self._own_nonces.get(round_, 0)

    def _schedule(self, kind: TimeoutKind, round_: int) -> None:
        delay = self.params.timeout_ms(kind, round_)
        self._out.append(
            ScheduleTimeout(height=self.height, round=round_, kind=kind, delay_ms=delay)
        )

    if TYPE_CHECKING:  # implemented by the parts; declared here so each part type-checks alone

        def _new_height(
            self,
            height: int,
            prev_hash: bytes,
            restored: tuple[bytes, ...] = (),
            *,
            wait: bool = False,
        ) -> None: ...
        def _start_round(self, round_: int) -> None: ...
        def _maybe_close_election(self, state: RoundState) -> None: ...
        def _receive(self, data: bytes) -> None: ...
        def _admit(
            self, height: int, round_: int, node: str, data: bytes, *, claim: bool = False
        ) -> bool: ...
        def _on_decided(self, decided: Decided, data: bytes) -> None: ...
        def _check(self, block_hash: bytes) -> int: ...
        def _judge(self, vote: Vote, status: int) -> None: ...
        def _equivocation(
            self,
            node: str,
            round_: int,
            step: Step,
            first: Vote | ProposalHeader,
            second: Vote | ProposalHeader,
        ) -> None: ...
        def _evidence(
            self,
            kind: EvidenceKind,
            offender: str,
            round_: int,
            step: Step,
            first: bytes,
            second: bytes,
            block: bytes,
        ) -> None: ...
        def _vote(
            self,
            step: Step,
            block_hash: bytes | None,
            verdict: Verdict,
            reason: int,
            proposer: str,
            challenge: bytes,
        ) -> None: ...
        def _decide(self, certificate: Certificate) -> None: ...

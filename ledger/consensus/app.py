"""What consensus needs from the chain: the :class:`Application` protocol, and the parameters.

The machine never sees transactions or block formats: it asks the application for the validator
set of a height, to build a block, to hash and check one, and to commit it. This keeps consensus
independent of the block and state modules; :mod:`ledger.consensus.toyapp` is a small
implementation for tests and the simulator.

Contract: ``check`` and ``block_hash`` are deterministic functions of the committed chain below
``height`` and the block bytes (every honest node must get the same answer, or honest nodes
could be charged with false verdicts); ``check`` returns 0 for a valid block or an application
reason code in 1..999. ``commit`` is called exactly once per height, in order, with a block whose
certificate the machine has verified.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ledger.consensus.messages import Certificate
from ledger.consensus.validators import ValidatorSet
from ledger.evidence_kinds import EvidenceKind

if TYPE_CHECKING:
    from ledger.params import ChainParams

__all__ = ["Application", "ConsensusParams"]


class Application(Protocol):
    """The chain as consensus sees it (module docstring for the contract)."""

    def validator_set(self, height: int) -> ValidatorSet:
        """The validators of ``height`` (from the chain up to ``height − 1``)."""
        ...

    def block_hash(self, block: bytes) -> bytes:
        """The 32-byte identifier of a block (Tendermint's ``id(v)``)."""
        ...

    def propose(
        self,
        *,
        height: int,
        round_: int,
        prev_hash: bytes,
        timestamp_ms: int,
        leader: str,
        nonce: int,
    ) -> bytes:
        """Build a new block from the mempool and pending evidence."""
        ...

    def check(self, height: int, block: bytes) -> int:
        """0 when the block is valid at ``height``, else an application reason code 1..999."""
        ...

    def offence_of(self, reason: int) -> EvidenceKind:
        """The evidence kind of proposing a block rejected for ``reason``."""
        ...

    def commit(
        self, height: int, block: bytes, block_hash: bytes, certificate: Certificate
    ) -> None:
        """Apply a decided block."""
        ...

    def committed(self, height: int) -> tuple[bytes, Certificate] | None:
        """The committed block of ``height`` and its certificate, if the chain has them."""
        ...

    def submit(self, tx: bytes) -> int:
        """Offer a client transaction to the mempool: 0 when accepted, else a reason code."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsensusParams:
    """Timeouts (ms), PoW difficulty and budget, and bounds on what peers can make us hold.

    Timeouts grow linearly with the round, ``base + round · delta`` (Tendermint §4, so that after
    GST they eventually exceed the message delay). ``pow_difficulty`` is the coefficient D of
    :mod:`.pow` (target ``2**256 // D``). A chain's genesis fixes the timeouts, D and the resend
    bound: build the parameters of a chain with :meth:`from_chain`; the defaults here serve the
    toy application. ``pow_attempts`` (the node's compute power) and the bounds on buffered
    messages are local to a node, not chain rules.
    """

    timeout_elect_ms: int = 200
    timeout_elect_delta_ms: int = 100
    timeout_propose_ms: int = 500
    timeout_propose_delta_ms: int = 250
    timeout_prevote_ms: int = 200
    timeout_prevote_delta_ms: int = 100
    timeout_precommit_ms: int = 200
    timeout_precommit_delta_ms: int = 100
    rebroadcast_ms: int = 1000
    timeout_commit_ms: int = 1000
    pow_difficulty: int = 16
    pow_attempts: int = 64
    max_message_bytes: int = 1 << 23
    max_resends: int = 2
    max_future_messages: int = 1024
    max_round_ahead: int = 256
    catchup_batch: int = 8
    max_catchup_replies: int = 16

    @classmethod
    def from_chain(cls, params: ChainParams, **local: int) -> ConsensusParams:
        """The consensus parameters a chain's genesis fixes, plus a node's local settings.

        ``propose_timeout_ms`` → propose; ``vote_timeout_ms`` → the PoW election, prevote and
        precommit steps; ``timeout_delta_ms`` → every per-round increment; ``commit_timeout_ms``
        → the block interval; ``pow_difficulty`` → D; ``max_resends``; a message must hold a
        block of ``max_block_bytes`` (hex-encoded, hence twice its size) plus its certificate.

        Args:
            params: The chain parameters (``ledger.params.ChainParams``).
            **local: Node-local fields (``pow_attempts``, ``rebroadcast_ms``, bounds).

        Raises:
            ValueError: ``local`` names a field the chain fixes, or no field at all.
        """
        fixed: dict[str, int] = {
            "timeout_elect_ms": params.vote_timeout_ms,
            "timeout_elect_delta_ms": params.timeout_delta_ms,
            "timeout_propose_ms": params.propose_timeout_ms,
            "timeout_propose_delta_ms": params.timeout_delta_ms,
            "timeout_prevote_ms": params.vote_timeout_ms,
            "timeout_prevote_delta_ms": params.timeout_delta_ms,
            "timeout_precommit_ms": params.vote_timeout_ms,
            "timeout_precommit_delta_ms": params.timeout_delta_ms,
            "timeout_commit_ms": params.commit_timeout_ms,
            "pow_difficulty": params.pow_difficulty,
            "max_resends": params.max_resends,
            "max_message_bytes": 2 * params.max_block_bytes + (1 << 20),
        }
        names = {f.name for f in dataclasses.fields(cls)}
        for name in local:
            if name in fixed:
                raise ValueError(f"ConsensusParams.{name} is fixed by the chain parameters")
            if name not in names:
                raise ValueError(f"ConsensusParams has no field {name!r}")
        return cls(**fixed, **local)

    def timeout_ms(self, kind: int, round_: int) -> int:
        """The delay of timer ``kind`` (a ``TimeoutKind``) in ``round_``."""
        base, delta = (
            (self.timeout_elect_ms, self.timeout_elect_delta_ms),
            (self.timeout_propose_ms, self.timeout_propose_delta_ms),
            (self.timeout_prevote_ms, self.timeout_prevote_delta_ms),
            (self.timeout_precommit_ms, self.timeout_precommit_delta_ms),
            (self.rebroadcast_ms, 0),
            (self.timeout_commit_ms, 0),
        )[kind]
        return base + round_ * delta

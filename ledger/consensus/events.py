"""Events into and actions out of the consensus machine (h11 ``_events.py``).

All are frozen keyword-only dataclasses. Events carry ``now_ms``, the driver's clock in integer
milliseconds: the machine never reads a clock; it stamps proposals with the ``now_ms`` of the event
that made it propose and asks for timers with :class:`ScheduleTimeout`.

Ordering contract for drivers: execute a ``handle`` call's actions in list order. A
:class:`PersistVote` always comes before the :class:`Broadcast` of the same signed message, so a
node that writes its votes to disk first can never sign twice after a restart. ``Broadcast`` goes
to every other node on the one shared consensus topic (never echoed back to the sender);
``Send`` is a direct re-send (to an objector, or a catch-up to a node behind). ``delay_ms`` is 0
for the honest machine; only the ``Delay`` misbehaviour hook sets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ledger.consensus.evidence import Evidence
from ledger.consensus.messages import Step

__all__ = [
    "Action",
    "Broadcast",
    "CommitBlock",
    "Event",
    "MessageReceived",
    "PersistVote",
    "RecordEvidence",
    "ScheduleTimeout",
    "Send",
    "Start",
    "TimeoutFired",
    "TimeoutKind",
    "TransactionSubmitted",
]


class TimeoutKind(IntEnum):
    """Timers: Tendermint's three and its commit wait, the election window, the re-broadcast."""

    ELECT = 0
    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3
    REBROADCAST = 4
    COMMIT = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    """Begin (or, after a restart, resume) consensus at ``height`` on top of ``prev_hash``.

    ``restored`` holds this node's own signed messages of ``height`` as persisted by earlier
    :class:`PersistVote` actions (payloads), so a restarted node re-sends them instead of signing
    anything different.
    """

    height: int
    prev_hash: bytes
    now_ms: int = 0
    restored: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived:
    """Raw bytes from the shared topic or a direct send; ``sender`` is the transport's claim."""

    data: bytes
    sender: str = ""
    now_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeoutFired:
    """A timer asked for by :class:`ScheduleTimeout` went off."""

    height: int
    round: int
    kind: TimeoutKind
    now_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionSubmitted:
    """A client transaction; handed to ``Application.submit`` (the mempool is the app's)."""

    tx: bytes
    now_ms: int = 0


Event = Start | MessageReceived | TimeoutFired | TransactionSubmitted


@dataclass(frozen=True, slots=True, kw_only=True)
class Broadcast:
    """Publish on the shared consensus topic."""

    data: bytes
    delay_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """Deliver to one node only."""

    to: str
    data: bytes
    delay_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleTimeout:
    """Fire ``TimeoutFired(height, round, kind)`` after ``delay_ms``."""

    height: int
    round: int
    kind: TimeoutKind
    delay_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitBlock:
    """A block was decided (``Application.commit`` has already been called); for the record."""

    height: int
    round: int
    block: bytes
    block_hash: bytes
    certificate: bytes
    proposer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEvidence:
    """A provable offence, to be put on chain (each offence once per machine)."""

    evidence: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistVote:
    """Write this node's own signed message to disk before it is sent (store ``votes`` table)."""

    height: int
    round: int
    step: Step
    payload: bytes


Action = Broadcast | Send | ScheduleTimeout | CommitBlock | RecordEvidence | PersistVote

"""Consensus: Tendermint with a PoW leader election and watermarked verdicts (sans I/O).

Modules: :mod:`.machine` (every transition), :mod:`.events` (events and actions),
:mod:`.messages` (wire records, watermarks, certificates), :mod:`.pow` (leader election),
:mod:`.evidence` (offences), :mod:`.validators` (weighted quorums), :mod:`.app` (what the chain
provides), :mod:`.hooks` (misbehaviour), :mod:`.pool` (deterministic simulator),
:mod:`.toyapp` (a small application for tests and benchmarks).
"""

from ledger.consensus.app import Application, ConsensusParams
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
    TimeoutKind,
    TransactionSubmitted,
)
from ledger.consensus.evidence import Evidence, EvidenceKind, verify_evidence
from ledger.consensus.machine import ConsensusMachine, LocalProtocolError, Phase
from ledger.consensus.messages import Certificate, verify_certificate
from ledger.consensus.validators import Validator, ValidatorSet

__all__ = [
    "Action",
    "Application",
    "Broadcast",
    "Certificate",
    "CommitBlock",
    "ConsensusMachine",
    "ConsensusParams",
    "Event",
    "Evidence",
    "EvidenceKind",
    "LocalProtocolError",
    "MessageReceived",
    "PersistVote",
    "Phase",
    "RecordEvidence",
    "ScheduleTimeout",
    "Send",
    "Start",
    "TimeoutFired",
    "TimeoutKind",
    "TransactionSubmitted",
    "Validator",
    "ValidatorSet",
    "verify_certificate",
    "verify_evidence",
]

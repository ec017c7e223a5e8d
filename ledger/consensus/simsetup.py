"""What a validator pool runs on and ends with (:mod:`ledger.consensus.pool`).

:class:`SimApp` is the application protocol the pool drives, :class:`PoolSetup` the identities
and applications of a run (:func:`toy_setup` for the toy chain, ``SIM_PARAMS`` its timeouts),
:class:`MemberResult` and :class:`PoolResult` what a finished run hands to the invariant checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ledger.consensus.app import Application, ConsensusParams
from ledger.consensus.evidence import Evidence, EvidenceKey
from ledger.consensus.messages import Certificate
from ledger.consensus.toyapp import ToyApp
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import canonical, sha256

__all__ = [
    "SIM_PARAMS",
    "MemberResult",
    "PoolResult",
    "PoolSetup",
    "SimApp",
    "toy_setup",
]

SIM_PARAMS = ConsensusParams(
    timeout_elect_ms=40,
    timeout_elect_delta_ms=20,
    timeout_propose_ms=80,
    timeout_propose_delta_ms=40,
    timeout_prevote_ms=40,
    timeout_prevote_delta_ms=20,
    timeout_precommit_ms=40,
    timeout_precommit_delta_ms=20,
    rebroadcast_ms=250,
    timeout_commit_ms=100,
    pow_difficulty=16,
    pow_attempts=32,
)
"""Short timeouts for virtual-time runs whose message delays are a few to tens of ms."""


class SimApp(Application, Protocol):
    """An application the pool can drive: consensus' protocol plus the simulator's needs."""

    @property
    def height(self) -> int:
        """The last committed height."""
        ...

    def head_hash(self) -> bytes:
        """Hash of the last committed block (the genesis hash at height 0)."""
        ...

    def add_evidence(self, evidence: Evidence) -> None:
        """Queue an offence the node's machine recorded, for its next proposals."""
        ...

    def evidence_on_chain(self, key: EvidenceKey) -> bool:
        """Whether the offence ``key`` is recorded on this node's chain."""
        ...

    def restarted(self) -> SimApp:
        """The application after a restart of its node (what survives on disk)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSetup:
    """What a pool runs on: identities, genesis, one application per member, parameters.

    Attributes:
        nodes, keys: Validator ids and signing keys, by member index.
        genesis_hash: Parent hash of height 1.
        validators: The validator set of height 1 (certificate checks of the toy chain).
        make_app: A fresh application for member ``index`` (twins get one each).
        params: Consensus parameters.
    """

    nodes: tuple[str, ...]
    keys: tuple[PrivateKey, ...]
    genesis_hash: bytes
    validators: ValidatorSet
    make_app: Callable[[int], SimApp]
    params: ConsensusParams


def toy_setup(
    n: int, seed: int, *, params: ConsensusParams | None = None, max_txs: int = 1000
) -> PoolSetup:
    """``n`` toy validators ``v0`` … with keys from fixed seeds, over :class:`ToyApp` s."""
    genesis_hash = sha256(canonical({"genesis": seed}))
    keys = tuple(PrivateKey.from_seed(f"pool-validator-{i}".encode()) for i in range(n))
    validators = ValidatorSet.of((f"v{i}", k.public_key, 1) for i, k in enumerate(keys))
    return PoolSetup(
        nodes=tuple(f"v{i}" for i in range(n)),
        keys=keys,
        genesis_hash=genesis_hash,
        validators=validators,
        make_app=lambda _: ToyApp(validators, genesis_hash, max_txs=max_txs),
        params=params or SIM_PARAMS,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberResult:
    """What one member ended with."""

    index: int
    node: str
    honest: bool
    hashes: tuple[bytes, ...]
    blocks: tuple[bytes, ...]
    certificates: tuple[Certificate | None, ...]
    commit_times_ms: tuple[int, ...]
    stats: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolResult:
    """A finished run: per-member chains, detected evidence and run-time violations."""

    seed: int
    description: str
    until_height: int
    reached: bool
    now_ms: int
    heal_ms: int
    validators: ValidatorSet
    validator_sets: Mapping[int, ValidatorSet]
    genesis_hash: bytes
    honest_nodes: frozenset[str]
    members: tuple[MemberResult, ...]
    detected: Mapping[EvidenceKey, Evidence]
    double_signs: tuple[str, ...]
    messages: int

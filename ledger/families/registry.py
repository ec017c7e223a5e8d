"""Transaction families (Sawtooth's transaction processors): name, version, pure transition.

A family decodes its payload strictly into records and applies it to the state, raising
:class:`ledger.errors.InvalidTransaction` with a named reason; the chain layer has already
checked the envelope, the sender's certificate, nonce and fee, and reverts every write of a
transaction that raises. Families never verify envelope signatures (admission did) and never
read the clock: time and height come from the :class:`BlockContext`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ledger.encoding import DecodeError, JsonObject, Record
from ledger.errors import DuplicateFamily, InvalidTransaction, RejectReason
from ledger.identity import Role
from ledger.params import ChainParams
from ledger.state import State
from ledger.transactions import AdmittedTransaction

if TYPE_CHECKING:
    from ledger.evidence_kinds import Evidence, Rating

__all__ = [
    "BlockContext",
    "FamilyRegistry",
    "Sender",
    "TransactionFamily",
    "TxContext",
    "decode_op",
    "decode_payload",
]

P = TypeVar("P", bound=Record)
R = TypeVar("R", bound=Record)


@dataclass(slots=True, kw_only=True)
class BlockContext:
    """What every transaction of one block may read, and what the block collects.

    Attributes:
        chain_id, height, timestamp_ms, leader: Of the block being applied.
        params: The chain parameters.
        authority: The authorization center's public key.
        fees: Fees collected so far (paid to the leader after the last transaction).
        ratings, evidence: Records for the reputation table, in transaction order.
    """

    chain_id: str
    height: int
    timestamp_ms: int
    leader: str
    params: ChainParams
    authority: bytes
    fees: int = 0
    ratings: list[Rating] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """Who signed the transaction: its address, node id and role (None for the authority)."""

    address: bytes
    node_id: str
    role: Role | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TxContext:
    """Context of one transaction: its block, its sender, its hash."""

    block: BlockContext
    sender: Sender
    tx_hash: bytes


class TransactionFamily(ABC, Generic[P]):
    """A named, versioned, pure state transition over decoded payloads."""

    name: ClassVar[str]
    version: ClassVar[int]

    @abstractmethod
    def decode_payload(self, payload: JsonObject) -> P:
        """The payload as a record.

        Raises:
            InvalidTransaction: BAD_PAYLOAD naming the field.
        """

    @abstractmethod
    def apply(self, state: State, tx: AdmittedTransaction, payload: P, ctx: TxContext) -> None:
        """Apply the payload, or raise InvalidTransaction (the caller reverts the writes)."""


def decode_payload(record_type: type[R], payload: JsonObject) -> R:
    """Strictly decode ``payload`` into ``record_type``; DecodeError becomes BAD_PAYLOAD."""
    try:
        return record_type.from_fields(payload, "payload")
    except DecodeError as exc:
        raise InvalidTransaction(RejectReason.BAD_PAYLOAD, exc.reason, field=exc.field) from None


def decode_op(operations: Mapping[str, type[Record]], payload: JsonObject) -> Record:
    """Decode a payload whose string field ``op`` selects the record type."""
    op = payload.get("op")
    if not isinstance(op, str) or op not in operations:
        known = ", ".join(sorted(operations))
        raise InvalidTransaction(
            RejectReason.BAD_PAYLOAD, f"op must be one of {known}, got {op!r}", field="payload.op"
        )
    return decode_payload(operations[op], payload)


class FamilyRegistry:
    """The families a chain runs, by (name, version)."""

    __slots__ = ("_families",)

    def __init__(self, families: Iterable[TransactionFamily[Any]] = ()) -> None:
        self._families: dict[tuple[str, int], TransactionFamily[Any]] = {}
        for family in families:
            self.register(family)

    def register(self, family: TransactionFamily[Any]) -> None:
        """Add a family.

        Raises:
            DuplicateFamily: (name, version) is already registered.
        """
        key = (family.name, family.version)
        if key in self._families:
            raise DuplicateFamily(f"family {family.name} v{family.version} is already registered")
        self._families[key] = family

    def get(self, name: str, version: int) -> TransactionFamily[Any]:
        """The family (name, version).

        Raises:
            InvalidTransaction: UNKNOWN_FAMILY.
        """
        family = self._families.get((name, version))
        if family is None:
            raise InvalidTransaction(
                RejectReason.UNKNOWN_FAMILY, f"no family {name!r} v{version}", field="family"
            )
        return family

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._families

    def names(self) -> list[tuple[str, int]]:
        """Registered (name, version) pairs, sorted."""
        return sorted(self._families)

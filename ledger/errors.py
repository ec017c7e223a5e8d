"""The ledger's exception tree (execution-specs ``exceptions.py``): who is at fault, and why.

``LedgerError`` is the root. A block that must not be appended raises an ``InvalidBlock``
subclass named for the check that failed; a transaction that must not be applied raises
``InvalidTransaction`` carrying a :class:`RejectReason` code and the offending field, so a node
can count rejections by reason and a peer can be told which rule it broke. Malformed bytes from
outside raise ``ledger.encoding.DecodeError`` subclasses; admission translates them into
``InvalidTransaction(RejectReason.MALFORMED, field=...)``.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "BadBlockEncoding",
    "BadHeight",
    "BadLeader",
    "BadParent",
    "BadStateRoot",
    "BadTimestamp",
    "BadTransaction",
    "BadTransactionRoot",
    "BlockTooLarge",
    "DuplicateFamily",
    "InvalidBlock",
    "InvalidGenesis",
    "InvalidParams",
    "InvalidTransaction",
    "LedgerError",
    "RejectReason",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class RejectReason(IntEnum):
    """Why a transaction is rejected: stable codes, safe to send to peers and to log."""

    MALFORMED = 1
    """The bytes are not a canonical transaction (see the field)."""
    OVERSIZED = 2
    BAD_CHAIN_ID = 3
    BAD_SIGNATURE = 4
    BAD_NONCE = 5
    FEE_TOO_LOW = 6
    INSUFFICIENT_FUNDS = 7
    UNKNOWN_FAMILY = 8
    BAD_PAYLOAD = 9
    NOT_AUTHORIZED = 10
    """The sender's role may not do this."""
    UNCERTIFIED_SENDER = 11
    REVOKED = 12
    CERTIFICATE_EXPIRED = 13
    BAD_AMOUNT = 14
    """Zero, negative, or overflowing the 64-bit balance range."""
    UNKNOWN_RECIPIENT = 15
    """A named node has no active certificate, or the wrong role for this operation."""
    SELF_RATING = 16
    DUPLICATE_EVIDENCE = 17
    BAD_EVIDENCE = 18
    BAD_CERTIFICATE = 19
    """A certificate or revocation is not validly signed by the authority, or is inconsistent."""
    DUPLICATE_CERTIFICATE = 20
    UNKNOWN_CERTIFICATE = 21
    TOO_MANY_ALLOCATIONS = 22


class InvalidTransaction(LedgerError):
    """A transaction breaks a rule; the state is left exactly as it was.

    Attributes:
        reason: The named rule.
        field: Dotted path of the offending payload or envelope field ("" if none).
        detail: Human-readable explanation.
    """

    def __init__(self, reason: RejectReason, detail: str, *, field: str = "") -> None:
        where = f" [{field}]" if field else ""
        super().__init__(f"{reason.name}{where}: {detail}")
        self.reason = reason
        self.field = field
        self.detail = detail


class InvalidBlock(LedgerError):
    """A block must not be appended; the state is left exactly as it was."""


class BadBlockEncoding(InvalidBlock):
    """The block bytes are not a canonical block record."""


class BlockTooLarge(InvalidBlock):
    """More transactions or bytes than the chain parameters allow."""


class BadHeight(InvalidBlock):
    """The height is not the parent's height plus one."""


class BadParent(InvalidBlock):
    """The previous-hash field is not the parent's hash."""


class BadTimestamp(InvalidBlock):
    """The timestamp goes backwards from the parent's."""


class BadLeader(InvalidBlock):
    """The leader is not a certified, unrevoked edge node."""


class BadTransactionRoot(InvalidBlock):
    """The header's transaction root is not the Merkle root of the body."""


class BadStateRoot(InvalidBlock):
    """The header's state root is not the root after executing the block."""


class BadTransaction(InvalidBlock):
    """A transaction in the body is invalid (leaders include only valid ones).

    Attributes:
        index: Position of the transaction in the body.
        cause: The transaction's own rejection.
    """

    def __init__(self, index: int, cause: InvalidTransaction) -> None:
        super().__init__(f"transaction {index}: {cause}")
        self.index = index
        self.cause = cause


class InvalidGenesis(LedgerError):
    """A genesis record is inconsistent (bad certificate, duplicate node, bad parameter)."""


class InvalidParams(InvalidGenesis):
    """A chain parameter is out of range (the message names it)."""


class DuplicateFamily(LedgerError):
    """A transaction family (name, version) is registered twice."""

"""Why the chain application rejects a block, and its errors (:mod:`ledger.chain_app`).

:class:`ChainReason` is the application's code space of ``Application.check`` (1..999; a block
rejected for a transaction gets ``BAD_TRANSACTION + RejectReason``); :func:`reason_of` maps a
:class:`~ledger.errors.InvalidBlock` to its code.
"""

from __future__ import annotations

from enum import IntEnum

from ledger.errors import (
    BadBlockEncoding,
    BadHeight,
    BadLeader,
    BadParent,
    BadStateRoot,
    BadTimestamp,
    BadTransaction,
    BadTransactionRoot,
    BlockTooLarge,
    InvalidBlock,
    LedgerError,
)

__all__ = ["ChainAppError", "ChainReason", "NoValidators", "NotAValidator", "reason_of"]


class ChainReason(IntEnum):
    """Why ``check`` rejects a block (application codes 1..999 of ``Application.check``).

    A block rejected for a transaction gets ``BAD_TRANSACTION + RejectReason`` (101..199).
    """

    MALFORMED = 1
    TOO_LARGE = 2
    WRONG_HEIGHT = 3
    WRONG_PARENT = 4
    BAD_TIMESTAMP = 5
    BAD_LEADER = 6
    BAD_TX_ROOT = 7
    BAD_STATE_ROOT = 8
    NOT_A_VALIDATOR = 9
    BAD_TRANSACTION = 100


class ChainAppError(LedgerError):
    """Local misuse of the chain application (a commit out of order, a foreign parent)."""


class NoValidators(ChainAppError, LookupError):
    """No validator set is known for a height, or none of the edge nodes is eligible."""


class NotAValidator(InvalidBlock):
    """The block's leader is not in the validator set of its height."""


_REASONS: tuple[tuple[type[InvalidBlock], ChainReason], ...] = (
    (BadBlockEncoding, ChainReason.MALFORMED),
    (BlockTooLarge, ChainReason.TOO_LARGE),
    (BadHeight, ChainReason.WRONG_HEIGHT),
    (BadParent, ChainReason.WRONG_PARENT),
    (BadTimestamp, ChainReason.BAD_TIMESTAMP),
    (BadLeader, ChainReason.BAD_LEADER),
    (BadTransactionRoot, ChainReason.BAD_TX_ROOT),
    (BadStateRoot, ChainReason.BAD_STATE_ROOT),
    (NotAValidator, ChainReason.NOT_A_VALIDATOR),
)


def reason_of(exc: InvalidBlock) -> int:
    """The application reason code (1..999) of a block rejection."""
    if isinstance(exc, BadTransaction):
        return ChainReason.BAD_TRANSACTION + int(exc.cause.reason)
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return ChainReason.MALFORMED

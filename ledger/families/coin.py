"""The ``coin`` family: spectrum coin transfers, payments, exchange deposits and withdrawals.

Operations (payload field ``op``):

* ``transfer``: the sender pays each allocation's recipient (address) its amount.
* ``payment``: a user pays spectrum providers (certified beam controllers) through its edge
  node (Li et al.: users pay through the edge node that holds their wallet); the edge must be a
  certified edge node, and a receipt keyed by the transaction hash records the payment for the
  provider to check before granting access.
* ``deposit`` / ``withdraw``: only an exchange; mints coin to an address against an off-chain
  deposit, or burns coin from the exchange's own account against an off-chain payout.

Bulk (Bandcoin's bulk purchases): a transfer or payment carries up to ``max_allocations``
allocations and is applied all or nothing. The mining reward is not a transaction: the chain
mints it to the leader (:func:`mint`) after the block's last transaction. Coin is conserved
except by genesis, deposits, withdrawals and rewards, and ``issued`` tracks exactly those, so
``total_supply(state) == issued(state)`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import orjson

from ledger.encoding import INT_MAX, JsonObject, Length, Record, canonical
from ledger.errors import InvalidTransaction, RejectReason
from ledger.families.identity import active_certificate, certificate_of, is_revoked, node_of_address
from ledger.families.registry import TransactionFamily, TxContext, decode_op
from ledger.identity import Role
from ledger.state import META_PREFIX, PAYMENT_PREFIX, State
from ledger.transactions import AdmittedTransaction

__all__ = [
    "Allocation",
    "CoinFamily",
    "DepositPayload",
    "PaymentPayload",
    "TransferPayload",
    "WithdrawPayload",
    "credit",
    "issued",
    "mint",
    "mint_headroom",
]

ISSUED_KEY = META_PREFIX + b"issued"
MAX_REFERENCE_LENGTH = 128


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation(Record):
    """One recipient's share of a bulk transfer or payment (``resource``: e.g. a channel id)."""

    recipient: Annotated[bytes, Length(20)]
    amount: int
    resource: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferPayload(Record):
    """Pay each allocation from the sender's account."""

    op: str
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentPayload(Record):
    """A user pays spectrum providers through its edge node."""

    op: str
    edge: str
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DepositPayload(Record):
    """The exchange mints ``amount`` to ``recipient`` (``reference``: the off-chain deposit)."""

    op: str
    recipient: Annotated[bytes, Length(20)]
    amount: int
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawPayload(Record):
    """The exchange burns ``amount`` from its own account against an off-chain payout."""

    op: str
    amount: int
    reference: str


_OPERATIONS: dict[str, type[Record]] = {
    "transfer": TransferPayload,
    "payment": PaymentPayload,
    "deposit": DepositPayload,
    "withdraw": WithdrawPayload,
}


def issued(state: State) -> int:
    """Coin issued so far: genesis + deposits − withdrawals + rewards."""
    value = state.get(ISSUED_KEY)
    return 0 if value is None else int(orjson.loads(value)["amount"])


def _add_issued(state: State, amount: int, *, field: str = "") -> None:
    total = issued(state) + amount
    if total > INT_MAX:
        raise InvalidTransaction(
            RejectReason.BAD_AMOUNT, "coin issued would exceed the 64-bit range", field=field
        )
    state.set(ISSUED_KEY, canonical({"amount": total}))


def mint_headroom(state: State) -> int:
    """How much more coin may be minted before ``issued`` leaves the 64-bit range."""
    return INT_MAX - issued(state)


def credit(state: State, address: bytes, amount: int, *, field: str = "") -> None:
    """Add ``amount`` to an account.

    Raises:
        InvalidTransaction: BAD_AMOUNT if the balance would leave the 64-bit range.
    """
    account = state.account(address)
    balance = account.balance + amount
    if not 0 <= balance <= INT_MAX:
        raise InvalidTransaction(RejectReason.BAD_AMOUNT, "balance out of range", field=field)
    state.set_account(address, balance=balance, nonce=account.nonce)


def mint(state: State, address: bytes, amount: int, *, field: str = "") -> None:
    """Create ``amount`` new coin at ``address`` (genesis balances, deposits, block rewards).

    Total issuance stays within the 64-bit range, so no balance or sum of balances can overflow.

    Raises:
        InvalidTransaction: BAD_AMOUNT if ``issued`` would leave the 64-bit range.
    """
    _add_issued(state, amount, field=field)
    credit(state, address, amount, field=field)


def _positive(amount: int, field: str) -> None:
    if amount <= 0:
        raise InvalidTransaction(RejectReason.BAD_AMOUNT, "must be positive", field=field)


def _pay(state: State, payer: bytes, allocations: tuple[Allocation, ...], ctx: TxContext) -> int:
    """Apply allocations all or nothing; returns the total. Checks everything before writing."""
    limit = ctx.block.params.max_allocations
    if not allocations:
        raise InvalidTransaction(
            RejectReason.BAD_PAYLOAD, "at least one allocation", field="payload.allocations"
        )
    if len(allocations) > limit:
        raise InvalidTransaction(
            RejectReason.TOO_MANY_ALLOCATIONS,
            f"{len(allocations)} allocations, more than {limit}",
            field="payload.allocations",
        )
    deltas: dict[bytes, int] = {}
    total = 0
    for index, allocation in enumerate(allocations):
        amount = allocation.amount
        if amount <= 0:
            _positive(amount, f"payload.allocations[{index}].amount")
        resource = allocation.resource
        if resource is not None and len(resource) > MAX_REFERENCE_LENGTH:
            raise InvalidTransaction(
                RejectReason.BAD_PAYLOAD,
                "resource id too long",
                field=f"payload.allocations[{index}].resource",
            )
        total += amount
        recipient = allocation.recipient
        deltas[recipient] = deltas.get(recipient, 0) + amount
    if total > INT_MAX:
        raise InvalidTransaction(
            RejectReason.BAD_AMOUNT, "total exceeds the 64-bit range", field="payload.allocations"
        )
    deltas[payer] = deltas.get(payer, 0) - total
    accounts = {address: state.account(address) for address in deltas}
    if accounts[payer].balance + deltas[payer] < 0:
        raise InvalidTransaction(
            RejectReason.INSUFFICIENT_FUNDS,
            f"needs {total}, has {accounts[payer].balance}",
            field="payload.allocations",
        )
    for address, delta in deltas.items():
        if accounts[address].balance + delta > INT_MAX:
            raise InvalidTransaction(
                RejectReason.BAD_AMOUNT,
                f"recipient {address.hex()} balance would overflow",
                field="payload.allocations",
            )
    for address, delta in deltas.items():
        if delta:
            account = accounts[address]
            state.set_account(address, balance=account.balance + delta, nonce=account.nonce)
    return total


def _require_role(ctx: TxContext, role: Role, what: str) -> None:
    if ctx.sender.role != role:
        raise InvalidTransaction(
            RejectReason.NOT_AUTHORIZED, f"only a {role.name} may {what}", field="sender"
        )


def _check_providers(state: State, allocations: tuple[Allocation, ...], ctx: TxContext) -> None:
    timestamp_ms = ctx.block.timestamp_ms
    checked: set[bytes] = set()
    for index, allocation in enumerate(allocations):
        recipient = allocation.recipient
        if recipient in checked:
            continue
        field = f"payload.allocations[{index}].recipient"
        node_id = node_of_address(state, recipient)
        certificate = None if node_id is None else certificate_of(state, node_id)
        if node_id is None or certificate is None or certificate.role != Role.BEAM:
            raise InvalidTransaction(
                RejectReason.UNKNOWN_RECIPIENT, "not a certified spectrum provider", field=field
            )
        if is_revoked(state, node_id):
            raise InvalidTransaction(RejectReason.REVOKED, f"{node_id!r} is revoked", field=field)
        if not certificate.active_at(timestamp_ms):
            raise InvalidTransaction(
                RejectReason.CERTIFICATE_EXPIRED, f"{node_id!r} not in force", field=field
            )
        checked.add(recipient)


class CoinFamily(TransactionFamily[Record]):
    """Spectrum coin: transfer, payment, deposit, withdraw."""

    name = "coin"
    version = 1

    def decode_payload(self, payload: JsonObject) -> Record:
        """The operation's payload record, by ``op``."""
        return decode_op(_OPERATIONS, payload)

    def apply(self, state: State, tx: AdmittedTransaction, payload: Record, ctx: TxContext) -> None:
        """Apply one coin operation (all checks before any write)."""
        payer = tx.sender_address
        if isinstance(payload, TransferPayload):
            _pay(state, payer, payload.allocations, ctx)
        elif isinstance(payload, PaymentPayload):
            _require_role(ctx, Role.USER, "pay for spectrum")
            active_certificate(
                state,
                payload.edge,
                timestamp_ms=ctx.block.timestamp_ms,
                role=Role.EDGE,
                field="payload.edge",
            )
            _check_providers(state, payload.allocations, ctx)
            total = _pay(state, payer, payload.allocations, ctx)
            receipt = {
                "allocations": len(payload.allocations),
                "edge": payload.edge,
                "height": ctx.block.height,
                "payer": payer.hex(),
                "total": total,
            }
            state.set(PAYMENT_PREFIX + ctx.tx_hash, canonical(receipt))
        elif isinstance(payload, DepositPayload):
            _require_role(ctx, Role.EXCHANGE, "deposit")
            _positive(payload.amount, "payload.amount")
            _check_reference(payload.reference)
            mint(state, payload.recipient, payload.amount, field="payload.amount")
        else:
            assert isinstance(payload, WithdrawPayload)
            _require_role(ctx, Role.EXCHANGE, "withdraw")
            _positive(payload.amount, "payload.amount")
            _check_reference(payload.reference)
            account = state.account(payer)
            if account.balance < payload.amount:
                raise InvalidTransaction(
                    RejectReason.INSUFFICIENT_FUNDS,
                    f"needs {payload.amount}, has {account.balance}",
                    field="payload.amount",
                )
            state.set_account(payer, balance=account.balance - payload.amount, nonce=account.nonce)
            _add_issued(state, -payload.amount)


def _check_reference(reference: str) -> None:
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise InvalidTransaction(
            RejectReason.BAD_PAYLOAD,
            f"longer than {MAX_REFERENCE_LENGTH}",
            field="payload.reference",
        )

"""The family registry, and a market-style family using its own namespace, reverted on failure."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ledger.chain import apply_transaction, block_context
from ledger.encoding import JsonObject, Record, canonical
from ledger.errors import DuplicateFamily, InvalidTransaction, RejectReason
from ledger.families import CoinFamily, FamilyRegistry, builtin_registry
from ledger.families.coin import credit
from ledger.families.registry import TransactionFamily, TxContext, decode_payload
from ledger.genesis import dev_network, genesis_state
from ledger.state import FamilyStore, State
from ledger.transactions import AdmittedTransaction

NET = dev_network()


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer(Record):
    offer_id: str
    price: int


class OffersFamily(TransactionFamily[Offer]):
    name = "offers"
    version = 1

    def decode_payload(self, payload: JsonObject) -> Offer:
        return decode_payload(Offer, payload)

    def apply(self, state: State, tx: AdmittedTransaction, payload: Offer, ctx: TxContext) -> None:
        store = FamilyStore(state, self.name)
        store.set(payload.offer_id.encode(), canonical({"price": payload.price}))
        credit(state, ctx.sender.address, 1)  # a write before the failure below
        if payload.price <= 0:
            raise InvalidTransaction(
                RejectReason.BAD_AMOUNT, "price must be positive", field="payload.price"
            )


def test_duplicate_registration() -> None:
    registry = builtin_registry()
    with pytest.raises(DuplicateFamily, match="coin v1"):
        registry.register(CoinFamily())
    assert ("coin", 1) in registry
    assert registry.names() == [("coin", 1), ("identity", 1), ("ratings", 1)]


def test_market_family_writes_its_namespace_and_is_reverted_on_failure() -> None:
    registry = builtin_registry()
    registry.register(OffersFamily())
    state = genesis_state(NET.genesis)
    ctx = block_context(
        state, height=1, timestamp_ms=1, leader="edge-00", params=NET.genesis.params
    )
    good = NET.transaction(
        "user-00", nonce=0, family="offers", payload={"offer_id": "o1", "price": 5}
    )
    apply_transaction(state, good, ctx, registry=registry)
    assert state.get(b"fam/offers/o1") == b'{"price":5}'
    before = dict(state.items())
    bad = NET.transaction(
        "user-00", nonce=1, family="offers", payload={"offer_id": "o2", "price": 0}
    )
    with pytest.raises(InvalidTransaction) as info:
        apply_transaction(state, bad, ctx, registry=registry)
    assert (info.value.reason, info.value.field) == (RejectReason.BAD_AMOUNT, "payload.price")
    assert dict(state.items()) == before
    malformed = NET.transaction(
        "user-00", nonce=1, family="offers", payload={"offer_id": 3, "price": 1}
    )
    with pytest.raises(InvalidTransaction) as info:
        apply_transaction(state, malformed, ctx, registry=registry)
    assert (info.value.reason, info.value.field) == (RejectReason.BAD_PAYLOAD, "payload.offer_id")


def test_empty_registry_knows_nothing() -> None:
    with pytest.raises(InvalidTransaction) as info:
        FamilyRegistry().get("coin", 1)
    assert info.value.reason == RejectReason.UNKNOWN_FAMILY

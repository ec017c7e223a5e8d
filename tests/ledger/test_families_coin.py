"""The coin family: transfers, payments, exchange deposits/withdrawals, bulk allocations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chain import apply_transaction, block_context
from ledger.crypto import PrivateKey
from ledger.encoding import INT_MAX
from ledger.errors import InvalidTransaction, RejectReason
from ledger.families import builtin_registry
from ledger.families.coin import issued
from ledger.families.registry import BlockContext
from ledger.genesis import dev_network, genesis_state
from ledger.identity import RevocationReason, issue_revocation
from ledger.state import PAYMENT_PREFIX, State, total_supply
from ledger.transactions import AdmittedTransaction, admit_record, sign_transaction

NET = dev_network()
CHAIN = NET.genesis.chain_id
REGISTRY = builtin_registry()
BALANCE = 10**12


def fresh(timestamp_ms: int = 1_000, **param_changes: Any) -> tuple[State, BlockContext]:
    state = genesis_state(NET.genesis)
    params = NET.genesis.params.replace(**param_changes) if param_changes else NET.genesis.params
    ctx = block_context(state, height=1, timestamp_ms=timestamp_ms, leader="edge-00", params=params)
    return state, ctx


def tx(
    state: State, node: str, payload: Any, *, family: str = "coin", **kw: Any
) -> AdmittedTransaction:
    address = NET.authority.address if node == "authority" else NET.address(node)
    nonce = kw.pop("nonce", state.account(address).nonce)
    return NET.transaction(node, nonce=nonce, family=family, payload=payload, **kw)


def run(state: State, ctx: BlockContext, node: str, payload: Any, **kw: Any) -> None:
    apply_transaction(state, tx(state, node, payload, **kw), ctx, registry=REGISTRY)


def rejected(state: State, ctx: BlockContext, item: AdmittedTransaction) -> InvalidTransaction:
    before, root, fees = dict(state.items()), state.state_root(), ctx.fees
    ratings, evidence = list(ctx.ratings), list(ctx.evidence)
    with pytest.raises(InvalidTransaction) as info:
        apply_transaction(state, item, ctx, registry=REGISTRY)
    assert dict(state.items()) == before
    assert state.state_root() == root
    assert (ctx.fees, ctx.ratings, ctx.evidence) == (fees, ratings, evidence)
    return info.value


def transfer(*pairs: tuple[bytes, int], resource: str | None = None) -> dict[str, Any]:
    return {
        "op": "transfer",
        "allocations": [
            {"recipient": address.hex(), "amount": amount, "resource": resource}
            for address, amount in pairs
        ],
    }


def payment(edge: str, *pairs: tuple[bytes, int]) -> dict[str, Any]:
    return {**transfer(*pairs, resource="beam-00/ch-1"), "op": "payment", "edge": edge}


U0, U1, U2 = NET.address("user-00"), NET.address("user-01"), NET.address("user-02")
BEAM0, BEAM1 = NET.address("beam-00"), NET.address("beam-01")


def test_transfer_moves_coin_and_charges_the_fee() -> None:
    state, ctx = fresh()
    run(state, ctx, "user-00", transfer((U1, 30), (U2, 12)), fee=5)
    assert state.account(U0).balance == BALANCE - 47
    assert state.account(U0).nonce == 1
    assert state.account(U1).balance == BALANCE + 30
    assert state.account(U2).balance == BALANCE + 12
    assert ctx.fees == 5
    assert total_supply(state) + ctx.fees == issued(state)


def test_self_transfer_and_repeated_recipient() -> None:
    state, ctx = fresh()
    run(state, ctx, "user-00", transfer((U0, 10), (U1, 1), (U1, 2)))
    assert state.account(U0).balance == BALANCE - 3 - 1
    assert state.account(U1).balance == BALANCE + 3


def test_nonce_replay_and_gaps_are_rejected() -> None:
    state, ctx = fresh()
    item = tx(state, "user-00", transfer((U1, 1)))
    apply_transaction(state, item, ctx, registry=REGISTRY)
    assert rejected(state, ctx, item).reason == RejectReason.BAD_NONCE
    gap = tx(state, "user-00", transfer((U1, 1)), nonce=5)
    assert rejected(state, ctx, gap).reason == RejectReason.BAD_NONCE


def test_fee_rules() -> None:
    state, ctx = fresh()
    assert rejected(state, ctx, tx(state, "user-00", transfer((U1, 1)), fee=0)).reason == (
        RejectReason.FEE_TOO_LOW
    )
    # beam-00 has no coin at all: it cannot pay even the fee
    assert rejected(state, ctx, tx(state, "beam-00", transfer((U1, 1)))).reason == (
        RejectReason.INSUFFICIENT_FUNDS
    )


def test_insufficient_funds_leaves_state_unchanged() -> None:
    state, ctx = fresh()
    error = rejected(state, ctx, tx(state, "user-00", transfer((U1, BALANCE))))
    assert error.reason == RejectReason.INSUFFICIENT_FUNDS
    assert error.field == "payload.allocations"


def test_bulk_is_all_or_nothing() -> None:
    state, ctx = fresh()
    good = [(PrivateKey.from_seed(i.to_bytes(2, "big")).address, 1) for i in range(300)]
    bad = [*good[:150], (U1, 0), *good[150:]]
    error = rejected(state, ctx, tx(state, "user-00", transfer(*bad)))
    assert (error.reason, error.field) == (
        RejectReason.BAD_AMOUNT,
        "payload.allocations[150].amount",
    )
    run(state, ctx, "user-00", transfer(*good))
    assert state.account(U0).balance == BALANCE - 300 - 1
    assert all(state.account(address).balance == 1 for address, _ in good)


def test_allocation_limits_and_overflow() -> None:
    state, ctx = fresh(max_allocations=3)
    many = tx(state, "user-00", transfer(*[(U1, 1)] * 4))
    assert rejected(state, ctx, many).reason == RejectReason.TOO_MANY_ALLOCATIONS
    assert rejected(state, ctx, tx(state, "user-00", transfer())).reason == RejectReason.BAD_PAYLOAD
    negative = tx(state, "user-00", transfer((U1, -5)))
    assert rejected(state, ctx, negative).reason == RejectReason.BAD_AMOUNT
    total_overflow = tx(state, "user-00", transfer((U1, INT_MAX), (U2, INT_MAX)))
    assert rejected(state, ctx, total_overflow).reason == RejectReason.BAD_AMOUNT
    # issuance is capped at the 64-bit range, so no balance can ever overflow
    headroom = INT_MAX - issued(state)
    over = {"op": "deposit", "recipient": U2.hex(), "amount": headroom + 1, "reference": "d"}
    assert rejected(state, ctx, tx(state, "exchange-00", over)).reason == RejectReason.BAD_AMOUNT
    run(state, ctx, "exchange-00", {**over, "amount": headroom})
    assert issued(state) == INT_MAX == total_supply(state) + ctx.fees


def test_deposit_and_withdraw_only_by_the_exchange() -> None:
    state, ctx = fresh()
    deposit = {"op": "deposit", "recipient": U1.hex(), "amount": 500, "reference": "bank-1"}
    for node in ("user-00", "edge-00", "authority"):
        assert rejected(state, ctx, tx(state, node, deposit)).reason == RejectReason.NOT_AUTHORIZED
    before = issued(state)
    run(state, ctx, "exchange-00", deposit)
    assert state.account(U1).balance == BALANCE + 500
    assert issued(state) == before + 500
    withdraw = {"op": "withdraw", "amount": 200, "reference": "payout-1"}
    assert (
        rejected(state, ctx, tx(state, "user-01", withdraw)).reason == RejectReason.NOT_AUTHORIZED
    )
    run(state, ctx, "exchange-00", withdraw)
    assert issued(state) == before + 300
    too_much = {"op": "withdraw", "amount": 10 * BALANCE, "reference": "x"}
    assert rejected(state, ctx, tx(state, "exchange-00", too_much)).reason == (
        RejectReason.INSUFFICIENT_FUNDS
    )
    assert total_supply(state) + ctx.fees == issued(state)


def test_payment_goes_to_providers_through_an_edge() -> None:
    state, ctx = fresh()
    item = tx(state, "user-00", payment("edge-01", (BEAM0, 70), (BEAM1, 30)))
    apply_transaction(state, item, ctx, registry=REGISTRY)
    assert state.account(BEAM0).balance == 70
    assert state.account(BEAM1).balance == 30
    receipt = state.get(PAYMENT_PREFIX + item.tx_hash)
    assert receipt is not None and b'"edge":"edge-01"' in receipt and b'"total":100' in receipt


@pytest.mark.parametrize(
    ("node", "payload", "reason", "field"),
    [
        ("user-00", payment("user-01", (BEAM0, 1)), RejectReason.UNKNOWN_RECIPIENT, "payload.edge"),
        ("user-00", payment("edge-99", (BEAM0, 1)), RejectReason.UNKNOWN_RECIPIENT, "payload.edge"),
        (
            "user-00",
            payment("edge-00", (BEAM0, 1), (U1, 1)),
            RejectReason.UNKNOWN_RECIPIENT,
            "payload.allocations[1].recipient",
        ),
        ("edge-01", payment("edge-00", (BEAM0, 1)), RejectReason.NOT_AUTHORIZED, "sender"),
        ("user-00", {"op": "reward", "amount": 5}, RejectReason.BAD_PAYLOAD, "payload.op"),
        (
            "user-00",
            {"op": "payment", "edge": "edge-00"},
            RejectReason.BAD_PAYLOAD,
            "payload.allocations",
        ),
    ],
)
def test_payment_rules(
    node: str, payload: dict[str, Any], reason: RejectReason, field: str
) -> None:
    state, ctx = fresh()
    error = rejected(state, ctx, tx(state, node, payload))
    assert (error.reason, error.field) == (reason, field)


def revoke(state: State, ctx: BlockContext, node_id: str) -> None:
    revocation = issue_revocation(
        NET.authority,
        chain_id=CHAIN,
        node_id=node_id,
        reason=RevocationReason.MISBEHAVIOUR,
        timestamp_ms=ctx.timestamp_ms,
    )
    run(
        state,
        ctx,
        "authority",
        {"op": "revocation", "revocation": revocation.to_fields()},
        family="identity",
    )


def test_revoked_sender_edge_and_provider() -> None:
    state, ctx = fresh()
    for node in ("user-01", "edge-01", "beam-01"):
        revoke(state, ctx, node)
    assert (
        rejected(state, ctx, tx(state, "user-01", transfer((U0, 1)))).reason == RejectReason.REVOKED
    )
    assert rejected(state, ctx, tx(state, "user-00", payment("edge-01", (BEAM0, 1)))).reason == (
        RejectReason.REVOKED
    )
    assert rejected(state, ctx, tx(state, "user-00", payment("edge-00", (BEAM1, 1)))).reason == (
        RejectReason.REVOKED
    )


def test_uncertified_and_expired_senders() -> None:
    state, ctx = fresh()
    stranger = PrivateKey.from_seed(b"stranger")
    signed = sign_transaction(
        stranger,
        chain_id=CHAIN,
        nonce=0,
        fee=1,
        family="coin",
        version=1,
        payload=transfer((U0, 1)),
    )
    assert rejected(state, ctx, admit_record(signed, chain_id=CHAIN)).reason == (
        RejectReason.UNCERTIFIED_SENDER
    )
    state, late = fresh(timestamp_ms=10**13)
    assert rejected(state, late, tx(state, "user-00", transfer((U1, 1)))).reason == (
        RejectReason.CERTIFICATE_EXPIRED
    )


def test_unknown_family_and_version() -> None:
    state, ctx = fresh()
    assert rejected(state, ctx, tx(state, "user-00", transfer((U1, 1)), family="nope")).reason == (
        RejectReason.UNKNOWN_FAMILY
    )
    assert rejected(state, ctx, tx(state, "user-00", transfer((U1, 1)), version=2)).reason == (
        RejectReason.UNKNOWN_FAMILY
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(max_size=6)
    | st.sampled_from(["transfer", "payment", "deposit", "withdraw", U1.hex()]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["op", "allocations", "recipient", "amount", "resource", "edge", "reference", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)
payloads = st.dictionaries(
    st.sampled_from(["op", "allocations", "recipient", "amount", "resource", "edge", "reference"]),
    json_values,
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads, node=st.sampled_from(["user-00", "exchange-00", "edge-00"]))
def test_adversarial_payloads_are_rejected_with_state_unchanged(
    payload: dict[str, Any], node: str
) -> None:
    state, ctx = fresh()
    item = tx(state, node, payload)
    before = dict(state.items())
    try:
        apply_transaction(state, item, ctx, registry=REGISTRY)
    except InvalidTransaction as error:
        assert isinstance(error.reason, RejectReason)
        assert dict(state.items()) == before
    else:  # a valid operation slipped through: coin is still conserved
        assert total_supply(state) + ctx.fees == issued(state)

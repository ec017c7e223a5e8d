"""The identity family: only the authority posts certificates and revocations."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ledger.chain import apply_transaction, block_context
from ledger.crypto import PrivateKey
from ledger.errors import InvalidTransaction, RejectReason
from ledger.families import builtin_registry
from ledger.families.identity import active_certificate, certificate_of, is_revoked, node_of_address
from ledger.families.registry import BlockContext
from ledger.genesis import dev_network, genesis_state
from ledger.identity import Certificate, RevocationReason, Role, issue_certificate, issue_revocation
from ledger.state import State

NET = dev_network()
CHAIN = NET.genesis.chain_id
REGISTRY = builtin_registry()
NEWCOMER = PrivateKey.from_seed(b"edge-new")


def fresh() -> tuple[State, BlockContext]:
    state = genesis_state(NET.genesis)
    ctx = block_context(
        state, height=1, timestamp_ms=1_000, leader="edge-00", params=NET.genesis.params
    )
    return state, ctx


def submit(state: State, ctx: BlockContext, node: str, payload: dict[str, Any]) -> None:
    address = NET.authority.address if node == "authority" else NET.address(node)
    item = NET.transaction(
        node, nonce=state.account(address).nonce, family="identity", payload=payload
    )
    apply_transaction(state, item, ctx, registry=REGISTRY)


def rejected(
    state: State, ctx: BlockContext, node: str, payload: dict[str, Any]
) -> InvalidTransaction:
    before = dict(state.items())
    with pytest.raises(InvalidTransaction) as info:
        submit(state, ctx, node, payload)
    assert dict(state.items()) == before
    return info.value


def cert(signer: PrivateKey = NET.authority, **changes: Any) -> Certificate:
    fields: dict[str, Any] = {
        "chain_id": CHAIN,
        "node_id": "edge-new",
        "role": Role.EDGE,
        "public_key": NEWCOMER.public_key,
        "valid_from_ms": 0,
        "valid_until_ms": 10**9,
    }
    fields.update(changes)
    return issue_certificate(signer, **fields)


def post(certificate: Certificate) -> dict[str, Any]:
    return {"op": "certificate", "certificate": certificate.to_fields()}


def revoke(node_id: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain_id": CHAIN,
        "node_id": node_id,
        "reason": RevocationReason.KEY_COMPROMISE,
        "timestamp_ms": 1_000,
    }
    signer = changes.pop("signer", NET.authority)
    fields.update(changes)
    return {"op": "revocation", "revocation": issue_revocation(signer, **fields).to_fields()}


def test_certificate_then_renewal_then_revocation() -> None:
    state, ctx = fresh()
    submit(state, ctx, "authority", post(cert()))
    assert certificate_of(state, "edge-new") == cert()
    assert node_of_address(state, NEWCOMER.address) == "edge-new"
    assert active_certificate(state, "edge-new", timestamp_ms=5, role=Role.EDGE, field="f")
    submit(state, ctx, "authority", post(cert(valid_until_ms=2 * 10**9)))
    assert certificate_of(state, "edge-new").valid_until_ms == 2 * 10**9  # type: ignore[union-attr]
    submit(state, ctx, "authority", revoke("edge-new"))
    assert is_revoked(state, "edge-new")
    assert rejected(state, ctx, "authority", revoke("edge-new")).reason == RejectReason.REVOKED
    assert rejected(state, ctx, "authority", post(cert())).reason == RejectReason.REVOKED


@pytest.mark.parametrize(
    ("payload", "reason", "field"),
    [
        (
            post(cert(signer=PrivateKey.from_seed(b"mallory"))),
            RejectReason.BAD_CERTIFICATE,
            "payload.certificate.signature",
        ),
        (
            post(cert(chain_id="other")),
            RejectReason.BAD_CERTIFICATE,
            "payload.certificate.chain_id",
        ),
        (
            post(cert(valid_from_ms=10**9)),
            RejectReason.BAD_CERTIFICATE,
            "payload.certificate.valid_until_ms",
        ),
        (
            post(cert(node_id="edge-00")),
            RejectReason.DUPLICATE_CERTIFICATE,
            "payload.certificate.public_key",
        ),
        (
            post(cert(public_key=NET.keys["user-00"].public_key)),
            RejectReason.DUPLICATE_CERTIFICATE,
            "payload.certificate.public_key",
        ),
        (revoke("edge-zz"), RejectReason.UNKNOWN_CERTIFICATE, "payload.revocation.node_id"),
        (
            revoke("edge-01", chain_id="x"),
            RejectReason.BAD_CERTIFICATE,
            "payload.revocation.chain_id",
        ),
        (
            revoke("edge-01", signer=NET.keys["edge-00"]),
            RejectReason.BAD_CERTIFICATE,
            "payload.revocation.signature",
        ),
        (
            {"op": "certificate", "certificate": {}},
            RejectReason.BAD_PAYLOAD,
            "payload.certificate.chain_id",
        ),
    ],
)
def test_identity_rules(payload: dict[str, Any], reason: RejectReason, field: str) -> None:
    state, ctx = fresh()
    error = rejected(state, ctx, "authority", payload)
    assert (error.reason, error.field) == (reason, field)


def test_bad_public_key_in_certificate() -> None:
    state, ctx = fresh()
    bad = dataclasses.replace(cert(), public_key=b"\x02" + b"\xff" * 32)
    bad = dataclasses.replace(bad, signature=NET.authority.sign(bad.signing_digest()))
    error = rejected(state, ctx, "authority", post(bad))
    assert (error.reason, error.field) == (
        RejectReason.BAD_CERTIFICATE,
        "payload.certificate.public_key",
    )


@pytest.mark.parametrize("node", ["edge-00", "user-00", "exchange-00"])
def test_only_the_authority_posts(node: str) -> None:
    state, ctx = fresh()
    assert rejected(state, ctx, node, post(cert())).reason == RejectReason.NOT_AUTHORIZED
    assert rejected(state, ctx, node, revoke("edge-01")).reason == RejectReason.NOT_AUTHORIZED

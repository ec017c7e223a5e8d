"""Transaction envelope: signing, hashing and admission of hostile bytes."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import PrivateKey
from ledger.encoding import canonical, sha256
from ledger.errors import InvalidTransaction, RejectReason
from ledger.transactions import Transaction, admit, admit_record, sign_transaction

KEY = PrivateKey.from_seed(b"tx-tests")
CHAIN = "test-chain"
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PAYLOAD = {
    "op": "transfer",
    "allocations": [{"recipient": "00" * 20, "amount": 5, "resource": None}],
}


def signed(**changes: object) -> Transaction:
    fields: dict[str, object] = {
        "chain_id": CHAIN,
        "nonce": 0,
        "fee": 1,
        "family": "coin",
        "version": 1,
        "payload": PAYLOAD,
    }
    fields.update(changes)
    return sign_transaction(KEY, **fields)  # type: ignore[arg-type]


def reason_of(data: bytes) -> RejectReason:
    with pytest.raises(InvalidTransaction) as info:
        admit(data, chain_id=CHAIN, max_bytes=10_000)
    return info.value.reason


def test_admit_roundtrip() -> None:
    tx = signed()
    data = tx.encode()
    admitted = admit(data, chain_id=CHAIN, max_bytes=10_000)
    assert admitted.tx == tx
    assert admitted.raw == data
    assert admitted.tx_hash == sha256(data)
    assert admitted.sender_address == KEY.address
    fields = tx.to_fields()
    del fields["signature"]
    body = {"body": fields, "domain": "satedge/transaction/v1"}
    assert tx.signing_digest() == sha256(canonical(body))


def test_hash_is_stable_through_decoding() -> None:
    tx = signed()
    assert Transaction.decode(tx.encode(), max_bytes=10_000).encode() == tx.encode()


@pytest.mark.parametrize("field", ["nonce", "fee", "family", "version", "payload", "chain_id"])
def test_changing_any_signed_field_breaks_the_signature(field: str) -> None:
    tx = signed()
    other: dict[str, Any] = {
        "nonce": 1,
        "fee": 2,
        "family": "ratings",
        "version": 2,
        "payload": {"op": "x"},
    }
    forged = dataclasses.replace(tx, **{field: other.get(field, "test-chain-2")})
    assert admit_record_reason(forged, chain_id=forged.chain_id) == RejectReason.BAD_SIGNATURE


def admit_record_reason(tx: Transaction, chain_id: str = CHAIN) -> RejectReason:
    with pytest.raises(InvalidTransaction) as info:
        admit_record(tx, chain_id=chain_id)
    return info.value.reason


def test_other_senders_key_is_rejected() -> None:
    tx = dataclasses.replace(signed(), sender=PrivateKey.from_seed(b"other").public_key)
    assert admit_record_reason(tx) == RejectReason.BAD_SIGNATURE


def test_malleated_signatures_are_rejected() -> None:
    tx = signed()
    r, s, v = tx.signature[:32], int.from_bytes(tx.signature[32:64], "big"), tx.signature[64]
    high_s = r + (ORDER - s).to_bytes(32, "big") + bytes([v ^ 1])
    assert admit_record_reason(dataclasses.replace(tx, signature=high_s)) == (
        RejectReason.BAD_SIGNATURE
    )
    flipped_v = tx.signature[:64] + bytes([v ^ 1])
    assert admit_record_reason(dataclasses.replace(tx, signature=flipped_v)) == (
        RejectReason.BAD_SIGNATURE
    )
    big_v = tx.signature[:64] + bytes([v + 2])
    assert admit_record_reason(dataclasses.replace(tx, signature=big_v)) == (
        RejectReason.BAD_SIGNATURE
    )
    zero = dataclasses.replace(tx, signature=bytes(65))
    assert admit_record_reason(zero) == RejectReason.BAD_SIGNATURE


def test_envelope_rules() -> None:
    assert admit_record_reason(signed(), chain_id="elsewhere") == RejectReason.BAD_CHAIN_ID
    assert admit_record_reason(signed(nonce=-1)) == RejectReason.BAD_NONCE
    assert admit_record_reason(signed(fee=-1)) == RejectReason.FEE_TOO_LOW


def test_oversized_is_rejected_before_parsing() -> None:
    data = signed().encode()
    with pytest.raises(InvalidTransaction) as info:
        admit(data, chain_id=CHAIN, max_bytes=len(data) - 1)
    assert info.value.reason == RejectReason.OVERSIZED


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b'"nonce":0', b'"nonce":0.0', "nonce"),
        (b'"fee":1', b'"fee":true', "fee"),
        (b'"version":1', b'"version":"1"', "version"),
        (b'"chain_id":"test-chain"', b'"chain_id":null', "chain_id"),
        (b'"family":"coin"', b'"family":"coin","fb":1', "fb"),
    ],
)
def test_malformed_fields_are_named(old: bytes, new: bytes, field: str) -> None:
    data = signed().encode().replace(old, new)
    with pytest.raises(InvalidTransaction) as info:
        admit(data, chain_id=CHAIN, max_bytes=10_000)
    assert info.value.reason == RejectReason.MALFORMED
    assert info.value.field == field


def test_missing_and_non_canonical() -> None:
    fields = orjson.loads(signed().encode())
    del fields["fee"]
    assert reason_of(canonical(fields)) == RejectReason.MALFORMED
    reordered = dict(reversed(list(orjson.loads(signed().encode()).items())))
    assert reason_of(orjson.dumps(reordered)) == RejectReason.MALFORMED
    assert reason_of(signed().encode().replace(b",", b", ", 1)) == RejectReason.MALFORMED


def test_sign_rejects_floats_locally() -> None:
    with pytest.raises(ValueError, match="float"):
        signed(payload={"op": "transfer", "amount": 1.5})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_only_typed_rejections(data: bytes) -> None:
    assert reason_of(data) in {RejectReason.MALFORMED, RejectReason.OVERSIZED}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(sorted(Transaction.__dataclass_fields__)), value=json_values)
def test_any_field_replaced_is_rejected_or_same(field: str, value: object) -> None:
    tx = signed()
    fields = tx.to_fields()
    fields[field] = value
    try:
        data = canonical(fields)
    except ValueError:
        return
    if data == tx.encode():
        return
    assert reason_of(data) in {
        RejectReason.MALFORMED,
        RejectReason.BAD_SIGNATURE,
        RejectReason.BAD_CHAIN_ID,
        RejectReason.BAD_NONCE,
        RejectReason.FEE_TOO_LOW,
    }

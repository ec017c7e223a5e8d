"""Certificates and revocations: the authority's signatures, validity windows, strict decoding."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import PrivateKey, address_of
from ledger.encoding import DecodeError, UnknownField, WrongType
from ledger.identity import (
    Certificate,
    Revocation,
    RevocationReason,
    Role,
    issue_certificate,
    issue_revocation,
    valid_node_id,
)

AUTHORITY = PrivateKey.from_seed(b"authority")
NODE = PrivateKey.from_seed(b"edge")


def certificate(**changes: object) -> Certificate:
    fields: dict[str, object] = {
        "chain_id": "c",
        "node_id": "edge-01",
        "role": Role.EDGE,
        "public_key": NODE.public_key,
        "valid_from_ms": 100,
        "valid_until_ms": 200,
    }
    fields.update(changes)
    return issue_certificate(AUTHORITY, **fields)  # type: ignore[arg-type]


def test_certificate_is_the_authoritys_signature() -> None:
    cert = certificate()
    assert cert.signed_by(AUTHORITY.public_key)
    assert not cert.signed_by(NODE.public_key)
    assert cert.address == address_of(NODE.public_key)
    assert Certificate.decode(cert.encode(), max_bytes=4096) == cert


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain_id", "other"),
        ("node_id", "edge-02"),
        ("role", Role.USER),
        ("public_key", PrivateKey.from_seed(b"x").public_key),
        ("valid_from_ms", 0),
        ("valid_until_ms", 10**9),
    ],
)
def test_any_change_voids_the_signature(field: str, value: Any) -> None:
    forged = dataclasses.replace(certificate(), **{field: value})
    assert not forged.signed_by(AUTHORITY.public_key)


def test_validity_window_is_half_open() -> None:
    cert = certificate()
    assert [cert.active_at(t) for t in (99, 100, 199, 200)] == [False, True, True, False]


def test_revocation() -> None:
    revocation = issue_revocation(
        AUTHORITY,
        chain_id="c",
        node_id="edge-01",
        reason=RevocationReason.MISBEHAVIOUR,
        timestamp_ms=150,
    )
    assert revocation.signed_by(AUTHORITY.public_key)
    assert not dataclasses.replace(revocation, node_id="edge-02").signed_by(AUTHORITY.public_key)
    assert Revocation.decode(revocation.encode(), max_bytes=4096) == revocation


@pytest.mark.parametrize("node_id", ["", "a b", "a/b", "é", "x" * 65, "tab\t"])
def test_bad_node_ids(node_id: str) -> None:
    assert not valid_node_id(node_id)
    with pytest.raises(ValueError, match="node id"):
        certificate(node_id=node_id)


def test_decoding_names_the_field() -> None:
    data = certificate().encode()
    with pytest.raises(WrongType, match="role"):
        Certificate.decode(data.replace(b'"role":1', b'"role":"1"'), max_bytes=4096)
    with pytest.raises(UnknownField, match="rolex"):
        Certificate.decode(data.replace(b'"role":1', b'"role":1,"rolex":1'), max_bytes=4096)
    with pytest.raises(DecodeError, match="role"):
        Certificate.decode(data.replace(b'"role":1', b'"role":9'), max_bytes=4096)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_certificates_raise_decode_errors(data: bytes) -> None:
    with pytest.raises(DecodeError):
        Certificate.decode(data, max_bytes=4096)

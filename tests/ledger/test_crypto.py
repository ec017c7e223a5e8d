"""Keys, signatures and addresses: known vectors, round trips, and forged input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.crypto import CryptoError, PrivateKey, address_of, recover, verify
from ledger.encoding import sha256


def test_address_of_private_key_one_is_ethereums() -> None:
    key = PrivateKey((1).to_bytes(32, "big"))
    assert key.address.hex() == "7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    assert address_of(key.public_key) == key.address


def test_keys_from_the_same_seed_are_the_same_and_others_differ() -> None:
    assert (
        PrivateKey.from_seed(b"edge-01").public_key == PrivateKey.from_seed(b"edge-01").public_key
    )
    assert (
        PrivateKey.from_seed(b"edge-01").public_key != PrivateKey.from_seed(b"edge-02").public_key
    )


@given(st.binary(min_size=1, max_size=64), st.binary(min_size=1, max_size=200))
def test_sign_verify_recover_round_trip(seed: bytes, message: bytes) -> None:
    key = PrivateKey.from_seed(seed)
    digest = sha256(message)
    signature = key.sign(digest)
    assert len(signature) == 65
    assert verify(key.public_key, digest, signature)
    assert recover(digest, signature) == key.public_key
    assert not verify(key.public_key, sha256(message + b"!"), signature)
    assert not verify(PrivateKey.from_seed(seed + b"x").public_key, digest, signature)


@given(st.binary(max_size=80), st.binary(max_size=40), st.binary(max_size=40))
def test_verify_never_raises_on_garbage(signature: bytes, key: bytes, digest: bytes) -> None:
    assert verify(key, digest, signature) in (False, True)


def test_a_flipped_bit_breaks_the_signature() -> None:
    key = PrivateKey.from_seed(b"k")
    digest = sha256(b"block")
    signature = bytearray(key.sign(digest))
    signature[10] ^= 1
    assert not verify(key.public_key, digest, bytes(signature))


def test_malformed_inputs_raise_crypto_errors() -> None:
    with pytest.raises(CryptoError, match="32 bytes"):
        PrivateKey(b"short")
    with pytest.raises(CryptoError, match="invalid secret"):
        PrivateKey(bytes(32))
    with pytest.raises(CryptoError, match="digest"):
        PrivateKey.from_seed(b"k").sign(b"not a digest")
    with pytest.raises(CryptoError, match="signature"):
        recover(sha256(b"x"), b"\x00" * 10)
    with pytest.raises(CryptoError, match="public key"):
        address_of(b"\x02" + b"\xff" * 32)

"""Keys, signatures and addresses on secp256k1 (coincurve); Keccak-256 only for addresses.

A signature is 65 bytes, ``r ‖ s ‖ v`` (recoverable form), over a 32-byte digest that the
caller computed (SHA-256 of canonical bytes, :func:`ledger.encoding.sha256`): the digest is
signed as it is, never hashed again. An address is the last 20 bytes of Keccak-256 of the
uncompressed public key without its 0x04 prefix, as in Ethereum, so a user can hold one key
across satedge and other chains.
"""

from __future__ import annotations

import hashlib

import coincurve
from coincurve.ecdsa import cdata_to_der, deserialize_recoverable, recoverable_convert
from Crypto.Hash import keccak

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "CryptoError",
    "PrivateKey",
    "address_of",
    "recover",
    "verify",
]

PUBLIC_KEY_SIZE = 33
"""Compressed secp256k1 public key."""
SIGNATURE_SIZE = 65
"""Recoverable ECDSA signature r ‖ s ‖ v."""
DIGEST_SIZE = 32


class CryptoError(ValueError):
    """A key, digest or signature is malformed (wrong length, not on the curve)."""


def _check_digest(digest: bytes) -> None:
    if len(digest) != DIGEST_SIZE:
        raise CryptoError(f"digest must be {DIGEST_SIZE} bytes, got {len(digest)}")


class PrivateKey:
    """A secp256k1 private key. Deterministic from a seed, so runs are reproducible."""

    __slots__ = ("_key", "public_key")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise CryptoError(f"secret must be 32 bytes, got {len(secret)}")
        try:
            self._key = coincurve.PrivateKey(secret)
        except ValueError as exc:
            raise CryptoError(f"invalid secret: {exc}") from None
        self.public_key: bytes = self._key.public_key.format(compressed=True)

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """The key derived from ``seed`` (SHA-256; re-hashed in the negligible invalid case)."""
        secret = hashlib.sha256(b"satedge-key\x00" + seed).digest()
        while True:
            try:
                return cls(secret)
            except CryptoError:
                secret = hashlib.sha256(secret).digest()

    def sign(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest; returns the 65-byte recoverable signature (RFC 6979 nonce)."""
        _check_digest(digest)
        signature: bytes = self._key.sign_recoverable(digest, hasher=None)
        return signature

    @property
    def address(self) -> bytes:
        """This key's 20-byte address."""
        return address_of(self.public_key)


def verify(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``digest``; False otherwise.

    Never raises for malformed input from peers: a wrong-length or off-curve key or signature is
    simply not a valid signature.
    """
    if len(signature) != SIGNATURE_SIZE or len(digest) != DIGEST_SIZE:
        return False
    try:
        der = cdata_to_der(recoverable_convert(deserialize_recoverable(signature)))
        valid: bool = coincurve.PublicKey(public_key).verify(der, digest, hasher=None)
    except (ValueError, TypeError):
        return False
    return valid


def recover(digest: bytes, signature: bytes) -> bytes:
    """The compressed public key that made ``signature`` over ``digest``.

    Raises:
        CryptoError: The signature is malformed or recovers no key.
    """
    _check_digest(digest)
    if len(signature) != SIGNATURE_SIZE:
        raise CryptoError(f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    try:
        key = coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except ValueError as exc:
        raise CryptoError(f"cannot recover a public key: {exc}") from None
    recovered: bytes = key.format(compressed=True)
    return recovered


def address_of(public_key: bytes) -> bytes:
    """Last 20 bytes of Keccak-256 of the uncompressed public key (without the 0x04 prefix).

    Raises:
        CryptoError: ``public_key`` is not a valid secp256k1 public key.
    """
    try:
        uncompressed = coincurve.PublicKey(public_key).format(compressed=False)
    except ValueError as exc:
        raise CryptoError(f"invalid public key: {exc}") from None
    digest = keccak.new(digest_bits=256, data=uncompressed[1:]).digest()
    return digest[-20:]

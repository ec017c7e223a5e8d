"""The transaction envelope, its signature, and admission (signatures are checked once, here).

A transaction names its chain, sender (33-byte compressed secp256k1 key; the sender's account
is ``address_of(sender)``), per-account nonce (no replay: it must equal the account's next
nonce), fee (base units), family and version, and a payload that the family validates. The
signature is over ``sha256(canonical(all fields but signature))``; the transaction hash is
``sha256`` of the full canonical bytes.

Admission (``admit``) decodes strictly and checks the signature, which must be in the low-S
form with recovery id 0 or 1 and recover exactly the sender's key: so a signature cannot be
re-encoded into a second valid transaction with another hash. An :class:`AdmittedTransaction`
carries the raw bytes, hash and sender address, so the state transition never re-verifies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, ClassVar

import orjson

from ledger.crypto import CryptoError, PrivateKey, address_of, recover
from ledger.encoding import DecodeError, JsonObject, Length, Record, canonical, sha256
from ledger.errors import InvalidTransaction, RejectReason
from ledger.signing import SignedRecord

__all__ = [
    "AdmittedTransaction",
    "Transaction",
    "admit",
    "admit_record",
    "sign_transaction",
]

_SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_NO_SIGNATURE = bytes(65)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction(SignedRecord):
    """A signed transaction envelope (the payload is the family's to validate)."""

    chain_id: str
    sender: Annotated[bytes, Length(33)]
    nonce: int
    fee: int
    family: str
    version: int
    payload: JsonObject
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "satedge/transaction/v1"


_DOMAIN_TAIL = b',"domain":' + orjson.dumps(Transaction.SIGNING_DOMAIN) + b"}"
_address_of = functools.lru_cache(maxsize=1 << 16)(address_of)
"""``address_of``, remembered per sender key (a pure function: Keccak-256 of the key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmittedTransaction:
    """A transaction whose encoding and signature have been checked.

    Attributes:
        tx: The decoded envelope.
        raw: Its canonical bytes.
        tx_hash: ``sha256(raw)``.
        sender_address: ``address_of(tx.sender)``.
    """

    tx: Transaction
    raw: bytes
    tx_hash: bytes
    sender_address: bytes


def sign_transaction(
    key: PrivateKey,
    *,
    chain_id: str,
    nonce: int,
    fee: int,
    family: str,
    version: int,
    payload: JsonObject | Record,
) -> Transaction:
    """Build and sign a transaction with ``key`` (local use; raises EncodingError on floats)."""
    fields = payload.to_fields() if isinstance(payload, Record) else payload
    canonical(fields)  # fail early, locally, on anything that cannot be signed
    unsigned = Transaction(
        chain_id=chain_id,
        sender=key.public_key,
        nonce=nonce,
        fee=fee,
        family=family,
        version=version,
        payload=fields,
        signature=_NO_SIGNATURE,
    )
    return unsigned.signed_with(key)


def _signing_digest(tx: Transaction, raw: bytes | None) -> bytes:
    """``tx.signing_digest()``, cut from ``raw`` (``tx``'s canonical bytes) when given.

    The unsigned fields' canonical form is the canonical transaction without its
    ``"signature":"…",`` member, which sorts between ``sender`` and ``version``, the last key.
    The cut is taken only when ``raw`` ends in exactly the canonical hex of ``sender`` and
    ``signature`` (the only fields whose decoding could accept another spelling), so then
    ``raw`` is ``tx.encode()`` and the digest is the same; otherwise it is computed afresh.
    """
    if raw is not None:
        version = str(tx.version).encode()
        signed = b'","signature":"' + tx.signature.hex().encode() + b'","version":'
        tail = b'"sender":"' + tx.sender.hex().encode() + signed + version + b"}"
        cut = len(raw) - len(tail)
        if raw.endswith(tail) and raw[cut - 1 : cut] == b",":
            unsigned = raw[:cut] + b'"sender":"' + tx.sender.hex().encode() + b'","version":'
            return sha256(b'{"body":' + unsigned + version + b"}" + _DOMAIN_TAIL)
    return tx.signing_digest()


def _check_signature(tx: Transaction, raw: bytes | None = None) -> None:
    signature = tx.signature
    if signature[64] > 1:
        raise InvalidTransaction(
            RejectReason.BAD_SIGNATURE, "recovery id must be 0 or 1", field="signature"
        )
    if int.from_bytes(signature[32:64], "big") > _SECP256K1_HALF_ORDER:
        raise InvalidTransaction(
            RejectReason.BAD_SIGNATURE, "s is not in the low half (malleable)", field="signature"
        )
    try:
        signer = recover(_signing_digest(tx, raw), signature)
    except CryptoError as exc:
        raise InvalidTransaction(RejectReason.BAD_SIGNATURE, str(exc), field="signature") from None
    if signer != tx.sender:
        raise InvalidTransaction(
            RejectReason.BAD_SIGNATURE, "not signed by the sender's key", field="signature"
        )


def _check_envelope(tx: Transaction, chain_id: str) -> None:
    if tx.chain_id != chain_id:
        raise InvalidTransaction(
            RejectReason.BAD_CHAIN_ID,
            f"for chain {tx.chain_id!r}, not {chain_id!r}",
            field="chain_id",
        )
    if tx.nonce < 0:
        raise InvalidTransaction(RejectReason.BAD_NONCE, "negative nonce", field="nonce")
    if tx.fee < 0:
        raise InvalidTransaction(RejectReason.FEE_TOO_LOW, "negative fee", field="fee")


def admit_record(
    tx: Transaction, *, chain_id: str, raw: bytes | None = None
) -> AdmittedTransaction:
    """Admit an already decoded transaction: check the envelope and the signature.

    Raises:
        InvalidTransaction: BAD_CHAIN_ID, BAD_NONCE, FEE_TOO_LOW or BAD_SIGNATURE.
    """
    _check_envelope(tx, chain_id)
    _check_signature(tx, raw)
    data = tx.encode() if raw is None else raw
    return AdmittedTransaction(
        tx=tx, raw=data, tx_hash=sha256(data), sender_address=_address_of(tx.sender)
    )


def admit(data: bytes, *, chain_id: str, max_bytes: int) -> AdmittedTransaction:
    """Decode bytes received from outside into an admitted transaction.

    Raises:
        InvalidTransaction: OVERSIZED, MALFORMED (naming the field), or as ``admit_record``.
    """
    if len(data) > max_bytes:
        raise InvalidTransaction(
            RejectReason.OVERSIZED, f"{len(data)} bytes, more than the {max_bytes} accepted"
        )
    try:
        tx = Transaction.decode(data, max_bytes=max_bytes)
    except DecodeError as exc:
        raise InvalidTransaction(RejectReason.MALFORMED, exc.reason, field=exc.field) from None
    return admit_record(tx, chain_id=chain_id, raw=data)

"""The ``identity`` family: the authority posts certificates and revocations on chain.

Only the authority's key may send these transactions, and the certificate or revocation it
carries must itself be signed by the authority for this chain (so the record stays valid
evidence when shown off chain). A node id keeps one key for life: a certificate may be renewed
(same node id, same key), never re-keyed; a revoked node id is never certified again; a key
belongs to one node id. Also the read helpers every other family uses to check who is who.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ledger.encoding import JsonObject, Record, canonical
from ledger.errors import InvalidTransaction, RejectReason
from ledger.families.registry import TransactionFamily, TxContext, decode_op
from ledger.identity import Certificate, Revocation, Role, valid_node_id
from ledger.state import CERTIFICATE_PREFIX, CERTIFIED_KEY_PREFIX, REVOKED_PREFIX, State
from ledger.transactions import AdmittedTransaction

__all__ = [
    "CertificatePayload",
    "IdentityFamily",
    "RevocationPayload",
    "active_certificate",
    "certificate_of",
    "check_certificate",
    "is_revoked",
    "node_of_address",
    "put_certificate",
]

_MAX_RECORD_BYTES = 4096


def _decode_certificate(value: bytes) -> Certificate:
    return Certificate.decode(value, max_bytes=_MAX_RECORD_BYTES)


def _decode_node_id(value: bytes) -> str:
    found: str = orjson.loads(value)["node_id"]
    return found


def certificate_of(state: State, node_id: str) -> Certificate | None:
    """The certificate on chain for ``node_id`` (revoked or not), or None."""
    return state.cached(CERTIFICATE_PREFIX + node_id.encode(), _decode_certificate)


def node_of_address(state: State, address: bytes) -> str | None:
    """The node id whose certified key has ``address``, or None."""
    return state.cached(CERTIFIED_KEY_PREFIX + address, _decode_node_id)


def is_revoked(state: State, node_id: str) -> bool:
    """True when the authority revoked ``node_id``."""
    return REVOKED_PREFIX + node_id.encode() in state


def active_certificate(
    state: State, node_id: str, *, timestamp_ms: int, role: Role | None, field: str
) -> Certificate:
    """The certificate of ``node_id`` if it is unrevoked, in force and (if given) of ``role``.

    Raises:
        InvalidTransaction: UNKNOWN_RECIPIENT, REVOKED or CERTIFICATE_EXPIRED naming ``field``.
    """
    certificate = certificate_of(state, node_id)
    if certificate is None:
        raise InvalidTransaction(
            RejectReason.UNKNOWN_RECIPIENT, f"{node_id!r} has no certificate", field=field
        )
    if role is not None and certificate.role != role:
        raise InvalidTransaction(
            RejectReason.UNKNOWN_RECIPIENT,
            f"{node_id!r} is a {certificate.role.name}, not a {role.name}",
            field=field,
        )
    if is_revoked(state, node_id):
        raise InvalidTransaction(RejectReason.REVOKED, f"{node_id!r} is revoked", field=field)
    if not certificate.active_at(timestamp_ms):
        raise InvalidTransaction(
            RejectReason.CERTIFICATE_EXPIRED,
            f"{node_id!r}'s certificate is not in force at {timestamp_ms} ms",
            field=field,
        )
    return certificate


def put_certificate(state: State, certificate: Certificate) -> None:
    """Write a certificate and its key index (no checks: genesis and the family check first)."""
    state.set(CERTIFICATE_PREFIX + certificate.node_id.encode(), certificate.encode())
    state.set(
        CERTIFIED_KEY_PREFIX + certificate.address, canonical({"node_id": certificate.node_id})
    )


def check_certificate(
    state: State, certificate: Certificate, *, chain_id: str, authority: bytes, field: str
) -> None:
    """Raise InvalidTransaction unless ``certificate`` may be added to ``state``."""

    def bad(reason: RejectReason, detail: str, sub: str = "") -> InvalidTransaction:
        return InvalidTransaction(reason, detail, field=f"{field}.{sub}" if sub else field)

    if certificate.chain_id != chain_id:
        raise bad(RejectReason.BAD_CERTIFICATE, f"for chain {certificate.chain_id!r}", "chain_id")
    if not valid_node_id(certificate.node_id):
        raise bad(RejectReason.BAD_CERTIFICATE, "not a valid node id", "node_id")
    if certificate.valid_from_ms >= certificate.valid_until_ms:
        raise bad(RejectReason.BAD_CERTIFICATE, "empty validity window", "valid_until_ms")
    try:
        address = certificate.address
    except ValueError:
        raise bad(RejectReason.BAD_CERTIFICATE, "not a secp256k1 key", "public_key") from None
    if not certificate.signed_by(authority):
        raise bad(RejectReason.BAD_CERTIFICATE, "not signed by the authority", "signature")
    if is_revoked(state, certificate.node_id):
        raise bad(RejectReason.REVOKED, f"{certificate.node_id!r} is revoked", "node_id")
    existing = certificate_of(state, certificate.node_id)
    if existing is not None and existing.public_key != certificate.public_key:
        raise bad(
            RejectReason.DUPLICATE_CERTIFICATE,
            f"{certificate.node_id!r} is certified with another key",
            "public_key",
        )
    holder = node_of_address(state, address)
    if holder is not None and holder != certificate.node_id:
        raise bad(
            RejectReason.DUPLICATE_CERTIFICATE, f"the key belongs to {holder!r}", "public_key"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificatePayload(Record):
    """Post (or renew) a certificate."""

    op: str
    certificate: Certificate


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationPayload(Record):
    """Post a revocation."""

    op: str
    revocation: Revocation


_OPERATIONS: dict[str, type[Record]] = {
    "certificate": CertificatePayload,
    "revocation": RevocationPayload,
}


class IdentityFamily(TransactionFamily[Record]):
    """Certificates and revocations, sent by the authority only."""

    name = "identity"
    version = 1

    def decode_payload(self, payload: JsonObject) -> Record:
        """A CertificatePayload or RevocationPayload, by ``op``."""
        return decode_op(_OPERATIONS, payload)

    def apply(self, state: State, tx: AdmittedTransaction, payload: Record, ctx: TxContext) -> None:
        """Check the authority's signatures and write the certificate or revocation."""
        block = ctx.block
        if tx.tx.sender != block.authority:
            raise InvalidTransaction(
                RejectReason.NOT_AUTHORIZED,
                "only the authority posts identity records",
                field="sender",
            )
        if isinstance(payload, CertificatePayload):
            check_certificate(
                state,
                payload.certificate,
                chain_id=block.chain_id,
                authority=block.authority,
                field="payload.certificate",
            )
            put_certificate(state, payload.certificate)
            return
        assert isinstance(payload, RevocationPayload)
        revocation = payload.revocation
        field = "payload.revocation"
        if revocation.chain_id != block.chain_id:
            raise InvalidTransaction(
                RejectReason.BAD_CERTIFICATE,
                f"for chain {revocation.chain_id!r}",
                field=f"{field}.chain_id",
            )
        if not revocation.signed_by(block.authority):
            raise InvalidTransaction(
                RejectReason.BAD_CERTIFICATE,
                "not signed by the authority",
                field=f"{field}.signature",
            )
        if certificate_of(state, revocation.node_id) is None:
            raise InvalidTransaction(
                RejectReason.UNKNOWN_CERTIFICATE,
                f"{revocation.node_id!r} has no certificate",
                field=f"{field}.node_id",
            )
        if is_revoked(state, revocation.node_id):
            raise InvalidTransaction(
                RejectReason.REVOKED,
                f"{revocation.node_id!r} is already revoked",
                field=f"{field}.node_id",
            )
        state.set(REVOKED_PREFIX + revocation.node_id.encode(), revocation.encode())

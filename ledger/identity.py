"""Roles, certificates and revocations issued by the authorization center (Li et al., Fig. 2).

A certificate is the authority's signature over (chain id, node id, role, public key, validity
window); a revocation is its signature over (chain id, node id, reason, time). Both are records
in canonical form, so they travel over the bus as they are and are posted on chain by the
``identity`` transaction family. Signatures are over ``sha256(canonical(fields but signature))``
(secp256k1, 65-byte recoverable form, :mod:`ledger.crypto`). The chain id in the signed fields
stops a certificate of one run from being replayed into another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, ClassVar

from ledger.crypto import PrivateKey, address_of
from ledger.encoding import Length
from ledger.signing import SignedRecord

__all__ = [
    "MAX_NODE_ID_LENGTH",
    "Certificate",
    "Revocation",
    "RevocationReason",
    "Role",
    "issue_certificate",
    "issue_revocation",
    "valid_node_id",
]

MAX_NODE_ID_LENGTH = 64


class Role(IntEnum):
    """What a certified node may do on the chain."""

    EDGE = 1
    """Terrestrial base station: miner, validator, holds users' payments."""
    BEAM = 2
    """Satellite beam controller: the spectrum provider, receives payments."""
    USER = 3
    """Terrestrial user: pays for spectrum, rates its edge node."""
    EXCHANGE = 4
    """Mints coin on deposits and burns it on withdrawals."""


class RevocationReason(IntEnum):
    """Why the authority revoked a certificate."""

    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    MISBEHAVIOUR = 2
    RETIRED = 3


def valid_node_id(node_id: str) -> bool:
    """Node ids are 1-64 printable ASCII characters without spaces or slashes."""
    return (
        0 < len(node_id) <= MAX_NODE_ID_LENGTH
        and node_id.isascii()
        and node_id.isprintable()
        and " " not in node_id
        and "/" not in node_id
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate(SignedRecord):
    """The authority's statement that ``public_key`` is node ``node_id`` with ``role``.

    Valid for block timestamps in ``[valid_from_ms, valid_until_ms)``.
    """

    chain_id: str
    node_id: str
    role: Role
    public_key: Annotated[bytes, Length(33)]
    valid_from_ms: int
    valid_until_ms: int
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "satedge/certificate/v1"

    def active_at(self, timestamp_ms: int) -> bool:
        """True when ``timestamp_ms`` is inside the validity window."""
        return self.valid_from_ms <= timestamp_ms < self.valid_until_ms

    @property
    def address(self) -> bytes:
        """The certified key's 20-byte address."""
        return address_of(self.public_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocation(SignedRecord):
    """The authority's statement that ``node_id``'s certificate is void from now on."""

    chain_id: str
    node_id: str
    reason: RevocationReason
    timestamp_ms: int
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "satedge/revocation/v1"


_NO_SIGNATURE = bytes(65)


def issue_certificate(
    authority: PrivateKey,
    *,
    chain_id: str,
    node_id: str,
    role: Role,
    public_key: bytes,
    valid_from_ms: int,
    valid_until_ms: int,
) -> Certificate:
    """The authority signs a certificate (local use: raises ValueError on a bad node id)."""
    if not valid_node_id(node_id):
        raise ValueError(f"node id {node_id!r} is not 1-64 printable ASCII without ' ' or '/'")
    unsigned = Certificate(
        chain_id=chain_id,
        node_id=node_id,
        role=role,
        public_key=public_key,
        valid_from_ms=valid_from_ms,
        valid_until_ms=valid_until_ms,
        signature=_NO_SIGNATURE,
    )
    return unsigned.signed_with(authority)


def issue_revocation(
    authority: PrivateKey,
    *,
    chain_id: str,
    node_id: str,
    reason: RevocationReason,
    timestamp_ms: int,
) -> Revocation:
    """The authority signs a revocation."""
    unsigned = Revocation(
        chain_id=chain_id,
        node_id=node_id,
        reason=reason,
        timestamp_ms=timestamp_ms,
        signature=_NO_SIGNATURE,
    )
    return unsigned.signed_with(authority)

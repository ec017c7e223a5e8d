"""Records that carry their signer's signature over their other fields.

The signed digest is SHA-256 of the canonical ``{"body": <fields but the signature>, "domain":
<the record type's domain>}``: the domain string keeps a signature made for one kind of record
from ever being valid for another, whatever their fields happen to be.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from ledger.crypto import PrivateKey, verify
from ledger.encoding import JsonObject, Record, canonical, sha256

__all__ = ["SignedRecord"]


class SignedRecord(Record):
    """Base of records with a ``signature`` field (65 bytes) over :meth:`signing_digest`.

    Subclasses are frozen dataclasses that declare ``signature`` and set ``SIGNING_DOMAIN``.
    """

    SIGNING_DOMAIN: ClassVar[str]
    signature: bytes

    def unsigned_fields(self) -> JsonObject:
        """The canonical fields other than the signature."""
        fields = self.to_fields()
        del fields["signature"]
        return fields

    def signing_digest(self) -> bytes:
        """What the signer signs: the domain-separated digest of the unsigned fields."""
        return sha256(canonical({"body": self.unsigned_fields(), "domain": self.SIGNING_DOMAIN}))

    def signed_by(self, public_key: bytes) -> bool:
        """True when ``signature`` is ``public_key``'s over :meth:`signing_digest`."""
        return verify(public_key, self.signing_digest(), self.signature)

    def signed_with(self, key: PrivateKey) -> Self:
        """A copy signed with ``key`` (whatever signature the record had is replaced)."""
        return dataclasses.replace(self, signature=key.sign(self.signing_digest()))  # type: ignore[type-var]

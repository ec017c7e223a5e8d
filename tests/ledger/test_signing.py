"""Signed records: domain-separated digests, signing and checking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from ledger.crypto import PrivateKey
from ledger.encoding import Length, canonical, sha256
from ledger.signing import SignedRecord

KEY = PrivateKey.from_seed(b"signer")


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(SignedRecord):
    text: str
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "test/note/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Memo(SignedRecord):
    text: str
    signature: Annotated[bytes, Length(65)]

    SIGNING_DOMAIN: ClassVar[str] = "test/memo/v1"


def test_the_digest_covers_the_fields_and_the_domain_but_not_the_signature() -> None:
    note = Note(text="hello", signature=bytes(65))
    expected = sha256(canonical({"body": {"text": "hello"}, "domain": "test/note/v1"}))
    assert note.signing_digest() == expected
    assert note.signed_with(KEY).signing_digest() == expected


def test_signed_with_then_signed_by() -> None:
    note = Note(text="hello", signature=bytes(65)).signed_with(KEY)
    assert note.signed_by(KEY.public_key)
    assert not note.signed_by(PrivateKey.from_seed(b"other").public_key)
    assert not Note(text="hullo", signature=note.signature).signed_by(KEY.public_key)


def test_a_signature_for_one_record_type_is_not_valid_for_another_with_the_same_fields() -> None:
    note = Note(text="pay 5", signature=bytes(65)).signed_with(KEY)
    assert not Memo(text="pay 5", signature=note.signature).signed_by(KEY.public_key)

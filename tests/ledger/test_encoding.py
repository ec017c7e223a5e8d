"""Canonical encoding: one byte form, and strict typed decoding that names the field."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.encoding import (
    DecodeError,
    EncodingError,
    InvalidValue,
    JsonObject,
    Length,
    MalformedJson,
    MissingField,
    NotCanonical,
    Oversized,
    Record,
    UnknownField,
    WrongType,
    canonical,
    decode_canonical,
)


class Kind(IntEnum):
    TRANSFER = 1
    PAYMENT = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Inner(Record):
    amount: int
    memo: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outer(Record):
    kind: Kind
    sender: Annotated[bytes, Length(20)]
    items: tuple[Inner, ...]
    payload: JsonObject
    final: bool


SAMPLE = Outer(
    kind=Kind.PAYMENT,
    sender=bytes(range(20)),
    items=(Inner(amount=5, memo=None), Inner(amount=-7, memo="é")),
    payload={"b": [1, 2], "a": {"z": None}},
    final=True,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def test_canonical_form_is_sorted_compact_utf8() -> None:
    assert canonical({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()


def test_record_round_trip() -> None:
    data = SAMPLE.encode()
    assert Outer.decode(data, max_bytes=1000) == SAMPLE
    assert orjson.loads(data)["sender"] == bytes(range(20)).hex()


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_decode_inverts_canonical(value: dict[str, Any]) -> None:
    assert decode_canonical(canonical(value), max_bytes=10**6) == value


@pytest.mark.parametrize("bad", [{"x": 1.5}, {1: 2}, {"x": {1, 2}}, {"x": 2**64}])
def test_canonical_refuses_what_has_no_canonical_form(bad: Any) -> None:
    with pytest.raises(EncodingError):
        canonical(bad)


@pytest.mark.parametrize(
    ("data", "error", "field"),
    [
        (b'{"a":1}' + b" " * 100, Oversized, ""),
        (b'{"a":', MalformedJson, ""),
        (b"\xff\xfe", MalformedJson, ""),
        (b"[1,2]", WrongType, ""),
        (b'{"b":1,"a":2}', NotCanonical, ""),
        (b'{"a": 1}', NotCanonical, ""),
        (b'{"a":1,"a":2}', NotCanonical, ""),
        (b'{"a":"\\u00e9"}', NotCanonical, ""),
        (b'{"a":{"b":1.0}}', WrongType, "a.b"),
        (b'{"a":[1,2.5]}', WrongType, "a[1]"),
    ],
)
def test_decode_rejects_non_canonical_input(
    data: bytes, error: type[DecodeError], field: str
) -> None:
    with pytest.raises(error) as caught:
        decode_canonical(data, max_bytes=50)
    assert caught.value.field == field


def _fields(**changes: Any) -> bytes:
    fields = SAMPLE.to_fields() | changes
    return canonical(fields)


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"extra": 1}, UnknownField, "extra"),
        ({"kind": 3}, InvalidValue, "kind"),
        ({"kind": "1"}, WrongType, "kind"),
        ({"final": 1}, WrongType, "final"),
        ({"sender": "00ff"}, InvalidValue, "sender"),
        ({"sender": "0G" * 20}, InvalidValue, "sender"),
        ({"sender": "AB" * 20}, InvalidValue, "sender"),
        ({"items": [{"amount": True, "memo": None}]}, WrongType, "items[0].amount"),
        ({"items": [{"amount": 1}]}, MissingField, "items[0].memo"),
        ({"items": {"amount": 1}}, WrongType, "items"),
        ({"payload": [1]}, WrongType, "payload"),
    ],
)
def test_records_reject_wrong_fields_by_name(
    changes: dict[str, Any], error: type[DecodeError], field: str
) -> None:
    with pytest.raises(error) as caught:
        Outer.decode(_fields(**changes), max_bytes=1000)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_hex_with_whitespace_is_not_canonical() -> None:
    # bytes.fromhex skips spaces: "ab  cd" would decode to two bytes and re-encode differently.
    with pytest.raises(InvalidValue, match="whitespace") as caught:
        Outer.decode(_fields(sender="ab" * 19 + "  "), max_bytes=1000)
    assert caught.value.field == "sender"


def test_a_missing_top_level_field_is_named() -> None:
    fields = SAMPLE.to_fields()
    del fields["final"]
    with pytest.raises(MissingField, match="final"):
        Outer.from_fields(fields)


@given(st.binary(max_size=200))
def test_decoding_garbage_only_ever_raises_decode_errors(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        Outer.decode(data, max_bytes=150)

"""Chain records of reputation: the weight table of SCIENCE.md §4 and strict validation by field."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.encoding import InvalidValue
from ledger.evidence_kinds import (
    DEFAULT_EVIDENCE_WEIGHTS_MILLI,
    Evidence,
    EvidenceKind,
    InvalidEvidence,
    InvalidRating,
    InvalidRecord,
    Rating,
)

GOOD_RATING: dict[str, Any] = {
    "rater": "user-1",
    "ratee": "edge-1",
    "positive": 2,
    "negative": 1,
    "success_ppm": 950_000,
    "height": 4,
}
GOOD_EVIDENCE: dict[str, Any] = {
    "offender": "edge-2",
    "kind": EvidenceKind.EQUIVOCATION,
    "height": 3,
    "reporter": "edge-1",
    "subject": "ab" * 32,
}


def test_weights_are_the_table_of_science_section_4() -> None:
    # SCIENCE.md §4 table and the issue: equivocation 10, invalid block 5, false verdict 2, trade
    # fraud 5, timeout 0.5, manipulated price 5, forged watermark 10, missing watermark 0.5.
    expected = {
        "EQUIVOCATION": 10.0,
        "INVALID_BLOCK": 5.0,
        "FALSE_VERDICT": 2.0,
        "TRADE_FRAUD": 5.0,
        "TIMEOUT": 0.5,
        "MANIPULATED_PRICE": 5.0,
        "FORGED_WATERMARK": 10.0,
        "MISSING_WATERMARK": 0.5,
    }
    assert {k.name: w / 1000 for k, w in DEFAULT_EVIDENCE_WEIGHTS_MILLI.items()} == expected
    assert all(type(w) is int for w in DEFAULT_EVIDENCE_WEIGHTS_MILLI.values())
    with pytest.raises(TypeError):
        DEFAULT_EVIDENCE_WEIGHTS_MILLI[EvidenceKind.TIMEOUT] = 0  # type: ignore[index]


def test_evidence_codes_are_stable() -> None:
    # Codes travel in signed transactions: renumbering would change what old blocks mean.
    assert [(k.name, k.value) for k in EvidenceKind] == [
        ("EQUIVOCATION", 1),
        ("FORGED_WATERMARK", 2),
        ("MISSING_WATERMARK", 3),
        ("FALSE_VERDICT", 4),
        ("INVALID_BLOCK", 5),
        ("MANIPULATED_PRICE", 6),
        ("TRADE_FRAUD", 7),
        ("TIMEOUT", 8),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rater", ""),
        ("rater", 7),
        ("ratee", "user-1"),  # rating oneself
        ("ratee", None),
        ("positive", -1),
        ("positive", True),
        ("positive", 1.0),
        ("negative", -3),
        ("success_ppm", -1),
        ("success_ppm", 1_000_001),
        ("success_ppm", 0.95),
        ("height", -1),
    ],
)
def test_bad_rating_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidRating) as caught:
        Rating(**{**GOOD_RATING, field: value})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"Rating.{field}: ")
    assert isinstance(caught.value, InvalidRecord) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("offender", ""),
        ("kind", 99),
        ("kind", 0),
        ("kind", "EQUIVOCATION"),
        ("kind", True),
        ("height", -2),
        ("reporter", ""),
        ("subject", None),
    ],
)
def test_bad_evidence_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidEvidence) as caught:
        Evidence(**{**GOOD_EVIDENCE, field: value})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"Evidence.{field}: ")


def test_edge_values_are_accepted() -> None:
    Rating(**{**GOOD_RATING, "success_ppm": 0, "positive": 0, "negative": 0, "height": 0})
    Rating(**{**GOOD_RATING, "success_ppm": 1_000_000})
    Rating(**{**GOOD_RATING, "success_ppm": None})
    proof = Evidence(**{**GOOD_EVIDENCE, "kind": 8, "reporter": None})
    assert proof.kind is EvidenceKind.TIMEOUT
    assert proof.offence == ("edge-2", 8, 3, "ab" * 32)


def test_records_round_trip_in_canonical_form() -> None:
    rating = Rating(**GOOD_RATING)
    proof = Evidence(**GOOD_EVIDENCE)
    assert Rating.decode(rating.encode(), max_bytes=1_000) == rating
    assert Evidence.decode(proof.encode(), max_bytes=1_000) == proof
    assert b'"kind":1' in proof.encode()


def test_decoding_garbage_names_the_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        Evidence.from_fields({**GOOD_EVIDENCE, "kind": 42})
    assert caught.value.field == "kind"
    with pytest.raises(InvalidRating) as rating_error:
        Rating.from_fields({**GOOD_RATING, "negative": -5})
    assert rating_error.value.field == "negative"

"""The ratings family: ratings of edge nodes and once-only evidence, emitted for reputation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain import apply_transaction, block_context
from ledger.errors import InvalidTransaction, RejectReason
from ledger.evidence_kinds import Evidence, EvidenceKind, Rating
from ledger.families import FamilyRegistry, builtin_registry
from ledger.families.ratings import EvidencePayload, evidence_key
from ledger.families.registry import BlockContext
from ledger.genesis import dev_network, genesis_state
from ledger.state import State

NET = dev_network()
REGISTRY = builtin_registry()


def fresh() -> tuple[State, BlockContext]:
    state = genesis_state(NET.genesis)
    ctx = block_context(
        state, height=7, timestamp_ms=1_000, leader="edge-00", params=NET.genesis.params
    )
    return state, ctx


def submit(
    state: State,
    ctx: BlockContext,
    node: str,
    payload: dict[str, Any],
    registry: FamilyRegistry = REGISTRY,
) -> None:
    address = NET.authority.address if node == "authority" else NET.address(node)
    item = NET.transaction(
        node, nonce=state.account(address).nonce, family="ratings", payload=payload
    )
    apply_transaction(state, item, ctx, registry=registry)


def rejected(
    state: State,
    ctx: BlockContext,
    node: str,
    payload: dict[str, Any],
    registry: FamilyRegistry = REGISTRY,
) -> InvalidTransaction:
    before = dict(state.items())
    counts = (len(ctx.ratings), len(ctx.evidence))
    with pytest.raises(InvalidTransaction) as info:
        submit(state, ctx, node, payload, registry)
    assert dict(state.items()) == before
    assert (len(ctx.ratings), len(ctx.evidence)) == counts
    return info.value


def rating(ratee: str = "edge-00", **changes: Any) -> dict[str, Any]:
    return {
        "op": "rating",
        "ratee": ratee,
        "positive": 4,
        "negative": 1,
        "success_ppm": 950_000,
        "height": 6,
        **changes,
    }


def evidence(**changes: Any) -> dict[str, Any]:
    return {
        "op": "evidence",
        "kind": int(EvidenceKind.EQUIVOCATION),
        "offender": "edge-02",
        "height": 5,
        "subject": "round-0",
        "proof": {"votes": ["aa", "bb"]},
        **changes,
    }


def test_rating_is_emitted_for_the_reputation_table() -> None:
    state, ctx = fresh()
    submit(state, ctx, "user-00", rating())
    submit(state, ctx, "edge-01", rating(success_ppm=None, positive=0, negative=0))
    assert ctx.ratings == [
        Rating(
            rater="user-00", ratee="edge-00", positive=4, negative=1, success_ppm=950_000, height=6
        ),
        Rating(
            rater="edge-01", ratee="edge-00", positive=0, negative=0, success_ppm=None, height=6
        ),
    ]


@pytest.mark.parametrize(
    ("node", "payload", "reason", "field"),
    [
        ("edge-00", rating(), RejectReason.SELF_RATING, "payload.ratee"),
        ("user-00", rating("beam-00"), RejectReason.UNKNOWN_RECIPIENT, "payload.ratee"),
        ("user-00", rating("edge-77"), RejectReason.UNKNOWN_RECIPIENT, "payload.ratee"),
        ("beam-00", rating(), RejectReason.INSUFFICIENT_FUNDS, "fee"),
        ("exchange-00", rating(), RejectReason.NOT_AUTHORIZED, "sender"),
        ("user-00", rating(success_ppm=1_000_001), RejectReason.BAD_PAYLOAD, "payload.success_ppm"),
        ("user-00", rating(success_ppm=-1), RejectReason.BAD_PAYLOAD, "payload.success_ppm"),
        ("user-00", rating(positive=-1), RejectReason.BAD_PAYLOAD, "payload.positive"),
        ("user-00", rating(negative=10**7), RejectReason.BAD_PAYLOAD, "payload.negative"),
        ("user-00", rating(height=8), RejectReason.BAD_PAYLOAD, "payload.height"),
        ("user-00", rating(positive="4"), RejectReason.BAD_PAYLOAD, "payload.positive"),
        ("user-00", rating(extra=1), RejectReason.BAD_PAYLOAD, "payload.extra"),
        ("user-00", {"op": "rate"}, RejectReason.BAD_PAYLOAD, "payload.op"),
    ],
)
def test_rating_rules(node: str, payload: dict[str, Any], reason: RejectReason, field: str) -> None:
    state, ctx = fresh()
    error = rejected(state, ctx, node, payload)
    assert (error.reason, error.field) == (reason, field)


def test_evidence_is_recorded_once() -> None:
    state, ctx = fresh()
    submit(state, ctx, "edge-01", evidence())
    assert ctx.evidence == [
        Evidence(
            offender="edge-02",
            kind=EvidenceKind.EQUIVOCATION,
            height=5,
            reporter="edge-01",
            subject="round-0",
        )
    ]
    key = evidence_key(
        offender="edge-02", kind=EvidenceKind.EQUIVOCATION, height=5, subject="round-0"
    )
    assert key in state
    # the same offence, by another reporter or with another proof, is not recorded again
    for node, proof in (("edge-03", {"votes": ["aa", "bb"]}), ("user-00", {"votes": ["bb", "aa"]})):
        assert rejected(state, ctx, node, evidence(proof=proof)).reason == (
            RejectReason.DUPLICATE_EVIDENCE
        )
    submit(state, ctx, "edge-01", evidence(subject="round-1"))
    assert len(ctx.evidence) == 2


@pytest.mark.parametrize(
    ("payload", "reason", "field"),
    [
        (evidence(offender="edge-55"), RejectReason.UNKNOWN_RECIPIENT, "payload.offender"),
        (evidence(proof={}), RejectReason.BAD_EVIDENCE, "payload.proof"),
        (evidence(height=8), RejectReason.BAD_EVIDENCE, "payload.height"),
        (evidence(subject="s" * 300), RejectReason.BAD_EVIDENCE, "payload.subject"),
        (evidence(kind=99), RejectReason.BAD_PAYLOAD, "payload.kind"),
        (evidence(proof=[1]), RejectReason.BAD_PAYLOAD, "payload.proof"),
    ],
)
def test_evidence_rules(payload: dict[str, Any], reason: RejectReason, field: str) -> None:
    state, ctx = fresh()
    error = rejected(state, ctx, "edge-01", payload)
    assert (error.reason, error.field) == (reason, field)


def test_authority_does_not_report_evidence() -> None:
    state, ctx = fresh()
    assert rejected(state, ctx, "authority", evidence()).reason == RejectReason.NOT_AUTHORIZED


def test_evidence_verifier_is_consulted_with_the_whole_payload() -> None:
    seen: list[tuple[EvidencePayload, int]] = []

    def verifier(payload: EvidencePayload, block: BlockContext, state: State) -> str | None:
        seen.append((payload, block.height))
        return None if payload.proof.get("valid") else "the two votes do not conflict"

    registry = builtin_registry(evidence_verifier=verifier)
    state, ctx = fresh()
    error = rejected(state, ctx, "edge-01", evidence(proof={"valid": False}), registry)
    assert (error.reason, error.field, error.detail) == (
        RejectReason.BAD_EVIDENCE,
        "payload.proof",
        "the two votes do not conflict",
    )
    submit(state, ctx, "edge-01", evidence(proof={"valid": True}), registry)
    assert [(p.kind, p.offender, p.height, p.subject, p.proof, h) for p, h in seen] == [
        (EvidenceKind.EQUIVOCATION, "edge-02", 5, "round-0", {"valid": valid}, 7)
        for valid in (False, True)
    ]
    # a recorded offence is refused as a duplicate before its proof is judged again
    again = rejected(state, ctx, "edge-01", evidence(proof={"valid": True}), registry)
    assert again.reason == RejectReason.DUPLICATE_EVIDENCE and len(seen) == 2


def _binding_verifier(payload: EvidencePayload, block: BlockContext, state: State) -> str | None:
    """Accepts a proof that names exactly the payload's offence (as a real verifier must)."""
    claimed = {
        "offender": payload.offender,
        "kind": int(payload.kind),
        "height": payload.height,
        "subject": payload.subject,
    }
    proved = {name: payload.proof.get(name) for name in claimed}
    return None if proved == claimed else f"the proof is of {proved}, not {claimed}"


@pytest.mark.parametrize(
    "claim",
    [
        {"offender": "edge-03"},
        {"kind": int(EvidenceKind.FORGED_WATERMARK)},
        {"height": 4},
        {"subject": "round-1"},
    ],
)
def test_a_proof_of_another_offence_is_rejected(claim: dict[str, Any]) -> None:
    offence_a = {"offender": "edge-02", "kind": int(EvidenceKind.EQUIVOCATION)}
    offence_a |= {"height": 5, "subject": "round-0"}
    registry = builtin_registry(evidence_verifier=_binding_verifier)
    state, ctx = fresh()
    error = rejected(state, ctx, "edge-01", evidence(**claim, proof=offence_a), registry)
    assert (error.reason, error.field) == (RejectReason.BAD_EVIDENCE, "payload.proof")
    submit(state, ctx, "edge-01", evidence(proof=offence_a), registry)  # offence A itself holds
    assert [(e.offender, e.height, e.subject) for e in ctx.evidence] == [("edge-02", 5, "round-0")]


@settings(max_examples=100, deadline=None)
@given(
    payload=st.dictionaries(
        st.sampled_from(
            [
                "op",
                "ratee",
                "positive",
                "negative",
                "success_ppm",
                "height",
                "kind",
                "offender",
                "subject",
                "proof",
            ]
        ),
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.sampled_from(["rating", "evidence", "edge-00", "edge-01", "user-00"])
        | st.dictionaries(st.text(max_size=3), st.integers(-1000, 1000), max_size=2),
        max_size=10,
    )
)
def test_adversarial_rating_payloads(payload: dict[str, Any]) -> None:
    state, ctx = fresh()
    before = dict(state.items())
    try:
        submit(state, ctx, "user-01", payload)
    except InvalidTransaction as error:
        assert isinstance(error.reason, RejectReason)
        assert dict(state.items()) == before
        assert ctx.ratings == [] and ctx.evidence == []
    else:
        assert len(ctx.ratings) + len(ctx.evidence) == 1

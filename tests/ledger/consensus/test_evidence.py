"""Each misbehaviour hook yields its evidence kind, on chain once, never against the honest."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.consensus.evidence import Evidence, EvidenceKind, verify_evidence
from ledger.consensus.hooks import (
    Amnesia,
    Behaviour,
    Delay,
    Equivocate,
    FalseVerdict,
    ForgeWatermark,
    InvalidBlock,
    Silent,
    WithholdVotes,
)
from ledger.consensus.pool import PoolResult, ValidatorPool, check_invariants
from ledger.consensus.toyapp import ToyApp, make_tx, tamper_price, tamper_signature
from ledger.crypto import PrivateKey

TXS = [make_tx(PrivateKey.from_seed(b"evidence-client"), i, 2) for i in range(8)]


def run(behaviours: list[Behaviour], *, seed: int = 7, twins: tuple[int, ...] = ()) -> PoolResult:
    byzantine = {} if twins else {1: behaviours}
    pool = ValidatorPool(4, seed, byzantine=byzantine, twins=twins, txs=TXS, max_txs=2)
    result = pool.run(4)
    check_invariants(result)
    return result


def kinds_against(result: PoolResult, node: str) -> set[EvidenceKind]:
    return {e.kind for e in result.detected.values() if e.offender == node}


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        (Equivocate, EvidenceKind.EQUIVOCATION),
        (FalseVerdict, EvidenceKind.FALSE_VERDICT),
        (ForgeWatermark, EvidenceKind.FORGED_WATERMARK),
        (lambda: ForgeWatermark(missing=True), EvidenceKind.MISSING_WATERMARK),
        (lambda: InvalidBlock(tamper_signature), EvidenceKind.INVALID_BLOCK),
        (lambda: InvalidBlock(tamper_price), EvidenceKind.MANIPULATED_PRICE),
    ],
    ids=lambda v: v.name if isinstance(v, EvidenceKind) else "",
)
def test_each_provable_offence_is_detected_and_recorded(
    behaviour: type, kind: EvidenceKind
) -> None:
    detected: set[EvidenceKind] = set()
    for seed in range(12):  # the Byzantine node must win a PoW election to propose
        result = run([behaviour()], seed=seed)
        detected |= kinds_against(result, "v1")
        assert all(e.offender == "v1" for e in result.detected.values())
        if kind in detected:
            break
    assert kind in detected


def test_twins_are_caught_equivocating() -> None:
    found = set()
    for seed in range(12):
        found |= kinds_against(run([], seed=seed, twins=(1,)), "v1")
        if EvidenceKind.EQUIVOCATION in found:
            break
    assert EvidenceKind.EQUIVOCATION in found


@pytest.mark.parametrize(
    "behaviour",
    [Amnesia, Silent, WithholdVotes, lambda: Delay(80)],
    ids=["amnesia", "silent", "withhold", "delay"],
)
def test_unprovable_misbehaviour_makes_no_evidence_and_does_not_stop_the_chain(
    behaviour: type,
) -> None:
    result = run([behaviour()])
    assert not result.detected


def some_evidence(kind: EvidenceKind) -> tuple[Evidence, PoolResult]:
    behaviours = {
        EvidenceKind.EQUIVOCATION: Equivocate,
        EvidenceKind.FALSE_VERDICT: FalseVerdict,
        EvidenceKind.FORGED_WATERMARK: ForgeWatermark,
    }
    result = run([behaviours[kind]()])
    return next(e for e in result.detected.values() if e.kind == kind), result


@pytest.mark.parametrize(
    "kind",
    [EvidenceKind.EQUIVOCATION, EvidenceKind.FALSE_VERDICT, EvidenceKind.FORGED_WATERMARK],
    ids=lambda k: k.name,
)
def test_tampered_evidence_does_not_verify(kind: EvidenceKind) -> None:
    evidence, result = some_evidence(kind)
    app = ToyApp(result.validators, result.genesis_hash)
    longest = max(result.members, key=lambda m: len(m.hashes))
    for height in range(1, len(longest.hashes)):
        certificate = longest.certificates[height]
        assert certificate is not None
        app.commit(height, longest.blocks[height], longest.hashes[height], certificate)

    def ok(e: Evidence) -> bool:
        return verify_evidence(
            e,
            result.validators,
            block_hash=app.block_hash,
            check=app.check,
            offence_of=app.offence_of,
        )

    assert ok(evidence)
    assert not ok(dataclasses.replace(evidence, offender="v2"))
    assert not ok(dataclasses.replace(evidence, height=evidence.height + 1))
    assert not ok(dataclasses.replace(evidence, kind=EvidenceKind.INVALID_BLOCK))
    if kind == EvidenceKind.EQUIVOCATION:
        assert not ok(dataclasses.replace(evidence, second=evidence.first))
        assert not ok(dataclasses.replace(evidence, first=evidence.second, second=evidence.first))

"""Safety and liveness invariants of a finished pool run (:mod:`ledger.consensus.pool`).

:func:`check_invariants` asserts no double signing, agreement, sound certificates and liveness
after healing, then the application's own validity and evidence checks (:data:`Replay`; the
toy chain's by default).
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.consensus.evidence import EvidenceKey, verify_evidence
from ledger.consensus.messages import verify_certificate
from ledger.consensus.simsetup import MemberResult, PoolResult
from ledger.consensus.toyapp import ToyApp, ToyBlock

__all__ = ["Replay", "check_invariants"]

Replay = Callable[[PoolResult, str, MemberResult], None]
"""Application-specific invariants: (result, "seed ... (description)", longest honest chain)."""


def check_invariants(result: PoolResult, *, replay: Replay | None = None) -> None:
    """Assert every safety and liveness property of a run (:mod:`ledger.consensus.pool`).

    Args:
        result: A finished run.
        replay: Validity and evidence checks of the application (default: the toy chain's).

    Raises:
        AssertionError: Naming the seed, the scenario, the property and the height.
    """
    where = f"seed {result.seed} ({result.description})"
    honest = [m for m in result.members if m.honest]
    assert not result.double_signs, f"{where}: double signing: {result.double_signs[0]}"
    longest = max(honest, key=lambda m: len(m.hashes))
    for member in honest:
        for height, block_hash in enumerate(member.hashes):
            assert block_hash == longest.hashes[height], (
                f"{where}: agreement violated at height {height}: "
                f"{member.node} has {block_hash.hex()[:12]}, {longest.node} has "
                f"{longest.hashes[height].hex()[:12]}"
            )
        for height in range(1, len(member.hashes)):
            certificate = member.certificates[height]
            assert certificate is not None, (
                f"{where}: {member.node} height {height} has no certificate"
            )
            assert (
                certificate.height == height and certificate.block_hash == member.hashes[height]
            ), f"{where}: {member.node}'s certificate of height {height} is for another block"
            validators = result.validator_sets.get(height, result.validators)
            assert verify_certificate(certificate, validators), (
                f"{where}: {member.node}'s certificate of height {height} is unsound"
            )
    assert result.reached, (
        f"{where}: liveness: after healing at {result.heal_ms} ms honest heights are "
        f"{[len(m.hashes) - 1 for m in honest]} at {result.now_ms} ms "
        f"(wanted {result.until_height}, and evidence {sorted(k[:2] for k in result.detected)})"
    )
    (replay or _toy_replay)(result, where, longest)


def _toy_replay(result: PoolResult, where: str, longest: MemberResult) -> None:
    """Validity (the chain replays in a fresh ToyApp) and evidence on chain exactly once."""
    replay = ToyApp(result.validators, result.genesis_hash)
    recorded: dict[EvidenceKey, int] = {}
    for height in range(1, len(longest.hashes)):
        block = longest.blocks[height]
        reason = replay.check(height, block)
        assert reason == 0, f"{where}: validity: committed block {height} fails check ({reason})"
        certificate = longest.certificates[height]
        assert certificate is not None
        replay.commit(height, block, longest.hashes[height], certificate)
        for evidence in ToyBlock.decode(block, max_bytes=1 << 23).evidence:
            recorded[evidence.key] = recorded.get(evidence.key, 0) + 1
            assert evidence.offender not in result.honest_nodes, (
                f"{where}: height {height} records {evidence.kind.name} against honest "
                f"{evidence.offender}"
            )
    for key, evidence in result.detected.items():
        assert recorded.get(key) == 1, (
            f"{where}: offence {key[0].name} by {key[1]} at height {key[2]} recorded "
            f"{recorded.get(key, 0)} times"
        )
        assert verify_evidence(
            evidence,
            result.validators,
            block_hash=replay.block_hash,
            check=replay.check,
            offence_of=replay.offence_of,
        ), f"{where}: detected evidence {key[0].name} by {key[1]} does not verify"

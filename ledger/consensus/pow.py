"""Leader election by proof of work (ARCHITECTURE.md "Consensus, in words").

The PoW hash of a claim is ``sha256(canonical({"height", "node", "nonce", "prev_hash",
"round"}))`` read as a big-endian 256-bit integer; it is *valid* when it is below the target
``2**256 // D``, D being the chain's difficulty coefficient (``ChainParams.pow_difficulty``: D
hashes are expected per valid nonce). Each validator searches nonces within an attempt budget (its
compute power: the emulator throttles by giving a slower node fewer attempts) and keeps the
lowest hash it found. Among all valid claims received, the lowest hash wins and ties go to the
smaller node id, so every honest node holding the same claims picks the same leader.

As in py-evm ``consensus/pow.py``, the seal check (:func:`check`) is separate from block validity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.encoding import canonical, sha256

__all__ = ["PowSolution", "check", "leader_of", "pow_hash", "solve", "target"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowSolution:
    """The best nonce a validator found for (height, round), and its PoW hash."""

    nonce: int
    hash: bytes


def target(difficulty: int) -> int:
    """The exclusive upper bound ``2**256 // D`` a PoW hash must stay under (D ≥ 1)."""
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or difficulty < 1:
        raise ValueError(f"difficulty coefficient D must be an integer ≥ 1, got {difficulty!r}")
    return (1 << 256) // difficulty


def pow_hash(height: int, round_: int, prev_hash: bytes, node: str, nonce: int) -> bytes:
    """The PoW hash of a claim (module docstring)."""
    fields = {
        "height": height,
        "node": node,
        "nonce": nonce,
        "prev_hash": prev_hash.hex(),
        "round": round_,
    }
    return sha256(canonical(fields))


def check(
    height: int, round_: int, prev_hash: bytes, node: str, nonce: int, difficulty: int
) -> bytes | None:
    """The claim's PoW hash when it meets the difficulty coefficient D, else None."""
    digest = pow_hash(height, round_, prev_hash, node, nonce)
    return digest if int.from_bytes(digest, "big") < target(difficulty) else None


def solve(
    height: int,
    round_: int,
    prev_hash: bytes,
    node: str,
    difficulty: int,
    max_attempts: int,
    first_nonce: int = 0,
) -> PowSolution | None:
    """The lowest valid PoW among nonces ``first_nonce .. first_nonce + max_attempts − 1``."""
    bound = target(difficulty)
    best: PowSolution | None = None
    prefix = canonical({"height": height, "node": node})[:-1]
    suffix = canonical({"prev_hash": prev_hash.hex(), "round": round_})[1:]
    for nonce in range(first_nonce, first_nonce + max_attempts):
        digest = sha256(prefix + b',"nonce":' + str(nonce).encode() + b"," + suffix)
        if int.from_bytes(digest, "big") < bound and (best is None or digest < best.hash):
            best = PowSolution(nonce=nonce, hash=digest)
    return best


def leader_of(claims: Iterable[tuple[bytes, str]]) -> str | None:
    """The winner among ``(pow_hash, node)`` pairs: lowest hash, ties by smaller id."""
    best = min(claims, default=None)
    return None if best is None else best[1]

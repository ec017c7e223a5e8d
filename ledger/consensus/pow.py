"""Leader election by proof of work (ARCHITECTURE.md "Consensus, in words").

The PoW hash of a claim is ``sha256(canonical({"height", "node", "nonce", "prev_hash",
"round"}))`` read as a big-endian 256-bit integer; it is *valid* when it is below the target
``2**(256 − difficulty_bits)``. Each validator searches nonces within an attempt budget (its
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


def target(difficulty_bits: int) -> int:
    """The exclusive upper bound a PoW hash must stay under (0 ≤ difficulty_bits ≤ 256)."""
    if not 0 <= difficulty_bits <= 256:
        raise ValueError(f"difficulty_bits must be in 0..256, got {difficulty_bits}")
    return 1 << (256 - difficulty_bits)


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
    height: int, round_: int, prev_hash: bytes, node: str, nonce: int, difficulty_bits: int
) -> bytes | None:
    """The claim's PoW hash when it meets the difficulty, else None."""
    digest = pow_hash(height, round_, prev_hash, node, nonce)
    return digest if int.from_bytes(digest, "big") < target(difficulty_bits) else None


def solve(
    height: int,
    round_: int,
    prev_hash: bytes,
    node: str,
    difficulty_bits: int,
    max_attempts: int,
    first_nonce: int = 0,
) -> PowSolution | None:
    """The lowest valid PoW among nonces ``first_nonce .. first_nonce + max_attempts − 1``."""
    bound = target(difficulty_bits)
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

"""Simulated network faults for the validator pool: a seeded generator, partitions, fault plans.

:class:`SplitMix` is the pool's only source of randomness (floor 1 may not import ``random``);
:class:`Faults` describes what the scheduler of :mod:`ledger.consensus.pool` does to messages
(drops, delays, duplicates, partitions, restarts) until ``heal_ms``; :data:`BYZANTINE_KINDS`
names the Byzantine set-ups of the CI/soak scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
from ledger.consensus.toyapp import tamper_price, tamper_signature

__all__ = ["BYZANTINE_KINDS", "Faults", "Partition", "SplitMix"]

_MASK = (1 << 64) - 1


class SplitMix:
    """SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator of 64-bit integers."""

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next64(self) -> int:
        """The next 64-bit output."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """An integer in ``0 .. bound − 1`` (bound > 0)."""
        return self.next64() % bound

    def between(self, low: int, high: int) -> int:
        """An integer in ``low .. high`` inclusive."""
        return low + self.below(high - low + 1)

    def chance(self, permille: int) -> bool:
        """True with probability ``permille / 1000``."""
        return self.below(1000) < permille


@dataclass(frozen=True, slots=True, kw_only=True)
class Partition:
    """From ``start_ms`` to ``end_ms`` only members of the same group hear each other."""

    start_ms: int
    end_ms: int
    groups: tuple[frozenset[int], ...]

    def separates(self, a: int, b: int, now_ms: int) -> bool:
        """True when members ``a`` and ``b`` cannot talk at ``now_ms``."""
        if not self.start_ms <= now_ms < self.end_ms:
            return False
        return not any(a in g and b in g for g in self.groups)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Network faults before ``heal_ms`` and honest restarts ``(member, at_ms)``."""

    min_delay_ms: int = 1
    max_delay_ms: int = 10
    loss_permille: int = 0
    duplicate_permille: int = 0
    partitions: tuple[Partition, ...] = ()
    heal_ms: int = 0
    restarts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def random(cls, rng: SplitMix, n: int, honest: Sequence[int]) -> Faults:
        """A random profile: delays, maybe loss and duplication, a partition, a restart."""
        partitions: list[Partition] = []
        if rng.chance(400):
            start = rng.between(0, 300)
            side = frozenset(i for i in range(n) if rng.chance(500))
            groups = (side, frozenset(range(n)) - side)
            partitions.append(
                Partition(start_ms=start, end_ms=start + rng.between(100, 1500), groups=groups)
            )
        restarts: tuple[tuple[int, int], ...] = ()
        if honest and rng.chance(300):
            restarts = ((honest[rng.below(len(honest))], rng.between(20, 600)),)
        return cls(
            min_delay_ms=1,
            max_delay_ms=rng.between(2, 30),
            loss_permille=(0, 0, 20, 80)[rng.below(4)],
            duplicate_permille=(0, 50, 200)[rng.below(3)],
            partitions=tuple(partitions),
            heal_ms=max([p.end_ms for p in partitions] + [rng.between(0, 800)]),
            restarts=restarts,
        )

    def describe(self) -> str:
        """A one-line summary for failure messages."""
        parts = [
            f"delay {self.min_delay_ms}-{self.max_delay_ms} ms",
            f"loss {self.loss_permille}‰",
            f"dup {self.duplicate_permille}‰",
            f"heal at {self.heal_ms} ms",
        ]
        parts += [
            f"partition {p.start_ms}-{p.end_ms} ms {[sorted(g) for g in p.groups]}"
            for p in self.partitions
        ]
        parts += [f"restart member {m} at {t} ms" for m, t in self.restarts]
        return ", ".join(parts)


BYZANTINE_KINDS: dict[str, Callable[[], list[Behaviour]]] = {
    "none": list,
    "equivocate": lambda: [Equivocate()],
    "false_verdict": lambda: [FalseVerdict()],
    "forge_watermark": lambda: [ForgeWatermark()],
    "missing_watermark": lambda: [ForgeWatermark(missing=True)],
    "withhold_votes": lambda: [WithholdVotes()],
    "invalid_block": lambda: [InvalidBlock(tamper_signature)],
    "manipulated_price": lambda: [InvalidBlock(tamper_price)],
    "amnesia": lambda: [Amnesia()],
    "silent": lambda: [Silent()],
    "delay": lambda: [Delay(120)],
    "twins": list,
}
"""Named Byzantine set-ups; ``twins`` duplicates a member instead of hooking it."""

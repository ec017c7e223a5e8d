"""Validator sets and weighted quorums (plenum ``quorums.py``, by weight instead of by count).

A validator set is the ordered list of node ids of one height with each member's 33-byte
compressed public key and integer weight. Tendermint's thresholds become weights: a *quorum*
("2f+1") is more than two thirds of the total weight, a *skip* threshold ("f+1") more than one
third. Both are strict integer comparisons (``3·w > 2·W``, ``3·w > W``), so no rounding enters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.crypto import PUBLIC_KEY_SIZE

__all__ = ["Validator", "ValidatorSet", "ValidatorSetError"]


class ValidatorSetError(ValueError):
    """A validator set is malformed (duplicate id, bad key length, non-positive weight, empty)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Validator:
    """One member: node id, compressed public key, weight (a positive integer)."""

    node: str
    public_key: bytes
    weight: int


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """The validators of one height, in a fixed order (the order breaks no ties: ids do).

    Raises:
        ValidatorSetError: On construction, when the set is empty, an id repeats, a key is not
            33 bytes or a weight is not positive.
    """

    members: tuple[Validator, ...]
    _by_node: dict[str, Validator] = field(init=False, repr=False, compare=False)
    total_weight: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.members:
            raise ValidatorSetError("a validator set needs at least one member")
        by_node: dict[str, Validator] = {}
        for member in self.members:
            if member.node in by_node:
                raise ValidatorSetError(f"validator {member.node!r} appears twice")
            if len(member.public_key) != PUBLIC_KEY_SIZE:
                raise ValidatorSetError(
                    f"validator {member.node!r}: public key has {len(member.public_key)} bytes, "
                    f"expected {PUBLIC_KEY_SIZE}"
                )
            if member.weight <= 0:
                raise ValidatorSetError(
                    f"validator {member.node!r}: weight {member.weight} is not positive"
                )
            by_node[member.node] = member
        object.__setattr__(self, "_by_node", by_node)
        object.__setattr__(self, "total_weight", sum(m.weight for m in self.members))

    @classmethod
    def of(cls, members: Iterable[tuple[str, bytes, int]]) -> ValidatorSet:
        """Build from ``(node, public_key, weight)`` triples."""
        return cls(tuple(Validator(node=n, public_key=k, weight=w) for n, k, w in members))

    def __contains__(self, node: object) -> bool:
        return node in self._by_node

    def __len__(self) -> int:
        return len(self.members)

    def get(self, node: str) -> Validator | None:
        """The member with this id, or None."""
        return self._by_node.get(node)

    def weight(self, node: str) -> int:
        """The member's weight (0 for a non-member)."""
        member = self._by_node.get(node)
        return 0 if member is None else member.weight

    def weight_of(self, nodes: Iterable[str]) -> int:
        """Total weight of the distinct members among ``nodes`` (non-members weigh nothing)."""
        return sum(self.weight(n) for n in set(nodes))

    def is_quorum(self, weight: int) -> bool:
        """More than two thirds of the total weight (Tendermint's 2f+1)."""
        return 3 * weight > 2 * self.total_weight

    def is_one_third(self, weight: int) -> bool:
        """More than one third of the total weight (Tendermint's f+1: at least one honest)."""
        return 3 * weight > self.total_weight

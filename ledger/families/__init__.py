"""Transaction families: the registry and the built-in coin, ratings and identity families."""

from __future__ import annotations

from ledger.families.coin import CoinFamily
from ledger.families.identity import IdentityFamily
from ledger.families.ratings import EvidenceVerifier, RatingsFamily
from ledger.families.registry import FamilyRegistry, TransactionFamily

__all__ = [
    "CoinFamily",
    "FamilyRegistry",
    "IdentityFamily",
    "RatingsFamily",
    "TransactionFamily",
    "builtin_registry",
]


def builtin_registry(*, evidence_verifier: EvidenceVerifier | None = None) -> FamilyRegistry:
    """A registry holding coin, ratings and identity (market families register on top)."""
    return FamilyRegistry([CoinFamily(), RatingsFamily(evidence_verifier), IdentityFamily()])

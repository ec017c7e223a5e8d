"""The chain records that reputation is computed from: ratings, evidence kinds and their weights.

Li et al. eq. (5)-(6) (SCIENCE.md §4) rate edge node j from the counts of positive and negative
interactions that each rater i has had with it, and from the quality of communication suc_{i→j}.
In satedge these reach the reputation table only as chain records, so that every honest node holds
the same table at every height: a :class:`Rating` is a signed statement of rater i about j, and an
:class:`Evidence` is a provable offence of j (ARCHITECTURE.md "Consensus, in words"), weighed by a
named table of kinds (:class:`EvidenceKind`, :data:`DEFAULT_EVIDENCE_WEIGHTS_MILLI`).

Units: weights and weighted counts are integers in milli-interactions (1,000 = one interaction,
:data:`MILLI`); suc is an integer in parts per million (:data:`PPM`). No floats enter a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

from ledger.encoding import Record

__all__ = [
    "DEFAULT_EVIDENCE_WEIGHTS_MILLI",
    "MILLI",
    "PPM",
    "Evidence",
    "EvidenceKind",
    "InvalidEvidence",
    "InvalidRating",
    "InvalidRecord",
    "Rating",
]

MILLI = 1_000
"""Fixed-point unit of weights and weighted counts: 1,000 milli = one interaction."""

PPM = 1_000_000
"""Fixed-point unit of suc (success ratio): 1,000,000 ppm = every message received."""


class EvidenceKind(IntEnum):
    """Provable offences recorded on chain (as plenum's ``suspicion_codes.py``); stable codes."""

    EQUIVOCATION = 1
    """Two conflicting signed blocks or votes at the same height and round."""
    FORGED_WATERMARK = 2
    """A verdict carrying a watermark that does not verify under the sender's certified key."""
    MISSING_WATERMARK = 3
    """A verdict without its watermark."""
    FALSE_VERDICT = 4
    """A vote for an invalid block, or against a valid block that was finalised."""
    INVALID_BLOCK = 5
    """A signed proposal with a bad hash, nonce or signature, a double spend, oversold spectrum."""
    MANIPULATED_PRICE = 6
    """A quoted interference price that honest validators recompute differently."""
    TRADE_FRAUD = 7
    """Payment default, or selling spectrum that the seller does not own."""
    TIMEOUT = 8
    """A missing vote or verification broadcast (weak: could be a network fault)."""


DEFAULT_EVIDENCE_WEIGHTS_MILLI: Mapping[EvidenceKind, int] = MappingProxyType(
    {
        EvidenceKind.EQUIVOCATION: 10_000,
        EvidenceKind.FORGED_WATERMARK: 10_000,
        EvidenceKind.MISSING_WATERMARK: 500,
        EvidenceKind.FALSE_VERDICT: 2_000,
        EvidenceKind.INVALID_BLOCK: 5_000,
        EvidenceKind.MANIPULATED_PRICE: 5_000,
        EvidenceKind.TRADE_FRAUD: 5_000,
        EvidenceKind.TIMEOUT: 500,
    }
)
"""Weight each offence adds to Nn of the offender, in milli-interactions (SCIENCE.md §4 table)."""


class InvalidRecord(ValueError):
    """A rating or evidence record that the reputation table refuses.

    Attributes:
        record: The record type ("Rating" or "Evidence").
        field: The offending field.
        reason: What is wrong with it.
    """

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(f"{record}.{field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason


class InvalidRating(InvalidRecord):
    """A :class:`Rating` with a bad field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__("Rating", field, reason)


class InvalidEvidence(InvalidRecord):
    """An :class:`Evidence` with a bad field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__("Evidence", field, reason)


def _check_id(error: type[InvalidRating | InvalidEvidence], field: str, value: object) -> None:
    if type(value) is not str or not value:
        raise error(field, f"must be a non-empty string, got {value!r}")


def _check_count(error: type[InvalidRating | InvalidEvidence], field: str, value: object) -> None:
    if type(value) is not int or value < 0:
        raise error(field, f"must be an integer ≥ 0, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rating(Record):
    """Rater i's report about node j (eq. (5) inputs), carried by a signed rating transaction.

    Attributes:
        rater: Id of i (a user or another edge node).
        ratee: Id of j; never the rater itself.
        positive: Positive interactions of i with j since i's previous rating (≥ 0).
        negative: Negative interactions of i with j since i's previous rating (≥ 0).
        success_ppm: suc_{i→j}, the share of j's messages i received correctly over i's own
            sliding window, in ppm (0..1,000,000); None when i had no traffic with j (Ind = 1).
        height: Chain height at which i issued the rating; a block at height h carries only
            ratings with ``height ≤ h``. Among several ratings of one pair, the suc of the latest
            issued one stands (ties: the lower suc, known before unknown).

    Raises:
        InvalidRating: A field out of its range, naming the field.
    """

    rater: str
    ratee: str
    positive: int
    negative: int
    success_ppm: int | None
    height: int

    def __post_init__(self) -> None:
        _check_id(InvalidRating, "rater", self.rater)
        _check_id(InvalidRating, "ratee", self.ratee)
        if self.rater == self.ratee:
            raise InvalidRating("ratee", f"a node may not rate itself ({self.rater!r})")
        _check_count(InvalidRating, "positive", self.positive)
        _check_count(InvalidRating, "negative", self.negative)
        suc = self.success_ppm
        if suc is not None and (type(suc) is not int or not 0 <= suc <= PPM):
            raise InvalidRating(
                "success_ppm", f"must be None or an integer in 0..{PPM}, got {suc!r}"
            )
        _check_count(InvalidRating, "height", self.height)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence(Record):
    """A provable offence of ``offender``, carried by an evidence transaction.

    Attributes:
        offender: Id of the node that committed the offence.
        kind: What it did (:class:`EvidenceKind`; a plain valid integer code is converted).
        height: Chain height of the offence; a block at height h carries only ``height ≤ h``.
        reporter: Id of the node that submitted the proof, None when the chain itself found it.
        subject: What distinguishes this offence from others of the same kind by the same
            offender at the same height (e.g. the hex hash of the offending transaction or vote;
            "" when there is nothing to distinguish). Records equal in (offender, kind, height,
            subject) are one offence: it weighs once, whoever reports it and however often.

    Raises:
        InvalidEvidence: A field out of its range or an unknown kind, naming the field.
    """

    offender: str
    kind: EvidenceKind
    height: int
    reporter: str | None
    subject: str = ""

    def __post_init__(self) -> None:
        _check_id(InvalidEvidence, "offender", self.offender)
        kind: object = self.kind
        if not isinstance(kind, EvidenceKind):
            codes = ", ".join(f"{k.value} ({k.name})" for k in EvidenceKind)
            unknown = InvalidEvidence("kind", f"unknown evidence kind {kind!r} (kinds: {codes})")
            if type(kind) is not int:
                raise unknown
            try:
                object.__setattr__(self, "kind", EvidenceKind(kind))
            except ValueError:
                raise unknown from None
        _check_count(InvalidEvidence, "height", self.height)
        if self.reporter is not None:
            _check_id(InvalidEvidence, "reporter", self.reporter)
        if type(self.subject) is not str:
            raise InvalidEvidence("subject", f"must be a string, got {self.subject!r}")

    @property
    def offence(self) -> tuple[str, int, int, str]:
        """The identity of the offence: (offender, kind code, height, subject)."""
        return (self.offender, int(self.kind), self.height, self.subject)

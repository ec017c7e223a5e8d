"""Validator-set tracking of the chain application (:mod:`ledger.chain_app`).

Part of :class:`~ledger.chain_app.ChainApp`: the validators of height ``h`` are the certified,
unrevoked edge nodes eligible by the reputation table at ``h − 1``
(:func:`ledger.reputation.validators_at`), computed once per height as the chain advances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.block import ChainTip
from ledger.chain_reasons import NoValidators
from ledger.consensus.validators import ValidatorSet
from ledger.families.identity import certificate_of, is_revoked
from ledger.identity import Certificate as NodeCertificate
from ledger.identity import Role
from ledger.reputation import ReputationTable, validators_at
from ledger.state import CERTIFICATE_PREFIX, State

__all__ = ["ValidatorsMixin"]


class ValidatorsMixin:
    """The validator sets of heights 1 .. height + 1 (module docstring)."""

    state: State
    tips: list[ChainTip]
    table: ReputationTable
    _edges: list[NodeCertificate] | None
    _validators: dict[int, ValidatorSet | None]

    if TYPE_CHECKING:  # implemented by ChainApp

        @property
        def height(self) -> int:
            """The last committed height."""

    def _edge_certificates(self) -> list[NodeCertificate]:
        if self._edges is None:
            edges = []
            for key, _ in self.state.items(CERTIFICATE_PREFIX):
                certificate = certificate_of(self.state, key[len(CERTIFICATE_PREFIX) :].decode())
                if certificate is not None and certificate.role == Role.EDGE:
                    edges.append(certificate)
            self._edges = edges
        return self._edges

    def _compute_validators(self, height: int) -> ValidatorSet | None:
        """The set of ``height`` from the state and table of ``height − 1`` (now current)."""
        timestamp_ms = self.tips[height - 1].timestamp_ms
        certified = {
            c.node_id: c.public_key
            for c in self._edge_certificates()
            if c.active_at(timestamp_ms) and not is_revoked(self.state, c.node_id)
        }
        eligible = validators_at(height, certified, self.table)
        if not eligible:
            return None
        return ValidatorSet.of((node, certified[node], 1) for node in eligible)

    def validator_set(self, height: int) -> ValidatorSet:
        """The validators of ``height`` (1 .. height + 1), from the chain below it.

        Raises:
            NoValidators: The height is beyond the next one, or no edge node is eligible.
        """
        if height not in self._validators:
            raise NoValidators(
                f"validators of height {height} are unknown (chain height {self.height})"
            )
        validators = self._validators[height]
        if validators is None:
            raise NoValidators(f"no certified edge node is eligible at height {height}")
        return validators

    def _is_validator(self, node: str, height: int) -> bool:
        validators = self._validators.get(height)
        return validators is not None and node in validators

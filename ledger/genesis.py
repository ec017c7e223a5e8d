"""Genesis: the authority's key, initial balances, certified nodes and chain parameters.

``genesis_hash`` is ``sha256(canonical(genesis))`` and plays the parent hash of block 1.
``genesis_state`` builds the height-0 state and checks the record on the way: valid
parameters, every certificate signed by the authority for this chain, unique node ids and keys,
positive balances at distinct addresses. ``dev_network`` derives a whole test network
(authority, edges, beams, users, an exchange) from a seed, for tests, benches and scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import orjson

from ledger.block import ChainTip
from ledger.crypto import PrivateKey
from ledger.encoding import JsonObject, Length, Record, canonical, sha256
from ledger.errors import InvalidGenesis, InvalidTransaction, LedgerError
from ledger.families.coin import mint
from ledger.families.identity import check_certificate, put_certificate
from ledger.identity import Certificate, Role, issue_certificate
from ledger.params import ChainParams
from ledger.state import CERTIFICATE_PREFIX, META_PREFIX, State
from ledger.transactions import AdmittedTransaction, admit_record, sign_transaction

__all__ = [
    "AUTHORITY_KEY",
    "Balance",
    "DevNetwork",
    "Genesis",
    "authority_of",
    "chain_id_of",
    "dev_network",
    "genesis_hash",
    "genesis_state",
    "genesis_tip",
]

AUTHORITY_KEY = META_PREFIX + b"authority"
CHAIN_ID_KEY = META_PREFIX + b"chain_id"
MAX_CHAIN_ID_LENGTH = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance(Record):
    """An initial balance in base units."""

    address: Annotated[bytes, Length(20)]
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Genesis(Record):
    """The signed start of a chain (published by the authorization center)."""

    chain_id: str
    timestamp_ms: int
    authority: Annotated[bytes, Length(33)]
    balances: tuple[Balance, ...]
    certificates: tuple[Certificate, ...]
    params: ChainParams


def genesis_hash(genesis: Genesis) -> bytes:
    """SHA-256 of the canonical genesis record."""
    return sha256(genesis.encode())


def genesis_tip(genesis: Genesis) -> ChainTip:
    """Genesis as the parent of block 1 (height 0)."""
    return ChainTip(height=0, block_hash=genesis_hash(genesis), timestamp_ms=genesis.timestamp_ms)


def authority_of(state: State) -> bytes:
    """The authority's public key recorded at genesis."""
    value = state.get(AUTHORITY_KEY)
    if value is None:
        raise LedgerError("state has no authority key: not built from a genesis")
    return bytes.fromhex(_field(value, "public_key"))


def chain_id_of(state: State) -> str:
    """The chain id recorded at genesis."""
    value = state.get(CHAIN_ID_KEY)
    if value is None:
        raise LedgerError("state has no chain id: not built from a genesis")
    return _field(value, "chain_id")


def _field(value: bytes, name: str) -> str:
    found: str = orjson.loads(value)[name]
    return found


def genesis_state(genesis: Genesis) -> State:
    """The state at height 0.

    Raises:
        InvalidGenesis: A parameter, certificate or balance is invalid (the message says which).
    """
    genesis.params.validate()
    chain_id = genesis.chain_id
    if not 0 < len(chain_id) <= MAX_CHAIN_ID_LENGTH or not chain_id.isascii():
        raise InvalidGenesis("chain_id: 1-64 ASCII characters")
    state = State()
    state.set(AUTHORITY_KEY, canonical({"public_key": genesis.authority.hex()}))
    state.set(CHAIN_ID_KEY, canonical({"chain_id": chain_id}))
    for index, certificate in enumerate(genesis.certificates):
        path = f"certificates[{index}]"
        try:
            check_certificate(
                state, certificate, chain_id=chain_id, authority=genesis.authority, field=path
            )
        except InvalidTransaction as exc:
            raise InvalidGenesis(str(exc)) from None
        if state.get(CERTIFICATE_PREFIX + certificate.node_id.encode()) is not None:
            raise InvalidGenesis(f"{path}.node_id: {certificate.node_id!r} certified twice")
        put_certificate(state, certificate)
    seen: set[bytes] = set()
    for index, balance in enumerate(genesis.balances):
        if balance.amount <= 0:
            raise InvalidGenesis(f"balances[{index}].amount: must be positive")
        if balance.address in seen:
            raise InvalidGenesis(f"balances[{index}].address: listed twice")
        seen.add(balance.address)
        try:
            mint(state, balance.address, balance.amount)
        except InvalidTransaction as exc:
            raise InvalidGenesis(f"balances[{index}]: {exc}") from None
    state.commit()
    return state


@dataclass(frozen=True, slots=True, kw_only=True)
class DevNetwork:
    """A seeded network: the genesis and every node's key, by node id."""

    genesis: Genesis
    authority: PrivateKey
    keys: dict[str, PrivateKey] = field(default_factory=dict)

    def address(self, node_id: str) -> bytes:
        """The address of ``node_id``'s key."""
        return self.keys[node_id].address

    def nodes(self, role: Role) -> list[str]:
        """Node ids of ``role``, in order."""
        return [c.node_id for c in self.genesis.certificates if c.role == role]

    def transaction(
        self,
        node_id: str,
        *,
        nonce: int,
        family: str,
        payload: JsonObject | Record,
        fee: int | None = None,
        version: int = 1,
    ) -> AdmittedTransaction:
        """A transaction signed by ``node_id`` ("authority" for the authority), admitted.

        ``fee`` defaults to the chain's minimum fee.
        """
        key = self.authority if node_id == "authority" else self.keys[node_id]
        tx = sign_transaction(
            key,
            chain_id=self.genesis.chain_id,
            nonce=nonce,
            fee=self.genesis.params.min_fee if fee is None else fee,
            family=family,
            version=version,
            payload=payload,
        )
        return admit_record(tx, chain_id=self.genesis.chain_id)


def dev_network(
    *,
    seed: bytes = b"satedge",
    chain_id: str = "satedge-dev",
    edges: int = 4,
    beams: int = 2,
    users: int = 4,
    exchanges: int = 1,
    balance: int = 10**12,
    params: ChainParams | None = None,
    timestamp_ms: int = 0,
    valid_for_ms: int = 10**12,
) -> DevNetwork:
    """A deterministic network: keys from ``seed``, node ids ``edge-00``, ``beam-00``, ... .

    Every node gets a certificate valid for ``valid_for_ms`` from ``timestamp_ms``; edges,
    users, exchanges and the authority (it pays fees for identity transactions) start with
    ``balance`` base units each; beam controllers start empty.
    """
    authority = PrivateKey.from_seed(seed + b"/authority")
    keys: dict[str, PrivateKey] = {}
    certificates: list[Certificate] = []
    balances: list[Balance] = []
    for role, count in (
        (Role.EDGE, edges),
        (Role.BEAM, beams),
        (Role.USER, users),
        (Role.EXCHANGE, exchanges),
    ):
        for index in range(count):
            node_id = f"{role.name.lower()}-{index:02d}"
            key = PrivateKey.from_seed(seed + b"/" + node_id.encode())
            keys[node_id] = key
            certificates.append(
                issue_certificate(
                    authority,
                    chain_id=chain_id,
                    node_id=node_id,
                    role=role,
                    public_key=key.public_key,
                    valid_from_ms=timestamp_ms,
                    valid_until_ms=timestamp_ms + valid_for_ms,
                )
            )
            if role != Role.BEAM and balance > 0:
                balances.append(Balance(address=key.address, amount=balance))
    if balance > 0:
        balances.append(Balance(address=authority.address, amount=balance))
    genesis = Genesis(
        chain_id=chain_id,
        timestamp_ms=timestamp_ms,
        authority=authority.public_key,
        balances=tuple(balances),
        certificates=tuple(certificates),
        params=params or ChainParams.default(),
    )
    return DevNetwork(genesis=genesis, authority=authority, keys=keys)

"""Genesis: the record, its hash, and the checks made while building the height-0 state."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.crypto import PrivateKey
from ledger.errors import InvalidGenesis, InvalidParams
from ledger.families.coin import issued
from ledger.families.identity import certificate_of
from ledger.genesis import (
    Balance,
    Genesis,
    authority_of,
    chain_id_of,
    dev_network,
    genesis_hash,
    genesis_state,
    genesis_tip,
)
from ledger.identity import Role, issue_certificate
from ledger.state import total_supply

NET = dev_network()
GENESIS = NET.genesis


def test_genesis_state() -> None:
    state = genesis_state(GENESIS)
    assert authority_of(state) == NET.authority.public_key
    assert chain_id_of(state) == GENESIS.chain_id
    assert total_supply(state) == issued(state) == sum(b.amount for b in GENESIS.balances)
    assert certificate_of(state, "beam-01") == GENESIS.certificates[5]
    assert NET.nodes(Role.EDGE) == ["edge-00", "edge-01", "edge-02", "edge-03"]
    assert genesis_state(GENESIS).state_root() == state.state_root()


def test_genesis_hash_and_roundtrip() -> None:
    decoded = Genesis.decode(GENESIS.encode(), max_bytes=10**6)
    assert decoded == GENESIS
    assert genesis_hash(decoded) == genesis_hash(GENESIS)
    assert genesis_hash(dev_network(seed=b"other").genesis) != genesis_hash(GENESIS)
    tip = genesis_tip(GENESIS)
    assert (tip.height, tip.block_hash) == (0, genesis_hash(GENESIS))


def test_dev_network_is_deterministic() -> None:
    assert dev_network().genesis == GENESIS


def bad(**changes: object) -> Genesis:
    return dataclasses.replace(GENESIS, **changes)  # type: ignore[arg-type]


def test_rejects_bad_certificates() -> None:
    mallory = PrivateKey.from_seed(b"mallory")
    forged = issue_certificate(
        mallory,
        chain_id=GENESIS.chain_id,
        node_id="edge-09",
        role=Role.EDGE,
        public_key=mallory.public_key,
        valid_from_ms=0,
        valid_until_ms=10,
    )
    with pytest.raises(InvalidGenesis, match=r"certificates\[11\]\.signature"):
        genesis_state(bad(certificates=(*GENESIS.certificates, forged)))
    with pytest.raises(InvalidGenesis, match="certified twice"):
        genesis_state(bad(certificates=(*GENESIS.certificates, GENESIS.certificates[0])))
    other_chain = dev_network(chain_id="elsewhere").genesis.certificates
    with pytest.raises(InvalidGenesis, match="chain_id"):
        genesis_state(bad(certificates=other_chain))


def test_rejects_bad_balances_and_ids() -> None:
    first = GENESIS.balances[0]
    with pytest.raises(InvalidGenesis, match=r"balances\[1\]\.address"):
        genesis_state(bad(balances=(first, first)))
    with pytest.raises(InvalidGenesis, match=r"balances\[0\]\.amount"):
        genesis_state(bad(balances=(Balance(address=first.address, amount=0),)))
    with pytest.raises(InvalidGenesis, match="64-bit"):
        genesis_state(
            bad(balances=(Balance(address=first.address, amount=2**63 - 1), GENESIS.balances[1]))
        )
    with pytest.raises(InvalidGenesis, match="chain_id"):
        genesis_state(bad(chain_id=""))
    with pytest.raises(InvalidParams, match=r"params\.min_fee"):
        genesis_state(bad(params=dataclasses.replace(GENESIS.params, min_fee=-1)))

"""Restart: rebuild a chain application by replaying its store (:meth:`ChainApp.open`).

The stored blocks are replayed from genesis, trusting their certificates (signatures and
evidence proofs are not re-verified), with each block hash and state root checked against the
store. Replay rebuilds the reputation table, the validator sets of past heights and the undo
window, which have no stored form (module docstring of :mod:`ledger.chain_app`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.block import decode_block
from ledger.chain import apply_block
from ledger.errors import InvalidBlock
from ledger.families import builtin_registry
from ledger.genesis import Genesis, genesis_hash
from ledger.store import ChainStore, StoreCorrupt

__all__ = ["replay_store"]

if TYPE_CHECKING:
    from ledger.chain_app import ChainApp


def replay_store(app: ChainApp, store: ChainStore, genesis: Genesis) -> None:
    """Write genesis to ``store`` if new, then replay its blocks into the fresh ``app``.

    Raises:
        ledger.store.StoreMismatch: The store holds another genesis.
        ledger.store.StoreCorrupt: A stored block does not decode, or its hash or state
            root is not what replaying it gives.
    """
    store.init_genesis(genesis.encode(), genesis_hash(genesis), dict(app.state.items()))
    trusting = builtin_registry()
    for height in range(1, store.height() + 1):
        stored = store.block_at(height)
        if stored is None:
            raise StoreCorrupt(f"store: no block at height {height} below its head")
        try:
            block = decode_block(stored.block, params=app.params)
            result = apply_block(
                app.state,
                block,
                parent=app.tip,
                params=app.params,
                registry=trusting,
                verify_signatures=False,
                dry_run=True,
            )
        except InvalidBlock as exc:
            raise StoreCorrupt(f"store: block {height} does not replay: {exc}") from None
        if block.block_hash != stored.block_hash or result.state_root != stored.state_root:
            raise StoreCorrupt(
                f"store: block {height} replays to hash {block.block_hash.hex()} and root "
                f"{result.state_root.hex()}, stored {stored.block_hash.hex()} and "
                f"{stored.state_root.hex()}"
            )
        app._advance(block, result)

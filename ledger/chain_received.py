"""Decoding a block received from a peer, reusing the transactions this node already admitted.

:func:`decode_received` accepts exactly the bytes :func:`ledger.block.decode_block` accepts and
gives the same :class:`ledger.block.Block`, plus each transaction's canonical bytes and hash,
cut from the block's own canonical bytes (a sub-object of a canonical document serialises to
the same bytes on its own). A transaction whose hash is in ``known`` (the node's mempool: it
was decoded and its signature verified on arrival) is taken from there instead of being decoded
again; the hash covers every byte including the signature, so a hit is the same signed
transaction. Every other transaction is decoded strictly here and verified later, when the
block is executed (``apply_block`` with ``raws`` and ``admitted`` = the hits), so each
transaction is verified by this node exactly once: at admission or at block check.

Any input the fast path does not take (malformed, not canonical, wrong fields) is handed to
``decode_block``, so the errors raised are exactly its errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from ledger.block import Block, BlockHeader, decode_block, merkle_root
from ledger.encoding import DecodeError, is_canonical_value, sha256
from ledger.errors import BlockTooLarge
from ledger.params import ChainParams
from ledger.transactions import AdmittedTransaction, Transaction

__all__ = ["ReceivedBlock", "decode_received"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedBlock:
    """A strictly decoded block and what its decoding found out.

    Attributes:
        block: The block.
        raws: Each transaction's canonical bytes, in order.
        tx_hashes: ``sha256`` of each of ``raws``.
        known: The transactions found among the admitted ones, by hash.
        tx_root_ok: Whether the header's ``tx_root`` is the root of ``tx_hashes``.
    """

    block: Block
    raws: tuple[bytes, ...]
    tx_hashes: tuple[bytes, ...]
    known: dict[bytes, AdmittedTransaction]
    tx_root_ok: bool


def decode_received(
    data: bytes, *, params: ChainParams, known: Mapping[bytes, AdmittedTransaction]
) -> ReceivedBlock:
    """Strictly decode a block from a peer (module docstring).

    Raises:
        BlockTooLarge, BadBlockEncoding: As :func:`ledger.block.decode_block`.
    """
    if len(data) > params.max_block_bytes:
        raise BlockTooLarge(f"{len(data)} bytes, more than {params.max_block_bytes}")
    try:
        found = _fast(data, params=params, known=known)
    except DecodeError:
        found = None
    if found is None:
        block = decode_block(data, params=params)  # raises the precise error
        raws = tuple(tx.encode() for tx in block.transactions)
        hashes = tuple(sha256(raw) for raw in raws)
        found = block, raws, hashes, {}
    block, raws, hashes, hits = found
    return ReceivedBlock(
        block=block,
        raws=raws,
        tx_hashes=hashes,
        known=hits,
        tx_root_ok=merkle_root(hashes) == block.header.tx_root,
    )


def _fast(
    data: bytes, *, params: ChainParams, known: Mapping[bytes, AdmittedTransaction]
) -> tuple[Block, tuple[bytes, ...], tuple[bytes, ...], dict[bytes, AdmittedTransaction]] | None:
    # decode_canonical's checks, except that a transaction found among the admitted ones is
    # not walked for non-JSON-canonical values again: its bytes passed them on admission
    try:
        fields = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(fields) is not dict or orjson.dumps(fields, option=orjson.OPT_SORT_KEYS) != data:
        return None
    body = fields.get("transactions")
    if len(fields) != 2 or "header" not in fields or type(body) is not list:
        return None
    if not is_canonical_value(fields["header"]):
        return None
    if len(body) > params.max_block_txs:
        return None
    header = BlockHeader.from_decoded(fields["header"], "header")
    transactions: list[Transaction] = []
    raws: list[bytes] = []
    hashes: list[bytes] = []
    hits: dict[bytes, AdmittedTransaction] = {}
    for index, item in enumerate(body):
        raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        tx_hash = sha256(raw)
        hit = known.get(tx_hash)
        if hit is not None and hit.raw == raw:
            transactions.append(hit.tx)
            hits[tx_hash] = hit
        else:
            if not is_canonical_value(item):
                return None
            tx = Transaction.from_decoded(item, f"transactions[{index}]")
            if tx.encode() != raw:
                return None  # a field spelt other than canonically: decode_block's way
            transactions.append(tx)
        raws.append(raw)
        hashes.append(tx_hash)
    block = Block(header=header, transactions=tuple(transactions))
    return block, tuple(raws), tuple(hashes), hits

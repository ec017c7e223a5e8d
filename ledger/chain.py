"""The state transition: ``apply_transaction``, ``apply_block`` and ``build_block``.

execution-specs style: pure functions of (state, block) that either return the result or raise
an :class:`ledger.errors.InvalidBlock` / :class:`ledger.errors.InvalidTransaction` subclass
and leave the state exactly as it was (the journal is reverted). ``apply_block`` mutates the
state in place on success (and commits its journal) unless ``dry_run`` is set, so a validator
can execute a proposal, vote, and only keep it once it commits.

Signatures are verified once. ``admit`` checks a transaction arriving from a user or the
mempool; ``apply_transaction`` trusts its :class:`AdmittedTransaction`. ``apply_block`` on a
block from a peer re-admits each transaction, except those found by hash in the ``admitted``
mapping the caller passes (its mempool: those were verified on arrival; the hash covers the
signature, so a hit is the same signed bytes).

Fees are debited from the sender before the family runs and paid to the block's leader after
the last transaction, together with the block reward (``params.block_reward``, minted; capped
so that total issuance never leaves the 64-bit range).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.block import Block, BlockHeader, ChainTip, block_size, merkle_root
from ledger.crypto import CryptoError, address_of
from ledger.encoding import INT_MAX, sha256
from ledger.errors import (
    BadHeight,
    BadLeader,
    BadParent,
    BadStateRoot,
    BadTimestamp,
    BadTransaction,
    BadTransactionRoot,
    BlockTooLarge,
    InvalidTransaction,
    RejectReason,
)
from ledger.evidence_kinds import Evidence, Rating
from ledger.families.coin import credit, mint, mint_headroom
from ledger.families.identity import certificate_of, is_revoked, node_of_address
from ledger.families.registry import BlockContext, FamilyRegistry, Sender, TxContext
from ledger.genesis import authority_of, chain_id_of
from ledger.identity import Role
from ledger.params import ChainParams
from ledger.state import State
from ledger.transactions import AdmittedTransaction, Transaction, admit_record

__all__ = [
    "ApplyResult",
    "BuiltBlock",
    "apply_block",
    "apply_transaction",
    "block_context",
    "build_block",
    "resolve_sender",
]

_ZERO_HASH = bytes(32)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    """The outcome of a valid block.

    Attributes:
        state: The state after the block (the same object that was passed in).
        block_hash: The block's hash.
        state_root: Root after the block (equal to the header's).
        write_set: Changed keys → new value (None = deleted), key order: what the store persists.
        tx_hashes: Hashes of the transactions, in order.
        ratings, evidence: Records for ``ReputationTable.apply_block``.
        fees: Fees paid to the leader.
        reward: Coin minted to the leader.
    """

    state: State
    block_hash: bytes
    state_root: bytes
    write_set: dict[bytes, bytes | None]
    tx_hashes: tuple[bytes, ...]
    ratings: tuple[Rating, ...]
    evidence: tuple[Evidence, ...]
    fees: int
    reward: int

    @classmethod
    def of(
        cls,
        state: State,
        header: BlockHeader,
        *,
        root: bytes,
        write_set: dict[bytes, bytes | None],
        tx_hashes: tuple[bytes, ...],
        ctx: BlockContext,
        reward: int,
    ) -> ApplyResult:
        """The result of executing ``header``'s block in ``ctx``, whoever built the block."""
        return cls(
            state=state,
            block_hash=header.block_hash,
            state_root=root,
            write_set=write_set,
            tx_hashes=tx_hashes,
            ratings=tuple(ctx.ratings),
            evidence=tuple(ctx.evidence),
            fees=ctx.fees,
            reward=reward,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltBlock:
    """A leader's block, its execution result, and the candidates left out with the reason."""

    block: Block
    result: ApplyResult
    rejected: tuple[tuple[bytes, InvalidTransaction], ...]


def block_context(
    state: State, *, height: int, timestamp_ms: int, leader: str, params: ChainParams
) -> BlockContext:
    """The context for executing transactions of a block at ``height``."""
    return BlockContext(
        chain_id=chain_id_of(state),
        height=height,
        timestamp_ms=timestamp_ms,
        leader=leader,
        params=params,
        authority=authority_of(state),
    )


def resolve_sender(state: State, tx: AdmittedTransaction, ctx: BlockContext) -> Sender:
    """The sender's identity, if it may send at this block's time.

    Raises:
        InvalidTransaction: UNCERTIFIED_SENDER, REVOKED or CERTIFICATE_EXPIRED.
    """
    address = tx.sender_address
    if tx.tx.sender == ctx.authority:
        return Sender(address=address, node_id="authority", role=None)
    node_id = node_of_address(state, address)
    certificate = None if node_id is None else certificate_of(state, node_id)
    if node_id is None or certificate is None:
        raise InvalidTransaction(
            RejectReason.UNCERTIFIED_SENDER, "the sender's key has no certificate", field="sender"
        )
    if is_revoked(state, node_id):
        raise InvalidTransaction(RejectReason.REVOKED, f"{node_id!r} is revoked", field="sender")
    if not certificate.active_at(ctx.timestamp_ms):
        raise InvalidTransaction(
            RejectReason.CERTIFICATE_EXPIRED,
            f"{node_id!r}'s certificate is not in force at {ctx.timestamp_ms} ms",
            field="sender",
        )
    return Sender(address=address, node_id=node_id, role=certificate.role)


def apply_transaction(
    state: State, tx: AdmittedTransaction, ctx: BlockContext, *, registry: FamilyRegistry
) -> None:
    """Apply one admitted transaction (signature not re-checked); all or nothing.

    Raises:
        InvalidTransaction: With the rule broken; the state and ``ctx`` are unchanged.
    """
    envelope = tx.tx
    if envelope.chain_id != ctx.chain_id:
        raise InvalidTransaction(RejectReason.BAD_CHAIN_ID, "wrong chain", field="chain_id")
    family = registry.get(envelope.family, envelope.version)
    sender = resolve_sender(state, tx, ctx)
    account = state.account(sender.address)
    if envelope.nonce != account.nonce or envelope.nonce >= INT_MAX:
        raise InvalidTransaction(
            RejectReason.BAD_NONCE, f"expected {account.nonce}, got {envelope.nonce}", field="nonce"
        )
    if envelope.fee < ctx.params.min_fee:
        raise InvalidTransaction(
            RejectReason.FEE_TOO_LOW, f"{envelope.fee} < {ctx.params.min_fee}", field="fee"
        )
    if account.balance < envelope.fee:
        raise InvalidTransaction(
            RejectReason.INSUFFICIENT_FUNDS,
            f"fee {envelope.fee} > balance {account.balance}",
            field="fee",
        )
    payload = family.decode_payload(envelope.payload)
    snapshot = state.snapshot()
    n_ratings, n_evidence = len(ctx.ratings), len(ctx.evidence)
    try:
        state.set_account(
            sender.address, balance=account.balance - envelope.fee, nonce=account.nonce + 1
        )
        family.apply(state, tx, payload, TxContext(block=ctx, sender=sender, tx_hash=tx.tx_hash))
    except BaseException:
        state.revert(snapshot)
        del ctx.ratings[n_ratings:]
        del ctx.evidence[n_evidence:]
        raise
    ctx.fees += envelope.fee


def _leader_address(state: State, leader: str, timestamp_ms: int) -> bytes:
    certificate = certificate_of(state, leader)
    if certificate is None or certificate.role != Role.EDGE:
        raise BadLeader(f"leader {leader!r} is not a certified edge node")
    if is_revoked(state, leader):
        raise BadLeader(f"leader {leader!r} is revoked")
    if not certificate.active_at(timestamp_ms):
        raise BadLeader(f"leader {leader!r}'s certificate is not in force")
    return certificate.address


def _check_header(header: BlockHeader, parent: ChainTip) -> None:
    if header.height != parent.height + 1:
        raise BadHeight(f"height {header.height}, expected {parent.height + 1}")
    if header.prev_hash != parent.block_hash:
        raise BadParent(
            f"prev_hash {header.prev_hash.hex()} is not the parent {parent.block_hash.hex()}"
        )
    if header.timestamp_ms < parent.timestamp_ms:
        raise BadTimestamp(f"{header.timestamp_ms} ms is before the parent's {parent.timestamp_ms}")


def _admitted(
    transactions: tuple[Transaction, ...],
    *,
    chain_id: str,
    params: ChainParams,
    admitted: Mapping[bytes, AdmittedTransaction] | None,
    verify_signatures: bool,
    raws: Sequence[bytes] | None,
) -> list[AdmittedTransaction]:
    if raws is not None and len(raws) != len(transactions):
        raise ValueError(f"{len(raws)} raw transactions for a block of {len(transactions)}")
    result: list[AdmittedTransaction] = []
    for index, tx in enumerate(transactions):
        raw = tx.encode() if raws is None else raws[index]
        if len(raw) > params.max_tx_bytes:
            raise BadTransaction(
                index, InvalidTransaction(RejectReason.OVERSIZED, f"{len(raw)} bytes")
            )
        tx_hash = sha256(raw)
        known = None if admitted is None else admitted.get(tx_hash)
        if known is not None:
            result.append(known)
            continue
        try:
            if verify_signatures:
                result.append(admit_record(tx, chain_id=chain_id, raw=raw))
            else:
                result.append(
                    AdmittedTransaction(
                        tx=tx, raw=raw, tx_hash=tx_hash, sender_address=address_of(tx.sender)
                    )
                )
        except InvalidTransaction as exc:
            raise BadTransaction(index, exc) from None
        except CryptoError as exc:
            cause = InvalidTransaction(RejectReason.BAD_SIGNATURE, str(exc), field="sender")
            raise BadTransaction(index, cause) from None
    return result


def _finish(state: State, ctx: BlockContext, leader_address: bytes) -> int:
    """Pay fees and mint the reward to the leader; returns the reward."""
    if ctx.fees:
        credit(state, leader_address, ctx.fees)
    reward = min(ctx.params.block_reward, mint_headroom(state))
    if reward:
        mint(state, leader_address, reward)
    return reward


def apply_block(
    state: State,
    block: Block,
    *,
    parent: ChainTip,
    params: ChainParams,
    registry: FamilyRegistry,
    admitted: Mapping[bytes, AdmittedTransaction] | None = None,
    verify_signatures: bool = True,
    dry_run: bool = False,
    raws: Sequence[bytes] | None = None,
) -> ApplyResult:
    """Validate and execute ``block`` on ``state`` (in place; reverted on error or dry run).

    Args:
        state: The state after ``parent``.
        block: The block to apply.
        parent: Height, hash and timestamp of the parent (``genesis_tip`` for height 1).
        params: Chain parameters.
        registry: The chain's transaction families.
        admitted: Transactions already admitted, by hash (skips their signature checks).
        verify_signatures: False only for blocks this node built or already verified.
        dry_run: Execute and check, then restore the state (validate a proposal).
        raws: The canonical bytes of each transaction, in order, as cut from the block's own
            canonical bytes (saves re-encoding them); None: encode ``block.transactions``.

    Raises:
        BlockTooLarge, BadHeight, BadParent, BadTimestamp, BadTransactionRoot, BadLeader,
        BadTransaction, BadStateRoot: The state is unchanged.
    """
    header = block.header
    if len(block.transactions) > params.max_block_txs:
        raise BlockTooLarge(
            f"{len(block.transactions)} transactions, more than {params.max_block_txs}"
        )
    _check_header(header, parent)
    chain_id = chain_id_of(state)
    txs = _admitted(
        block.transactions,
        chain_id=chain_id,
        params=params,
        admitted=admitted,
        verify_signatures=verify_signatures,
        raws=raws,
    )
    size = block_size(header, [tx.raw for tx in txs])
    if size > params.max_block_bytes:
        raise BlockTooLarge(f"{size} bytes, more than {params.max_block_bytes}")
    tx_hashes = tuple(tx.tx_hash for tx in txs)
    if merkle_root(tx_hashes) != header.tx_root:
        raise BadTransactionRoot(f"tx_root {header.tx_root.hex()} is not the body's root")
    leader_address = _leader_address(state, header.leader, header.timestamp_ms)
    ctx = block_context(
        state,
        height=header.height,
        timestamp_ms=header.timestamp_ms,
        leader=header.leader,
        params=params,
    )
    snapshot = state.snapshot()
    try:
        for index, tx in enumerate(txs):
            try:
                apply_transaction(state, tx, ctx, registry=registry)
            except InvalidTransaction as exc:
                raise BadTransaction(index, exc) from None
        reward = _finish(state, ctx, leader_address)
        root = state.state_root()
        if root != header.state_root:
            raise BadStateRoot(f"state_root {header.state_root.hex()}, computed {root.hex()}")
        write_set = state.write_set(snapshot)
    except BaseException:
        state.revert(snapshot)
        raise
    if dry_run:
        state.revert(snapshot)
    else:
        state.commit()
    return ApplyResult.of(
        state, header, root=root, write_set=write_set, tx_hashes=tx_hashes, ctx=ctx, reward=reward
    )


def build_block(
    state: State,
    candidates: Iterable[AdmittedTransaction],
    *,
    parent: ChainTip,
    leader: str,
    round: int,
    timestamp_ms: int,
    pow_nonce: int,
    challenge: bytes,
    params: ChainParams,
    registry: FamilyRegistry,
) -> BuiltBlock:
    """The leader's block: the valid candidates, in order, within the size limits.

    Invalid candidates are skipped and reported with their reason; the state is left unchanged
    (the block is executed and then reverted; apply it once it commits).

    Raises:
        BadLeader: ``leader`` is not a certified, unrevoked edge node.
    """
    timestamp_ms = max(timestamp_ms, parent.timestamp_ms)
    leader_address = _leader_address(state, leader, timestamp_ms)
    ctx = block_context(
        state, height=parent.height + 1, timestamp_ms=timestamp_ms, leader=leader, params=params
    )
    draft = BlockHeader(
        height=parent.height + 1,
        round=round,
        prev_hash=parent.block_hash,
        tx_root=_ZERO_HASH,
        state_root=_ZERO_HASH,
        timestamp_ms=timestamp_ms,
        leader=leader,
        pow_nonce=pow_nonce,
        challenge=challenge,
    )
    size = block_size(draft, [])
    included: list[AdmittedTransaction] = []
    rejected: list[tuple[bytes, InvalidTransaction]] = []
    snapshot = state.snapshot()
    try:
        for tx in candidates:
            if len(included) >= params.max_block_txs:
                break
            extra = len(tx.raw) + (1 if included else 0)
            if len(tx.raw) > params.max_tx_bytes:
                rejected.append(
                    (tx.tx_hash, InvalidTransaction(RejectReason.OVERSIZED, f"{len(tx.raw)} B"))
                )
                continue
            if size + extra > params.max_block_bytes:
                continue
            try:
                apply_transaction(state, tx, ctx, registry=registry)
            except InvalidTransaction as exc:
                rejected.append((tx.tx_hash, exc))
                continue
            included.append(tx)
            size += extra
        reward = _finish(state, ctx, leader_address)
        root = state.state_root()
        write_set = state.write_set(snapshot)
    finally:
        state.revert(snapshot)
    tx_hashes = tuple(tx.tx_hash for tx in included)
    header = BlockHeader(
        height=draft.height,
        round=round,
        prev_hash=parent.block_hash,
        tx_root=merkle_root(tx_hashes),
        state_root=root,
        timestamp_ms=timestamp_ms,
        leader=leader,
        pow_nonce=pow_nonce,
        challenge=challenge,
    )
    block = Block(header=header, transactions=tuple(tx.tx for tx in included))
    result = ApplyResult.of(
        state, header, root=root, write_set=write_set, tx_hashes=tx_hashes, ctx=ctx, reward=reward
    )
    return BuiltBlock(block=block, result=result, rejected=tuple(rejected))

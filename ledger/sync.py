"""Block sync: a node that was down asks a peer for blocks from a height and catches up.

Wire messages (canonical bytes, like every record): :class:`SyncRequest` (``from_height``,
``limit``) and :class:`SyncResponse` (consecutive :class:`SyncBlock` s: height, the block's
canonical bytes, the canonical commit certificate). A peer answers from its store
(:func:`answer`), never more than its own ``max_blocks``. :func:`catch_up` trusts nothing in a
response: for each block in order it checks that the certificate names this height and this
block (``ChainApp.block_hash``), verifies the certificate against the validator set of that
height as the local chain computes it (``ledger.consensus.verify_certificate``: more than two
thirds of the weight, valid signatures and watermarks), then executes the block against the
local chain (``ledger.chain.apply_block``; every signature is checked unless the same signed
bytes passed admission to the mempool) before anything is kept: the block executes on the
unchanged state, its block, certificate and write set go to the store in one atomic commit, and
only then is the write set applied in memory (``ChainApp.commit``). It
stops at the first bad block with a :class:`SyncError` naming the height; what was applied
before stays, nothing of the bad block does. Heights already committed with the same block are
skipped, so catching up twice from the same response is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.block import decode_block
from ledger.chain_app import ChainApp, ChainAppError, NoValidators
from ledger.consensus.messages import Certificate, verify_certificate
from ledger.encoding import DecodeError, Record
from ledger.errors import InvalidBlock, LedgerError
from ledger.store import ChainStore, check_uint

__all__ = [
    "BadSyncBlock",
    "BadSyncCertificate",
    "MalformedSync",
    "SyncBlock",
    "SyncConflict",
    "SyncError",
    "SyncGap",
    "SyncRequest",
    "SyncResponse",
    "answer",
    "catch_up",
    "decode_request",
    "decode_response",
]

MAX_CERTIFICATE_BYTES = 1 << 24


class SyncError(LedgerError):
    """A sync response is refused at ``height`` (0 when the message itself is malformed).

    Attributes:
        height: The first height that was not applied.
    """

    def __init__(self, height: int, detail: str) -> None:
        super().__init__(f"sync refused at height {height}: {detail}")
        self.height = height
        self.detail = detail


class MalformedSync(SyncError):
    """The request or response bytes do not decode, or a field is out of range."""


class SyncGap(SyncError):
    """The response skips heights: its next block is not the local chain's next height."""


class SyncConflict(SyncError):
    """The response holds another block at a height the local chain has already committed."""


class BadSyncCertificate(SyncError):
    """The certificate does not prove the block at its height (wrong block, no quorum, ...)."""


class BadSyncBlock(SyncError):
    """The block fails the chain's rules at its height.

    Attributes:
        cause: The chain's own rejection.
    """

    def __init__(self, height: int, cause: InvalidBlock) -> None:
        super().__init__(height, f"{type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRequest(Record):
    """Ask for up to ``limit`` committed blocks from ``from_height`` (≥ 1) on."""

    from_height: int
    limit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncBlock(Record):
    """One committed block: its height, canonical block bytes and canonical certificate."""

    height: int
    block: bytes
    certificate: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResponse(Record):
    """Consecutive committed blocks from ``from_height``, and the answering peer's height."""

    from_height: int
    head: int
    blocks: tuple[SyncBlock, ...]


def decode_request(data: bytes, *, max_bytes: int = 1024) -> SyncRequest:
    """Strictly decode a request from a peer.

    Raises:
        MalformedSync: Naming the field.
    """
    try:
        request = SyncRequest.decode(data, max_bytes=max_bytes)
    except DecodeError as exc:
        raise MalformedSync(0, str(exc)) from None
    if request.from_height < 1 or request.limit < 1:
        raise MalformedSync(0, "from_height and limit must be at least 1")
    return request


def decode_response(data: bytes, *, max_bytes: int) -> SyncResponse:
    """Strictly decode a response from a peer.

    Raises:
        MalformedSync: Naming the field.
    """
    try:
        return SyncResponse.decode(data, max_bytes=max_bytes)
    except DecodeError as exc:
        raise MalformedSync(0, str(exc)) from None


def answer(store: ChainStore, request: SyncRequest, max_blocks: int) -> SyncResponse:
    """The blocks a peer asked for, from ``store``: at most ``min(request.limit, max_blocks)``.

    Raises:
        MalformedSync: ``from_height`` or ``limit`` below 1 (``max_blocks`` must be ≥ 1).
    """
    check_uint("max_blocks", max_blocks, minimum=1)
    if request.from_height < 1 or request.limit < 1:
        raise MalformedSync(0, "from_height and limit must be at least 1")
    stored = store.blocks_from(request.from_height, min(request.limit, max_blocks))
    return SyncResponse(
        from_height=request.from_height,
        head=store.height(),
        blocks=tuple(
            SyncBlock(height=s.height, block=s.block, certificate=s.certificate) for s in stored
        ),
    )


def catch_up(app: ChainApp, response: SyncResponse) -> int:
    """Verify and apply a response's blocks in order (module docstring); returns how many.

    Raises:
        MalformedSync, SyncGap, SyncConflict, BadSyncCertificate, BadSyncBlock: At the first
            block refused, naming its height; the blocks before it stay applied.
    """
    applied = 0
    for item in response.blocks:
        height = item.height
        if height <= app.height:
            known = app.store.block_at(height)
            if known is None or known.block != item.block:
                raise SyncConflict(height, "another block is committed at this height")
            continue
        if height != app.height + 1:
            raise SyncGap(height, f"the local chain needs height {app.height + 1} first")
        try:
            certificate = Certificate.decode(item.certificate, max_bytes=MAX_CERTIFICATE_BYTES)
        except DecodeError as exc:
            raise MalformedSync(height, f"certificate: {exc}") from None
        try:
            block = decode_block(item.block, params=app.params)
        except InvalidBlock as exc:
            raise BadSyncBlock(height, exc) from None
        block_hash = app.block_hash(item.block)
        if certificate.height != height or certificate.block_hash != block_hash:
            raise BadSyncCertificate(height, "the certificate is for another height or block")
        if block.header.height != height:
            raise BadSyncBlock(height, InvalidBlock(f"the block says height {block.header.height}"))
        try:
            validators = app.validator_set(height)
        except NoValidators as exc:
            raise BadSyncCertificate(height, str(exc)) from None
        if not verify_certificate(certificate, validators):
            raise BadSyncCertificate(height, "no quorum of valid, watermarked precommits")
        try:
            app.commit(height, item.block, block_hash, certificate)
        except InvalidBlock as exc:
            raise BadSyncBlock(height, exc) from None
        except ChainAppError as exc:
            raise SyncConflict(height, str(exc)) from None
        applied += 1
    return applied

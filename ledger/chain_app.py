"""The real chain as consensus sees it: ``ChainApp`` implements ``consensus.Application``.

One node's chain: the state (from genesis), a :class:`ledger.mempool.Mempool`, the reputation
table fed with every committed block's ratings and evidence, and the node's
:class:`ledger.store.ChainStore`, to which each block, its commit certificate and its state
writes are persisted in one atomic ``store.commit``.

* ``validator_set(h)`` = :func:`ledger.reputation.validators_at` of the edge nodes whose
  certificates are unrevoked and in force at the timestamp of block h−1, over the table of
  height h−1, weight 1 each: a pure function of the chain below h, computed once when h−1
  commits and kept for every height (evidence of old heights is judged against its own set).
* ``block_hash`` is the header hash (the chain's block hash, the store's key) when the bytes
  decode to a block whose body matches its ``tx_root``; otherwise ``sha256(0xff ‖ bytes)``, which
  no canonical header can hash to. So one identifier never names two different block bodies.
* ``propose`` builds with :func:`ledger.chain.build_block`: this node's own waiting transactions,
  then evidence transactions signed by this node for the offences its consensus machine recorded
  (``add_evidence``; not yet on chain, at most ``max_evidence`` per block), then the rest of the
  mempool. The block's 32-byte challenge ϕ is ``sha256`` of the proposer's consensus challenge.
* ``check(h, block)`` = strict decode, the leader must be a validator of h, then
  ``apply_block(dry_run=True)``: 0 or a :class:`ChainReason`. ``commit`` persists, then applies
  the checked write set (no second execution) and advances the reputation table.
* Caches, all keyed by ``sha256`` of the block bytes (so a tampered body under a known header
  never hits an entry) and bounded: ``block_hash`` results (at most 257, a pure function of
  the bytes), the decoded block of :func:`ledger.chain_received.decode_received` shared by
  ``block_hash``, ``check`` and ``commit`` (at most ``_MAX_RECEIVED``, dropped on each commit)
  and the check results (dropped on each commit). A block's transactions found in the mempool
  by hash are not decoded or verified again; every other one is, during ``check``.

Evidence on chain: an offence found by consensus (:class:`ledger.consensus.evidence.Evidence`)
becomes a ``ratings``/``evidence`` transaction whose ``proof`` is the consensus record and whose
``subject`` is ``r<round>/<step>`` (:func:`offence_subject`), so the chain's offence identity
(offender, kind, height, subject) is the machine's evidence key and each offence is recorded once
(the family refuses duplicates). The ratings family's evidence verifier binds the payload to the
proof (kind, offender, height, subject), requires the offence to lie below the recording block,
and checks the proof by :func:`ledger.consensus.evidence.verify_evidence`. Proof that a block was
(in)valid at height e re-executes that block on the state of height e−1, which the node rebuilds
from its store and the undo sets of the last ``params.evidence_max_age`` blocks; a block at
height H accepts such proof only for ``H − evidence_max_age ≤ e < H``. Where re-checking would
need an older state (evidence nested in an old block), the proof is refused as undecidable,
never judged either way, so no node is charged on a guess. ``TRADE_FRAUD`` and ``TIMEOUT`` have
no verifiable proof yet and are refused.

Restart (:meth:`ChainApp.open`) replays the stored blocks from genesis (trusting their
certificates: signatures and evidence proofs are not re-verified), checking each block hash and
state root against the store. Replay is chosen over loading the stored state because the
reputation table, the validator sets of past heights and the undo window are folds over the
chain's records with no stored form; replay rebuilds all of them in one deterministic pass and
cross-checks the stored roots on the way, at the cost of O(chain length) on open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ledger.block import Block, ChainTip, decode_block
from ledger.chain import ApplyResult, apply_block
from ledger.chain_evidence import (
    BLOCK_VALIDITY_KINDS,
    CONSENSUS_KINDS,
    _subject,
    offence_subject,
)
from ledger.chain_evidence import MAX_PENDING_EVIDENCE as MAX_PENDING_EVIDENCE
from ledger.chain_proofs import ProofsMixin
from ledger.chain_proposer import ProposerMixin
from ledger.chain_reasons import ChainAppError, ChainReason, NotAValidator, NoValidators, reason_of
from ledger.chain_received import ReceivedBlock, decode_received
from ledger.chain_replay import replay_store
from ledger.chain_validators import ValidatorsMixin
from ledger.consensus.evidence import Evidence as ConsensusEvidence
from ledger.consensus.evidence import EvidenceKey
from ledger.consensus.messages import Certificate
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import sha256
from ledger.errors import InvalidBlock
from ledger.evidence_kinds import EvidenceKind
from ledger.families import builtin_registry
from ledger.families.ratings import evidence_key
from ledger.genesis import Genesis, genesis_state, genesis_tip
from ledger.identity import Certificate as NodeCertificate
from ledger.identity import Role
from ledger.mempool import Mempool
from ledger.reputation import ReputationTable
from ledger.state import CERTIFICATE_PREFIX, REVOKED_PREFIX
from ledger.store import ChainStore, StoredBlock

__all__ = [
    "BLOCK_VALIDITY_KINDS",
    "CONSENSUS_KINDS",
    "ChainApp",
    "ChainAppError",
    "ChainReason",
    "CommitObserver",
    "NoValidators",
    "NotAValidator",
    "offence_subject",
    "reason_of",
]

_MAX_CERTIFICATE = 1 << 24
_MAX_RECEIVED = 16
"""Most decoded blocks kept (by content hash) between commits; all are dropped on commit."""

CommitObserver = Callable[[int, Block, ApplyResult, ReputationTable], None]
"""Called after each commit (and each replayed block) with the height, block, result, table."""


class ChainApp(ValidatorsMixin, ProofsMixin, ProposerMixin):
    """One node's chain behind consensus (module docstring). Build with :meth:`open`.

    Attributes:
        genesis, params, chain_id: The chain.
        node, key: This node's id and signing key (evidence transactions, challenges).
        store: The node's chain store.
        state: The state at :attr:`height`.
        table: The reputation table at :attr:`height`.
        mempool: Waiting client transactions.
        registry: The families, with evidence bound to consensus proofs.
    """

    def __init__(
        self,
        genesis: Genesis,
        store: ChainStore,
        *,
        node: str,
        key: PrivateKey,
        mempool: Mempool | None = None,
        max_evidence: int = 32,
        on_commit: CommitObserver | None = None,
    ) -> None:
        self.genesis = genesis
        self.params = genesis.params
        self.chain_id = genesis.chain_id
        self.node = node
        self.key = key
        self.address = key.address
        self.store = store
        self.mempool = mempool if mempool is not None else Mempool()
        self.max_evidence = max_evidence
        self.on_commit = on_commit
        self.registry = builtin_registry(evidence_verifier=self._verify_evidence)
        self.state = genesis_state(genesis)
        self.tips: list[ChainTip] = [genesis_tip(genesis)]
        self.table = ReputationTable(
            self.params.reputation_params(),
            genesis_edges=[c.node_id for c in genesis.certificates if c.role == Role.EDGE],
        )
        self._edges: list[NodeCertificate] | None = None
        self._validators: dict[int, ValidatorSet | None] = {1: self._compute_validators(1)}
        self._undo: dict[int, dict[bytes, bytes | None]] = {}
        self._pending: dict[bytes, ConsensusEvidence] = {}
        self._checked: dict[bytes, tuple[int, Block | None, ApplyResult | None]] = {}
        self._past: dict[tuple[int, bytes], int] = {}
        self._ids: dict[bytes, bytes] = {}
        self._received: dict[bytes, ReceivedBlock] = {}
        self._depth = 0

    # ------------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        store: ChainStore,
        genesis: Genesis,
        *,
        node: str,
        key: PrivateKey,
        mempool: Mempool | None = None,
        max_evidence: int = 32,
        on_commit: CommitObserver | None = None,
    ) -> ChainApp:
        """The node's chain from its store: genesis written if new, stored blocks replayed.

        Raises:
            ledger.store.StoreMismatch: The store holds another genesis.
            ledger.store.StoreCorrupt: A stored block does not decode, or its hash or state
                root is not what replaying it gives.
        """
        app = cls(
            genesis,
            store,
            node=node,
            key=key,
            mempool=mempool,
            max_evidence=max_evidence,
            on_commit=on_commit,
        )
        replay_store(app, store, genesis)
        return app

    # ------------------------------------------------------------------------------ reading

    @property
    def height(self) -> int:
        """The last committed height (0: genesis)."""
        return len(self.tips) - 1

    @property
    def tip(self) -> ChainTip:
        """The last committed block as the parent of the next."""
        return self.tips[-1]

    def head_hash(self) -> bytes:
        """Hash of the last committed block (the genesis hash at height 0)."""
        return self.tips[-1].block_hash

    def state_root(self) -> bytes:
        """The state root at :attr:`height`."""
        return self.state.state_root()

    def evidence_on_chain(self, key: EvidenceKey) -> bool:
        """Whether consensus offence ``key`` (kind, offender, height, round, step) is on chain."""
        kind, offender, height, round_, step = key
        subject = _subject(round_, step)
        return (
            evidence_key(offender=offender, kind=kind, height=height, subject=subject) in self.state
        )

    # ------------------------------------------------------------------------------ blocks

    def block_hash(self, block: bytes) -> bytes:
        """The header hash of a well-formed block, else ``sha256(0xff ‖ bytes)`` (docstring)."""
        digest = sha256(block)
        found = self._ids.get(digest)
        if found is None:
            found = sha256(b"\xff" + block)
            try:
                received = self._received_block(block, digest)
            except InvalidBlock:
                received = None
            if received is not None and received.tx_root_ok:
                found = received.block.block_hash
            if len(self._ids) > 256:
                self._ids.clear()
            self._ids[digest] = found
        return found

    def _received_block(self, block: bytes, digest: bytes) -> ReceivedBlock:
        """``block`` decoded (once: cached by ``digest`` = its ``sha256``) with the mempool.

        Raises:
            InvalidBlock: As :func:`ledger.block.decode_block`.
        """
        received = self._received.get(digest)
        if received is None:
            received = decode_received(block, params=self.params, known=self.mempool.by_hash)
            while len(self._received) >= _MAX_RECEIVED:
                del self._received[next(iter(self._received))]
            self._received[digest] = received
        return received

    def _execute(
        self, block: Block, *, admitted: bool = True, received: ReceivedBlock | None = None
    ) -> ApplyResult:
        """Validate ``block`` as the next block, without changing the state.

        ``received``: ``block`` as :func:`decode_received` found it (its transactions' bytes, and
        those already admitted, whose signatures are not checked again; the others are).

        Raises:
            InvalidBlock: The rule it breaks (NotAValidator for a leader outside the set).
        """
        height = block.header.height
        if height == self.height + 1 and not self._is_validator(block.header.leader, height):
            raise NotAValidator(f"leader {block.header.leader!r} is not a validator of {height}")
        return apply_block(
            self.state,
            block,
            parent=self.tip,
            params=self.params,
            registry=self.registry,
            admitted=(received.known if received is not None else self.mempool.by_hash)
            if admitted
            else None,
            dry_run=True,
            raws=None if received is None else received.raws,
        )

    def check(self, height: int, block: bytes) -> int:
        """0 when ``block`` is valid as the next block at ``height``, else a ChainReason code."""
        if height != self.height + 1:
            return ChainReason.WRONG_HEIGHT
        digest = sha256(block)
        cached = self._checked.get(digest)
        if cached is not None:
            return cached[0]
        decoded: Block | None = None
        result: ApplyResult | None = None
        try:
            received = self._received_block(block, digest)
            decoded = received.block
            result = self._execute(decoded, received=received)
            reason = 0
        except InvalidBlock as exc:
            reason = reason_of(exc)
        self._checked[digest] = (reason, decoded, result)
        return reason

    def offence_of(self, reason: int) -> EvidenceKind:
        """Proposing a block the chain rejects is an invalid block (no price rule yet)."""
        return EvidenceKind.INVALID_BLOCK

    # ---------------------------------------------------------------------------- committing

    def commit(
        self, height: int, block: bytes, block_hash: bytes, certificate: Certificate
    ) -> None:
        """Persist and apply a decided block (its certificate was verified by the caller).

        Committing the block already committed at ``height`` is a no-op.

        Raises:
            ChainAppError: Out of order, or another block is committed at ``height``.
            InvalidBlock: The block is not valid on this chain (state and store unchanged).
        """
        if height <= self.height:
            stored = self.store.block_at(height)
            if stored is not None and stored.block_hash == block_hash:
                return
            raise ChainAppError(f"height {height} is committed with another block")
        if height != self.height + 1:
            raise ChainAppError(f"commit of height {height} on a chain of height {self.height}")
        cached = self._checked.get(sha256(block))
        if cached is not None and cached[0] == 0 and cached[1] is not None and cached[2]:
            decoded, result = cached[1], cached[2]
        else:
            decoded = decode_block(block, params=self.params)
            result = self._execute(decoded, admitted=cached is None)
        if decoded.block_hash != block_hash or decoded.header.height != height:
            raise ChainAppError(
                f"commit of height {height}: the block is {decoded.block_hash.hex()} at height "
                f"{decoded.header.height}, the certificate names {block_hash.hex()}"
            )
        self.store.commit(
            StoredBlock(
                height=height,
                block_hash=block_hash,
                block=block,
                certificate=certificate.encode(),
                state_root=result.state_root,
            ),
            result.write_set,
        )
        self._advance(decoded, result)

    def committed(self, height: int) -> tuple[bytes, Certificate] | None:
        """The committed block of ``height`` and its certificate, from the store."""
        stored = self.store.block_at(height) if height >= 1 else None
        if stored is None:
            return None
        return stored.block, Certificate.decode(stored.certificate, max_bytes=_MAX_CERTIFICATE)

    def _advance(self, block: Block, result: ApplyResult) -> None:
        """Apply a checked block's write set and move everything to its height."""
        height = block.header.height
        state = self.state
        undo = {key: state.get(key) for key in result.write_set}
        for key, value in result.write_set.items():
            if value is None:
                state.delete(key)
            else:
                state.set(key, value)
        state.commit()
        self._undo[height] = undo
        self._undo.pop(height - self.params.evidence_max_age, None)
        self.tips.append(block.tip())
        self.table.apply_block(height, result.ratings, result.evidence)
        if any(k.startswith((CERTIFICATE_PREFIX, REVOKED_PREFIX)) for k in result.write_set):
            self._edges = None
        self._validators[height + 1] = self._compute_validators(height + 1)
        self.mempool.remove(result.tx_hashes)
        self.mempool.prune(state)
        self._forget(key for key in self._pending if key in state)
        self._checked.clear()
        self._past.clear()
        self._received.clear()
        if self.on_commit is not None:
            self.on_commit(height, block, result, self.table)

    def _forget(self, keys: Iterable[bytes]) -> None:
        for key in list(keys):
            del self._pending[key]

    def restarted(self) -> ChainApp:
        """This node after a restart: reopened from its store, pending evidence carried over.

        The mempool is lost (clients re-submit); queued evidence stands for what a node would
        persist next to its votes.
        """
        app = ChainApp.open(
            self.store,
            self.genesis,
            node=self.node,
            key=self.key,
            max_evidence=self.max_evidence,
            on_commit=self.on_commit,
        )
        for evidence in self._pending.values():
            app.add_evidence(evidence)
        return app

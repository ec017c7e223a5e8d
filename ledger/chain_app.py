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

Evidence on chain: an offence found by consensus (:class:`ledger.consensus.evidence.Evidence`)
becomes a ``ratings``/``evidence`` transaction whose ``proof`` is the consensus record and whose
``subject`` is ``r<round>/<step>`` (:func:`offence_subject`), so the chain's offence identity
(offender, kind, height, subject) is the machine's evidence key and each offence is recorded once
(the family refuses duplicates). The ratings family is wrapped to bind the payload to the proof
(kind, offender, height, subject) and to require the offence to lie below the recording block;
the proof is checked by :func:`ledger.consensus.evidence.verify_evidence`. Proof that a block was
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
from enum import IntEnum

from ledger.block import Block, ChainTip, decode_block, merkle_root
from ledger.chain import ApplyResult, apply_block, build_block
from ledger.consensus.evidence import Evidence as ConsensusEvidence
from ledger.consensus.evidence import EvidenceKey, verify_evidence
from ledger.consensus.messages import Certificate, Step, make_challenge
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import DecodeError, JsonObject, Record, sha256
from ledger.errors import (
    BadBlockEncoding,
    BadHeight,
    BadLeader,
    BadParent,
    BadStateRoot,
    BadTimestamp,
    BadTransaction,
    BadTransactionRoot,
    BlockTooLarge,
    InvalidBlock,
    InvalidTransaction,
    LedgerError,
    RejectReason,
)
from ledger.evidence_kinds import EvidenceKind
from ledger.families import CoinFamily, FamilyRegistry, IdentityFamily, builtin_registry
from ledger.families.identity import certificate_of, is_revoked
from ledger.families.ratings import (
    EvidencePayload,
    EvidenceVerifier,
    RatingsFamily,
    evidence_key,
)
from ledger.families.registry import TxContext
from ledger.genesis import Genesis, genesis_hash, genesis_state, genesis_tip
from ledger.identity import Certificate as NodeCertificate
from ledger.identity import Role
from ledger.mempool import Mempool
from ledger.reputation import ReputationTable, validators_at
from ledger.state import CERTIFICATE_PREFIX, REVOKED_PREFIX, State
from ledger.store import ChainStore, StoreCorrupt, StoredBlock
from ledger.transactions import AdmittedTransaction, admit, admit_record, sign_transaction

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

CONSENSUS_KINDS = frozenset(
    {
        EvidenceKind.EQUIVOCATION,
        EvidenceKind.FORGED_WATERMARK,
        EvidenceKind.MISSING_WATERMARK,
        EvidenceKind.FALSE_VERDICT,
        EvidenceKind.INVALID_BLOCK,
        EvidenceKind.MANIPULATED_PRICE,
    }
)
"""Kinds with a consensus proof (:mod:`ledger.consensus.evidence`)."""

BLOCK_VALIDITY_KINDS = frozenset(
    {EvidenceKind.FALSE_VERDICT, EvidenceKind.INVALID_BLOCK, EvidenceKind.MANIPULATED_PRICE}
)
"""Kinds whose proof re-executes a block (bounded by ``params.evidence_max_age``)."""

MAX_PENDING_EVIDENCE = 1024
_MAX_CERTIFICATE = 1 << 24

CommitObserver = Callable[[int, Block, ApplyResult, ReputationTable], None]
"""Called after each commit (and each replayed block) with the height, block, result, table."""


class ChainReason(IntEnum):
    """Why ``check`` rejects a block (application codes 1..999 of ``Application.check``).

    A block rejected for a transaction gets ``BAD_TRANSACTION + RejectReason`` (101..199).
    """

    MALFORMED = 1
    TOO_LARGE = 2
    WRONG_HEIGHT = 3
    WRONG_PARENT = 4
    BAD_TIMESTAMP = 5
    BAD_LEADER = 6
    BAD_TX_ROOT = 7
    BAD_STATE_ROOT = 8
    NOT_A_VALIDATOR = 9
    BAD_TRANSACTION = 100


class ChainAppError(LedgerError):
    """Local misuse of the chain application (a commit out of order, a foreign parent)."""


class NoValidators(ChainAppError, LookupError):
    """No validator set is known for a height, or none of the edge nodes is eligible."""


class NotAValidator(InvalidBlock):
    """The block's leader is not in the validator set of its height."""


class _Undecidable(Exception):
    """A proof needs a state older than the evidence window (never a verdict either way)."""


_REASONS: tuple[tuple[type[InvalidBlock], ChainReason], ...] = (
    (BadBlockEncoding, ChainReason.MALFORMED),
    (BlockTooLarge, ChainReason.TOO_LARGE),
    (BadHeight, ChainReason.WRONG_HEIGHT),
    (BadParent, ChainReason.WRONG_PARENT),
    (BadTimestamp, ChainReason.BAD_TIMESTAMP),
    (BadLeader, ChainReason.BAD_LEADER),
    (BadTransactionRoot, ChainReason.BAD_TX_ROOT),
    (BadStateRoot, ChainReason.BAD_STATE_ROOT),
    (NotAValidator, ChainReason.NOT_A_VALIDATOR),
)


def reason_of(exc: InvalidBlock) -> int:
    """The application reason code (1..999) of a block rejection."""
    if isinstance(exc, BadTransaction):
        return ChainReason.BAD_TRANSACTION + int(exc.cause.reason)
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return ChainReason.MALFORMED


def offence_subject(evidence: ConsensusEvidence) -> str:
    """The chain's ``subject`` of a consensus offence: ``r<round>/<step>`` (e.g. ``r0/prevote``)."""
    return _subject(evidence.round, evidence.step)


def _subject(round_: int, step: Step) -> str:
    return f"r{round_}/{step.name.lower()}"


def _chain_key(evidence: ConsensusEvidence) -> bytes:
    return evidence_key(
        offender=evidence.offender,
        kind=evidence.kind,
        height=evidence.height,
        subject=offence_subject(evidence),
    )


def _bad_evidence(detail: str, field: str) -> InvalidTransaction:
    return InvalidTransaction(RejectReason.BAD_EVIDENCE, detail, field=field)


class _BoundRatings(RatingsFamily):
    """The ratings family, with evidence payloads bound to their consensus proof (docstring)."""

    def __init__(self, verifier: EvidenceVerifier, max_age: int) -> None:
        super().__init__(verifier)
        self._max_age = max_age

    def apply(self, state: State, tx: AdmittedTransaction, payload: Record, ctx: TxContext) -> None:
        """Check the binding of an evidence payload, then apply as the ratings family does."""
        if isinstance(payload, EvidencePayload):
            _check_binding(payload, ctx.block.height, self._max_age)
        super().apply(state, tx, payload, ctx)


def _check_binding(payload: EvidencePayload, height: int, max_age: int) -> None:
    if payload.kind not in CONSENSUS_KINDS:
        raise _bad_evidence(f"no verifiable proof of {payload.kind.name} yet", "payload.kind")
    try:
        proof = ConsensusEvidence.from_fields(payload.proof, "payload.proof")
    except DecodeError as exc:
        raise _bad_evidence(f"not a consensus proof: {exc.reason}", exc.field) from None
    if proof.kind != payload.kind or proof.offender != payload.offender:
        raise _bad_evidence("the proof is of another kind or offender", "payload.proof")
    if proof.height != payload.height:
        raise _bad_evidence(f"the proof is of height {proof.height}", "payload.height")
    if payload.subject != offence_subject(proof):
        raise _bad_evidence(f"must be {offence_subject(proof)!r}", "payload.subject")
    if not payload.height < height:
        raise _bad_evidence(f"offence must be below the block's height {height}", "payload.height")
    if payload.kind in BLOCK_VALIDITY_KINDS and payload.height < height - max_age:
        raise _bad_evidence(
            f"proof of block validity older than {max_age} blocks", "payload.height"
        )


class ChainApp:
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
        self.registry = FamilyRegistry(
            [
                CoinFamily(),
                _BoundRatings(self._verify_evidence, self.params.evidence_max_age),
                IdentityFamily(),
            ]
        )
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

    # ------------------------------------------------------------------------- validators

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

    # ------------------------------------------------------------------------------ blocks

    def block_hash(self, block: bytes) -> bytes:
        """The header hash of a well-formed block, else ``sha256(0xff ‖ bytes)`` (docstring)."""
        digest = sha256(block)
        found = self._ids.get(digest)
        if found is None:
            found = sha256(b"\xff" + block)
            try:
                decoded = decode_block(block, params=self.params)
            except InvalidBlock:
                decoded = None
            if decoded is not None and decoded.header.tx_root == merkle_root(
                [sha256(tx.encode()) for tx in decoded.transactions]
            ):
                found = decoded.block_hash
            if len(self._ids) > 256:
                self._ids.clear()
            self._ids[digest] = found
        return found

    def _execute(self, block: Block, *, admitted: bool = True) -> ApplyResult:
        """Validate ``block`` as the next block, without changing the state.

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
            admitted=self.mempool.by_hash if admitted else None,
            dry_run=True,
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
            decoded = decode_block(block, params=self.params)
            result = self._execute(decoded)
            reason = 0
        except InvalidBlock as exc:
            reason = reason_of(exc)
        self._checked[digest] = (reason, decoded, result)
        return reason

    def _check_past(self, height: int, block: bytes) -> int:
        """``check`` of a block at an earlier height ``height`` ≤ :attr:`height`, for proofs.

        Raises:
            _Undecidable: The state of ``height − 1`` is older than the undo window.
        """
        if not 1 <= height <= self.height:
            return ChainReason.WRONG_HEIGHT
        key = (height, sha256(block))
        known = self._past.get(key)
        if known is not None:
            return known
        state = self._state_at(height - 1)
        try:
            decoded = decode_block(block, params=self.params)
            if not self._is_validator(decoded.header.leader, height):
                raise NotAValidator(f"leader {decoded.header.leader!r} is not a validator")
            apply_block(
                state,
                decoded,
                parent=self.tips[height - 1],
                params=self.params,
                registry=self.registry,
                dry_run=True,
            )
            reason = 0
        except InvalidBlock as exc:
            reason = reason_of(exc)
        self._past[key] = reason
        return reason

    def _state_at(self, height: int) -> State:
        """The state of an earlier ``height``: the store's state with undo sets applied."""
        if any(h not in self._undo for h in range(self.height, height, -1)):
            raise _Undecidable(
                f"the state of height {height} is older than the {self.params.evidence_max_age}"
                f" blocks kept at height {self.height}"
            )
        state = State.from_items(self.store.state_items())
        for past in range(self.height, height, -1):
            for key, old in self._undo[past].items():
                if old is None:
                    state.delete(key)
                else:
                    state.set(key, old)
        state.commit()
        return state

    def offence_of(self, reason: int) -> EvidenceKind:
        """Proposing a block the chain rejects is an invalid block (no price rule yet)."""
        return EvidenceKind.INVALID_BLOCK

    # ----------------------------------------------------------------------------- evidence

    def _verify_evidence(
        self, kind: EvidenceKind, offender: str, proof: JsonObject, state: State
    ) -> str | None:
        """The ratings family's verifier: None when the consensus proof holds, else why not."""
        outer = self._depth == 0
        self._depth += 1
        try:
            evidence = ConsensusEvidence.from_fields(proof, "proof")
            validators = self._validators.get(evidence.height)
            if validators is None:
                return f"no validator set is known at height {evidence.height}"
            ok = verify_evidence(
                evidence,
                validators,
                block_hash=self.block_hash,
                check=self._check_past,
                offence_of=self.offence_of,
                max_bytes=self.params.max_block_bytes,
            )
            return None if ok else f"the {kind.name} proof against {offender!r} does not hold"
        except DecodeError as exc:
            return f"not a consensus proof: {exc}"
        except _Undecidable as exc:
            if not outer:
                raise
            return f"cannot be judged: {exc}"
        finally:
            self._depth -= 1

    def verify_offence(self, evidence: ConsensusEvidence) -> str | None:
        """None when this chain would accept ``evidence``'s proof now, else why not.

        Only the proof is judged (not its age or whether it is already recorded).
        """
        return self._verify_evidence(
            evidence.kind, evidence.offender, evidence.to_fields(), self.state
        )

    def add_evidence(self, evidence: ConsensusEvidence) -> None:
        """Queue an offence this node's machine recorded, for its next proposals."""
        key = _chain_key(evidence)
        if key in self.state or len(self._pending) >= MAX_PENDING_EVIDENCE:
            return
        self._pending.setdefault(key, evidence)

    @property
    def pending_evidence(self) -> tuple[ConsensusEvidence, ...]:
        """Offences queued and not yet on chain."""
        return tuple(self._pending.values())

    def _evidence_transaction(self, evidence: ConsensusEvidence, nonce: int) -> AdmittedTransaction:
        payload = EvidencePayload(
            op="evidence",
            kind=evidence.kind,
            offender=evidence.offender,
            height=evidence.height,
            subject=offence_subject(evidence),
            proof=evidence.to_fields(),
        )
        tx = sign_transaction(
            self.key,
            chain_id=self.chain_id,
            nonce=nonce,
            fee=self.params.min_fee,
            family=RatingsFamily.name,
            version=RatingsFamily.version,
            payload=payload,
        )
        return admit_record(tx, chain_id=self.chain_id)

    # ---------------------------------------------------------------------------- proposing

    def submit(self, tx: bytes) -> int:
        """Admit a client transaction to the mempool: 0, a RejectReason or a MempoolReason."""
        try:
            admitted = admit(tx, chain_id=self.chain_id, max_bytes=self.params.max_tx_bytes)
        except InvalidTransaction as exc:
            return int(exc.reason)
        return self.mempool.add(admitted, self.state.account(admitted.sender_address).nonce)

    def _candidates(self, height: int) -> list[AdmittedTransaction]:
        own: list[AdmittedTransaction] = []
        others: list[AdmittedTransaction] = []
        for tx in self.mempool.candidates(first=self.address):
            (own if tx.sender_address == self.address else others).append(tx)
        nonce = self.state.account(self.address).nonce
        for tx in own:
            if tx.tx.nonce != nonce:
                break
            nonce += 1
        evidence: list[AdmittedTransaction] = []
        oldest = height - self.params.evidence_max_age
        for key in sorted(self._pending):
            item = self._pending[key]
            if item.kind in BLOCK_VALIDITY_KINDS and item.height < oldest:
                del self._pending[key]  # too old to be judged: no block may take it
                continue
            if item.height >= height or len(evidence) >= self.max_evidence:
                continue
            evidence.append(self._evidence_transaction(item, nonce))
            nonce += 1
        return [*own, *evidence, *others]

    def propose(
        self,
        *,
        height: int,
        round_: int,
        prev_hash: bytes,
        timestamp_ms: int,
        leader: str,
        nonce: int,
    ) -> bytes:
        """A block on the current tip from the mempool and pending evidence (module docstring).

        Raises:
            ChainAppError: ``height`` or ``prev_hash`` is not the next block's.
        """
        if height != self.height + 1 or prev_hash != self.tip.block_hash:
            raise ChainAppError(
                f"propose at height {height} on {prev_hash.hex()[:12]}: the chain is at "
                f"{self.height} with head {self.tip.block_hash.hex()[:12]}"
            )
        built = build_block(
            self.state,
            self._candidates(height),
            parent=self.tip,
            leader=leader,
            round=round_,
            timestamp_ms=timestamp_ms,
            pow_nonce=nonce,
            challenge=sha256(make_challenge(self.key, height, round_)),
            params=self.params,
            registry=self.registry,
        )
        keep = (RejectReason.BAD_NONCE, RejectReason.INSUFFICIENT_FUNDS)
        self.mempool.remove(h for h, exc in built.rejected if exc.reason not in keep)
        data = built.block.encode()
        reason = 0
        if not self._is_validator(leader, height):
            reason = ChainReason.NOT_A_VALIDATOR
        self._checked[sha256(data)] = (reason, built.block, built.result if not reason else None)
        return data

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
        self._ids.clear()
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

"""A deterministic simulator of a validator pool, with faults, Byzantine members and invariants.

``ValidatorPool(n, seed, ...)`` runs ``n`` :class:`ConsensusMachine` s (each over its own
application: a :class:`~ledger.consensus.toyapp.ToyApp` by default, or whatever a
:class:`PoolSetup` makes, e.g. the real chain of :mod:`ledger.consensus.chainpool`) on one
virtual clock in integer milliseconds, and delivers every action between them under a scheduler
seeded by ``seed`` (plenum
``sim_network.py``, h11 ``tests/helpers.py``): random delay (hence reordering), loss,
duplication and partitions, all of which stop at ``Faults.heal_ms`` (Tendermint's GST). Members
can be Byzantine through the hooks of :mod:`.hooks`, or Twins (a second machine with the same
id and key); honest members can be restarted, keeping only what ``SimApp.restarted`` keeps
(the disk: the toy app as it is, a ``ChainApp`` reopened from its store) and the payloads of
their ``PersistVote`` actions.

:func:`check_invariants` then asserts, naming the seed and the height: agreement, validity
(the agreed chain replays in a fresh app), contiguous chains, certificate soundness (> 2/3 of
the weight, each signer once, valid signatures and watermarks), no double signing by an honest
node (also across restarts), liveness after the network heals, every offence an honest node
detected recorded on chain exactly once, and no evidence against an honest node.

Randomness is a SplitMix64 generator seeded with ``seed`` (floor 1 may not import ``random``).
Entry point: ``python -m ledger.consensus.pool --seeds 10000`` (``make soak``).
"""

from __future__ import annotations

import argparse
import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.consensus.app import Application, ConsensusParams
from ledger.consensus.events import (
    Action,
    Broadcast,
    CommitBlock,
    Event,
    MessageReceived,
    PersistVote,
    RecordEvidence,
    ScheduleTimeout,
    Send,
    Start,
    TimeoutFired,
    TransactionSubmitted,
)
from ledger.consensus.evidence import Evidence, EvidenceKey, verify_evidence
from ledger.consensus.hooks import (
    Amnesia,
    Behaviour,
    Delay,
    Equivocate,
    FalseVerdict,
    ForgeWatermark,
    HookedMachine,
    InvalidBlock,
    Silent,
    WithholdVotes,
)
from ledger.consensus.machine import ConsensusMachine
from ledger.consensus.messages import (
    Certificate,
    ProposalHeader,
    Vote,
    decode_envelope,
    verify_certificate,
)
from ledger.consensus.toyapp import ToyApp, ToyBlock, make_tx, tamper_price, tamper_signature
from ledger.consensus.validators import ValidatorSet
from ledger.crypto import PrivateKey
from ledger.encoding import DecodeError, canonical, sha256

__all__ = [
    "BYZANTINE_KINDS",
    "SIM_PARAMS",
    "Faults",
    "MemberResult",
    "Partition",
    "PoolResult",
    "PoolSetup",
    "SimApp",
    "SplitMix",
    "ValidatorPool",
    "check_invariants",
    "run_seed",
]

_MASK = (1 << 64) - 1

SIM_PARAMS = ConsensusParams(
    timeout_elect_ms=40,
    timeout_elect_delta_ms=20,
    timeout_propose_ms=80,
    timeout_propose_delta_ms=40,
    timeout_prevote_ms=40,
    timeout_prevote_delta_ms=20,
    timeout_precommit_ms=40,
    timeout_precommit_delta_ms=20,
    rebroadcast_ms=250,
    timeout_commit_ms=100,
    pow_difficulty=16,
    pow_attempts=32,
)
"""Short timeouts for virtual-time runs whose message delays are a few to tens of ms."""


class SplitMix:
    """SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator of 64-bit integers."""

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next64(self) -> int:
        """The next 64-bit output."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """An integer in ``0 .. bound − 1`` (bound > 0)."""
        return self.next64() % bound

    def between(self, low: int, high: int) -> int:
        """An integer in ``low .. high`` inclusive."""
        return low + self.below(high - low + 1)

    def chance(self, permille: int) -> bool:
        """True with probability ``permille / 1000``."""
        return self.below(1000) < permille


@dataclass(frozen=True, slots=True, kw_only=True)
class Partition:
    """From ``start_ms`` to ``end_ms`` only members of the same group hear each other."""

    start_ms: int
    end_ms: int
    groups: tuple[frozenset[int], ...]

    def separates(self, a: int, b: int, now_ms: int) -> bool:
        """True when members ``a`` and ``b`` cannot talk at ``now_ms``."""
        if not self.start_ms <= now_ms < self.end_ms:
            return False
        return not any(a in g and b in g for g in self.groups)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Network faults before ``heal_ms`` and honest restarts ``(member, at_ms)``."""

    min_delay_ms: int = 1
    max_delay_ms: int = 10
    loss_permille: int = 0
    duplicate_permille: int = 0
    partitions: tuple[Partition, ...] = ()
    heal_ms: int = 0
    restarts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def random(cls, rng: SplitMix, n: int, honest: Sequence[int]) -> Faults:
        """A random profile: delays, maybe loss and duplication, a partition, a restart."""
        partitions: list[Partition] = []
        if rng.chance(400):
            start = rng.between(0, 300)
            side = frozenset(i for i in range(n) if rng.chance(500))
            groups = (side, frozenset(range(n)) - side)
            partitions.append(
                Partition(start_ms=start, end_ms=start + rng.between(100, 1500), groups=groups)
            )
        restarts: tuple[tuple[int, int], ...] = ()
        if honest and rng.chance(300):
            restarts = ((honest[rng.below(len(honest))], rng.between(20, 600)),)
        return cls(
            min_delay_ms=1,
            max_delay_ms=rng.between(2, 30),
            loss_permille=(0, 0, 20, 80)[rng.below(4)],
            duplicate_permille=(0, 50, 200)[rng.below(3)],
            partitions=tuple(partitions),
            heal_ms=max([p.end_ms for p in partitions] + [rng.between(0, 800)]),
            restarts=restarts,
        )

    def describe(self) -> str:
        """A one-line summary for failure messages."""
        parts = [
            f"delay {self.min_delay_ms}-{self.max_delay_ms} ms",
            f"loss {self.loss_permille}‰",
            f"dup {self.duplicate_permille}‰",
            f"heal at {self.heal_ms} ms",
        ]
        parts += [
            f"partition {p.start_ms}-{p.end_ms} ms {[sorted(g) for g in p.groups]}"
            for p in self.partitions
        ]
        parts += [f"restart member {m} at {t} ms" for m, t in self.restarts]
        return ", ".join(parts)


BYZANTINE_KINDS: dict[str, Callable[[], list[Behaviour]]] = {
    "none": list,
    "equivocate": lambda: [Equivocate()],
    "false_verdict": lambda: [FalseVerdict()],
    "forge_watermark": lambda: [ForgeWatermark()],
    "missing_watermark": lambda: [ForgeWatermark(missing=True)],
    "withhold_votes": lambda: [WithholdVotes()],
    "invalid_block": lambda: [InvalidBlock(tamper_signature)],
    "manipulated_price": lambda: [InvalidBlock(tamper_price)],
    "amnesia": lambda: [Amnesia()],
    "silent": lambda: [Silent()],
    "delay": lambda: [Delay(120)],
    "twins": list,
}
"""Named Byzantine set-ups; ``twins`` duplicates a member instead of hooking it."""


class SimApp(Application, Protocol):
    """An application the pool can drive: consensus' protocol plus the simulator's needs."""

    @property
    def height(self) -> int:
        """The last committed height."""
        ...

    def head_hash(self) -> bytes:
        """Hash of the last committed block (the genesis hash at height 0)."""
        ...

    def add_evidence(self, evidence: Evidence) -> None:
        """Queue an offence the node's machine recorded, for its next proposals."""
        ...

    def evidence_on_chain(self, key: EvidenceKey) -> bool:
        """Whether the offence ``key`` is recorded on this node's chain."""
        ...

    def restarted(self) -> SimApp:
        """The application after a restart of its node (what survives on disk)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSetup:
    """What a pool runs on: identities, genesis, one application per member, parameters.

    Attributes:
        nodes, keys: Validator ids and signing keys, by member index.
        genesis_hash: Parent hash of height 1.
        validators: The validator set of height 1 (certificate checks of the toy chain).
        make_app: A fresh application for member ``index`` (twins get one each).
        params: Consensus parameters.
    """

    nodes: tuple[str, ...]
    keys: tuple[PrivateKey, ...]
    genesis_hash: bytes
    validators: ValidatorSet
    make_app: Callable[[int], SimApp]
    params: ConsensusParams


def toy_setup(
    n: int, seed: int, *, params: ConsensusParams | None = None, max_txs: int = 1000
) -> PoolSetup:
    """``n`` toy validators ``v0`` … with keys from fixed seeds, over :class:`ToyApp` s."""
    genesis_hash = sha256(canonical({"genesis": seed}))
    keys = tuple(PrivateKey.from_seed(f"pool-validator-{i}".encode()) for i in range(n))
    validators = ValidatorSet.of((f"v{i}", k.public_key, 1) for i, k in enumerate(keys))
    return PoolSetup(
        nodes=tuple(f"v{i}" for i in range(n)),
        keys=keys,
        genesis_hash=genesis_hash,
        validators=validators,
        make_app=lambda _: ToyApp(validators, genesis_hash, max_txs=max_txs),
        params=params or SIM_PARAMS,
    )


@dataclass(slots=True)
class _Member:
    index: int
    node: str
    key: PrivateKey
    app: Any  # a SimApp; Any only because bench/consensus.py reads ToyApp fields through it
    machine: HookedMachine
    honest: bool
    epoch: int = 0
    stopped: bool = False
    persisted: dict[tuple[int, int, int], bytes] = field(default_factory=dict)
    commits: list[tuple[int, bytes, int]] = field(default_factory=list)
    signed: dict[tuple[str, int, int, int], bytes] = field(default_factory=dict)
    sent_seen: set[bytes] = field(default_factory=set)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberResult:
    """What one member ended with."""

    index: int
    node: str
    honest: bool
    hashes: tuple[bytes, ...]
    blocks: tuple[bytes, ...]
    certificates: tuple[Certificate | None, ...]
    commit_times_ms: tuple[int, ...]
    stats: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolResult:
    """A finished run: per-member chains, detected evidence and run-time violations."""

    seed: int
    description: str
    until_height: int
    reached: bool
    now_ms: int
    heal_ms: int
    validators: ValidatorSet
    validator_sets: Mapping[int, ValidatorSet]
    genesis_hash: bytes
    honest_nodes: frozenset[str]
    members: tuple[MemberResult, ...]
    detected: Mapping[EvidenceKey, Evidence]
    double_signs: tuple[str, ...]
    messages: int


class ValidatorPool:
    """``n`` validators (ids ``v0`` …) on one virtual clock (module docstring).

    Args:
        n: Number of validator identities (equal weights).
        seed: Seeds keys' genesis, the scheduler and the faults.
        byzantine: Member index → behaviours (hooks over that member's honest machine).
        twins: Member indices that get a second machine with the same id and key.
        faults: Network faults and restarts (none when omitted).
        params: Consensus parameters (``SIM_PARAMS`` when omitted).
        txs: Client transactions submitted to every member at time 0.
        max_txs: Largest number of transactions per block.
        check_signing: Decode every honest outgoing message to detect double signing.
        setup: Identities and applications (:func:`toy_setup` of ``n``, ``seed``, ``params``
            and ``max_txs`` when omitted; ``n`` must then equal ``len(setup.nodes)``).
    """

    def __init__(
        self,
        n: int,
        seed: int,
        *,
        byzantine: Mapping[int, Sequence[Behaviour]] | None = None,
        twins: Sequence[int] = (),
        faults: Faults | None = None,
        params: ConsensusParams | None = None,
        txs: Sequence[bytes] = (),
        max_txs: int = 1000,
        check_signing: bool = True,
        description: str = "",
        setup: PoolSetup | None = None,
    ) -> None:
        setup = setup or toy_setup(n, seed, params=params, max_txs=max_txs)
        if len(setup.nodes) != n:
            raise ValueError(f"the setup has {len(setup.nodes)} validators, not {n}")
        self.seed = seed
        self.rng = SplitMix(seed)
        self.faults = faults or Faults()
        self.params = setup.params
        self.check_signing = check_signing
        self.description = description
        self.genesis_hash = setup.genesis_hash
        keys = setup.keys
        self.validators = setup.validators
        byzantine = byzantine or {}
        faulty = set(byzantine) | set(twins)
        self.members: list[_Member] = []
        for i in [*range(n), *twins]:
            app = setup.make_app(i)
            machine = ConsensusMachine(setup.nodes[i], keys[i], app, self.params)
            behaviours = byzantine.get(i, ()) if len(self.members) == i else ()
            self.members.append(
                _Member(
                    index=len(self.members),
                    node=setup.nodes[i],
                    key=keys[i],
                    app=app,
                    machine=HookedMachine(machine, behaviours),
                    honest=i not in faulty,
                )
            )
        self.n = n
        self.now_ms = 0
        self.reached_ms = -1
        self.messages = 0
        self._queue: list[tuple[int, int, int, int, object]] = []
        self._seq = 0
        self.detected: dict[EvidenceKey, Evidence] = {}
        self.double_signs: list[str] = []
        self.txs = tuple(txs)
        for member, at_ms in self.faults.restarts:
            self._push(at_ms, 2, member, None)

    # ------------------------------------------------------------------------- scheduling

    def _push(self, at_ms: int, kind: int, member: int, item: object) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at_ms, self._seq, kind, member, item))

    def _deliver(self, source: int, target: int, data: bytes, delay_ms: int) -> None:
        faults = self.faults
        before_heal = self.now_ms < faults.heal_ms
        if any(p.separates(source, target, self.now_ms) for p in faults.partitions):
            return
        if before_heal and faults.loss_permille and self.rng.chance(faults.loss_permille):
            return
        copies = 2 if before_heal and self.rng.chance(faults.duplicate_permille) else 1
        for _ in range(copies):
            delay = self.rng.between(faults.min_delay_ms, faults.max_delay_ms) + delay_ms
            self._push(self.now_ms + delay, 0, target, data)

    def _execute(self, member: _Member, actions: list[Action]) -> bool:
        """Carry out a member's actions; True when it committed a block."""
        committed = False
        for action in actions:
            if isinstance(action, Broadcast):
                self._record_signed(member, action.data)
                for other in self.members:
                    if other.index != member.index:
                        self._deliver(member.index, other.index, action.data, action.delay_ms)
            elif isinstance(action, Send):
                self._record_signed(member, action.data)
                for other in self.members:
                    if other.node == action.to and other.index != member.index:
                        self._deliver(member.index, other.index, action.data, action.delay_ms)
            elif isinstance(action, ScheduleTimeout):
                fired = TimeoutFired(height=action.height, round=action.round, kind=action.kind)
                self._push(self.now_ms + action.delay_ms, 1, member.index, (member.epoch, fired))
            elif isinstance(action, PersistVote):
                member.persisted[(action.height, action.round, int(action.step))] = action.payload
            elif isinstance(action, RecordEvidence):
                member.app.add_evidence(action.evidence)
                if member.honest:
                    self.detected.setdefault(action.evidence.key, action.evidence)
            elif isinstance(action, CommitBlock):
                member.commits.append((action.height, action.block_hash, self.now_ms))
                committed = True
        return committed

    def _record_signed(self, member: _Member, data: bytes) -> None:
        """Keep what an honest member signed per slot; a different second content is a fault."""
        if not (self.check_signing and member.honest):
            return
        digest = sha256(data)
        if digest in member.sent_seen:
            return
        member.sent_seen.add(digest)
        try:
            envelope = decode_envelope(data, max_bytes=self.params.max_message_bytes)
        except DecodeError:
            return
        signed: Vote | ProposalHeader | None = envelope.vote
        if envelope.proposal is not None:
            signed = envelope.proposal.header
        if signed is None:
            return
        fields = signed.to_fields()
        fields.pop("signature")
        content = canonical(fields)
        step = 0 if isinstance(signed, ProposalHeader) else int(signed.step)
        slot = (member.node, signed.height, signed.round, step)
        known = member.signed.setdefault(slot, content)
        if known != content:
            self.double_signs.append(
                f"{member.node} signed two different messages for height {signed.height} "
                f"round {signed.round} step {step}"
            )

    def _handle(self, member: _Member, event: Event) -> bool:
        return self._execute(member, member.machine.handle(event))

    def _restart(self, member: _Member) -> None:
        member.epoch += 1
        member.app = member.app.restarted()
        height = member.app.height + 1
        machine = ConsensusMachine(member.node, member.key, member.app, self.params)
        member.machine = HookedMachine(machine, member.machine.behaviours)
        restored = tuple(
            payload for (h, _, _), payload in sorted(member.persisted.items()) if h == height
        )
        start = Start(
            height=height, prev_hash=member.app.head_hash(), now_ms=self.now_ms, restored=restored
        )
        self._handle(member, start)

    # ------------------------------------------------------------------------------- running

    def _done(self, until_height: int) -> bool:
        """Honest members reached the height; then misbehaviour stops until evidence is in."""
        honest = [m for m in self.members if m.honest]
        if any(m.app.height < until_height for m in honest):
            return False
        if self.reached_ms < 0:
            self.reached_ms = self.now_ms
            for member in self.members:
                for behaviour in member.machine.behaviours:
                    behaviour.enabled = False
                member.stopped = member.index >= self.n
        return all(m.app.evidence_on_chain(k) for k in self.detected for m in honest)

    def run(self, until_height: int, *, until_ms: int = 60_000) -> PoolResult:
        """Run until the honest members reach ``until_height`` and record the evidence.

        Once every honest member has committed ``until_height``, misbehaviour is switched off
        (and twins stopped) and the run goes on until every offence an honest member detected
        is on every honest chain, or until ``until_ms`` of virtual time. The result is unchecked.
        """
        for member in self.members:
            start = Start(height=1, prev_hash=self.genesis_hash, now_ms=0)
            self._handle(member, start)
            for tx in self.txs:
                self._handle(member, TransactionSubmitted(tx=tx, now_ms=0))
        reached = False
        while self._queue and not reached:
            at_ms, _, kind, index, item = heapq.heappop(self._queue)
            if at_ms > until_ms:
                break
            self.now_ms = at_ms
            member = self.members[index]
            if member.stopped:
                continue
            if kind == 0:
                assert isinstance(item, bytes)
                self.messages += 1
                committed = self._handle(member, MessageReceived(data=item, now_ms=at_ms))
            elif kind == 1:
                assert isinstance(item, tuple)
                epoch, fired = item
                if epoch != member.epoch:
                    continue
                committed = self._handle(
                    member,
                    TimeoutFired(
                        height=fired.height, round=fired.round, kind=fired.kind, now_ms=at_ms
                    ),
                )
            else:
                self._restart(member)
                committed = True
            if committed:
                reached = self._done(until_height)
        return self._result(until_height, reached)

    def _chain(self, app: SimApp) -> tuple[list[bytes], list[bytes], list[Certificate | None]]:
        hashes, blocks = [self.genesis_hash], [b""]
        certificates: list[Certificate | None] = [None]
        for height in range(1, app.height + 1):
            committed = app.committed(height)
            if committed is None:
                break
            block, certificate = committed
            hashes.append(app.block_hash(block))
            blocks.append(block)
            certificates.append(certificate)
        return hashes, blocks, certificates

    def _result(self, until_height: int, reached: bool) -> PoolResult:
        members = []
        for m in self.members:
            hashes, blocks, certificates = self._chain(m.app)
            members.append(
                MemberResult(
                    index=m.index,
                    node=m.node,
                    honest=m.honest,
                    hashes=tuple(hashes),
                    blocks=tuple(blocks),
                    certificates=tuple(certificates),
                    commit_times_ms=tuple(t for _, _, t in m.commits),
                    stats=dict(m.machine.machine.stats),
                )
            )
        honest = max((m for m in self.members if m.honest), key=lambda m: m.app.height)
        validator_sets: dict[int, ValidatorSet] = {}
        for height in range(1, honest.app.height + 2):
            try:
                validator_sets[height] = honest.app.validator_set(height)
            except LookupError:
                break
        return PoolResult(
            seed=self.seed,
            description=self.description or self.faults.describe(),
            until_height=until_height,
            reached=reached,
            now_ms=self.now_ms,
            heal_ms=self.faults.heal_ms,
            validators=self.validators,
            validator_sets=validator_sets,
            genesis_hash=self.genesis_hash,
            honest_nodes=frozenset(m.node for m in self.members if m.honest),
            members=tuple(members),
            detected=dict(self.detected),
            double_signs=tuple(self.double_signs),
            messages=self.messages,
        )


Replay = Callable[[PoolResult, str, MemberResult], None]
"""Application-specific invariants: (result, "seed ... (description)", longest honest chain)."""


def check_invariants(result: PoolResult, *, replay: Replay | None = None) -> None:
    """Assert every safety and liveness property of a run (module docstring).

    Args:
        result: A finished run.
        replay: Validity and evidence checks of the application (default: the toy chain's).

    Raises:
        AssertionError: Naming the seed, the scenario, the property and the height.
    """
    where = f"seed {result.seed} ({result.description})"
    honest = [m for m in result.members if m.honest]
    assert not result.double_signs, f"{where}: double signing: {result.double_signs[0]}"
    longest = max(honest, key=lambda m: len(m.hashes))
    for member in honest:
        for height, block_hash in enumerate(member.hashes):
            assert block_hash == longest.hashes[height], (
                f"{where}: agreement violated at height {height}: "
                f"{member.node} has {block_hash.hex()[:12]}, {longest.node} has "
                f"{longest.hashes[height].hex()[:12]}"
            )
        for height in range(1, len(member.hashes)):
            certificate = member.certificates[height]
            assert certificate is not None, (
                f"{where}: {member.node} height {height} has no certificate"
            )
            assert (
                certificate.height == height and certificate.block_hash == member.hashes[height]
            ), f"{where}: {member.node}'s certificate of height {height} is for another block"
            validators = result.validator_sets.get(height, result.validators)
            assert verify_certificate(certificate, validators), (
                f"{where}: {member.node}'s certificate of height {height} is unsound"
            )
    assert result.reached, (
        f"{where}: liveness: after healing at {result.heal_ms} ms honest heights are "
        f"{[len(m.hashes) - 1 for m in honest]} at {result.now_ms} ms "
        f"(wanted {result.until_height}, and evidence {sorted(k[:2] for k in result.detected)})"
    )
    (replay or _toy_replay)(result, where, longest)


def _toy_replay(result: PoolResult, where: str, longest: MemberResult) -> None:
    """Validity (the chain replays in a fresh ToyApp) and evidence on chain exactly once."""
    replay = ToyApp(result.validators, result.genesis_hash)
    recorded: dict[EvidenceKey, int] = {}
    for height in range(1, len(longest.hashes)):
        block = longest.blocks[height]
        reason = replay.check(height, block)
        assert reason == 0, f"{where}: validity: committed block {height} fails check ({reason})"
        certificate = longest.certificates[height]
        assert certificate is not None
        replay.commit(height, block, longest.hashes[height], certificate)
        for evidence in ToyBlock.decode(block, max_bytes=1 << 23).evidence:
            recorded[evidence.key] = recorded.get(evidence.key, 0) + 1
            assert evidence.offender not in result.honest_nodes, (
                f"{where}: height {height} records {evidence.kind.name} against honest "
                f"{evidence.offender}"
            )
    for key, evidence in result.detected.items():
        assert recorded.get(key) == 1, (
            f"{where}: offence {key[0].name} by {key[1]} at height {key[2]} recorded "
            f"{recorded.get(key, 0)} times"
        )
        assert verify_evidence(
            evidence,
            result.validators,
            block_hash=replay.block_hash,
            check=replay.check,
            offence_of=replay.offence_of,
        ), f"{where}: detected evidence {key[0].name} by {key[1]} does not verify"


def run_seed(seed: int, *, n: int = 4, until_height: int = 3) -> PoolResult:
    """The CI/soak scenario of one seed: a rotating Byzantine kind and random faults."""
    kinds = list(BYZANTINE_KINDS)
    kind = kinds[seed % len(kinds)]
    rng = SplitMix(seed ^ 0x5A7ED6E)
    bad = rng.below(n)
    twins = (bad,) if kind == "twins" else ()
    byzantine = {} if kind in ("none", "twins") else {bad: BYZANTINE_KINDS[kind]()}
    honest = [i for i in range(n) if i not in byzantine and i not in twins]
    faults = Faults.random(rng, n, honest)
    clients = [PrivateKey.from_seed(f"pool-client-{i}".encode()) for i in range(2)]
    txs = [make_tx(clients[i % 2], i, 1 + i) for i in range(2 * until_height)]
    pool = ValidatorPool(
        n,
        seed,
        byzantine=byzantine,
        twins=twins,
        faults=faults,
        txs=txs,
        max_txs=2,
        description=f"byzantine {kind} at v{bad}; {faults.describe()}",
    )
    return pool.run(until_height)


def main(argv: Sequence[str] | None = None) -> int:
    """Soak: run many seeds and check every invariant; prints failures, returns their count."""
    parser = argparse.ArgumentParser(description="Seeded consensus simulations with faults.")
    parser.add_argument("--seeds", type=int, default=10_000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--heights", type=int, default=3)
    args = parser.parse_args(argv)
    failures = 0
    for seed in range(args.first, args.first + args.seeds):
        try:
            check_invariants(run_seed(seed, n=args.validators, until_height=args.heights))
        except AssertionError as exc:
            failures += 1
            print(f"FAIL {exc}")
    print(f"{args.seeds - failures}/{args.seeds} seeds passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A differentiable unroll of the tracker over windows of K frames, batched over scenes, for
training the association network without association labels (``hste train --unroll K``).

Forward (hard, the tracker's own behaviour). Every rollout (a scene, ``samples`` rollouts per
scene with independent Gumbel noise) is tracked by the ordinary :class:`~tracker.pipeline.Tracker`
in a worker thread. Each association call the tracker makes is handed to the main thread, which
waits until every rollout has either posted a call or finished the frame, then scores all posted
calls in one batch: network -> augmented matrices -> Gumbel perturbation ``(X + noise g) / tau``
-> ``hungarian_ste`` (exact 0/1 forward, straight-through backward) or, for the twin,
``sinkhorn`` of the same perturbed matrices (soft; the tracker then follows their Hungarian).
The tracker gets the hard assignment and makes every other decision itself (Kalman update,
births from unassigned detections, confirmation, deletion after misses), so with noise 0 the
unroll tracks exactly as ``hste track --assoc learned`` with the same network.

Backward (a replay in torch, float64). Alongside the tracker, each rollout's track states are
recomputed from the operator's entries: predict ``x <- F x``; update
``x_i <- x_i + sum_j a_ij K_ij (z_j - H x_i)`` with a_ij the pair entries of track i (the missed
entry m_i = 1 - sum_j a_ij, written out it would add the same ``x_i`` gradient to every entry of
the row, a shift that changes no assignment; so the forward equals the tracker's states exactly
for HSTE, and is the soft update for Sinkhorn), gains K_ij
from the tracker's covariances (which the hard decisions fix; not differentiated); births start
at ``[z, 0]`` (constants); deaths follow the tracker's ids. Each track also carries an existence
weight ``w_i = 1 - sum_s (m_is - detach(m_is))``: 1 in the forward, its gradient the credit of
the scans that kept the track alive (:mod:`tracker.unroll_losses`). A loss at frame k so reaches
the assignment scores of every earlier scan of its window through the states. The network's
input features are computed from the tracker's values (data, not differentiated).

Reporting. The tracker reports (confirms) a track when its score (log-likelihood ratio, with the
network's detection evidence of every detection it took) reaches ``confirm_score``. Each track's
*report weight* is ``confirmed + sigmoid(s - confirm) - detach(sigmoid(s - confirm))``, the
score s carrying the evidence terms differentiably (their values are the tracker's): 0 or 1 in
the forward, and a gradient into the evidence model wherever reporting a track sooner (or never)
would lower the loss. Losses weigh tracks by existence times report weight.

The replay is written for the constant-velocity model (state ``[x, y, vx, vy]``, its F); an
unroll with another motion model is refused (:class:`UnrollConfig`).

Truncation: the chain is cut every K frames, restarting from the tracker's states; each window's
loss is backpropagated when it ends (memory grows with K, not with the scene) and the gradients
accumulate over the scene.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from common.errors import InputError
from tracker.association.evidence import NUM_EVIDENCE_FEATURES, evidence_features
from tracker.association.features import build_graph, collate
from tracker.association.gating import gate
from tracker.association.gnn import gnn_scores
from tracker.association.learned import AssociationModel, LearnedAssociator
from tracker.association.losses import OperatorConfig
from tracker.association.network import (
    PairGraph,
    augmented_layout,
    augmented_matrices,
    gather_assignment,
)
from tracker.evaluation import EvaluationConfig, scored_targets
from tracker.perm import hungarian, hungarian_ste, sinkhorn
from tracker.perm.noise import perturb
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_source import SceneSource
from tracker.tracks_io import TrackTable
from tracker.unroll_losses import candidate_loss, detection_nll, gospa_terms

UNROLL_MODES = ("end-to-end", "unsupervised")


@dataclass(frozen=True)
class UnrollConfig:
    """Settings of an unroll: ``mode`` (``end-to-end``: GOSPA to the truth of every frame,
    ``unsupervised``: detection likelihood of every scan), ``window`` K frames, the permutation
    ``operator`` (``samples`` = rollouts per scene), the ``tracker`` settings and the GOSPA
    ``cutoff`` in m."""

    mode: str = "end-to-end"
    window: int = 20
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    cutoff: float = EvaluationConfig().gospa_cutoff

    def confirm_score(self) -> float | None:
        """The score at which the tracker confirms a track (None: not a score initiator)."""
        management = self.tracker.management
        return management.confirm_score if management.initiator == "score" else None

    def __post_init__(self) -> None:
        if self.mode not in UNROLL_MODES:
            raise InputError(f"unroll mode must be one of {', '.join(UNROLL_MODES)}")
        if self.window < 1:
            raise InputError("unroll window must be >= 1 frame")
        if self.tracker.motion_model != "cv":
            raise InputError(f"the unroll (--unroll) replays the constant-velocity motion model "
                             f"only, not motion_model = {self.tracker.motion_model!r}")


@dataclass
class Call:
    """One association call of a scan: its tracks ``track_rows`` (T_c,) and detections
    ``det_rows`` (D_c,) in the scan's order, the gated pairs ``pair_track`` / ``pair_det`` (P_c,)
    (call-local indices), the operator's entries ``pair`` (P_c,) and ``missed`` (T_c,), and the
    hard ``assignment`` (T_c,) the tracker followed (call-local detection index, -1 missed)."""

    track_rows: np.ndarray
    det_rows: np.ndarray
    pair_track: np.ndarray
    pair_det: np.ndarray
    pair: torch.Tensor
    missed: torch.Tensor
    assignment: np.ndarray


@dataclass
class ScanRecord:
    """What the replay needs of one sensor scan: the T tracks before it (``ids``, predicted
    ``covariances`` (T, 4, 4), ``confirmed``, ``in_view``, Pd ``pd`` (T,), ``scores`` (T,)), its
    D measurements (``detections`` (D, 2) m, ``detection_covariances`` (D, 2, 2),
    ``clutter_density`` (D,), ``evidence_features`` (D, F)), the association ``calls``, and the
    tracks after it: ``after_ids`` and the ``born`` states (B, 4) of the new tracks (appended
    last, one per detection no call took, in order)."""

    ids: np.ndarray
    covariances: np.ndarray
    confirmed: np.ndarray
    in_view: np.ndarray
    pd: np.ndarray
    scores: np.ndarray
    detections: np.ndarray
    detection_covariances: np.ndarray
    clutter_density: np.ndarray
    evidence_features: np.ndarray
    calls: list[Call]
    after_ids: np.ndarray
    born: np.ndarray


@dataclass
class FrameRecord:
    """One frame: the predict ``transition`` F (4, 4) (None in the first frame), its scans, and
    the tracks the frame ends with (``ids``, ``confirmed``, ``states`` (T, 4), ``covariances``
    and ``scores`` (T,))."""

    transition: np.ndarray | None
    scans: list[ScanRecord] = field(default_factory=list)
    ids: np.ndarray | None = None
    confirmed: np.ndarray | None = None
    states: np.ndarray | None = None
    covariances: np.ndarray | None = None
    scores: np.ndarray | None = None


@dataclass
class ReplayState:
    """Differentiable tracks of a rollout: ``ids`` (T,) in the tracker's order, ``states``
    (T, 4) float64, existence ``weights`` (T,) and ``evidence`` (T,): the score's evidence
    terms minus their values (0 in the forward; their gradient path)."""

    ids: np.ndarray
    states: torch.Tensor
    weights: torch.Tensor
    evidence: torch.Tensor

    @classmethod
    def constant(cls, ids: np.ndarray, states: np.ndarray) -> ReplayState:
        """Tracks with no history: the values as constants, weights 1, evidence 0."""
        values = torch.as_tensor(np.asarray(states, dtype=np.float64).reshape(-1, 4))
        count = values.shape[0]
        return cls(np.asarray(ids), values, torch.ones(count, dtype=torch.float64),
                   torch.zeros(count, dtype=torch.float64))

    def take(self, index: torch.Tensor) -> ReplayState:
        """The tracks at ``index`` (long)."""
        return ReplayState(self.ids[index.numpy()], self.states[index], self.weights[index],
                           self.evidence[index])


def kalman_gains(covariances: np.ndarray, measurement_covariances: np.ndarray) -> np.ndarray:
    """(K, 4, 2) gains ``P H^T (H P H^T + R)^-1`` of K pairs, P (K, 4, 4), R (K, 2, 2)."""
    innovation = covariances[:, :2, :2] + measurement_covariances
    cross = covariances[:, :, :2]
    return np.linalg.solve(innovation, cross.transpose(0, 2, 1)).transpose(0, 2, 1)


def replay_predict(state: ReplayState, transition: np.ndarray | None) -> ReplayState:
    """``x <- F x`` for every track (no change without a transition)."""
    if transition is None:
        return state
    return ReplayState(state.ids, state.states @ torch.as_tensor(transition.T), state.weights,
                       state.evidence)


def replay_update(state: ReplayState, scan: ScanRecord,
                  evidence: torch.Tensor | None = None) -> ReplayState:
    """The tracks after ``scan``: the soft/straight-through Kalman update of the module
    docstring, the existence weights, the detection ``evidence`` (D,) (the network's
    log-likelihood ratios; None: no gradient path) of the detections taken, then the born tracks
    appended with the evidence of the detections they start at."""
    if not np.array_equal(state.ids, scan.ids):
        raise RuntimeError("unroll replay lost track of the tracker's tracks")
    count = len(scan.ids)
    missed = torch.ones(count, dtype=torch.float64)
    taken = np.full(count, -1, dtype=np.int64)
    tracks, dets, weights = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], []
    for call in scan.calls:
        missed = missed.index_put((torch.as_tensor(call.track_rows),), call.missed.double())
        tracks.append(call.track_rows[call.pair_track])
        dets.append(call.det_rows[call.pair_det])
        weights.append(call.pair.double())
        hit = call.assignment >= 0
        taken[call.track_rows[hit]] = call.det_rows[call.assignment[hit]]
    track, det = np.concatenate(tracks), np.concatenate(dets)
    states = state.states
    if track.size:
        gains = torch.as_tensor(kalman_gains(scan.covariances[track],
                                             scan.detection_covariances[det]))
        innovation = torch.as_tensor(scan.detections[det]) - states[torch.as_tensor(track), :2]
        correction = (gains @ innovation[:, :, None])[:, :, 0]
        states = states.index_add(0, torch.as_tensor(track),
                                  torch.cat(weights)[:, None] * correction)
    weights_after = state.weights - (missed - missed.detach())
    born = ReplayState.constant(scan.after_ids[count:], scan.born)
    free = np.ones(len(scan.detections), dtype=bool)
    free[taken[taken >= 0]] = False
    if free.sum() != len(born.ids):
        raise RuntimeError("unroll replay lost track of the tracker's new tracks")
    evidence_after, born_evidence = state.evidence, born.evidence
    if evidence is not None:
        delta = (evidence - evidence.detach()).double()
        hit = torch.as_tensor(np.flatnonzero(taken >= 0))
        evidence_after = evidence_after.index_add(0, hit, delta[torch.as_tensor(taken[taken >= 0])])
        born_evidence = delta[torch.as_tensor(np.flatnonzero(free))]
    return ReplayState(scan.after_ids, torch.cat([states, born.states]),
                       torch.cat([weights_after, born.weights]),
                       torch.cat([evidence_after, born_evidence]))


def replay_keep(state: ReplayState, ids: np.ndarray) -> ReplayState:
    """The tracks among ``ids`` (the tracker's survivors, in its order)."""
    keep = np.isin(state.ids, ids)
    if not np.array_equal(state.ids[keep], ids):
        raise RuntimeError("unroll replay lost track of the tracker's tracks")
    return state.take(torch.as_tensor(np.flatnonzero(keep)))


def report_weights(state: ReplayState, scores: np.ndarray, confirmed: np.ndarray,
                   confirm_score: float | None) -> torch.Tensor:
    """(T,) report weights (module docstring): ``confirmed`` (T,) in the forward; with a score
    initiator's ``confirm_score`` the sigmoid gradient of the tracks' ``scores`` (T,) plus their
    evidence terms."""
    hard = torch.as_tensor(confirmed, dtype=torch.float64)
    if confirm_score is None:
        return hard
    soft = torch.sigmoid(torch.as_tensor(scores - confirm_score) + state.evidence)
    return hard + (soft - soft.detach())


def scan_nll(state: ReplayState, scan: ScanRecord, confirm_score: float | None) -> torch.Tensor:
    """:func:`~tracker.unroll_losses.detection_nll` of ``scan``'s detections under the tracks in
    view (predicted, before the scan's update), weighted by existence times report weight (so
    the value is that of the confirmed tracks)."""
    active = np.flatnonzero(scan.in_view)
    index = torch.as_tensor(active)
    tracks = state.take(index)
    weights = tracks.weights * report_weights(tracks, scan.scores[active],
                                              scan.confirmed[active], confirm_score)
    return detection_nll(tracks.states[:, :2], weights, scan.covariances[active, :2, :2],
                         np.clip(scan.pd[active], 1e-6, 1.0 - 1e-6), scan.detections,
                         scan.detection_covariances, np.maximum(scan.clutter_density, 1e-30))


class _ChannelAssociator:
    """Worker side: gates and builds each call's graph, posts it to the main thread and returns
    the hard assignment it answers; keeps, per call of the current scan, what the replay needs
    of it. Detection evidence as the learned backend gives it."""

    def __init__(self, model: AssociationModel, post) -> None:
        self.model = model
        self.post = post
        self.learned = LearnedAssociator(model)
        self.answers: list[tuple | None] = []
        self.evidence_features: np.ndarray | None = None

    def associate(self, inputs) -> np.ndarray:
        """(T,) detection index per track, -1 for a missed track."""
        pairs = gate(inputs, self.model.gnn_config.gate_probability)
        if pairs.track_index.size == 0:
            self.answers.append(None)  # nothing gated: nothing to replay
            return np.full(inputs.num_tracks, -1, dtype=np.int64)
        graph = build_graph(inputs, pairs, gnn_scores(inputs, pairs, self.model.gnn_config),
                            context=self.model.network.config.context)
        assignment, pair, missed = self.post(graph)
        self.answers.append((pairs.track_index, pairs.detection_index, pair, missed, assignment))
        return assignment

    def detection_evidence(self, inputs) -> np.ndarray:
        """(D,) the network's detection evidence (see LearnedAssociator); keeps the scan's
        evidence features."""
        self.evidence_features = evidence_features(inputs)
        return self.learned.detection_evidence(inputs)

    def take_scan(self, detections: int) -> tuple[list[tuple | None], np.ndarray]:
        """The current scan's answers (one per call, None where nothing was gated) and its
        evidence features (``detections``, F) (zeros when none were asked for); starts the next
        scan."""
        features = (self.evidence_features if self.evidence_features is not None
                    else np.zeros((detections, NUM_EVIDENCE_FEATURES)))
        answers, self.answers, self.evidence_features = self.answers, [], None
        return answers, features


class _ScanRecorder:
    """The tracker's observer (:mod:`tracker.observers`): a :class:`ScanRecord` of every scan,
    its calls' rows read from the report's association problems (tracks by id)."""

    def __init__(self, associator: _ChannelAssociator) -> None:
        self.associator = associator
        self.scans: list[ScanRecord] = []

    def observe_scan(self, report) -> None:
        before, measurements = report.before, report.measurements
        answers, features = self.associator.take_scan(len(measurements))
        row_of = {int(track_id): row for row, track_id in enumerate(before.ids)}
        calls = [Call(np.array([row_of[int(i)] for i in problem.track_ids], dtype=np.int64),
                      problem.detection_rows, *answer)
                 for problem, answer in zip(report.problems, answers, strict=True)
                 if answer is not None]
        positions = before.positions
        self.scans.append(ScanRecord(
            before.ids, before.covariances, before.confirmed, report.sensor.visible(positions),
            np.broadcast_to(report.sensor.detection_probability(positions), (len(before),)),
            before.score, measurements.xy, measurements.covariances,
            measurements.clutter_density, features, calls, report.after.ids.copy(),
            report.after.states[len(before):]))


_DONE = object()
_STOP = object()


class _Stopped(Exception):
    """Raised in a worker whose unroll was abandoned."""


class _Worker(threading.Thread):
    """One rollout's tracker, stepping the frames the main thread sends it."""

    def __init__(self, index: int, scenario, model: AssociationModel, config: TrackerConfig,
                 events: queue.Queue) -> None:
        super().__init__(daemon=True)
        self.index, self.scenario, self.events = index, scenario, events
        self.source = SceneSource(scenario)
        self.commands: queue.Queue = queue.Queue()
        self.replies: queue.Queue = queue.Queue()
        associator = _ChannelAssociator(model, self.post)
        self.recorder = _ScanRecorder(associator)
        self.tracker = Tracker(associator, self.source.sensors, config,
                               observers=[self.recorder])
        self.record: FrameRecord | None = None

    def post(self, graph: PairGraph):
        self.events.put((self.index, graph))
        reply = self.replies.get()
        if reply is _STOP:
            raise _Stopped
        return reply

    def step(self, frame: int) -> None:
        """Track ``frame`` (0-based) and keep its :class:`FrameRecord` in ``record``."""
        time = float(self.scenario.frame_times[frame])
        (model,) = self.tracker.motion_models.models  # the one ConstantVelocity (UnrollConfig)
        last = self.tracker.time
        self.record = FrameRecord(None if last is None else model.transition(time - last))
        self.recorder.scans = self.record.scans
        tracks = self.tracker.step(time, self.source.frame_scans(frame))
        self.record.ids, self.record.confirmed = tracks.ids.copy(), tracks.confirmed.copy()
        self.record.states, self.record.covariances = tracks.states.copy(), tracks.covariances
        self.record.scores = tracks.score.copy()

    def run(self) -> None:
        while (frame := self.commands.get()) is not None:
            try:
                self.step(frame)
                self.events.put((self.index, _DONE))
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                self.events.put((self.index, error))


@dataclass
class UnrollResult:
    """``loss``: the mean per frame and rollout; ``tables``: each rollout's tracks (every live
    track in every frame, as :meth:`Tracker.run` gives them); ``state_error``: the largest
    difference (m, m/s) between replayed and tracked states (0 up to rounding for HSTE)."""

    loss: float
    tables: list[TrackTable]
    state_error: float


class Unroll:
    """Runs a batch of rollouts frame by frame, batching their association calls (module
    docstring). ``keep_scores``: keep every batch's network scores (gradients retained) in
    ``scores``, for inspection."""

    def __init__(self, model: AssociationModel, scenes: list, config: UnrollConfig,
                 generator: torch.Generator | None = None, keep_scores: bool = False) -> None:
        if len({scene.num_frames for scene in scenes}) > 1:
            raise InputError("unroll: the scenes of a batch must have equal numbers of frames")
        self.model, self.config, self.generator = model, config, generator
        self.scenes = [scene for scene in scenes for _ in range(config.operator.samples)]
        self.events: queue.Queue = queue.Queue()
        self.workers = [_Worker(i, scene, model, config.tracker, self.events)
                        for i, scene in enumerate(self.scenes)]
        self.keep_scores = keep_scores
        self.scores: list = []

    def score(self, graphs: list[PairGraph]) -> list[tuple[np.ndarray, torch.Tensor,
                                                           torch.Tensor]]:
        """Per graph: the hard assignment (T,) and the operator's pair (P,) and missed (T,)
        entries, all graphs scored in one network call."""
        graph = collate(graphs)
        scores = self.model.network(graph)
        if self.keep_scores and scores.pair.requires_grad:
            scores.pair.retain_grad()
            self.scores.append(scores)
        layout = augmented_layout(graph)
        operator = self.config.operator
        perturbed = [perturb(matrix, operator.tau, operator.noise, 1, self.generator)
                     for matrix in augmented_matrices(scores, layout)]
        if operator.operator == "hste":
            soft = [hungarian_ste(matrix) for matrix in perturbed]
            hard = [matrix.detach() for matrix in soft]
        else:
            soft = [sinkhorn(matrix, n_iters=operator.sinkhorn_iters) for matrix in perturbed]
            hard = [hungarian(matrix.detach()) for matrix in perturbed]
        entries = gather_assignment(soft, layout)
        chosen = gather_assignment(hard, layout).pair.detach().numpy() > 0.5
        pair_ends = np.cumsum([g.pair_track.numel() for g in graphs])
        track_ends = np.cumsum([g.track_features.shape[0] for g in graphs])
        replies = []
        for index, g in enumerate(graphs):
            pairs = slice(pair_ends[index] - g.pair_track.numel(), pair_ends[index])
            tracks = slice(track_ends[index] - g.track_features.shape[0], track_ends[index])
            assignment = np.full(g.track_features.shape[0], -1, dtype=np.int64)
            taken = chosen[pairs]
            assignment[g.pair_track.numpy()[taken]] = g.pair_det.numpy()[taken]
            replies.append((assignment, entries.pair[pairs], entries.missed[tracks]))
        return replies

    def step_frame(self, frame: int) -> None:
        """Every rollout's tracker steps ``frame``; their calls are scored in rounds."""
        for worker in self.workers:
            worker.commands.put(frame)
        pending = len(self.workers)
        while pending:
            events = sorted((self.events.get() for _ in range(pending)), key=lambda e: e[0])
            failed = [event for _, event in events if isinstance(event, BaseException)]
            requests = [(index, event) for index, event in events
                        if isinstance(event, PairGraph)]
            if failed:
                self.close(waiting=[index for index, _ in requests])
                raise failed[0]
            pending = len(requests)
            if requests:
                replies = self.score([graph for _, graph in requests])
                for (index, _), reply in zip(requests, replies, strict=True):
                    self.workers[index].replies.put(reply)

    def close(self, waiting: list[int] = ()) -> None:
        """Release the workers (those ``waiting`` for a reply get a stop)."""
        for index in waiting:
            self.workers[index].replies.put(_STOP)
        for worker in self.workers:
            worker.commands.put(None)

    def frame_loss(self, state: ReplayState, record: FrameRecord, scenario,
                   frame: int) -> tuple[ReplayState, torch.Tensor]:
        """Replay one frame of a rollout; its loss term (GOSPA^2 / c^2 of the confirmed tracks,
        or the detections' NLL summed over the frame's scans)."""
        confirm = self.config.confirm_score()
        state = replay_predict(state, record.transition)
        loss = torch.zeros((), dtype=torch.float64)
        for scan in record.scans:
            if self.config.mode == "unsupervised":
                loss = loss + scan_nll(state, scan, confirm)
            evidence = None
            if confirm is not None and len(scan.detections):
                evidence = self.model.network.evidence.log_likelihood_ratio(
                    torch.as_tensor(scan.evidence_features, dtype=torch.float32))
            state = replay_update(state, scan, evidence)
        state = replay_keep(state, record.ids)
        if self.config.mode == "end-to-end":
            loss = self.frame_gospa(state, record, scored_targets(scenario, frame)[1])
        return state, loss

    def frame_gospa(self, state: ReplayState, record: FrameRecord,
                    truth: np.ndarray) -> torch.Tensor:
        """GOSPA^2 / c^2 of the frame's reported tracks, plus the unreported tracks'
        :func:`~tracker.unroll_losses.candidate_loss` on the truths left unmatched (0 in the
        forward)."""
        weights = state.weights * report_weights(state, record.scores, record.confirmed,
                                                 self.config.confirm_score())
        cutoff = self.config.cutoff
        reported = torch.as_tensor(np.flatnonzero(record.confirmed))
        others = torch.as_tensor(np.flatnonzero(~record.confirmed))
        loss, matched = gospa_terms(state.states[reported, :2], weights[reported], truth, cutoff)
        loss = loss + candidate_loss(state.states[others, :2], weights[others], truth[~matched],
                                     cutoff)
        return loss / cutoff**2

    def run(self, backward: bool = True, frames: int | None = None) -> UnrollResult:
        """Unroll every rollout over its scene's first ``frames`` frames (all by default),
        window by window; with ``backward`` backpropagate each window's loss (mean per frame and
        rollout) when it ends."""
        available = self.scenes[0].num_frames if self.scenes else 0
        frames = available if frames is None else min(frames, available)
        scale = 1.0 / max(1, frames * len(self.workers))
        states = [ReplayState.constant(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
                  for _ in self.workers]
        tables: list[list[TrackTable]] = [[] for _ in self.workers]
        total, error = 0.0, 0.0
        for worker in self.workers:
            worker.start()
        try:
            window = torch.zeros((), dtype=torch.float64)
            for frame in range(frames):
                self.step_frame(frame)
                for index, worker in enumerate(self.workers):
                    record = worker.record
                    states[index], loss = self.frame_loss(states[index], record,
                                                          worker.scenario, frame)
                    window = window + scale * loss
                    tables[index].append(TrackTable.from_states(
                        frame + 1, record.ids, record.states, record.covariances,
                        record.confirmed))
                    error = max(error, float(np.abs(states[index].states.detach().numpy()
                                                    - record.states).max(initial=0.0)))
                if (frame + 1) % self.config.window == 0 or frame + 1 == frames:
                    if backward and window.requires_grad:
                        window.backward()
                    total += float(window.detach())
                    window = torch.zeros((), dtype=torch.float64)
                    states = [ReplayState.constant(w.record.ids, w.record.states)
                              for w in self.workers]
        finally:
            self.close()
        return UnrollResult(total, [TrackTable.concatenate(t) for t in tables], error)


def unroll_backward(model: AssociationModel, scenes: list, config: UnrollConfig,
                    generator: torch.Generator | None = None) -> float:
    """Unroll ``scenes`` (``config.operator.samples`` rollouts each) with ``model``'s network
    and accumulate the gradients of the mean per-frame loss into its parameters; returns the
    loss."""
    return Unroll(model, scenes, config, generator).run().loss

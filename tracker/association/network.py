"""The association network: scores for every gated (track, detection) pair, per-track "missed"
and per-detection "clutter/new" scores, and the augmented assignment matrix built from them.

Association problems are batched like graphs: the tracks, detections and gated pairs of all
frames in a batch are concatenated; ``pair_track`` / ``pair_det`` index the concatenated tracks /
detections. Each frame splits into independent *groups*, the connected components of its gate
graph (pairs never cross groups), and every group gets its own augmented matrix: small matrices
instead of one per frame, with the same optimal assignment.

The network is a pair MLP followed by attention message passing along rows (all pairs of one
track) and columns (all pairs of one detection), so one pair's score depends on its competitors.
Each head adds a learned correction to a *prior* score (the gnn baseline's log-likelihood ratios,
:func:`tracker.association.gnn.gnn_scores`); the output layers start at zero, so an
untrained network is the gnn tracker and training learns corrections from the information gnn
ignores (range rate, amplitude, ...).

Augmented matrix of one group with T tracks and D detections, size (T+D) x (D+T): rows are
tracks then one "clutter/new" row per detection; columns are detections then one "missed" column
per track. ``[:T, :D]`` pair scores (-inf outside the gate), ``[i, D+i]`` missed score of track i,
``[T+j, j]`` clutter score of detection j, ``[T:, D:]`` zeros (the dummy block), -inf elsewhere.
Groups are padded to a power-of-two size N (a zero diagonal in the padding) and solved in one
batch per size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from common.limits import check_number
from tracker.association.evidence import NUM_EVIDENCE_FEATURES, DetectionEvidence

NUM_PAIR_FEATURES = 8
NUM_TRACK_FEATURES = 4
NUM_DET_FEATURES = 4
NUM_CONTEXT_FEATURES = 2
"""Neighbourhood columns appended to the track and the detection features of graphs built with
``context`` (:func:`tracker.association.features.build_graph`), for a network with
``context = True``."""


@dataclass(frozen=True)
class NetworkConfig:
    """Size of the association network. ``hidden``: width of every layer; ``rounds``: message
    passing rounds across pairs; ``context``: whether it reads the neighbourhood features
    (``NUM_CONTEXT_FEATURES`` more track and detection columns; False in checkpoints written
    before they existed); feature counts must match :mod:`tracker.association.features` and
    :mod:`tracker.association.evidence` (:meth:`sized`)."""

    hidden: int = 32
    rounds: int = 2
    pair_features: int = NUM_PAIR_FEATURES
    track_features: int = NUM_TRACK_FEATURES
    det_features: int = NUM_DET_FEATURES
    evidence_features: int = NUM_EVIDENCE_FEATURES
    context: bool = False

    @classmethod
    def sized(cls, hidden: int = 32, rounds: int = 2, context: bool = False) -> NetworkConfig:
        """The config of this code's feature counts for a network of this shape."""
        extra = NUM_CONTEXT_FEATURES if context else 0
        return cls(hidden=hidden, rounds=rounds, track_features=NUM_TRACK_FEATURES + extra,
                   det_features=NUM_DET_FEATURES + extra, context=context)

    def __post_init__(self) -> None:
        check_number("network hidden", self.hidden, 1, MAX_HIDDEN, integer=True)
        check_number("network rounds", self.rounds, 0, MAX_ROUNDS, integer=True)
        for name in ("pair_features", "track_features", "det_features", "evidence_features"):
            check_number(f"network {name}", getattr(self, name), 1, MAX_HIDDEN, integer=True)
        if self.context and min(self.track_features - NUM_TRACK_FEATURES,
                                self.det_features - NUM_DET_FEATURES) < NUM_CONTEXT_FEATURES:
            raise ValueError("a network with context features needs their columns: "
                             "use NetworkConfig.sized")

    def to_dict(self) -> dict:
        return asdict(self)


MAX_HIDDEN, MAX_ROUNDS = 4096, 64
"""Limits of a network's width and message-passing rounds (checkpoints and configs)."""


@dataclass
class PairGraph:
    """One batch of association problems (one or several frames), concatenated.

    Shapes: T tracks, D detections, P gated pairs, B groups (independent sub-problems).
    ``pair_features`` (P, Fp), ``track_features`` (T, Ft), ``det_features`` (D, Fd) (with
    context, the track and detection features' ``NUM_CONTEXT_FEATURES`` columns last);
    ``pair_track`` (P,) long into tracks, ``pair_det`` (P,) long into detections;
    ``pair_prior`` (P,), ``track_prior`` (T,), ``det_prior`` (D,): the baseline scores;
    ``track_group`` (T,) long and ``det_group`` (D,) long: the group each belongs to;
    ``num_groups``: B.
    """

    pair_features: torch.Tensor
    track_features: torch.Tensor
    det_features: torch.Tensor
    pair_track: torch.Tensor
    pair_det: torch.Tensor
    pair_prior: torch.Tensor
    track_prior: torch.Tensor
    det_prior: torch.Tensor
    track_group: torch.Tensor
    det_group: torch.Tensor
    num_groups: int


@dataclass
class AssociationScores:
    """Network output: ``pair`` (P,), ``missed`` (T,), ``clutter`` (D,); larger = more likely.
    ``evidence`` (E,): target logits of the detections whose evidence features were given."""

    pair: torch.Tensor
    missed: torch.Tensor
    clutter: torch.Tensor
    evidence: torch.Tensor | None = None


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.SiLU(), nn.Linear(hidden, outputs))


def _zero_head(hidden: int) -> nn.Linear:
    head = nn.Linear(hidden, 1)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return head


def segment_softmax(logits: torch.Tensor, segment: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Softmax of ``logits`` (P,) within each group of equal ``segment`` (P,) ids."""
    group_max = torch.full((num_segments,), -torch.inf, dtype=logits.dtype, device=logits.device)
    group_max = group_max.scatter_reduce(0, segment, logits, reduce="amax", include_self=True)
    weights = torch.exp(logits - group_max[segment].detach())
    total = torch.zeros(num_segments, dtype=logits.dtype, device=logits.device)
    total = total.index_add(0, segment, weights)
    return weights / total[segment]


class PairAttention(nn.Module):
    """One message-passing round: each pair attends over its row (same track) and its column
    (same detection); tracks and detections receive their row / column summary."""

    def __init__(self, hidden: int):
        super().__init__()
        self.row_logit = nn.Linear(hidden, 1)
        self.col_logit = nn.Linear(hidden, 1)
        self.pair_update = _mlp(3 * hidden, hidden, hidden)
        self.track_update = _mlp(2 * hidden, hidden, hidden)
        self.det_update = _mlp(2 * hidden, hidden, hidden)
        self.pair_norm = nn.LayerNorm(hidden)
        self.track_norm = nn.LayerNorm(hidden)
        self.det_norm = nn.LayerNorm(hidden)

    def _pool(self, values: torch.Tensor, logit: nn.Linear, segment: torch.Tensor, size: int):
        weights = segment_softmax(logit(values).squeeze(-1), segment, size)
        pooled = torch.zeros(size, values.shape[-1], dtype=values.dtype, device=values.device)
        return pooled.index_add(0, segment, weights.unsqueeze(-1) * values)

    def forward(self, pair: torch.Tensor, track: torch.Tensor, det: torch.Tensor,
                graph: PairGraph) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Embeddings pair (P, hidden), track (T, hidden), det (D, hidden) after one round,
        shapes unchanged."""
        row = self._pool(pair, self.row_logit, graph.pair_track, track.shape[0])
        col = self._pool(pair, self.col_logit, graph.pair_det, det.shape[0])
        message = torch.cat([pair, row[graph.pair_track], col[graph.pair_det]], dim=-1)
        pair = self.pair_norm(pair + self.pair_update(message))
        track = self.track_norm(track + self.track_update(torch.cat([track, row], dim=-1)))
        det = self.det_norm(det + self.det_update(torch.cat([det, col], dim=-1)))
        return pair, track, det


class AssociationNetwork(nn.Module):
    """Scores for pairs, missed tracks and clutter detections of a :class:`PairGraph`, and the
    :class:`~tracker.association.evidence.DetectionEvidence` model the tracker's scores use."""

    def __init__(self, config: NetworkConfig = NetworkConfig()):
        super().__init__()
        self.config = config
        hidden = config.hidden
        self.pair_embed = _mlp(config.pair_features, hidden, hidden)
        self.track_embed = _mlp(config.track_features, hidden, hidden)
        self.det_embed = _mlp(config.det_features, hidden, hidden)
        self.rounds = nn.ModuleList(PairAttention(hidden) for _ in range(config.rounds))
        self.pair_head = _zero_head(hidden)
        self.missed_head = _zero_head(hidden)
        self.clutter_head = _zero_head(hidden)
        self.evidence = DetectionEvidence(hidden, config.evidence_features)

    def forward(self, graph: PairGraph, evidence_features: torch.Tensor | None = None
                ) -> AssociationScores:
        """Scores of ``graph``: pair (P,), missed (T,), clutter (D,); each the gnn prior plus a
        learned correction (zero at initialisation). With ``evidence_features`` (E, F) also the
        detection evidence logits (E,) (one forward, so data-parallel training sees every
        parameter used)."""
        track = self.track_embed(graph.track_features)
        det = self.det_embed(graph.det_features)
        pair = self.pair_embed(graph.pair_features) + track[graph.pair_track] + det[graph.pair_det]
        for layer in self.rounds:
            pair, track, det = layer(pair, track, det, graph)
        return AssociationScores(
            pair=graph.pair_prior + self.pair_head(pair).squeeze(-1),
            missed=graph.track_prior + self.missed_head(track).squeeze(-1),
            clutter=graph.det_prior + self.clutter_head(det).squeeze(-1),
            evidence=None if evidence_features is None else self.evidence(evidence_features),
        )


def _local_index(group: torch.Tensor, num_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Position of each element within its group (in order of appearance), and the element
    count per group; ``group`` (K,) long."""
    counts = torch.bincount(group, minlength=num_groups)
    starts = torch.cumsum(counts, 0) - counts
    order = torch.sort(group, stable=True).indices
    local = torch.empty_like(group)
    local[order] = torch.arange(group.shape[0], device=group.device) - starts[group[order]]
    return local, counts


@dataclass
class Bucket:
    """The groups of one padded size N: their augmented matrices are one (B, N, N) tensor.

    ``pairs`` (Pb,), ``tracks`` (Tb,), ``dets`` (Db,): indices of the batch's pairs, tracks and
    detections in these groups; ``pair_index``, ``missed_index``, ``clutter_index``: their
    ``(group, row, column)`` entries in the matrices; ``dummy`` (B, N, N) bool: the zero entries.
    """

    pairs: torch.Tensor
    tracks: torch.Tensor
    dets: torch.Tensor
    pair_index: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    missed_index: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    clutter_index: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    dummy: torch.Tensor


@dataclass
class AugmentedLayout:
    """Buckets of groups by padded size (powers of two, so padding at most doubles a matrix).

    Groups without any gated pair are in no bucket: their tracks are missed and their detections
    clutter/new whatever the scores, so they need no matrix."""

    buckets: list[Bucket]
    num_pairs: int
    num_tracks: int
    num_dets: int


def _bucket(graph: PairGraph, groups: torch.Tensor, size: int, track_local: torch.Tensor,
            tracks: torch.Tensor, det_local: torch.Tensor, dets: torch.Tensor) -> Bucket:
    """The :class:`Bucket` of ``groups`` (indices of graph groups) padded to ``size``."""
    slot = torch.full((graph.num_groups,), -1, dtype=torch.long)
    slot[groups] = torch.arange(groups.numel())
    pair_group = graph.track_group[graph.pair_track]
    pairs = torch.nonzero(slot[pair_group] >= 0).flatten()
    in_tracks = torch.nonzero(slot[graph.track_group] >= 0).flatten()
    in_dets = torch.nonzero(slot[graph.det_group] >= 0).flatten()
    track_group, det_group = graph.track_group[in_tracks], graph.det_group[in_dets]
    position = torch.arange(size)
    rows, cols = position.view(1, -1, 1), position.view(1, 1, -1)
    t, d = tracks[groups].view(-1, 1, 1), dets[groups].view(-1, 1, 1)
    n = t + d
    dummy = ((rows >= t) & (rows < n) & (cols >= d) & (cols < n)) | ((rows >= n) & (rows == cols))
    return Bucket(
        pairs=pairs, tracks=in_tracks, dets=in_dets,
        pair_index=(slot[pair_group[pairs]], track_local[graph.pair_track[pairs]],
                    det_local[graph.pair_det[pairs]]),
        missed_index=(slot[track_group], track_local[in_tracks],
                      dets[track_group] + track_local[in_tracks]),
        clutter_index=(slot[det_group], tracks[det_group] + det_local[in_dets], det_local[in_dets]),
        dummy=dummy,
    )


def augmented_layout(graph: PairGraph) -> AugmentedLayout:
    """Index layout of the padded augmented matrices of the groups in ``graph``."""
    track_local, tracks = _local_index(graph.track_group, graph.num_groups)
    det_local, dets = _local_index(graph.det_group, graph.num_groups)
    pair_groups = torch.bincount(graph.track_group[graph.pair_track], minlength=graph.num_groups)
    sizes = tracks + dets
    padded = torch.where(pair_groups > 0, 2 ** torch.ceil(torch.log2(sizes.clamp(min=1.0))), 0)
    buckets = [_bucket(graph, torch.nonzero(padded == size).flatten(), int(size), track_local,
                       tracks, det_local, dets)
               for size in torch.unique(padded[padded > 0]).tolist()]
    return AugmentedLayout(buckets, graph.pair_track.numel(), graph.track_group.numel(),
                           graph.det_group.numel())


def augmented_matrices(scores: AssociationScores, layout: AugmentedLayout) -> list[torch.Tensor]:
    """One (B, N, N) tensor of padded augmented score matrices per bucket (module docstring)."""
    matrices = []
    for bucket in layout.buckets:
        size = bucket.dummy.shape[-1]
        matrix = torch.full((bucket.dummy.shape[0], size, size), -torch.inf,
                            dtype=scores.pair.dtype, device=scores.pair.device)
        matrix = matrix.masked_fill(bucket.dummy, 0.0)
        matrix = matrix.index_put(bucket.pair_index, scores.pair[bucket.pairs])
        matrix = matrix.index_put(bucket.missed_index, scores.missed[bucket.tracks])
        matrices.append(matrix.index_put(bucket.clutter_index, scores.clutter[bucket.dets]))
    return matrices


def gather_assignment(matrices: list[torch.Tensor], layout: AugmentedLayout,
                      lead: tuple[int, ...] = ()) -> AssociationScores:
    """Read pair / missed / clutter entries back out of per-bucket (*lead, B, N, N) assignments;
    tracks and detections of groups without pairs read as missed and clutter (1)."""
    like = matrices[0] if matrices else torch.zeros(())
    pair = like.new_zeros(*lead, layout.num_pairs)
    missed = like.new_ones(*lead, layout.num_tracks)
    clutter = like.new_ones(*lead, layout.num_dets)
    for bucket, matrix in zip(layout.buckets, matrices, strict=True):
        pair = pair.index_copy(-1, bucket.pairs, matrix[(..., *bucket.pair_index)])
        missed = missed.index_copy(-1, bucket.tracks, matrix[(..., *bucket.missed_index)])
        clutter = clutter.index_copy(-1, bucket.dets, matrix[(..., *bucket.clutter_index)])
    return AssociationScores(pair, missed, clutter)

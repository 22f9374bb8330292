"""``jpda``: joint probabilistic data association, a soft classical backend.

A joint event assigns each track of a cluster (a connected component of the gate graph) one of
its gated detections or a miss, no detection to two tracks. Its weight is the product of the
augmented likelihood ratios (Bar-Shalom's parametric JPDA): ``Pd N(nu_ij; 0, S_ij) / lambda_j``
for a track i taking detection j (per-pair S = H P_i H^T + R_j, lambda_j the clutter density per
m^2 at the detection) and ``1 - Pd P_G`` for a missed track. The marginal probability that track
i took detection j is the weight of the events holding (i, j) over the weight of all events.

Clusters with at most ``max_exact_events`` events are enumerated exactly (events of clusters of
one shape in one vectorised sum); larger ones are approximated by their k best events,
:func:`tracker.perm.k_best_assignments` on the T x (D + T) matrix of log ratios whose last T
columns are each track's miss. Murty's method solves about k T assignment problems for a cluster
of T tracks, so k is ``k_best`` but at most ``kbest_solves / T`` (at least 2): a cluster of 100
fresh tentative tracks in heavy clutter keeps its 6 best events. The tracker applies the PDA
update (:class:`tracker.update.PdaUpdate`) to the weights.

``jpda-star`` is JPDA* (Blom and Bloem, "Probabilistic data association avoiding track
coalescence", IEEE TAC 45(2), 2000): of the joint events that detect the same tracks with the
same detections, differing only in which of those tracks took which detection, only the most
likely one is kept before the marginals are taken. Two tracks close together then no longer
pull each other's states toward the mean of their detections (coalescence), while misses and
clutter keep their probabilities.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from tracker.association.base import AssociationInput, WeightedAssociation
from tracker.association.gating import GatedPairs, gate
from tracker.association.gnn import GnnConfig, gnn_scores
from tracker.perm import k_best_assignments
from tracker.update import PdaUpdate

MAX_EXACT_EVENTS = 2000
"""Clusters with at most this many joint events are enumerated exactly."""

K_BEST = 100
"""Joint events kept for larger clusters."""

KBEST_SOLVES = 600
"""Budget of assignment problems per cluster for the k-best approximation (k <= this / T)."""


def event_count(num_tracks: int, num_detections: int) -> int:
    """Number of joint events of a cluster of T tracks and D detections (every pair gated):
    ``sum_k C(T, k) D! / (D - k)!``."""
    return sum(math.comb(num_tracks, k) * math.perm(num_detections, k)
               for k in range(min(num_tracks, num_detections) + 1))


@functools.lru_cache(maxsize=256)
def joint_events(num_tracks: int, num_detections: int) -> tuple[np.ndarray, np.ndarray]:
    """Every joint event of T tracks and D detections.

    Returns ``(events, one_hot)``: events (E, T) int, the detection of each track, D for a miss;
    one_hot (E, T, D + 1) float64 indicator of the same.
    """
    events = np.zeros((1, 0), dtype=np.int64)
    choices = np.arange(num_detections + 1)
    for _ in range(num_tracks):
        extended = np.concatenate([np.repeat(events, choices.size, axis=0),
                                   np.tile(choices, len(events))[:, None]], axis=1)
        last = extended[:, -1]
        taken_before = (extended[:, :-1] == last[:, None]).any(axis=1)
        events = extended[(last == num_detections) | ~taken_before]
    return events, (events[:, :, None] == choices).astype(np.float64)


def _class_keys(taken: np.ndarray) -> np.ndarray:
    """(..., T + D) bool key of events given as ``taken`` (..., T, D) (track t took detection
    d): which tracks are detected and which detections are used; events of one JPDA* class
    share it."""
    return np.concatenate([taken.any(axis=-1), taken.any(axis=-2)], axis=-1)


@functools.lru_cache(maxsize=256)
def permutation_classes(num_tracks: int, num_detections: int) -> tuple[np.ndarray, int]:
    """Each joint event's class (:func:`joint_events` order): events of one class detect the
    same tracks with the same detections. Returns ``(class (E,) int, number of classes)``."""
    _, one_hot = joint_events(num_tracks, num_detections)
    _, classes = np.unique(_class_keys(one_hot[:, :, :num_detections] > 0), axis=0,
                           return_inverse=True)
    return classes.reshape(-1), int(classes.max(initial=-1)) + 1


def best_of_each_class(log_weights: np.ndarray, classes: np.ndarray, count: int) -> np.ndarray:
    """(G, E) log weights with every event but the most likely of its class (G, E) set to
    ``-inf`` (JPDA*; ties keep all tied events). ``classes`` (G, E) or (E,) in ``[0, count)``."""
    groups = log_weights.shape[0]
    classes = np.broadcast_to(classes, log_weights.shape)
    best = np.full((groups, count), -np.inf)
    np.maximum.at(best, (np.arange(groups)[:, None], classes), log_weights)
    keep = log_weights >= np.take_along_axis(best, classes, axis=1)
    return np.where(keep, log_weights, -np.inf)


def _event_classes(chosen: np.ndarray, detections: int) -> tuple[np.ndarray, int]:
    """Classes (G, K) (see :func:`permutation_classes`) of the k-best events ``chosen``
    (G, K, T, D + T) of each cluster, numbered per cluster below K; returns them and K."""
    key = _class_keys(chosen[..., :detections] > 0)
    classes = np.stack([np.unique(group, axis=0, return_inverse=True)[1].reshape(-1)
                        for group in key])
    return classes, key.shape[1]


def _softmax(log_weights: np.ndarray) -> np.ndarray:
    """(G, E) normalised exp of (G, E) log weights (``-inf`` -> 0) along the last axis."""
    shifted = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cluster_marginals(log_ratio: np.ndarray, log_miss: np.ndarray, max_exact_events: int,
                      k_best: int, kbest_solves: int = KBEST_SOLVES,
                      star: bool = False) -> np.ndarray:
    """Marginal association probabilities of G clusters of one shape.

    Args:
        log_ratio: (G, T, D) log likelihood ratio of each pair, ``-inf`` outside the gate.
        log_miss: (G, T) finite log weight of each track's miss.
        max_exact_events: enumerate exactly when the clusters have at most this many events.
        k_best: otherwise, the number of best events kept, at most ``kbest_solves / T``.
        star: JPDA*: keep only the most likely event of each class (:func:`best_of_each_class`).
    Returns:
        (G, T, D + 1): probability of each track taking each detection, and (last column) of its
        miss; each (g, t) row sums to 1.
    """
    groups, tracks, detections = log_ratio.shape
    if event_count(tracks, detections) <= max_exact_events:
        events, one_hot = joint_events(tracks, detections)
        augmented = np.concatenate([log_ratio, log_miss[:, :, None]], axis=2)
        log_weights = augmented[:, np.arange(tracks), events].sum(axis=2)  # (G, E)
        if star:
            log_weights = best_of_each_class(log_weights,
                                             *permutation_classes(tracks, detections))
        return np.einsum("ge,etj->gtj", _softmax(log_weights), one_hot)
    misses = np.where(np.eye(tracks, dtype=bool), log_miss[:, :, None], -np.inf)
    assignments, totals = k_best_assignments(
        torch.from_numpy(np.concatenate([log_ratio, misses], axis=2)),
        min(k_best, max(2, kbest_solves // tracks)))
    chosen, log_weights = assignments.numpy(), totals.numpy()
    if star:
        log_weights = best_of_each_class(log_weights, *_event_classes(chosen, detections))
    probability = _softmax(log_weights)
    taken = np.einsum("ge,getj->gtj", probability, chosen[..., :detections])
    missed = np.einsum("ge,get->gt", probability, chosen[..., detections:].sum(axis=3))
    return np.concatenate([taken, missed[:, :, None]], axis=2)


def _members(labels: np.ndarray, components: np.ndarray, size: int) -> np.ndarray:
    """(G, size) the elements of each of the G ``components`` (each of exactly ``size``
    elements) in increasing order, given every element's component ``labels``."""
    slot = np.full(int(labels.max(initial=-1)) + 1, -1)
    slot[components] = np.arange(components.size)
    elements = np.flatnonzero(slot[labels] >= 0)
    order = np.lexsort((elements, slot[labels[elements]]))
    return elements[order].reshape(components.size, size)


def marginals(pairs: GatedPairs, log_ratio: np.ndarray, log_miss: np.ndarray,
              max_exact_events: int = MAX_EXACT_EVENTS, k_best: int = K_BEST,
              kbest_solves: int = KBEST_SOLVES, star: bool = False
              ) -> tuple[np.ndarray, np.ndarray]:
    """JPDA marginals of one scan, cluster by cluster (clusters of one shape together).

    Args:
        pairs: the K gated pairs of T tracks and D detections.
        log_ratio: (K,) log likelihood ratio of each pair (``log Pd N / lambda``).
        log_miss: (T,) ``log(1 - Pd P_G)`` of each track.
        max_exact_events, k_best, kbest_solves, star: see :func:`cluster_marginals`.
    Returns:
        ``(weight (K,), missed (T,))``: the probability of each pair and of each track's miss.
    """
    weight, missed = np.zeros(pairs.track_index.size), np.ones(pairs.num_tracks)
    if pairs.track_index.size == 0:
        return weight, missed
    track_component, detection_component, count = pairs.components()
    track_sizes = np.bincount(track_component, minlength=count)
    detection_sizes = np.bincount(detection_component, minlength=count)
    paired = np.unique(track_component[pairs.track_index])
    shapes = track_sizes[paired] * (int(detection_sizes.max()) + 1) + detection_sizes[paired]
    pair_component = track_component[pairs.track_index]
    for shape in np.unique(shapes):
        components = paired[shapes == shape]
        tracks, detections = int(track_sizes[components[0]]), int(detection_sizes[components[0]])
        track_members = _members(track_component, components, tracks)
        detection_members = _members(detection_component, components, detections)
        track_local = np.empty(pairs.num_tracks, dtype=np.int64)
        track_local[track_members] = np.arange(tracks)
        detection_local = np.empty(pairs.num_detections, dtype=np.int64)
        detection_local[detection_members] = np.arange(detections)
        slot = np.full(count, -1)
        slot[components] = np.arange(components.size)
        here = np.flatnonzero(slot[pair_component] >= 0)
        where = (slot[pair_component[here]], track_local[pairs.track_index[here]],
                 detection_local[pairs.detection_index[here]])
        dense = np.full((components.size, tracks, detections), -np.inf)
        dense[where] = log_ratio[here]
        result = cluster_marginals(dense, log_miss[track_members], max_exact_events, k_best,
                                   kbest_solves, star)
        weight[here] = result[where]
        missed[track_members] = result[:, :, detections]
    return np.clip(weight, 0.0, 1.0), np.clip(missed, 0.0, 1.0)


class JpdaAssociator:
    """JPDA: marginal association probabilities per gated (track, detection) pair.

    Args:
        config: gate probability and the Pd / clutter density used where the scan gives none.
        max_exact_events, k_best, kbest_solves: see the module docstring.
        star: JPDA* (``jpda-star``): the most likely permutation of each class of events only.
    """

    def __init__(self, config: GnnConfig | None = None, max_exact_events: int = MAX_EXACT_EVENTS,
                 k_best: int = K_BEST, kbest_solves: int = KBEST_SOLVES,
                 star: bool = False) -> None:
        if min(max_exact_events, k_best, kbest_solves) < 1:
            raise ValueError("max_exact_events, k_best and kbest_solves must be >= 1")
        self.config = config or GnnConfig()
        self.max_exact_events, self.k_best = max_exact_events, k_best
        self.kbest_solves, self.star = kbest_solves, star

    def associate(self, inputs: AssociationInput) -> WeightedAssociation:
        """The scan's marginal association probabilities (see the module docstring)."""
        probability = self.config.gate_probability
        pairs = gate(inputs, probability)
        scores = gnn_scores(inputs, pairs, self.config)
        detection_probability = -np.expm1(scores.missed)
        weight, missed = marginals(
            pairs, scores.pair - scores.clutter[pairs.detection_index],
            np.log1p(-detection_probability * probability), self.max_exact_events, self.k_best,
            self.kbest_solves, self.star)
        return WeightedAssociation(inputs.num_tracks, inputs.num_detections, pairs.track_index,
                                   pairs.detection_index, weight, missed)

    def updater(self) -> PdaUpdate:
        """The PDA update, with this backend's gate probability."""
        return PdaUpdate(self.config.gate_probability)


def build_jpda(config: GnnConfig | None = None) -> JpdaAssociator:
    """Registry factory for ``--assoc jpda``."""
    return JpdaAssociator(config)


def build_jpda_star(config: GnnConfig | None = None) -> JpdaAssociator:
    """Registry factory for ``--assoc jpda-star`` (JPDA*)."""
    return JpdaAssociator(config, star=True)

"""Chi-square gating of (track, detection) pairs and the connected components of the gate graph.

A pair (i, j) passes the gate when its squared Mahalanobis distance
``d2 = nu^T S^-1 nu`` (``nu = z_j - H x_i``, ``S = H P_i H^T + R_j``) is at most the chi-square
quantile with 2 degrees of freedom. Candidates come from a k-d tree query with a per-track radius
that bounds the gate ellipse, so 1,000 tracks x 2,000 detections never forms the dense T x D
matrix; only candidate pairs get the exact test. Tracks and detections joined by gated pairs
form independent sub-problems (connected components) that can be solved one by one or batched.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import gammaincinv

from tracker.association.base import AssociationInput
from tracker.perm.lsap import assignment_indices


@functools.lru_cache(maxsize=64)
def gate_threshold(probability: float) -> float:
    """Squared-Mahalanobis threshold that a true 2-D measurement passes with ``probability``:
    the chi-square quantile with 2 degrees of freedom, ``2 P^-1(1, p)`` (scipy.stats'
    ``chi2.ppf(p, 2)`` bit for bit, without importing scipy.stats)."""
    return float(2.0 * gammaincinv(1.0, probability))


def largest_eigenvalue_2x2(matrices: np.ndarray) -> np.ndarray:
    """(K,) largest eigenvalue of symmetric (K, 2, 2) matrices, in closed form."""
    a, b, d = matrices[:, 0, 0], matrices[:, 0, 1], matrices[:, 1, 1]
    return 0.5 * (a + d) + np.sqrt(0.25 * (a - d) ** 2 + b**2)


def mahalanobis_2x2(innovations: np.ndarray, covariances: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distance and log-determinant for K 2-D innovations, in closed form.

    Args:
        innovations: (K, 2) nu in m.
        covariances: (K, 2, 2) symmetric positive-definite S in m^2.
    Returns:
        ``(d2, log_det)``: (K,) ``nu^T S^-1 nu`` and (K,) ``log det S``.
    """
    a, b, d = covariances[:, 0, 0], covariances[:, 0, 1], covariances[:, 1, 1]
    det = a * d - b * b
    x, y = innovations[:, 0], innovations[:, 1]
    return (d * x * x - 2.0 * b * x * y + a * y * y) / det, np.log(det)


DENSE_PAIRS = 4096
"""Scans with at most this many (track, detection) pairs test every pair; larger ones first
take candidates from a k-d tree."""


@dataclass(frozen=True)
class GatedPairs:
    """The (track, detection) pairs inside the gate, in a flat sparse layout.

    Attributes:
        num_tracks, num_detections: T and D of the scan.
        track_index: (K,) int64 track of each pair.
        detection_index: (K,) int64 detection of each pair.
        mahalanobis_sq: (K,) squared Mahalanobis distance d2 of each pair.
        log_det: (K,) ``log det S`` (S in m^2) of each pair.
    """

    num_tracks: int
    num_detections: int
    track_index: np.ndarray
    detection_index: np.ndarray
    mahalanobis_sq: np.ndarray
    log_det: np.ndarray

    def mask(self) -> np.ndarray:
        """(T, D) bool, True for the gated pairs (dense; for small scans and tests)."""
        result = np.zeros((self.num_tracks, self.num_detections), dtype=bool)
        result[self.track_index, self.detection_index] = True
        return result

    def components(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Connected components of the bipartite gate graph.

        Returns:
            ``(track_component (T,), detection_component (D,), count)``: the component label of
            every track and detection; a track or detection with no gated pair is a component of
            its own.
        """
        track_degree = np.bincount(self.track_index, minlength=self.num_tracks)
        detection_degree = np.bincount(self.detection_index, minlength=self.num_detections)
        if detection_degree.max(initial=0) <= 1 or track_degree.max(initial=0) <= 1:
            return self._star_components(detection_degree.max(initial=0) <= 1)
        total = self.num_tracks + self.num_detections
        graph = coo_matrix(
            (np.ones(self.track_index.size, dtype=np.int8),
             (self.track_index, self.num_tracks + self.detection_index)),
            shape=(total, total),
        )
        count, labels = connected_components(graph, directed=False)
        return labels[: self.num_tracks], labels[self.num_tracks:], int(count)

    def _star_components(self, by_track: bool) -> tuple[np.ndarray, np.ndarray, int]:
        """Components when every detection (``by_track``) or every track has at most one pair:
        each track (or detection) with its pairs is one component, and the rest are singletons."""
        centres, leaves = ((self.num_tracks, self.num_detections) if by_track
                           else (self.num_detections, self.num_tracks))
        centre_index, leaf_index = ((self.track_index, self.detection_index) if by_track
                                    else (self.detection_index, self.track_index))
        centre_labels = np.arange(centres)
        leaf_labels = np.arange(centres, centres + leaves)
        leaf_labels[leaf_index] = centre_index
        if by_track:
            return centre_labels, leaf_labels, centres + leaves
        return leaf_labels, centre_labels, centres + leaves


def _candidate_pairs(inputs: AssociationInput, threshold: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(K,) track and detection indices of the pairs that may pass the gate, from a k-d tree.

    ``d2 <= threshold`` implies ``|nu|^2 <= threshold * lambda_max(S) <= threshold *
    (lambda_max(P_i) + max_j lambda_max(R_j))``: a ball of that radius holds every gated detection.
    """
    widest_detection = largest_eigenvalue_2x2(inputs.detection_covariances).max()
    radius = np.sqrt(threshold * (largest_eigenvalue_2x2(inputs.position_covariances)
                                  + widest_detection))
    from scipy.spatial import cKDTree  # large scans only

    neighbours = cKDTree(inputs.detections).query_ball_point(inputs.predicted_positions, radius,
                                                             return_sorted=True)
    counts = np.fromiter(map(len, neighbours), dtype=np.int64, count=inputs.num_tracks)
    track_index = np.repeat(np.arange(inputs.num_tracks), counts)
    detection_index = np.fromiter(itertools.chain.from_iterable(neighbours), dtype=np.int64,
                                  count=int(counts.sum()))
    return track_index, detection_index


def gate(inputs: AssociationInput, probability: float = 0.999) -> GatedPairs:
    """All (track, detection) pairs whose squared Mahalanobis distance passes the chi-square gate.

    Args:
        inputs: the scan; S per pair is ``H P_i H^T + R_j``.
        probability: gate probability P_G, the chance that a track's true detection passes.
    Returns:
        The gated pairs, sorted by track then detection.
    """
    threshold = gate_threshold(probability)
    num_tracks, num_detections = inputs.num_tracks, inputs.num_detections
    if num_tracks == 0 or num_detections == 0:
        return _no_pairs(num_tracks, num_detections)
    if num_tracks * num_detections <= DENSE_PAIRS:
        return _gate_dense(inputs, threshold)
    track_index, detection_index = _candidate_pairs(inputs, threshold)
    innovation, covariance = inputs.pair_innovation(track_index, detection_index)
    distance, log_det = mahalanobis_2x2(innovation, covariance)
    inside = distance <= threshold
    return GatedPairs(num_tracks, num_detections, track_index[inside], detection_index[inside],
                      distance[inside], log_det[inside])


def _gate_dense(inputs: AssociationInput, threshold: float) -> GatedPairs:
    """:func:`gate` testing every (track, detection) pair: the innovations and their
    covariances of all T x D pairs by broadcasting (the same numbers as
    :meth:`AssociationInput.pair_innovation` of every pair, without index gathers)."""
    innovation = inputs.detections[None, :, :] - inputs.predicted_positions[:, None, :]
    covariance = (inputs.position_covariances[:, None, :, :]
                  + inputs.detection_covariances[None, :, :, :])
    distance, log_det = mahalanobis_2x2(innovation.reshape(-1, 2), covariance.reshape(-1, 2, 2))
    inside = distance <= threshold
    track_index, detection_index = np.nonzero(inside.reshape(innovation.shape[:2]))
    return GatedPairs(inputs.num_tracks, inputs.num_detections, track_index, detection_index,
                      distance[inside], log_det[inside])


def _local_index(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank of each element inside its component.

    Returns ``(local (N,), sizes (count,), members (N,))``: ``local[e]`` is element e's rank in
    its component, and ``members`` lists the elements grouped by component, so the element at
    rank r of component c is ``members[starts[c] + r]`` with ``starts = cumsum(sizes) - sizes``.
    """
    members = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=count)
    starts = np.cumsum(sizes) - sizes
    local = np.empty(labels.size, dtype=np.int64)
    local[members] = np.arange(labels.size) - starts[labels[members]]
    return local, sizes, members


def solve_gated(pairs: GatedPairs, pair_scores: np.ndarray, track_unmatched: np.ndarray,
                detection_unmatched: np.ndarray) -> np.ndarray:
    """Best partial assignment over the gated pairs, solved per connected component.

    Maximises the total of the chosen pairs' scores plus ``track_unmatched`` of every unmatched
    track plus ``detection_unmatched`` of every unmatched detection, with pairs outside the gate
    forbidden. A component with one track or one detection (a star) is solved in closed form:
    its best pair by gain ``pair - track_unmatched - detection_unmatched``, if positive. The
    other components go to one batched Hungarian call on their gain matrices
    (:func:`_solve_components`).

    Args:
        pairs: the gated pairs of a scan with T tracks and D detections.
        pair_scores: (K,) finite score of each gated pair (larger = better).
        track_unmatched: (T,) finite score of leaving each track without a detection.
        detection_unmatched: (D,) finite score of leaving each detection unassigned.
    Returns:
        (T,) int64 detection index per track, -1 where the track stays unmatched.
    """
    assignment = np.full(pairs.num_tracks, -1, dtype=np.int64)
    if pairs.track_index.size == 0:
        return assignment
    track_component, detection_component, count = pairs.components()
    track_sizes = np.bincount(track_component, minlength=count)
    detection_sizes = np.bincount(detection_component, minlength=count)
    pair_component = track_component[pairs.track_index]
    star = (track_sizes == 1) | (detection_sizes == 1)
    in_star = star[pair_component]
    all_stars = bool(in_star.all())
    gain = (pair_scores - track_unmatched[pairs.track_index]
            - detection_unmatched[pairs.detection_index])
    if all_stars:  # the usual scan: no index arrays needed
        order = np.lexsort((-gain, pair_component))
    else:
        order = np.flatnonzero(in_star)[np.lexsort((-gain[in_star], pair_component[in_star]))]
    boundary = np.ones(order.size, dtype=bool)  # the first pair of each component in order
    np.not_equal(pair_component[order[1:]], pair_component[order[:-1]], out=boundary[1:])
    first = order[boundary]
    best = first[gain[first] > 0]
    assignment[pairs.track_index[best]] = pairs.detection_index[best]
    if not all_stars:
        _solve_components(pairs, gain, (track_component, detection_component, count), ~star,
                          assignment)
    return assignment


def _solve_components(pairs: GatedPairs, gain: np.ndarray,
                      components: tuple[np.ndarray, np.ndarray, int], chosen: np.ndarray,
                      assignment: np.ndarray) -> None:
    """Solve the ``chosen`` (count,) components exactly in one batched Hungarian call, writing
    the detections the tracks take into ``assignment`` (T,) in place.

    With ``gain`` (K,) = pair score - track's unmatched score - detection's unmatched score, the
    objective of :func:`solve_gated` is a constant plus the total gain of the matched pairs, so a
    component's best partial assignment is the best full assignment of its (T_c, D_c) matrix of
    ``max(gain, 0)`` (0 for pairs outside the gate: leaving both unmatched) with the zero pairs
    dropped. All chosen components' matrices, zero-padded to the largest, go to one call of
    :func:`tracker.perm.assignment_indices` (no forbidden pairs, so no augmented matrices).
    """
    track_component, detection_component, count = components
    track_local, track_sizes, track_members = _local_index(track_component, count)
    detection_local, detection_sizes, detection_members = _local_index(detection_component, count)
    solved = np.flatnonzero(chosen)
    slot = np.full(count, -1, dtype=np.int64)
    slot[solved] = np.arange(solved.size)
    pair_slot = slot[track_component[pairs.track_index]]
    inside = np.flatnonzero(pair_slot >= 0)
    weights = np.zeros((solved.size, int(track_sizes[solved].max()),
                        int(detection_sizes[solved].max())))
    weights[pair_slot[inside], track_local[pairs.track_index[inside]],
            detection_local[pairs.detection_index[inside]]] = np.maximum(gain[inside], 0.0)
    batch, row, col = assignment_indices(weights)
    taken = weights[batch, row, col] > 0.0
    component = solved[batch[taken]]
    track_starts = np.cumsum(track_sizes) - track_sizes
    detection_starts = np.cumsum(detection_sizes) - detection_sizes
    assignment[track_members[track_starts[component] + row[taken]]] = (
        detection_members[detection_starts[component] + col[taken]])


def pairs_within(rows: np.ndarray, columns: np.ndarray, radius: float) -> GatedPairs:
    """Pairs of points closer than ``radius`` (Euclidean), in the :class:`GatedPairs` layout.

    Args:
        rows: (T, 2) points. columns: (D, 2) points. radius: same unit.
    Returns:
        Pairs with ``mahalanobis_sq`` holding the squared Euclidean distance and ``log_det`` 0.
    """
    if len(rows) == 0 or len(columns) == 0:
        return _no_pairs(len(rows), len(columns))
    from scipy.spatial import cKDTree  # scoring only

    distances = cKDTree(rows).sparse_distance_matrix(cKDTree(columns), radius,
                                                     output_type="coo_matrix")
    keep = distances.data < radius
    return GatedPairs(len(rows), len(columns), distances.row[keep].astype(np.int64),
                      distances.col[keep].astype(np.int64), distances.data[keep] ** 2,
                      np.zeros(int(keep.sum())))


def _no_pairs(num_tracks: int, num_detections: int) -> GatedPairs:
    """A scan without gated pairs."""
    empty = np.zeros(0, dtype=np.int64)
    return GatedPairs(num_tracks, num_detections, empty, empty, np.zeros(0), np.zeros(0))

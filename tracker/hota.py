"""HOTA, DetA and AssA (Luiten et al. 2021, "HOTA: A Higher Order Metric for Evaluating
Multi-object Tracking") computed by TrackEval 1.3.0, the MOTChallenge reference code, on
Euclidean positions instead of boxes.

TrackEval scores one sequence from a similarity in [0, 1] per (target, track) pair and frame.
For a pair d m apart, with the match distance D m of the rest of the evaluation
(``EvaluationConfig.match_distance``, the motmetrics gate), :func:`hota_similarity` gives

    s = 1 - d / D  where d <= D,  0 beyond.

HOTA's alpha: at threshold alpha a pair can be matched when s >= alpha, i.e. when
d <= (1 - alpha) D. TrackEval evaluates alpha = 0.05, 0.10, ..., 0.95 (19 values), so the match
radius runs from 0.95 D down to 0.05 D. At one alpha, with TP / FN / FP the matched targets,
missed targets and false tracks over all frames: DetA = TP / (TP + FN + FP); AssA = the mean
over the TPs of TPA / (TPA + FNA + FPA) of the TP's (target, track) pair (TPA: frames where the
two are matched, FNA: the target's other frames, FPA: the track's other frames); HOTA =
sqrt(DetA AssA). The reported HOTA, DetA and AssA are the means over the 19 alphas (so HOTA is
the mean of sqrt(DetA AssA) per alpha, not the root of the means' product). A track exactly on
its target is matched at every alpha; one 0.3 D away only at the 14 alphas <= 0.7: unlike MOTA,
HOTA rewards precise positions.

TrackEval's CLEAR (MOTA) and Identity (IDF1) instead match any pair whose similarity is at least
their THRESHOLD, 0.5 by default. :func:`clear_similarity` gives them s' = max(0.5, 1 - d / (2 D))
where d <= D and 0 beyond: s' >= 0.5 exactly on our gate (d <= D, inclusive), and s' orders the
pairs by distance as s does; the tests compare their MOTA and IDF1 with ours this way.

TrackEval is an optional dependency (the ``hota`` extra; it pulls opencv-python). It is imported
only when scores are computed; without it the scores are NaN and :data:`MISSING_NOTE` says what
to install.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from importlib import metadata
from types import ModuleType

import numpy as np

HOTA_COLUMNS = ("HOTA", "DetA", "AssA")
"""Summary keys and table columns of :func:`hota_scores`."""

MISSING_NOTE = ("note: HOTA, DetA and AssA need TrackEval, which is not installed: "
                "pip install 'hste-track[hota]' (make test installs it); they are left empty")

Similarity = Callable[[np.ndarray, float], np.ndarray]


def hota_similarity(distances: np.ndarray, match_distance: float) -> np.ndarray:
    """HOTA's similarity (N, M) in [0, 1]: 1 - d / D for distances (N, M) m, NaN (beyond the
    gate D = ``match_distance`` m) giving 0."""
    return np.clip(np.nan_to_num(1.0 - distances / match_distance, nan=0.0), 0.0, 1.0)


def clear_similarity(distances: np.ndarray, match_distance: float) -> np.ndarray:
    """The similarity (N, M) for TrackEval's CLEAR and Identity (threshold 0.5) that gates as
    our motmetrics accumulator: max(0.5, 1 - d / (2 D)) for distances (N, M) m within the gate
    D = ``match_distance`` m, 0 for NaN (beyond it)."""
    within = np.maximum(0.5, 1.0 - distances / (2.0 * match_distance))
    return np.where(np.isnan(distances), 0.0, within)


def _dense(ids: list[np.ndarray]) -> tuple[int, list[np.ndarray]]:
    """Ids per frame relabelled 0..K-1 in order of value: K and the (n_t,) int64 arrays."""
    values = np.concatenate([np.empty(0, np.int64), *(np.asarray(i, np.int64) for i in ids)])
    unique, index = np.unique(values, return_inverse=True)
    return unique.size, np.split(index.astype(np.int64), np.cumsum([len(i) for i in ids])[:-1])


def sequence_data(frames: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                  match_distance: float, similarity: Similarity = hota_similarity) -> dict:
    """TrackEval's input for one sequence (the ``data`` of a metric's ``eval_sequence``).

    Args:
        frames: per frame, the target ids (N,), track ids (M,) and their distances (N, M) m,
            NaN beyond the gate (:func:`tracker.evaluation.frame_distances`).
        match_distance: D, m.
        similarity: distances -> similarity (:func:`hota_similarity`, :func:`clear_similarity`).

    Returns:
        ``num_timesteps``, ``num_gt_ids``, ``num_tracker_ids``, ``num_gt_dets``,
        ``num_tracker_dets``, and per frame ``gt_ids`` / ``tracker_ids`` (ids relabelled
        0..K-1) and ``similarity_scores`` (N, M).
    """
    frames = list(frames)
    num_gt_ids, gt_ids = _dense([targets for targets, _, _ in frames])
    num_tracker_ids, tracker_ids = _dense([tracks for _, tracks, _ in frames])
    return {
        "num_timesteps": len(frames),
        "num_gt_ids": num_gt_ids,
        "num_tracker_ids": num_tracker_ids,
        "num_gt_dets": int(sum(len(ids) for ids in gt_ids)),
        "num_tracker_dets": int(sum(len(ids) for ids in tracker_ids)),
        "gt_ids": gt_ids,
        "tracker_ids": tracker_ids,
        # motmetrics gives (0, 0) when either side is empty: the shape comes from the ids
        "similarity_scores": [similarity(np.reshape(distances, (len(targets), len(tracks))),
                                         match_distance) for targets, tracks, distances in frames],
    }


def trackeval_metrics() -> ModuleType | None:
    """TrackEval's ``metrics`` module (imported now, not at startup), None when TrackEval is not
    installed."""
    try:
        from trackeval import metrics
    except ImportError:
        return None
    return metrics


def trackeval_version() -> str | None:
    """The installed TrackEval's version, None when it is not installed."""
    try:
        return metadata.version("trackeval")
    except metadata.PackageNotFoundError:
        return None


def hota_scores(data: dict) -> dict[str, float]:
    """HOTA, DetA and AssA (means over TrackEval's 19 alphas) of one sequence's
    :func:`sequence_data`; NaN each when TrackEval is not installed."""
    metrics = trackeval_metrics()
    if metrics is None:
        return dict.fromkeys(HOTA_COLUMNS, math.nan)
    result = metrics.HOTA().eval_sequence(data)
    return {column: float(np.mean(result[column])) for column in HOTA_COLUMNS}


def clear_identity_scores(data: dict) -> dict[str, float]:
    """TrackEval's CLEAR and Identity scores of one sequence's :func:`sequence_data` built with
    :func:`clear_similarity` (threshold 0.5), to set beside motmetrics': MOTA, MOTP (the mean
    similarity of the matches, 1 - MOTP_m / 2D when the matches are the same), FN, FP, IDSW,
    TP and IDF1. Needs TrackEval (ImportError without it)."""
    from trackeval import metrics

    quiet = {"THRESHOLD": 0.5, "PRINT_CONFIG": False}
    clear = metrics.CLEAR(dict(quiet)).eval_sequence(data)
    identity = metrics.Identity(dict(quiet)).eval_sequence(data)
    names = {"MOTA": "MOTA", "MOTP": "MOTP", "FN": "CLR_FN", "FP": "CLR_FP", "IDSW": "IDSW",
             "TP": "CLR_TP"}
    return {**{ours: float(clear[theirs]) for ours, theirs in names.items()},
            "IDF1": float(identity["IDF1"])}
